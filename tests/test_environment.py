"""The suite means the same on any machine: tests that print tables pass under a shell's
COLUMNS, NO_COLOR, TERM and locale, as pytest-xdist's workers (which set COLUMNS=80) run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Tests whose output is a table rich lays out to the terminal's width.
WIDTH_SENSITIVE = (
    "tests/test_pool_cli.py::test_the_ceil_rule_shows_only_where_it_changes_the_size",
    "tests/test_formats_carry.py::test_a_pipe_never_breaks_a_line_of_code",
    "tests/test_model_broken.py::test_the_docs_excerpt_is_what_torchshape_prints",
    "tests/test_golden.py::test_golden_output[conv3d_dilated_meta-table]",
)


def test_table_tests_pass_under_any_terminal_settings() -> None:
    env = {
        **os.environ,
        "COLUMNS": "80",
        "LINES": "24",
        "NO_COLOR": "1",
        "TERM": "xterm-256color",
        "LC_ALL": "C",
        "LANG": "C",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            *WIDTH_SENSITIVE,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_ci_runs_the_docs_and_goldens_again_as_xdist_workers_do() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    second = ci[ci.index("COLUMNS=80") :]
    assert "-p xdist -n 2" in second and "tests/test_golden.py" in second
    assert any(requirement.startswith("pytest-xdist") for requirement in extra_requirements("test"))


def extra_requirements(extra: str) -> list[str]:
    """The requirements of pyproject's EXTRA, on one line or spread over several."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return list(tomllib.loads(text)["project"]["optional-dependencies"][extra])
    # Python 3.10 has no TOML reader: the array runs from `EXTRA = [` to its `]`.
    array = text.split(f"\n{extra} = [", 1)[1].split("]", 1)[0]
    return [item.strip().strip('"') for item in array.split(",") if item.strip()]
