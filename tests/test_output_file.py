"""``--output`` respects what is there: links followed and kept, FIFOs and devices written in
place, ``-`` is stdout, a full disk is one line and the old file whole, and a place no report
can go to is refused before anything runs. Every node is made in a temporary directory; no
test touches the real /dev."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_model import MODELS, run

ROOT = Path(__file__).resolve().parent.parent


def _environment() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    environ["PYTHONPATH"] = str(ROOT)
    return environ


def _rnn_json(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run_cli(capsys, "rnn", "--format", "json")
    assert code == 0
    return out


def test_a_symlink_is_followed_and_stays_a_link(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.json"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    code, out, err = run_cli(capsys, "rnn", "--output", str(link))
    assert (code, out, err) == (0, "", "")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == _rnn_json(capsys)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(real.parent)) == ["real.json"]  # no temporary file left beside it


def test_a_dangling_symlink_gets_its_target_made(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made" / "later.json")
    assert run_cli(capsys, "rnn", "--output", str(link))[0] == 0
    assert link.is_symlink()
    json.loads((tmp_path / "made" / "later.json").read_text(encoding="utf-8"))


def test_a_hard_link_keeps_its_links(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = tmp_path / "a.json"
    first.write_text("old", encoding="utf-8")
    second = tmp_path / "b.json"
    os.link(first, second)
    assert run_cli(capsys, "rnn", "--output", str(first))[0] == 0
    assert first.stat().st_nlink == 2 and first.stat().st_ino == second.stat().st_ino
    assert second.read_text(encoding="utf-8") == _rnn_json(capsys)


def test_a_fifo_is_written_not_replaced(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "shapes.json"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, out, err = run_cli(capsys, "rnn", "--output", str(fifo))
    reader.join(timeout=20)
    assert (code, out, err) == (0, "", "")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received[0].decode("utf-8") == _rnn_json(capsys)


def _node(path: Path, minor: int) -> None:
    """A character device like /dev/null (minor 3) or /dev/full (minor 7), made in ``path``."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (OSError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


def test_a_device_is_written_in_place(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    null = tmp_path / "null"
    _node(null, 3)
    code, out, err = run_cli(capsys, "rnn", "--format", "json", "--output", str(null))
    assert (code, out, err) == (0, "", "")
    assert stat.S_ISCHR(os.stat(null).st_mode)


def test_a_full_device_exits_1_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    full = tmp_path / "full"
    _node(full, 7)
    code, out, err = run_cli(capsys, "rnn", "--format", "json", "--output", str(full))
    assert (code, out) == (1, "")
    assert err == f"torchshape: error: --output {full}: cannot write it: no space left on device\n"
    assert stat.S_ISCHR(os.stat(full).st_mode)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare for a private mount")
def test_a_full_disk_exits_1_and_keeps_the_old_file(tmp_path: Path) -> None:
    """A real ENOSPC: a 8 KiB tmpfs in a private mount namespace, too small for the SVG."""
    disk = tmp_path / "disk"
    disk.mkdir()
    target = disk / "shapes.svg"
    script = (
        f"mount -t tmpfs -o size=8k tmpfs {disk} || exit 99; echo old > {target}; "
        f"{sys.executable} -m torchshape rnn --diagram --output {target}; "
        f"echo rc=$?; cat {target}; ls -A {disk}"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
    )
    if "rc=" not in done.stdout:
        pytest.skip(f"no private mount here: {done.stderr.strip()}")
    assert done.stdout == "rc=1\nold\nshapes.svg\n"
    assert done.stderr.endswith(
        f"torchshape: error: --output {target}: cannot write it: no space left on device\n"
    )
    assert done.stderr.count("torchshape:") == 1


def test_process_substitution_gets_the_report() -> None:
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    script = f"{sys.executable} -m torchshape rnn --format json --output >(wc -c); echo rc=$?; wait"
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=_environment(), timeout=120
    )
    words = done.stdout.split()
    assert "rc=0" in words, done.stderr
    count = next(int(word) for word in words if word.isdigit())
    assert count > 1000


def test_dash_is_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "rnn", "--format", "json", "--output", "-")
    assert (code, err) == (0, "")
    assert out == _rnn_json(capsys)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["directory", "file parent", "proc"])
def test_nowhere_to_write_is_refused_before_the_model_runs(where: str, tmp_path: Path) -> None:
    if where == "directory":
        path, said = tmp_path, "is a directory; give a file name"
    elif where == "file parent":
        (tmp_path / "afile").write_text("", encoding="utf-8")
        path, said = tmp_path / "afile" / "x.json", f"the directory {tmp_path / 'afile'} is not a directory"
    else:
        if not os.path.exists("/proc/version"):
            pytest.skip("no /proc")
        path, said = Path("/proc/version"), "cannot write in /proc: "
    status, out, err = run(f"model {MODELS}/hostile.py:Prints --input 2,4 --format json --output {path}")
    assert (status, out) == (2, "")
    assert err.startswith(f"torchshape: error: --output {path}: {said}")
    assert err.count("\n") == 1  # and no print of the model's: it never ran


def test_a_huge_svg_is_written_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """--diagram of every window of a 100,000-long axis: about 26 MiB of SVG, and one line saying so."""
    code, out, err = run_cli(
        capsys, "pool", "--diagram", "--size", "100000", "--format", "svg", "--device", "meta"
    )
    assert code == 0
    assert out.startswith("<svg") and len(out) > 5 * 2**20
    assert err.startswith("torchshape: warning: --format svg: the drawing is ") and err.count("\n") == 1
    code, out, err = run_cli(capsys, "pool", "--diagram", "--format", "svg", "--device", "meta")
    assert (code, err) == (0, "")
