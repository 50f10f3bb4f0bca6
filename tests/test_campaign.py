"""Never a traceback: the randomized campaign over whole command lines (see tests/campaign.py).

CI draws a bounded number of command lines; ``CAMPAIGN_EXAMPLES=20000`` runs a long
campaign, and ``CAMPAIGN_LOG=FILE`` appends one JSON line per command line run (its
arguments, exit code and any problem) for counting afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.campaign import (
    ENVIRONMENTS,
    Outcome,
    command_lines,
    embedding_command_lines,
    left_in,
    outcome_problems,
)
from torchshape import guard
from torchshape.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("CAMPAIGN_EXAMPLES", "300"))
LOG = os.environ.get("CAMPAIGN_LOG")
# As if the machine had 1 GiB free: valid but large configurations on the CPU are
# then refused by the guard (exit 1) instead of filling this machine's memory.
CAMPAIGN_MEMORY = 2**30
# ...and as if a forward pass estimated past 5 s were too long to wait for, so no drawn
# command line runs for long (the estimate is pessimistic: real runs take less).
CAMPAIGN_SECONDS = 5.0


def run_in_process(args: list[str], env: dict[str, str]) -> Outcome:
    """``torchshape ARGS`` through ``main`` in a fresh directory, stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as work, pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        patch.setattr(guard, "cpu_available_bytes", lambda: CAMPAIGN_MEMORY)
        patch.setattr(guard, "MAX_SECONDS", CAMPAIGN_SECONDS)
        for key in ("COLUMNS", "NO_COLOR", "TERM", "FORCE_COLOR"):
            patch.delenv(key, raising=False)
        for key, value in env.items():
            patch.setenv(key, value)
        code: int | None = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except BaseException as exc:  # the campaign reports it
                err.write(f"Traceback: {type(exc).__name__}: {exc}\n")
        files = left_in(Path(work))
    return Outcome(list(args), code, out.getvalue(), err.getvalue(), files)


def _log(outcome: Outcome, problems: list[str]) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as handle:
            record = {"args": outcome.args, "code": outcome.code, "problems": problems}
            handle.write(json.dumps(record) + "\n")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(args=command_lines(), env=ENVIRONMENTS)
def test_every_command_line_ends_in_verified_shapes_or_one_line(args: list[str], env: dict[str, str]) -> None:
    outcome = run_in_process(args, env)
    problems = outcome_problems(outcome)
    _log(outcome, problems)
    assert not problems, f"torchshape {' '.join(args)}: {problems}\n--- stderr\n{outcome.stderr}"


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(args=embedding_command_lines(), env=ENVIRONMENTS)
def test_every_embedding_command_line_ends_in_verified_shapes_or_one_line(
    args: list[str], env: dict[str, str]
) -> None:
    outcome = run_in_process(args, env)
    problems = outcome_problems(outcome)
    _log(outcome, problems)
    assert not problems, f"torchshape {' '.join(args)}: {problems}\n--- stderr\n{outcome.stderr}"


@settings(
    max_examples=int(os.environ.get("CAMPAIGN_PROCESSES", "6")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(args=command_lines())
def test_real_processes_end_the_same_way(args: list[str]) -> None:
    """A handful of the drawn command lines as real processes: exit codes and stderr as above."""
    with tempfile.TemporaryDirectory() as work:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
        env["PYTHONPATH"] = str(ROOT)
        # nothing to patch in another process: keep the drawn sizes from the largest valid ones
        # (refused for too much memory or time in-process) to ones refused as too large
        args = [{"2147483647": "2147483648", "100000": "100000000000000000000"}.get(a, a) for a in args]
        result = subprocess.run(
            [sys.executable, "-m", "torchshape", *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=work,
            env=env,
        )
        files = left_in(Path(work))
    outcome = Outcome(args, result.returncode, result.stdout, result.stderr, files)
    problems = outcome_problems(outcome)
    assert not problems, f"torchshape {' '.join(args)}: {problems}\n--- stderr\n{outcome.stderr}"


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        (["--num-embeddings", "100000000000000000000"], 2, "--num-embeddings"),
        (["--shape", "2147483648"], 2, "--shape"),
        (["--bag", "--offsets", "0,2147483647", "--device", "meta"], 2, "--offsets"),
        (["--bag", "--offsets", "0,2147483647", "--shape", "2147483647", "--device", "meta"], 0, ""),
        # the largest sizes: answered on meta, in constant time
        (
            [
                "--num-embeddings",
                "1000000000",
                "--embedding-dim",
                "4096",
                "--shape",
                "1,131072",
                "--device",
                "meta",
            ],
            0,
            "",
        ),
        (["--shape", "2147483647,2147483647,2147483647", "--device", "meta"], 1, "--shape"),
        (
            ["--num-embeddings", "2147483647", "--embedding-dim", "2147483647", "--device", "meta"],
            1,
            "--num-embeddings",
        ),
        # ...refused where they cannot run
        (["--num-embeddings", "2147483647", "--embedding-dim", "4096"], 1, "--device"),
    ],
)
def test_absurd_embedding_values_are_refused_or_answered(args: list[str], code: int, named: str) -> None:
    outcome = run_in_process(["embedding", *args], {})
    assert not outcome_problems(outcome), outcome.stderr
    assert outcome.code == code, outcome.stderr
    assert named in outcome.stderr


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        (["--layers", "100000000000000000000", "--device", "meta"], 2, "--layers"),
        (["--hidden-size", "-100000000000000000000"], 2, "--hidden-size"),
        (["--seq-len", "9223372036854775808", "--device", "meta"], 2, "--seq-len"),
        (["--dropout", "nan"], 2, "--dropout"),
        (["--dropout", "inf"], 2, "--dropout"),
        (["--lengths", "3,,x"], 2, "--lengths"),
        (["--device", "cuda:7"], 1, "--device"),
        # the largest sizes torchshape takes: answered on meta, in constant time
        (["--seq-len", "2147483647", "--batch", "1000000", "--device", "meta", "--layers", "1024"], 0, ""),
        (["--input-size", "2147483647", "--hidden-size", "100000", "--device", "meta", "--bidir"], 0, ""),
        # ...refused where they cannot exist or cannot run
        (["--hidden-size", "2147483647", "--device", "meta"], 1, "--hidden-size"),
        (["--seq-len", "2147483647"], 1, "--device"),
        (
            ["--seq-len", "100000000", "--hidden-size", "1", "--input-size", "1", "--batch", "1"],
            1,
            "--device",
        ),
    ],
)
def test_absurd_values_are_refused_or_answered(args: list[str], code: int, named: str) -> None:
    outcome = run_in_process(["rnn", *args], {})
    assert not outcome_problems(outcome), outcome.stderr
    assert outcome.code == code, outcome.stderr
    assert named in outcome.stderr
