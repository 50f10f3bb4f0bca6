"""The user's model cannot take over the command line: exits, prints, threads, odd exceptions,
escape sequences and TARGETs that are no model (tests/models/hostile.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_model import MODELS, run

HOSTILE = MODELS / "hostile.py"
ROOT = Path(__file__).resolve().parent.parent


def command_line(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m torchshape ARGS`` in its own process (file descriptors, threads, signals)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    environ["PYTHONPATH"] = str(ROOT)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "torchshape", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=timeout,
    )


# --- sys.exit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "shown"), [(3, "sys.exit(3)"), (0, "sys.exit(0)"), ("'bye'", "sys.exit('bye')")]
)
def test_sys_exit_in_forward_is_one_line_and_exit_1(code: object, shown: str) -> None:
    status, out, err = run(f'model {HOSTILE}:Exits --input 2,4 --arg "code={code}" --format json')
    assert (status, out) == (1, "")
    assert err == f"torchshape: error: the model called {shown} in forward\n"


def test_sys_exit_when_built_and_at_import(tmp_path: Path) -> None:
    status, _, err = run(f"model {HOSTILE}:ExitsWhenBuilt --input 2,4")
    assert status == 1
    assert err == "torchshape: error: the model called sys.exit(4) when built (ExitsWhenBuilt)\n"
    leaving = tmp_path / "leaving.py"
    leaving.write_text("import sys\nsys.exit(7)\n", encoding="utf-8")
    status, _, err = run(f"model {leaving}:Net --input 2,4")
    assert status == 1
    assert err == f"torchshape: error: the model called sys.exit(7) at import of {leaving}\n"


def test_sys_exit_on_meta_is_reported_too() -> None:
    status, _, err = run(f"model {HOSTILE}:Exits --input 2,4 --device meta")
    assert (status, err) == (1, "torchshape: error: the model called sys.exit(3) in forward\n")


# --- prints -------------------------------------------------------------------------------


def test_prints_go_to_stderr_once_and_json_stays_valid() -> None:
    """print() and os.write(1, ...) in forward: stdout is the JSON alone; each print comes once,
    from the real run on cpu (the guard's run on meta is silent)."""
    done = command_line("model", f"{HOSTILE}:Prints", "--input", "2,4", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["command"] == "model"
    lines = [line for line in done.stderr.splitlines() if "forward on" in line]
    assert sorted(lines) == ["fd 1 from forward on cpu", "print from forward on cpu"]


def test_prints_on_meta_come_once_from_the_meta_run() -> None:
    status, out, err = run(f"model {HOSTILE}:Prints --input 2,4 --device meta --format json")
    assert status == 0
    json.loads(out)
    assert err.count("print from forward on meta") == 1


def test_prints_stay_on_stdout_when_the_report_goes_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "trace.json"
    done = command_line("model", f"{HOSTILE}:Prints", "--input", "2,4", "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("print from forward on cpu") == 1
    json.loads(target.read_text(encoding="utf-8"))


# --- threads ------------------------------------------------------------------------------


def test_a_thread_the_model_left_does_not_hold_the_exit() -> None:
    started = time.monotonic()
    done = command_line("model", f"{HOSTILE}:LeavesAThread", "--input", "2,4", "--format", "csv", timeout=90)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tensor,formula,shape")
    assert time.monotonic() - started < 60


# --- exceptions that cannot be printed, escape sequences -------------------------------------


@pytest.mark.parametrize(("both", "shown"), [(False, "StrRaises"), (True, "ReprRaisesToo")])
def test_an_exception_whose_str_raises_still_gets_the_report(both: bool, shown: str) -> None:
    status, out, err = run(f"model {HOSTILE}:RaisesUnprintable --input 2,4 --arg both={both}")
    assert status == 1
    assert "diagnosis: where forward raised" in out
    assert "internal error" not in err
    assert err.startswith("torchshape: error: the model failed in (model) (RaisesUnprintable)")
    if both:
        assert f"torch: {shown}" in out
    else:
        assert "torch: StrRaises()" in out  # repr() when str() raises


def test_control_characters_from_the_model_are_escaped() -> None:
    for fmt in ("table", "markdown", "csv"):
        status, out, err = run(f"model {HOSTILE}:RaisesAnsi --input 2,4 --format {fmt}")
        assert status == 1
        assert "\x1b" not in out + err and "\x07" not in out + err, fmt
        assert "\\x1b[31mred" in out, fmt


def test_error_lines_escape_control_characters_and_cut_huge_values() -> None:
    status, _, err = run("rnn --hidden-size '\x1b[31m12'")
    assert status == 2
    assert "\x1b" not in err and "\\x1b" in err
    status, _, err = run(f"rnn --hidden-size {'9' * 200_000}x")
    assert status == 2
    assert err.count("\n") == 1 and len(err) < 5000


# --- TARGET -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("os:system", "system is a built-in function"),
        ("sys:exit", "exit is a built-in function"),
        ("shutil:rmtree", "rmtree is a function of shutil, not a model"),
        ("subprocess:run", "run is a function of subprocess, not a model"),
        ("torch.hub:load", "load is a function of torch, not a model"),
        (f"{HOSTILE}:join_path", "join_path is a function defined in posixpath"),
        (f"{HOSTILE}:VALUE", "VALUE is a int, not an nn.Module class or object"),
        (f"{HOSTILE}:NotAModule", "NotAModule is a class but not an nn.Module subclass"),
    ],
)
def test_a_target_that_is_no_model_exits_2_naming_target(target: str, said: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    status, out, err = run(f"model {target} --arg \"command='touch {marker}'\" --input 1")
    assert (status, out) == (2, "")
    assert err.startswith(f"torchshape: error: TARGET: {target}: {said}")
    assert err.count("\n") == 1
    assert not marker.exists()


def test_a_function_of_the_file_that_returns_a_module_is_a_target() -> None:
    status, out, _ = run(f"model {HOSTILE}:make_linear --arg features=3 --input 2,3 --format json")
    assert status == 0
    assert json.loads(out)["layers"][0]["outputs"][0]["shape"] == [2, 2]


def test_a_file_without_py_is_one_line_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "net_noext"
    source.write_text("from torch import nn\nNet = nn.Linear\n", encoding="utf-8")
    status, out, err = run(f"model {source}:Net --input 2,4")
    assert (status, out) == (2, "")
    assert err == (
        f"torchshape: error: TARGET: {str(source)!r} is not a .py file; "
        "name a Python source file: path/to/file.py:Name\n"
    )


def test_package_module_targets_are_found_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``python -m`` finds them: the ``torchshape`` script puts its own folder first on the path."""
    package = tmp_path / "mynets"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "small.py").write_text(
        "from torch import nn\n\nclass Small(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.linear = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n        return self.linear(x)\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    here = {"", ".", str(tmp_path), os.getcwd()}
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in here])
    status, out, err = run("model mynets.small:Small --input 2,4 --format json")
    assert (status, err) == (0, "")
    assert json.loads(out)["config"]["target"] == "mynets.small:Small"
    assert str(tmp_path) not in sys.path  # the path is as it was


# --- Ctrl-C, COLUMNS, --version -------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.5])
def test_ctrl_c_at_any_moment_is_one_line_and_130(delay: float) -> None:
    """Delays counted from the moment the handler's module is imported (``-X importtime`` says so
    on stderr): the first lands in the imports of typer, rich and torch, later ones in the
    forward pass of a model that sleeps."""
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    environ["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "torchshape",
            "model",
            f"{HOSTILE}:Sleeps",
            "--input",
            "2,4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environ,
    )
    assert process.stderr is not None
    for line in process.stderr:  # until the handler's module is imported: it is installed at once
        if line.rstrip().endswith("torchshape.interrupt"):
            break
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    said = [line for line in err.splitlines() if not line.startswith("import time:")]
    assert process.returncode == 130, (out, err[-2000:])
    assert said == ["torchshape: error: interrupted"], said


def test_a_columns_below_the_minimum_is_ignored() -> None:
    from torchshape.cli import MIN_COLUMNS, sane_columns

    cases = (("0", False), ("5", False), ("-3", False), ("abc", False), ("39", False), ("40", True))
    for text, kept in cases:
        environ = {"COLUMNS": text}
        sane_columns(environ)
        assert ("COLUMNS" in environ) is kept, text
    assert MIN_COLUMNS == 40
    done = command_line("rnn", env={"COLUMNS": "0"})
    assert done.returncode == 0
    assert "output, (h_n, c_n) = lstm(input, (h_0, c_0))" in done.stdout


@pytest.mark.parametrize("command", ["rnn", "conv", "model"])
def test_version_after_a_command(command: str) -> None:
    from torchshape.cli import version_line

    status, out, err = run(f"{command} --version")
    assert (status, out, err) == (0, version_line() + "\n", "")


def test_an_embedding_of_no_rows_is_a_bad_input_not_an_internal_error() -> None:
    """Found by the campaign: ``--arg vocab=0`` builds nn.Embedding(0, ...), and no index can be drawn."""
    args = f"model {MODELS}/seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64 --arg vocab=0"
    status, out, err = run(args)
    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == (
        "torchshape: error: --input: 4,10:int64: no integer v with 0 ≤ v < 0 (the table it feeds)"
    )
