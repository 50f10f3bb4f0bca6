"""``--output FILE`` and the terminal table's colour and width."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import run_cli, wrong_rnn_formula

ROOT = Path(__file__).resolve().parent.parent
TENSORS = ("input", "h_0", "c_0", "output", "h_n", "c_n")
ANY_ESCAPE = "\x1b["
# SGR parameters that set a colour: 30-38, 40-48, 90-97, 100-107 (bold and dim are not colour)
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the colour and width variables they need; none leak in from the caller."""
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


# --- --output ----------------------------------------------------------------------------


def _is_table(text: str) -> bool:
    return text.startswith("nn.LSTM(50, 30)\n") and "─" in text and ANY_ESCAPE not in text


def _is_markdown(text: str) -> bool:
    return "| tensor | formula | shape | torch | verified |" in text and "─" not in text


def _is_json(text: str) -> bool:
    return json.loads(text)["module"] == "nn.LSTM(50, 30)"


def _is_csv(text: str) -> bool:
    return next(csv.reader(io.StringIO(text)))[0] == "tensor"


def _is_svg(text: str) -> bool:
    return ET.fromstring(text).tag.endswith("svg")


def _is_python(text: str) -> bool:
    compile(text, "snippet.py", "exec")
    return "lstm = nn.LSTM(50, 30, device=device, dtype=dtype).eval()" in text


CHECKS = {
    "shapes.txt": _is_table,
    "shapes.md": _is_markdown,
    "shapes.markdown": _is_markdown,
    "SHAPES.MD": _is_markdown,
    "shapes.json": _is_json,
    "shapes.csv": _is_csv,
    "shapes.svg": _is_svg,
    "shapes.py": _is_python,
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_extension_picks_the_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    target = tmp_path / name
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out, err) == (0, "", "")
    assert CHECKS[name](target.read_text(encoding="utf-8"))
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind


def test_format_wins_over_the_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "shapes.md"
    code, _, _ = run_cli(capsys, "rnn", "--format", "json", "--output", str(target))
    assert code == 0
    assert _is_json(target.read_text(encoding="utf-8"))


def test_the_file_matches_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "shapes.csv"
    assert run_cli(capsys, "rnn", "--kind", "gru", "--output", str(target))[0] == 0
    code, out, _ = run_cli(capsys, "rnn", "--kind", "gru", "--format", "csv")
    assert code == 0
    assert target.read_bytes() == out.encode("utf-8")


@pytest.mark.parametrize(
    ("name", "said"),
    [("shapes.yaml", "the extension '.yaml'"), ("shapes", "a file without an extension")],
)
def test_an_unknown_extension_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, said: str
) -> None:
    target = tmp_path / name
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out) == (2, "")
    assert err == (
        f"torchshape: error: --output: cannot tell the format from {said} in {str(target)!r}; "
        "use .txt, .md, .json, .csv, .svg, .py, or give --format\n"
    )
    assert not target.exists()


