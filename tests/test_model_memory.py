"""The memory figures of ``torchshape model``: the trace keeps no tensor the model let go, the
activation peak follows what a plain forward of the model holds, the guard's trial on meta
leaves its imports in a child process, and the command line's process hands freed tensors back
to the system."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tests.models import memory as stand_ins
from torchshape import measure
from torchshape.families.model.tracing import trace_module

ROOT = Path(__file__).resolve().parent.parent
LINUX_GLIBC = sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION") or "")
linux_only = pytest.mark.skipif(not LINUX_GLIBC, reason="resident memory and mallopt: Linux with glibc")


def python(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter at the checkout's root."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_the_trace_holds_no_tensor_the_model_let_go() -> None:
    """An intermediate is freed when the model drops it, during the forward and after it; its own
    ``F.linear`` calls (counted beside the dispatch mode) included. No cyclic GC runs between."""
    model = stand_ins.Dropping().eval()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        trace = trace_module(model, (torch.randn(16, 16),))
        assert model.alive == [False]
        assert [ref() for ref in model.refs] == [None]
    finally:
        if was_enabled:
            gc.enable()
    assert trace.error is None


def test_f_linear_beside_the_counter_is_counted_as_flop_counter_mode_counts_it() -> None:
    """``F.linear`` runs with the dispatch mode aside: its MACs (a transposed input with a bias, a
    1-d weight, counted as the same product with a (1, 16) weight) are FlopCounterMode's, halved."""
    torch.manual_seed(0)
    model = stand_ins.Dropping().eval()
    x = torch.randn(16, 16)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        stand_ins.Dropping(matrix=True).eval()(x)
    trace = trace_module(model, (x,))
    assert trace.macs == counter.get_total_flops() // 2 > 0
    lm = stand_ins.LanguageModel(vocab=50, embed=8, hidden=8).eval()
    tokens = torch.randint(0, 50, (2, 5))
    head = trace_module(lm, (tokens,))
    (row,) = [layer for layer in head.layers if layer.path == "head"]
    assert row.macs == 2 * 5 * 16 * 50


@linux_only
def test_the_activation_peak_is_within_1_5x_of_a_plain_forward() -> None:
    """A language model whose head's output (64 MB) is most of the peak: the trace's activation
    peak and inputs against the resident growth of the same forward in a fresh process without
    torchshape, every tensor from 128 KiB up mapped on its own (so resident memory follows the
    tensors). Under torchshape's dispatch mode torch would add the head's bias out of place and
    count the output twice."""
    done = python(
        """
        import json, torch
        from tests.models.memory import LanguageModel

        def peak():
            with open("/proc/self/status") as status:
                return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM:"))

        torch.manual_seed(0)
        model = LanguageModel().eval()
        tokens = torch.randint(0, 20000, (8, 100))
        with torch.no_grad():
            model(tokens[:1, :2])  # torch's first-call tables and code pages, not the run's
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            start = peak()
            model(tokens)
        print(json.dumps(peak() - start))
        """,
        env={"MALLOC_MMAP_THRESHOLD_": str(measure.MMAP_THRESHOLD_BYTES)},
    )
    assert done.returncode == 0, done.stderr
    plain = json.loads(done.stdout)
    torch.manual_seed(0)
    model = stand_ins.LanguageModel().eval()
    trace = trace_module(model, (torch.randint(0, 20000, (8, 100)),))
    ours = trace.activation_peak_bytes + trace.input_bytes
    assert ours >= 8 * 100 * 20000 * 4
    assert plain / 1.5 <= ours <= plain * 1.5, (ours, plain)


@linux_only
def test_the_command_line_reports_its_estimate_within_1_5x_of_its_measured_peak() -> None:
    """The same model through the command line's own process: the report's estimate and the
    peak it measured, both printed, within 1.5× of each other."""
    done = python(
        """
        import sys
        from torchshape.measure import command_line_process
        command_line_process()
        from torchshape.cli import main
        sys.exit(main(["model", "tests/models/memory.py:LanguageModel", "--input", "8,100:int64",
                       "--format", "json"]))
        """
    )
    assert done.returncode == 0, done.stderr
    memory = json.loads(done.stdout)["memory"]
    measured, estimate = memory["measured_peak_bytes"], memory["estimate_bytes"]
    assert measured is not None
    assert estimate / 1.5 <= measured <= estimate * 1.5, (estimate, measured)


