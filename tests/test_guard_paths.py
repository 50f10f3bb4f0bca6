"""What ``--diagram``, ``--time`` and ``--format python`` allocate is within what the guard counts:
the peak resident memory a whole command adds is never above the guard's estimate for it (the
forward pass's peak, plus what the family says ``--diagram``'s own run adds) and at most 1.5× under.

Each command runs in a fresh process, once to load its libraries and once measured (Linux:
/proc/self/status VmHWM, reset with /proc/self/clear_refs; glibc returning freed blocks of
64 KiB or more at once, as in tests/test_guard_peaks.py). The estimate is what ``guard.check``
was asked to compare with free memory during the measured run.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.measure import run_measure

NOISE_BYTES = 4 * 2**20

MEASURE = r"""
import contextlib, gc, io, json, os, sys
from torchshape import families, guard
from torchshape.cli import main

asked = []
check = guard.check

def recording(spec, companions=(), explain_bytes=0, diagram_bytes=0):
    extra = sum(families.of(other).peak_bytes(other) for other in companions)
    asked.append(families.of(spec).peak_bytes(spec) + extra + explain_bytes + diagram_bytes)
    return check(spec, companions, explain_bytes, diagram_bytes)

guard.check = recording

def run(args):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(args)
    assert code == 0, (args, code, err.getvalue())

args = json.loads(sys.argv[1])
run(args)  # libraries loaded, one-time setup done
asked.clear()
gc.collect()
with open("/proc/self/statm") as handle:
    before = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
run(args)
with open("/proc/self/status") as handle:
    peak = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM"))
print(json.dumps({"grew": peak - before, "estimate": max(asked)}))
"""

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/clear_refs"), reason="needs Linux's /proc/self/clear_refs"
)

RNN_DEEP = ["rnn", "--kind", "lstm", "--layers", "4", "--hidden-size", "256", "--input-size", "128"]
RNN_DEEP += ["--seq-len", "400", "--batch", "64"]
RNN_WIDE = ["rnn", "--kind", "gru", "--layers", "2", "--bidir", "--hidden-size", "256", "--input-size", "128"]
RNN_WIDE += ["--seq-len", "400", "--batch", "64"]
ATTENTION = ["attention", "--embed-dim", "256", "--heads", "4", "--target-len", "600", "--source-len", "600"]
ATTENTION += ["--batch", "16"]
CONV = ["conv", "--size", "1024,1024", "--batch", "2", "--in-channels", "8", "--out-channels", "8"]
CONV += ["--kernel-size", "3"]
POOL = ["pool", "--size", "2048,2048", "--batch", "2", "--channels", "3", "--kernel-size", "2"]
EMBEDDING = ["embedding", "--num-embeddings", "500000", "--embedding-dim", "64"]
TRANSFORMER = ["transformer", "--d-model", "256", "--nhead", "8", "--source-len", "1024", "--batch", "16"]
TRANSFORMER += ["--dim-feedforward", "1024"]
TIME = ["--time", "--repeats", "2", "--warmup", "0"]

CASES = [
    [*RNN_DEEP, "--diagram"],
    [*RNN_WIDE, "--diagram", "--format", "svg"],
    [*RNN_WIDE, *TIME],
    [*RNN_WIDE, "--format", "python"],
    [*ATTENTION, "--diagram"],
    [*ATTENTION, *TIME],
    [*CONV, "--diagram"],
    [*CONV, *TIME],
    [*POOL, "--diagram"],
    [*POOL, *TIME],
    [*EMBEDDING, *TIME],
    [*EMBEDDING, "--format", "python"],
    [*TRANSFORMER, *TIME],
]


@pytest.mark.parametrize("args", CASES, ids=[f"{a[0]}-{i}" for i, a in enumerate(CASES)])
def test_the_paths_beside_the_forward_pass_stay_within_the_guards_estimate(args: list[str]) -> None:
    grew, estimate = run_measure(MEASURE, json.dumps(args), small_mmap=True)
    assert grew > 64 * 2**20, grew  # large enough that noise does not decide
    assert grew <= estimate + NOISE_BYTES, f"short: {args} grew {grew}, estimated {estimate}"
    assert estimate <= 1.5 * grew, f"{estimate / grew:.2f}× over: {args} grew {grew}, estimated {estimate}"
