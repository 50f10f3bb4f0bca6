"""The family contract is the type checker's: a family missing a hook fails ``mypy --strict``.

Each family's ``family.py`` names its folder's modules in ``contract.Folder(...)``. These tests
run mypy on a copy of a real family module with one hook deleted and expect the contract's
error; the same copy left whole passes, so the check can fail and can pass.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from torchshape import families

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "torchshape" / "families" / "contract.py"

# The checker: the copied module in its role (Folder would pull in every module of the package).
CHECK = """\
from torchshape.families.contract import {role}
import {module}

found: {role} = {module}
"""


def _mypy(tmp_path: Path, module_text: str, role: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on the contract and a copy of a family module, the rest of the package skipped
    (its names are Any here): a second or so instead of the whole package's check."""
    package = tmp_path / "torchshape" / "families"
    package.mkdir(parents=True)
    (tmp_path / "torchshape" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "contract.py").write_text(CONTRACT.read_text(encoding="utf-8"))
    (tmp_path / "copied.py").write_text(module_text)
    (tmp_path / "check.py").write_text(CHECK.format(role=role, module="copied"))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=skip",
            "--ignore-missing-imports",
            "--no-incremental",
            "check.py",
            "copied.py",
            "torchshape/families/contract.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _defines(node: ast.stmt, name: str) -> bool:
    """``def name`` or ``name = ...`` (a hook made by another: ``command_line = Command(...).line``)."""
    if isinstance(node, ast.FunctionDef):
        return node.name == name
    return isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id == name for target in node.targets
    )


def _without(text: str, hook: str) -> str:
    """``text`` with the top-level ``def hook`` or ``hook = ...`` taken out."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    node = next(n for n in tree.body if _defines(n, hook))
    decorators = node.decorator_list if isinstance(node, ast.FunctionDef) else []
    start = min([node.lineno, *(d.lineno for d in decorators)]) - 1
    assert node.end_lineno is not None
    return "".join(lines[:start] + lines[node.end_lineno :])


@pytest.mark.parametrize(
    ("path", "role", "hook"),
    [
        ("embedding/present.py", "Present", "json_extra"),
        ("conv/present.py", "Present", "csv_rows"),
        ("pool/counts.py", "Counts", "estimated_seconds"),
        ("attention/snippet.py", "Snippet", "render_python"),
        ("rnn/adapter.py", "LayerAdapter", "known"),
        ("conv/adapter.py", "LayerAdapter", "diagnose"),
        ("norm/adapter.py", "LayerAdapter", "expects"),
        ("rnn/spec.py", "Written", "command_line"),  # "Reproduce with", a function
        ("conv/spec.py", "Written", "command_line"),  # the settings table's Command(...).line
        ("model/spec.py", "Written", "command_line"),
        ("pool/request.py", "Request", "make_spec"),  # a checker's method, named
    ],
)
def test_a_family_missing_a_hook_fails_the_type_check(
    tmp_path: Path, path: str, role: str, hook: str
) -> None:
    text = (ROOT / "torchshape" / "families" / path).read_text(encoding="utf-8")
    # the copy's own lines see the rest of the package as Any: only the checker's line counts
    whole = _mypy(tmp_path / "whole", text, role)
    assert whole.returncode in (0, 1) and "check.py:" not in whole.stdout, whole.stdout + whole.stderr
    broken = _mypy(tmp_path / "broken", _without(text, hook), role)
    # the copies differ by that one function: the error is the contract's, at the assignment
    assert re.search(rf'check\.py:4: error: .*variable has type "{role}"', broken.stdout), broken.stdout


def test_every_family_names_its_folder_in_the_contract() -> None:
    """A family.py whose Folder(...) mypy checks, every role given (mypy refuses one missing)."""
    from torchshape.families.contract import Folder

    roles = Folder.__dataclass_fields__
    for name, module in families.REGISTRY.items():
        path = ROOT / Path(*module.split(".")).with_suffix(".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Folder"
        ]
        assert len(calls) == 1, name
        assert len(calls[0].args) + len(calls[0].keywords) == len(roles), name


def test_every_layer_adapter_is_checked_by_its_family() -> None:
    """Each family in ``ADAPTERS`` assigns its adapter to a ``LayerAdapter`` in its family.py, so
    mypy checks it; and every module of a claimed class finds that family's adapter."""
    for name, module in families.ADAPTERS.items():
        family = ROOT / "torchshape" / "families" / name / "family.py"
        tree = ast.parse(family.read_text(encoding="utf-8"))
        checked = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) == "LayerAdapter"
        ]
        assert len(checked) == 1, name
        adapter = importlib.import_module(module)
        for cls in adapter.CLASSES:  # claimed by this family alone, and by its subclasses that keep forward
            assert families.claim(cls.__new__(cls)) is adapter, (name, cls)
            kept = type("Kept", (cls,), {})
            changed = type("Changed", (cls,), {"forward": lambda self, x: x})
            assert families.claim(kept.__new__(kept)) is adapter, (name, cls)
            assert families.claim(changed.__new__(changed)) is None, (name, cls)


def test_every_family_writes_its_request_back() -> None:
    """ "Reproduce with" is each family's ``spec.command_line`` (``contract.Written``), given the
    report's spec and switches: every family has one; a family's default spec is asked for by
    its bare command, and a switch by its flag."""
    for name in families.REGISTRY:
        written = importlib.import_module(f"torchshape.families.{name}.spec")
        assert callable(getattr(written, "command_line", None)), name
        if name in ("model", "expr"):  # no default spec: a target or an expression is required
            continue
        spec = families.family(name).make_spec()
        assert written.command_line(spec, None) == f"torchshape {name}", name
        assert written.command_line(spec, None, explain=True) == f"torchshape {name} --explain", name