def test_the_measure_starts_after_the_trace_has_loaded_its_libraries() -> None:
    """What the trace's modes import (torch.utils.flop_counter: on CUDA builds triton too, about
    80 MB of code) is loaded before the measured run begins: libraries are not the run's memory."""
    done = python(
        """
        import sys
        from torchshape.measure import command_line_process
        command_line_process()  # as the command line runs: the guard's trial in a forked child
        from torchshape.families.model import probe
        loaded = []
        class Measure(probe.Measure):
            def __init__(self, device):
                loaded.append("torch.utils.flop_counter" in sys.modules)
                super().__init__(device)
        probe.Measure = Measure
        from torchshape.cli import main
        code = main(["model", "tests/models/memory.py:ConvNorm", "--input", "2,3,16,16", "--format", "json"])
        print(loaded, file=sys.stderr)
        sys.exit(code)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[True]", done.stderr


GUARDED_RUN = """
    import json, sys
    from torchshape.measure import command_line_process
    if {own}:
        command_line_process()
    from torchshape.cli import main
    code = main(["model", "tests/models/memory.py:ConvNorm", "--input", "2,3,16,16", "--format", "json"])
    print(json.dumps([m for m in ("sympy", "torch._dynamo") if m in sys.modules]), file=sys.stderr)
    sys.exit(code)
"""


@linux_only
def test_the_guards_trial_on_meta_leaves_its_imports_in_a_child() -> None:
    """The command line's process gets the trial's estimate (the report's own figure) but not
    torch's meta kernels and what their first call imports (sympy, torch's compiler: ~80 MB);
    a Python program that imports torchshape runs the trial in its own process, and has them."""
    done = python(GUARDED_RUN.format(own=True))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    report = json.loads(done.stdout)
    assert report["memory"]["estimate_bytes"] > 0
    inside = python(GUARDED_RUN.format(own=False))
    assert inside.returncode == 0, inside.stderr
    assert json.loads(inside.stderr.strip().splitlines()[-1]) == ["sympy", "torch._dynamo"]
    assert json.loads(inside.stdout)["memory"] == report["memory"] | {
        "measured_peak_bytes": json.loads(inside.stdout)["memory"]["measured_peak_bytes"]
    }


class Refused(Exception):
    pass


@linux_only
def test_work_in_a_child_answers_raises_or_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    """``in_child``: the work's value comes back; its exception is raised here; outside the
    command line's process, or when the answer does not pickle, None (the caller runs the work
    itself)."""
    assert measure.in_child(lambda: 1) is None  # pytest's process is not the command line's
    monkeypatch.setattr(measure, "_OWN", [False])
    parent = os.getpid()
    assert measure.in_child(lambda: (os.getpid() != parent, [1, 2])) == (True, [1, 2])

    def refuse() -> None:
        raise Refused("no")

    with pytest.raises(Refused, match="no"):
        measure.in_child(refuse)
    assert measure.in_child(lambda: lambda: 0) is None  # a lambda does not pickle


FRAGMENTS = """
    import json
    from torchshape.measure import command_line_process
    if {own}:
        command_line_process()
    import torch

    def resident():
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmRSS:"))

    start = resident()
    kept, big = [], []
    for i in range(100):  # 1 MiB tensors, two alive at a time, small objects kept between them
        big.append(torch.ones(2**18))
        if i % 2:
            big.pop(0)
        kept.append(torch.empty(8, device="meta"))
        kept.append([object() for _ in range(20)])
    big.clear()
    print(json.dumps(resident() - start))
"""


@linux_only
def test_the_command_line_hands_freed_tensors_back_to_the_system() -> None:
    """Activations freed between the small objects a trace keeps: with malloc's threshold moving
    (any Python program) the heap keeps tens of MB that no tensor uses; in the command line's
    process every freed tensor is returned."""
    own = python(FRAGMENTS.format(own=True))
    assert own.returncode == 0, own.stderr
    assert json.loads(own.stdout) < 8 * 2**20
    other = python(FRAGMENTS.format(own=False))
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) > 16 * 2**20
