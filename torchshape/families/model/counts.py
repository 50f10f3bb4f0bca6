"""What the core asks of a family before it runs. Before the model is imported only its inputs
are known: an input torch cannot address is refused, and on the CPU inputs larger than the free
memory are (a lower bound of what the run needs). Then a trace on meta, which allocates nothing
(``probe.estimate``), fills in the rest: the parameters, the inputs and every leaf layer's
outputs (the forward pass runs with autograd on, which keeps them), and the MACs of the layers
whose formulas give them. The guard compares those with the memory free and the time a shape
check may take."""

from __future__ import annotations

import math

from torchshape.facts import Totals
from torchshape.families.layer_counts import ELEMENTS_PER_SECOND, MACS_PER_SECOND
from torchshape.families.model.spec import ModelSpec
from torchshape.guard import check_given
from torchshape.options import ITEMSIZES


def totals(spec: ModelSpec) -> Totals:
    inputs = sum(math.prod(one.shape) * ITEMSIZES[one.dtype] for one in spec.inputs)
    return Totals(
        params=0,
        macs=spec.macs,
        param_bytes=0,
        input_bytes=inputs,
        state_bytes=0,
        output_bytes=0,
        peak_bytes_estimate=max(inputs, spec.peak_bytes),
    )


def estimated_seconds(spec: ModelSpec) -> float:
    """0 until the trace on meta has counted the MACs (no spinner before the model is known)."""
    family = "cuda" if spec.device.startswith("cuda") else "cpu"
    return spec.macs / MACS_PER_SECOND[family] + spec.elements / ELEMENTS_PER_SECOND


def check_addressable(spec: ModelSpec) -> None:
    """Refuse an --input whose size in bytes torch cannot represent (on any device, meta too)."""
    check_given("--input", spec.inputs, ITEMSIZES)
