"""Shared test setup: hypothesis profiles, the CUDA marker and `run_cli`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# CI runs a bounded number of examples; `HYPOTHESIS_PROFILE=long` runs many more.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# What a terminal tells rich and Python, none of which a test may depend on: pytest-xdist's workers
# set COLUMNS=80, a user's shell may set any of them. Each test starts without them, with a UTF-8
# locale; a test that needs one sets it (monkeypatch.setenv).
TERMINAL_ENVIRONMENT = (
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "COLORTERM",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "PYTHONIOENCODING",
)


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same environment for every test, whatever the shell or the worker count."""
    for name in TERMINAL_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("LANG", "C.UTF-8")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("cuda") for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/*, the docs' marked examples and docs/cli.md from the current code",
    )


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite the expected-output files instead of comparing."""
    return bool(request.config.getoption("--regen-golden"))


ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "models"


def run_python(
    *args: str, timeout: int = 60, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in a fresh process that imports this checkout, run in CWD with ENV added to
    the environment: its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def wrong_rnn_formula(
    monkeypatch: pytest.MonkeyPatch, name: str, dims: Callable[[tuple[Any, ...]], tuple[Any, ...]]
) -> Callable[[Any], list[Any]]:
    """The RNN report takes DIMS of its own formula for the tensor NAME, a wrong one, so that torch
    must disagree: that formula list, to patch elsewhere too."""
    from torchshape.facts import TensorFormula
    from torchshape.families.rnn import formulas, report

    real = formulas.tensor_formulas

    def wrong(spec: Any) -> list[TensorFormula]:
        return [replace(f, dims=dims(f.dims)) if f.name == name else f for f in real(spec)]

    shown = {role: getattr(formulas, role) for role in ("symbols", "legend", "notes")}
    monkeypatch.setattr(report, "formulas", SimpleNamespace(**shown, tensor_formulas=wrong))
    return wrong


def reported_shapes(raw: dict[str, Any], device: str) -> dict[str, tuple[int, ...]]:
    """The shapes ``torchshape.inspect(**raw, device=device)`` reports; its report must be ok."""
    from torchshape import inspect

    report = inspect(**raw, device=device)
    assert report.ok
    return {row.name: row.shape for row in report.rows}


def run_line(args: str) -> tuple[int, str, str]:
    """``torchshape ARGS`` (split as a shell splits it) in this process, without capsys: its exit
    code, stdout and stderr."""
    import contextlib
    import io
    import shlex

    from torchshape.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(shlex.split(args))
    return code, out.getvalue(), err.getvalue()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``torchshape ARGS`` in this process: its exit code, stdout and stderr."""
    from torchshape.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def spec_of_command_line(family: str, line: str) -> object:
    """The spec ``torchshape FAMILY``'s ARGS of the command line LINE (``torchshape FAMILY ARGS``)
    hands on to be run and shown; nothing runs."""
    import shlex
    from unittest import mock

    from torchshape import command
    from torchshape.cli import main

    seen: list[object] = []
    with mock.patch.object(command, "deliver", lambda ctx, spec, *a, **k: seen.append(spec)):
        assert main([family, *shlex.split(line)[2:]]) == 0
    assert len(seen) == 1
    return seen[0]


def refused_before_building(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, family: str, args: str
) -> str:
    """``torchshape FAMILY ARGS`` refused as bad usage (exit 2, nothing on stdout, one line on
    stderr) before the family built its module: that line."""
    import importlib
    import shlex

    def no_torch(*_: object) -> None:
        raise AssertionError("torch ran")

    monkeypatch.setattr(
        importlib.import_module(f"torchshape.families.{family}.torch_side"), "build_module", no_torch
    )
    code, out, err = run_cli(capsys, family, *shlex.split(args))
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1, err
    return err


def refused_without_torch(family: str, usages: list[str]) -> None:
    """Each ``torchshape FAMILY USAGE`` exits 2 in a fresh process that never imports torch."""
    import shlex

    code = (
        "import sys\n"
        "from torchshape.cli import main\n"
        f"for args in {[shlex.split(a) for a in usages]!r}:\n"
        f"    assert main([{family!r}, *args]) == 2, args\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr


def help_without_torch(family: str) -> str:
    """``torchshape FAMILY --help`` then ``torchshape --help`` in a fresh process that imports
    neither torch nor the family's request checks: what they printed."""
    code = (
        "import sys\n"
        "from torchshape.cli import main\n"
        f"main([{family!r}, '--help']); main(['--help'])\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        f"assert 'torchshape.families.{family}.request' not in sys.modules, 'request imported'\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    """``torchshape ARGS`` exits 2, prints nothing, and says ``torchshape: error: MESSAGE`` alone."""
    code, out, err = run_cli(capsys, *args)
    assert (code, out, err) == (2, "", f"torchshape: error: {message}\n")


def examples_run(capsys: pytest.CaptureFixture[str], family: str) -> None:
    """Every example under ``torchshape FAMILY --help`` exits 0 with output and nothing on stderr."""
    import importlib
    import shlex

    for example in importlib.import_module(f"torchshape.families.{family}.command").EXAMPLES:
        code, out, err = run_cli(capsys, *shlex.split(example)[1:])
        assert (code, err) == (0, ""), example
        assert out, example


def reproduced(capsys: pytest.CaptureFixture[str], family: str, args: str) -> None:
    """The Markdown's "Reproduce with" line, run again, gives the same output byte for byte."""
    import shlex

    code, out, _ = run_cli(capsys, family, *shlex.split(args), "--format", "markdown")
    assert code == 0
    line = out.rstrip().splitlines()[-1]
    assert line.startswith(f"Reproduce with `torchshape {family}")
    again = shlex.split(line.removeprefix("Reproduce with `").removesuffix("`"))[2:]
    code, out2, _ = run_cli(capsys, family, *again)
    assert code == 0 and out2 == out


def script_passes(capsys: pytest.CaptureFixture[str], path: Path, family: str, args: str, *more: str) -> None:
    """``torchshape FAMILY ARGS MORE --output PATH`` writes a script that runs and passes every check."""
    import shlex

    code, _, _ = run_cli(capsys, family, *shlex.split(args), *more, "--output", str(path))
    assert code == 0
    done = run_python(str(path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "every shape matches\n"
