"""torchshape norm on the command line: bad input, --help without torch, every format, the command."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from tests.conftest import run_cli

# Each bad command line: exit 2, one line on stderr naming the flag, nothing on stdout.
USAGE = [
    ("--kind group --num-groups 4", "--num-groups"),
    ("--kind layer --num-groups 2", "--num-groups"),
    ("--kind rms --affine", "--affine"),
    ("--kind batch --normalized-shape 4", "--normalized-shape"),
    ("--kind batch --unbatched", "--unbatched"),
    ("--kind batch --size 3", "--size"),
    ("--kind instance --dims 4", "--dims"),
    ("--eps x", "--eps"),
    ("--kind layer --normalized-shape 0", "--normalized-shape"),
    ("--kind norm", "--kind"),
]


@pytest.mark.parametrize(("args", "flag"), USAGE)
def test_bad_usage_one_line(capsys: pytest.CaptureFixture[str], args: str, flag: str) -> None:
    code, out, err = run_cli(capsys, "norm", *shlex.split(args))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and flag in err, err


def test_help_and_bad_usage_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from torchshape.cli import main\n"
        f"for args in {[shlex.split(a) for a, _ in USAGE]!r}:\n"
        "    assert main(['norm', *args]) == 2, args\n"
        "main(['norm', '--help'])\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--normalized" in result.stdout and "--track" in result.stdout


def test_help_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    from torchshape.families.norm.command import EXAMPLES

    for example in EXAMPLES:
        code, _, err = run_cli(capsys, *shlex.split(example)[1:])
        assert code == 0, (example, err)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance", "rms"])
def test_json_and_csv(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    code, out, _ = run_cli(capsys, "norm", "--kind", kind, "--explain", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["statistics"]["holds"] is True
    assert all(held["verified"] for held in doc["held"])
    assert all(claim["holds"] is True for claim in doc["explain"])
    code, out, _ = run_cli(capsys, "norm", "--kind", kind, "--format", "csv")
    assert code == 0 and out.count("\n") > 3
    if kind == "batch":
        assert "running_mean" in out and "buffer" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "svg"])
def test_other_formats(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run_cli(capsys, "norm", "--kind", "group", "--format", fmt)
    assert code == 0 and "statistics" in out


@pytest.mark.parametrize(
    "args",
    [
        "",
        "--kind layer --normalized-shape 4,5 --size 3 --eps 0.001",
        "--kind instance --dims 3 --affine --eval --track-running-stats",
        "--kind rms --no-elementwise-affine --unbatched",
        "--kind batch --dims 1 --size () --no-affine",
        "--kind group --num-groups 2 --num-features 8 --size 5",
    ],
)
def test_python_script_runs_and_command_reproduces(
    capsys: pytest.CaptureFixture[str], tmp_path: object, args: str
) -> None:
    code, script, _ = run_cli(capsys, "norm", *shlex.split(args), "--format", "python")
    assert code == 0
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "every shape matches" in result.stdout
    line = next(line for line in script.splitlines() if "torchshape norm" in line)
    words = shlex.split(line.strip('"').split("Reproduce with", 1)[-1])
    words = words[words.index("norm") + 1 : words.index("--format")]
    configs = []
    for given in (shlex.split(args), words):
        code, out, _ = run_cli(capsys, "norm", *given, "--format", "json")
        assert code == 0
        configs.append(json.loads(out)["config"])
    assert configs[0] == configs[1]
