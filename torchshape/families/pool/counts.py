"""Parameters, work and memory of one pool's forward pass. Pure arithmetic, no torch.

Parameters: none. A pool has no weights; ``named_parameters()`` is empty (checked on torch).

MACs: 0. A pool multiplies nothing: max compares, avg adds and divides once per output,
lp raises to a power, sums, and takes a root. So the MAC count, the figure the other
families give and ``--time`` turns into FLOP/s, is 0, and the footer gives the work
as window reads instead: every output element reads its window,

    N·C·∏X_out·∏kernel_size      (adaptive: N·C·∏(sum over i of the window's length))

Memory: input, output and indices (int64) exist at once (every max pool but MaxPool1d makes the
indices even when it does not return them); LPPool also makes xᵖ (input-sized,
freed once pooled) and then up to three output-sized temporaries (sign, abs, relu of the pooled
output, measured): the larger of the two moments counts. The peak estimate is their sum times
PEAK_MARGIN.
"""

from __future__ import annotations

import math

from torchshape.facts import Totals
from torchshape.families import layer_counts
from torchshape.families.layer_counts import PEAK_MARGIN
from torchshape.families.pool.formulas import adaptive_windows, output_size, symbols, tensor_formulas
from torchshape.families.pool.spec import Kind, PoolSpec

INDEX_BYTES = 8  # torch returns indices as int64
# A pessimistic rate for the guard's time estimate: window reads per second on one CPU core.
READS_PER_SECOND = 2e8


def planes(spec: PoolSpec) -> int:
    """N·C: how many independent planes the pool slides over."""
    return spec.channels * (1 if spec.unbatched else spec.batch)


def input_numel(spec: PoolSpec) -> int:
    return planes(spec) * math.prod(spec.size)


def output_numel(spec: PoolSpec) -> int:
    return planes(spec) * math.prod(max(0, n) for n in output_size(spec))


def window_reads(spec: PoolSpec) -> int:
    """Input elements read over the whole forward pass (padding included)."""
    if spec.kind.adaptive:
        per_axis = []
        for size, out in zip(spec.size, spec.output_size, strict=True):
            if out > 10**6:  # every window then has one or two elements: bound it
                per_axis.append(2 * out)
            else:
                per_axis.append(sum(end - start for start, end in adaptive_windows(size, out)))
        return planes(spec) * math.prod(per_axis)
    return output_numel(spec) * math.prod(spec.kernel_size)


def makes_indices(spec: PoolSpec) -> bool:
    """Whether torch's CPU kernel makes the int64 indices even when they are not returned: every
    max pool but the 1-d MaxPool1d, which has a kernel of its own (measured)."""
    return spec.kind in (Kind.MAX, Kind.ADAPTIVE_MAX) and not (spec.kind is Kind.MAX and spec.dims == 1)


def transient_bytes(spec: PoolSpec) -> int:
    """What the forward pass allocates and frees before it returns: indices it does not return,
    LPPool's xᵖ beside the pooled output, or later sign, abs, relu of the output."""
    if spec.kind is Kind.LP:
        return max(input_numel(spec), 3 * output_numel(spec)) * spec.dtype.itemsize
    if not spec.return_indices and makes_indices(spec):
        return output_numel(spec) * INDEX_BYTES
    return 0


def totals(spec: PoolSpec) -> Totals:
    itemsize = spec.dtype.itemsize
    input_bytes = input_numel(spec) * itemsize
    output_bytes = output_numel(spec) * (itemsize + (INDEX_BYTES if spec.return_indices else 0))
    working = transient_bytes(spec)
    peak = int((input_bytes + output_bytes + working) * PEAK_MARGIN)
    return layer_counts.totals(spec, 0, 0, inputs=input_bytes, outputs=output_bytes, peak=peak)


def estimated_seconds(spec: PoolSpec) -> float:
    return (window_reads(spec) + input_numel(spec)) / READS_PER_SECOND


def check_addressable(spec: PoolSpec) -> None:
    """Refuse a tensor whose size in bytes torch cannot represent (on meta too)."""
    from torchshape.guard import check_tensor

    sym = symbols(spec)
    itemsize = spec.dtype.itemsize
    for formula in tensor_formulas(spec):
        shape = formula.shape(sym)
        size = INDEX_BYTES if formula.name == "indices" else itemsize
        flags = "--size, --channels or --batch" if formula.name == "input" else "--size or --output-size"
        check_tensor(formula.name, shape, math.prod(shape), size, flags)


# What each --explain check allocates beside the forward pass, in bytes per byte of the input
# (or of the output, for ``indices``), measured with peak RSS (tests/test_guard_explain.py):
# ``unreached`` runs the pool on three altered copies of the input; ``adaptive windows``
# reduces a float64 copy of the input; ``indices`` gathers and compares in float64.
EXPLAIN_INPUTS = {"ceil_mode": 0.5}
# The most input values one unread check builds: positions perturbed × the input's spatial size.
MAX_PERTURBED = 1 << 26


def unread_check_bytes(spec: PoolSpec) -> int:
    """The unread check perturbs a chunk of positions at a time, each a float64 plane of the input's
    spatial size (probe._unread): a chunk's input and its pooled output."""
    plane = math.prod(spec.size)
    rows = min(max(spec.size), max(1, MAX_PERTURBED // max(1, 16 * plane)))
    return int(8 * rows * plane * 1.5)


EXPLAIN_OUTPUTS = {"indices": 18.0, "ceil_mode": 6.0}


def explain_bytes(spec: PoolSpec) -> int:
    """The most that one of ``--explain``'s checks allocates beside the forward pass (they run one
    after the other, so the largest counts, not their sum)."""
    from torchshape.families.pool.explain import findings

    itemsize = spec.dtype.itemsize
    input_bytes = input_numel(spec) * itemsize
    output_bytes = output_numel(spec) * itemsize
    largest = 0.0
    for topic in {finding.topic for finding in findings(spec)}:
        need = EXPLAIN_INPUTS.get(topic, 0.0) * input_bytes + EXPLAIN_OUTPUTS.get(topic, 0.0) * output_bytes
        if topic == "unread":
            need = unread_check_bytes(spec)
        if topic == "adaptive windows":  # a float64 copy of the input, and its reductions
            need = (8 / itemsize + 0.5) * input_bytes
        largest = max(largest, need)
    # the checks run after the forward pass has freed its temporaries, which the peak counts
    return int(max(0.0, largest - PEAK_MARGIN * transient_bytes(spec)))
