"""Parameters, work and memory of one normalization layer's forward pass. Pure arithmetic, no torch.

Parameters: weight and bias of C (batch, instance, group with affine) or of normalized_shape
(layer, rms with elementwise_affine; RMSNorm has no bias), weight 1 and bias 0 at first.
Buffers: running_mean and running_var of C and num_batches_tracked (int64, 0-D) with
track_running_stats.

MACs: 0. A normalization computes a mean and a variance and scales each value: no matrix
product, so the MAC count that --time turns into FLOP/s is 0; the footer gives the values
normalized instead.

Memory: the input, the output and, beside them, what the statistics check holds: RMSNorm's x²,
eval mode's (x − running_mean) / √(running_var + eps), and a float32 copy of a half-precision
output. The peak estimate is their sum times PEAK_MARGIN, measured
against the peak RSS of real runs (tests/test_norm.py).
"""

from __future__ import annotations

import math

from torchshape.facts import Totals
from torchshape.families import layer_counts
from torchshape.families.layer_counts import PEAK_MARGIN
from torchshape.families.norm.formulas import parameters
from torchshape.families.norm.spec import Kind, NormSpec

# Input-sized tensors the forward pass makes beside the output, per kind (measured).
WORKING = {Kind.BATCH: 0.0, Kind.INSTANCE: 0.0, Kind.GROUP: 0.0, Kind.LAYER: 0.0, Kind.RMS: 1.0}
# A pessimistic rate for the guard's time estimate: values normalized per second on one CPU core.
VALUES_PER_SECOND = 1e8


def numel(spec: NormSpec) -> int:
    return math.prod(spec.input_shape)


def parameter_count(spec: NormSpec) -> int:
    return sum(math.prod(p.shape) for p in parameters(spec))


def totals(spec: NormSpec) -> Totals:
    itemsize = spec.dtype.itemsize
    data = numel(spec) * itemsize
    params = parameter_count(spec)
    buffers = 2 * (spec.num_features or 0) * itemsize + 8 if spec.track_running_stats else 0
    working = WORKING[spec.kind] * data
    check = numel(spec) * 4 if itemsize < 4 else 0  # the statistics check's float32 copy
    if spec.running_stats_used:  # the running check's input-sized (x − running_mean) / √(…)
        check = numel(spec) * max(4, itemsize)
    peak = int((data + data + working + check + params * itemsize + buffers) * PEAK_MARGIN)
    return layer_counts.totals(spec, params, 0, inputs=data, outputs=data, peak=peak, state=buffers)


def estimated_seconds(spec: NormSpec) -> float:
    return 4 * numel(spec) / VALUES_PER_SECOND


def check_addressable(spec: NormSpec) -> None:
    """Refuse an input whose size in bytes torch cannot represent (on meta too)."""
    from torchshape.guard import check_tensor

    check_tensor("input", spec.input_shape, numel(spec), spec.dtype.itemsize, "--size or --batch")


def explain_bytes(spec: NormSpec) -> int:
    """--explain's checks run on meta tensors of the input's shape, or on small inputs of their own."""
    return 1 << 20
