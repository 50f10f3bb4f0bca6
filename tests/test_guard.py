"""The guard refuses what cannot run, at once and in one line; Ctrl-C stops a long run at once."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from rich.console import Console

from tests.conftest import run_python
from torchshape import EnvironmentProblem, inspect, make_spec
from torchshape import guard as guard_module
from torchshape.cli import main
from torchshape.spinner import forward_status

ROOT = Path(__file__).resolve().parents[1]
ISSUE_EXAMPLE = [
    "rnn", "--hidden-size", "4096", "--input-size", "4096", "--layers", "8", "--bidir",
    "--seq-len", "100000", "--batch", "4096",
]  # fmt: skip


def torchshape(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "torchshape", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **kwargs,
    )


def interrupted_at_once(process: subprocess.Popen[str], after: float) -> None:
    """Ctrl-C AFTER seconds into the run: the process ends within 10 s, without waiting for the
    forward pass to finish, with exit 130, one line on stderr and nothing on stdout."""
    try:
        time.sleep(after)
        assert process.poll() is None, "finished before it was interrupted"
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = process.communicate(timeout=20)
        assert time.monotonic() - sent < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert err == "torchshape: error: interrupted\n"
    assert out == ""


def test_impossible_configuration_is_refused_in_one_line() -> None:
    process = torchshape(*ISSUE_EXAMPLE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("torchshape: error: --device cpu: this forward pass needs about ")
    assert " at its peak (estimate) but only " in err
    assert "use --device meta" in err


def test_the_cpu_guard_runs_before_torch_is_imported() -> None:
    """Why the refusal is fast: it needs no torch at all."""
    code = (
        "import sys\n"
        "from torchshape import EnvironmentProblem, make_spec, guard\n"
        "spec = make_spec(hidden_size=4096, input_size=4096, num_layers=8, bidirectional=True,\n"
        "                 seq_len=100000, batch=4096)\n"
        "try:\n"
        "    guard.check(spec)\n"
        "except EnvironmentProblem:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('not refused')\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_same_configuration_on_meta_is_answered(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*ISSUE_EXAMPLE, "--device", "meta", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["totals"]["params"] == sum(p["numel"] for p in data["parameters"])
    assert all(p["verified"] for p in data["parameters"])
    assert data["totals"]["peak_bytes_estimate"] > 2**40


def test_refusal_happens_before_anything_is_built(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchshape.families.rnn import probe

    def must_not_run(*args: object) -> None:
        raise AssertionError("allocated before the guard")

    monkeypatch.setattr(guard_module, "available_bytes", lambda device: (10 * 2**20, "memory"))
    monkeypatch.setattr(probe, "build_module", must_not_run)
    monkeypatch.setattr(probe, "make_inputs", must_not_run)
    with pytest.raises(EnvironmentProblem, match=r"needs about .* but only 10 MiB of memory is available"):
        inspect(kind="gru")
    code = main(["rnn", "--kind", "gru"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("torchshape: error: --device cpu: this forward pass needs about ")
    assert err.count("\n") == 1


def test_unknown_available_memory_does_not_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard_module, "available_bytes", lambda device: (None, "memory"))
    assert inspect(kind="rnn").ok


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["--device", "meta", "--input-size", "2147483647", "--hidden-size", "2147483647"], "weight_ih_l0"),
        (["--seq-len", "2147483647", "--batch", "2147483647", "--hidden-size", "2147483647"], "input"),
        (
            ["--seq-len", "2147483647", "--batch", "2147483647", "--device", "meta", "--dtype", "float64"],
            "input",
        ),
    ],
)
def test_tensors_torch_cannot_address_are_refused(
    capsys: pytest.CaptureFixture[str], args: list[str], start: str
) -> None:
    code = main(["rnn", *args])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith(f"torchshape: error: {start} would have shape (")
    assert "beyond the 2^63 - 1 bytes a torch tensor can address" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_the_addressable_limit_is_torchs(dtype: torch.dtype) -> None:
    itemsize = torch.empty((), dtype=dtype).element_size()
    largest = (2**63 - 1) // itemsize
    assert guard_module.addressable(largest, itemsize)
    torch.empty((largest,), dtype=dtype, device="meta")
    assert not guard_module.addressable(largest + 1, itemsize)
    with pytest.raises(RuntimeError, match="overflow"):
        torch.empty((largest + 1,), dtype=dtype, device="meta")


def test_running_out_of_memory_anyway_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """If torch's allocator fails despite the estimate, the user gets exit 1 and one line."""
    from torchshape.families.rnn import probe

    def allocation_fails(*args: object) -> None:
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
            "you tried to allocate 123 bytes. Error code 12 (Cannot allocate memory)"
        )

    monkeypatch.setattr(probe, "make_inputs", allocation_fails)
    code = main(["rnn"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("torchshape: error: --device cpu: torch ran out of memory ([enforce fail")
    assert "use --device meta" in err and err.count("\n") == 1


def test_interruptible_returns_raises_and_runs_in_inference_mode() -> None:
    spec = make_spec()
    assert guard_module.interruptible(spec, torch.is_inference_mode_enabled) is True
    assert guard_module.interruptible(spec, lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(ValueError, match="boom"):
        guard_module.interruptible(spec, lambda: (_ for _ in ()).throw(ValueError("boom")))


# --- available memory --------------------------------------------------------------


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_meminfo_available(tmp_path: Path) -> None:
    write(tmp_path / "meminfo", "MemTotal:  8000 kB\nMemFree:  1000 kB\nMemAvailable:  5000 kB\n")
    assert guard_module.meminfo_available(tmp_path / "meminfo") == 5000 * 1024
    write(tmp_path / "old", "MemTotal:  8000 kB\n")
    assert guard_module.meminfo_available(tmp_path / "old") is None


def test_cgroup_v2_limit_caps_the_machine(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "meminfo", "MemAvailable:  8388608 kB\n")  # 8 GiB
    write(proc / "self" / "cgroup", "0::/job\n")
    write(root / "job" / "memory.max", f"{3 * 2**30}\n")
    write(root / "job" / "memory.current", f"{2**30}\n")
    write(root / "job" / "memory.stat", f"anon 5\ninactive_file {2**29}\n")
    write(root / "memory.max", "max\n")
    write(root / "memory.current", "7\n")
    # 3 GiB limit − 1 GiB used + 0.5 GiB of reclaimable page cache
    assert guard_module.cpu_available_bytes(proc, root) == 2 * 2**30 + 2**29


def test_cgroup_v1_limit_and_no_limit(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "meminfo", "MemAvailable:  8388608 kB\n")
    write(proc / "self" / "cgroup", "4:memory:/job\n1:cpu:/\n")
    write(root / "memory" / "job" / "memory.limit_in_bytes", f"{2**30}\n")
    write(root / "memory" / "job" / "memory.usage_in_bytes", f"{2**28}\n")
    write(root / "memory" / "job" / "memory.stat", "total_inactive_file 0\n")
    assert guard_module.cpu_available_bytes(proc, root) == 2**30 - 2**28
    write(root / "memory" / "job" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert guard_module.cpu_available_bytes(proc, root) == 8 * 2**30


# --- spinner and Ctrl-C --------------------------------------------------------------

SLOW = {"kind": "gru", "hidden_size": 1024, "input_size": 1024, "seq_len": 1000, "batch": 64}


def test_spinner_shows_the_estimate_on_a_terminal_only() -> None:
    spec = make_spec(**SLOW)
    shown = io.StringIO()
    with forward_status(spec, Console(file=shown, force_terminal=True, width=200)):
        time.sleep(0.3)
    assert "forward pass on cpu: " in shown.getvalue()
    assert "MACs, estimated ≤ " in shown.getvalue() and "Ctrl-C stops it" in shown.getvalue()
    for quiet_spec, console in [
        (spec, Console(file=io.StringIO(), force_terminal=False)),  # a pipe or a file
        (make_spec(), Console(file=io.StringIO(), force_terminal=True)),  # fast
        (make_spec(**SLOW, device="meta"), Console(file=io.StringIO(), force_terminal=True)),  # probe only
    ]:
        with forward_status(quiet_spec, console):
            pass
        assert console.file.getvalue() == ""  # type: ignore[attr-defined]


def test_keyboard_interrupt_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torchshape.api

    def interrupted(spec: object, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(torchshape.api, "run_spec", interrupted)
    assert main(["rnn"]) == 130
    assert capsys.readouterr().err == "torchshape: error: interrupted\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_a_long_forward_exits_130_at_once() -> None:
    # A GRU stepping through 40 layers × 2 directions × 100000 steps: half a minute or more on a CPU.
    args = ["rnn", "--kind", "gru", "--unbatched", "--seq-len", "100000", "--layers", "40", "--bidir"]
    args += ["--input-size", "4", "--hidden-size", "4"]
    process = torchshape(*args)
    interrupted_at_once(process, after=4)  # torch imported, the forward pass under way


# --- CUDA (skipped without a device) ----------------------------------------------------


@pytest.mark.cuda
def test_cuda_guard_compares_with_free_device_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*ISSUE_EXAMPLE, "--device", "cuda"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("torchshape: error: --device cuda: this forward pass needs about ")
    assert "of memory on cuda is available; use --device meta" in err
    assert err.count("\n") == 1


@pytest.mark.cuda
@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "lstm", "input_size": 512, "hidden_size": 1024, "num_layers": 2,
         "seq_len": 512, "batch": 64},
        {"kind": "gru", "input_size": 256, "hidden_size": 512, "bidirectional": True,
         "seq_len": 1000, "batch": 32},
        {"kind": "lstm", "input_size": 256, "hidden_size": 512, "proj_size": 128, "seq_len": 512, "batch": 64,
         "dtype": "bfloat16"},
    ],
)  # fmt: skip
def test_cuda_peak_stays_under_the_guards_requirement(raw: dict[str, Any]) -> None:
    from torchshape.families.rnn import probe

    spec = make_spec(**raw, device="cuda")
    probe.run(make_spec(**{**raw, "seq_len": 2}, device="cuda"))  # cuDNN's one-time setup
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    probe.run(spec)
    torch.cuda.synchronize()
    used = torch.cuda.max_memory_allocated() - before
    assert 0 < used <= guard_module.required_bytes(spec, torch_imported=True), (raw, used)


def test_the_handoff_decoders_of_explain_count_in_the_guard(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--explain builds decoders as wide as both directions beside the module: the guard counts them."""
    args = ["rnn", "--layers", "2", "--bidir", "--hidden-size", "512", "--input-size", "8", "--seq-len", "4"]
    monkeypatch.setattr(guard_module, "available_bytes", lambda device: (150 * 2**20, "memory"))
    assert main(args) == 0  # the module alone fits
    capsys.readouterr()
    assert main([*args, "--explain"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "this forward pass and the modules --explain runs beside it need about" in err


SLOW_MODEL = """
import torch
from torch import nn


class Slow(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 64)

    def forward(self, x):
        for _ in range(10**9):  # the user's own code, running for a long time
            x = torch.tanh(self.fc(x))
        return x
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_a_models_own_code_runs_exits_130_at_once(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW_MODEL, encoding="utf-8")
    process = torchshape("model", f"{tmp_path / 'slow.py'}:Slow", "--input", "2,64")
    interrupted_at_once(process, after=5)  # torch imported, the model's forward under way


def test_diagrams_own_run_counts_in_the_guard(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """rnn's --diagram reruns the layers one at a time beside the pass's results: the guard counts it."""
    from torchshape.families.rnn.counts import diagram_bytes

    raw = {"kind": "gru", "num_layers": 4, "hidden_size": 64, "input_size": 8, "seq_len": 50, "batch": 8}
    spec = make_spec(**raw)
    assert diagram_bytes(spec) > 0
    room = guard_module.required_bytes(spec, torch_imported=True) + diagram_bytes(spec) // 2
    monkeypatch.setattr(guard_module, "available_bytes", lambda device: (room, "memory"))
    args = ["rnn", "--kind", "gru", "--layers", "4", "--hidden-size", "64", "--input-size", "8"]
    args += ["--seq-len", "50", "--batch", "8"]
    assert main(args) == 0  # the forward pass alone fits
    capsys.readouterr()
    assert main([*args, "--diagram"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "this forward pass and --diagram's checks need about" in err