def test_missing_directories_are_created(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``--output docs/shapes.md`` in a fresh checkout: docs/ (and any parents) are made."""
    target = tmp_path / "docs" / "api" / "shapes.md"
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out, err) == (0, "", "")
    assert _is_markdown(target.read_text(encoding="utf-8"))
    assert os.listdir(target.parent) == ["shapes.md"]


def test_a_relative_missing_directory_is_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "rnn", "--kind", "gru", "--output", "docs//shapes.json")
    assert code == 0, err
    assert json.loads((tmp_path / "docs" / "shapes.json").read_text(encoding="utf-8"))["ok"] is True


def test_a_failed_write_removes_the_directories_it_made(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    target = tmp_path / "docs" / "api" / "shapes.md"
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == f"torchshape: error: --output {target}: cannot write it: no space left on device\n"
    assert os.listdir(tmp_path) == []


def test_a_failed_mkdir_removes_the_directories_it_made(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = os.mkdir

    def mkdir(name: str, *args: object) -> None:
        if os.path.basename(name) == "api":
            raise OSError(13, "Permission denied")
        real_mkdir(name)

    monkeypatch.setattr(os, "mkdir", mkdir)
    target = tmp_path / "docs" / "api" / "shapes.md"
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == (
        f"torchshape: error: --output {target}: cannot create the directory {target.parent}: "
        "permission denied\n"
    )
    assert os.listdir(tmp_path) == []


def test_a_file_as_the_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "docs").write_text("", encoding="utf-8")
    target = tmp_path / "docs" / "shapes.md"
    code, _, err = run_cli(capsys, "rnn", "--output", str(target))
    assert code == 2
    assert err == f"torchshape: error: --output {target}: the directory {target.parent} is not a directory\n"


def test_a_file_above_the_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "docs").write_text("", encoding="utf-8")
    target = tmp_path / "docs" / "api" / "shapes.md"
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out) == (2, "")
    assert (
        err == f"torchshape: error: --output {target}: the directory {tmp_path / 'docs'} is not a directory\n"
    )
    assert os.listdir(tmp_path) == ["docs"]


def test_a_directory_as_the_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "shapes.md"
    target.mkdir()
    code, _, err = run_cli(capsys, "rnn", "--output", str(target))
    assert code == 2
    assert err == f"torchshape: error: --output {target}: is a directory; give a file name\n"
    assert os.listdir(tmp_path) == ["shapes.md"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, out, err = run_cli(capsys, "rnn", "--output", str(locked / "shapes.md"))
        assert (code, out) == (2, "")
        assert err.startswith(
            f"torchshape: error: --output {locked / 'shapes.md'}: cannot write in {locked}: "
        )
        assert err.count("\n") == 1
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_keeps_the_old_file_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A write that fails half-way (disk full, permission) leaves the old file as it was."""
    target = tmp_path / "shapes.md"
    target.write_text("old content\n", encoding="utf-8")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    code, out, err = run_cli(capsys, "rnn", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == f"torchshape: error: --output {target}: cannot write it: no space left on device\n"
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert os.listdir(tmp_path) == ["shapes.md"]


def test_an_existing_file_is_replaced_and_keeps_its_mode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "shapes.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    assert run_cli(capsys, "rnn", "--output", str(target))[0] == 0
    assert _is_json(target.read_text(encoding="utf-8"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        assert run_cli(capsys, "rnn", "--output", str(tmp_path / "shapes.md"))[0] == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "shapes.md").stat().st_mode) == 0o644


def test_a_mismatch_is_written_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # h_n laid out as (N, D·num_layers, H_out), as if batch_first applied to it
    wrong_rnn_formula(monkeypatch, "h_n", lambda dims: (dims[1], dims[0], dims[2]))
    target = tmp_path / "shapes.md"
    code, out, err = run_cli(capsys, "rnn", "--batch-first", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == f"torchshape: error: torch disagreed with a formula; see {target}\n"
    text = target.read_text(encoding="utf-8")
    assert "| h_n | (N, D·num_layers, H_out) | (3, 1, 30) | (1, 3, 30) | ✗ |" in text
    assert "✗ MISMATCH h_n" in text


# --- the table on a terminal, a pipe, a narrow screen --------------------------------------


def test_no_colour_through_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn")
    assert code == 0
    assert ANY_ESCAPE not in out


def test_colour_on_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the NO_COLOR test: a terminal (forced) does get colour."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    code, out, _ = run_cli(capsys, "rnn")
    assert code == 0
    assert COLOUR_SGR.search(out)


def test_no_color_and_a_narrow_terminal() -> None:
    """A real process: NO_COLOR on a (forced) terminal 40 columns wide."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")
    }
    env.update(NO_COLOR="1", FORCE_COLOR="1", TERM="xterm-256color", COLUMNS="40", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "torchshape", "rnn", "--layers", "2", "--bidir", "--proj-size", "8"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert ANY_ESCAPE in result.stdout  # a terminal: styles such as bold stay...
    assert not COLOUR_SGR.search(result.stdout)  # ...but no colour
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # bold and dim may stay
    assert_readable(plain, 40)


def assert_readable(text: str, width: int) -> None:
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    for name in TENSORS:  # each tensor's name whole, at the start of its row, then its formula
        assert sum(bool(re.match(rf"{name} +\(", line)) for line in lines) == 1, name
    starts = [line.split()[0] for line in lines if line.split()]
    assert text.count("✓") == len(TENSORS) + 2  # one per row, the parameters line, the verdict
    for symbol in ("L", "N", "H_in", "H_cell", "H_out", "D", "num_layers"):
        assert symbol in starts


@pytest.mark.parametrize("width", [40, 80])
@pytest.mark.parametrize(
    "args",
    [
        ["--layers", "2", "--bidir", "--batch-first", "--proj-size", "8"],
        ["--device", "meta", "--seq-len", "100000", "--hidden-size", "4096", "--layers", "8", "--bidir"],
    ],
)
def test_the_table_fits_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int, args: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run_cli(capsys, "rnn", *args)
    assert (code, err) == (0, "")
    assert_readable(out.replace("✓*", "✓"), width)
