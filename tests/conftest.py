"""Shared test setup: hypothesis profiles, the CUDA marker and `run_cli`."""

from __future__ import annotations

import os

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


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``torchshape ARGS`` in this process: its exit code, stdout and stderr."""
    from torchshape.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
