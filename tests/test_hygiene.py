"""Code health that a reviewer would otherwise check by hand: typing, test helpers, dead code."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from tests.conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
TESTS = sorted((ROOT / "tests").glob("*.py"))


def _given_tests() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in TESTS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                "given" in ast.unparse(d) for d in node.decorator_list
            ):
                found.append((path.name, node))
    return found


def _own_returns(function: ast.FunctionDef) -> list[int]:
    """Lines of ``return`` in ``function`` itself, not in functions nested inside it."""
    lines: list[int] = []
    stack: list[ast.AST] = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return):
            lines.append(node.lineno)
        stack.extend(ast.iter_child_nodes(node))
    return lines


def test_property_tests_assume_instead_of_returning_early() -> None:
    """An early ``return`` passes a draw without checking it; ``assume`` makes hypothesis draw again."""
    assert _given_tests(), "no @given tests found"
    early = [f"{name}::{fn.name} line {line}" for name, fn in _given_tests() for line in _own_returns(fn)]
    assert early == []


def test_one_run_cli_helper() -> None:
    defined = [p.name for p in TESTS if "\ndef run_cli(" in p.read_text(encoding="utf-8")]
    assert defined == ["conftest.py"]


def test_dead_code_stays_gone() -> None:
    from torchshape import report
    from torchshape.families.rnn import counts, explain
    from torchshape.render import parameters

    assert not hasattr(parameters, "render_parameters")
    assert "extra" not in report.Report.__dataclass_fields__
    assert not hasattr(explain, "real_steps")
    assert not hasattr(counts, "gates")


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_mypy_strict_passes() -> None:
    result = run_python("-m", "mypy", timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_option_names_its_flag() -> None:
    """typer derives a flag from the parameter's name only on some versions: with a metavar and no
    name, typer 0.27 makes `--KIND` of `kind`. Every option spells its flags itself."""
    import ast

    unnamed = []
    for path in sorted((ROOT / "torchshape").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Option"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "typer"
                and not any(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("-")
                    for a in node.args
                )
                # a settings table's row: ``Setting`` refuses a row whose flags are not spelled
                and not any(isinstance(a, ast.Starred) and ast.unparse(a) == "*row.flags" for a in node.args)
                # ``command.option(flag, ...)`` and ``switch(flag, ...)``: their callers spell the flag
                and not (node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "flag")
            ):
                unnamed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unnamed, unnamed
