"""What the core asks of a family before it runs. A model's counts come from a trace of it on
meta, which allocates nothing (``probe.estimate``): the parameters, the inputs and every layer's
outputs (the forward pass runs with autograd on, which keeps them), and the MACs of the layers
whose formulas give them. The guard compares them with the memory free and the time a shape
check may take."""

from __future__ import annotations

from torchshape.facts import Totals
from torchshape.families.conv.counts import ELEMENTS_PER_SECOND, MACS_PER_SECOND
from torchshape.families.model.spec import ModelSpec


def totals(spec: ModelSpec) -> Totals:
    return Totals(
        params=0,
        macs=spec.macs,
        param_bytes=0,
        input_bytes=0,
        state_bytes=0,
        output_bytes=0,
        peak_bytes_estimate=spec.peak_bytes,
    )


def estimated_seconds(spec: ModelSpec) -> float:
    family = "cuda" if spec.device.startswith("cuda") else "cpu"
    return spec.macs / MACS_PER_SECOND[family] + spec.elements / ELEMENTS_PER_SECOND


def check_addressable(spec: ModelSpec) -> None:
    return None  # torch itself refuses such a tensor when the model is built on meta
