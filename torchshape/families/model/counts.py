"""What the core asks of a family before it runs. A model's own counts are known only after its
forward pass (``trace.Trace``); before it, only its inputs are: their bytes are the estimate the
guard weighs against free memory (a lower bound: the model's parameters and activations come on
top), and an input torch cannot address is refused before anything is allocated."""

from __future__ import annotations

import math

from torchshape.errors import EnvironmentProblem
from torchshape.facts import Totals
from torchshape.families.model.spec import ITEMSIZES, ModelSpec
from torchshape.guard import TORCH_MAX_BYTES


def input_bytes(spec: ModelSpec) -> int:
    return sum(math.prod(one.shape) * ITEMSIZES[one.dtype] for one in spec.inputs)


def totals(spec: ModelSpec) -> Totals:
    inputs = input_bytes(spec)
    return Totals(
        params=0,
        macs=0,
        param_bytes=0,
        input_bytes=inputs,
        state_bytes=0,
        output_bytes=0,
        peak_bytes_estimate=inputs,
    )


def estimated_seconds(spec: ModelSpec) -> float:
    return 0.0  # no spinner: the model's cost is unknown until it runs


def check_addressable(spec: ModelSpec) -> None:
    """Refuse an --input whose size in bytes torch cannot represent (on any device, meta too)."""
    for one in spec.inputs:
        numel, itemsize = math.prod(one.shape), ITEMSIZES[one.dtype]
        if numel * itemsize > TORCH_MAX_BYTES:
            raise EnvironmentProblem(
                f"--input {one.text}: would hold {numel:.3g} elements of {itemsize} bytes ({one.dtype}), "
                "beyond the 2^63 - 1 bytes a torch tensor can address; use smaller sizes"
            )
