"""What the core asks of a family before it runs: the --tensor tensors' bytes. No torch.

An expression's own intermediates are known only as it runs: on meta they cost nothing, and on
the CPU each one larger than ``evaluate.CPU_TENSOR_LIMIT`` is refused before torch makes it.
"""

from __future__ import annotations

import math

from torchshape.facts import Totals
from torchshape.families.expr.spec import ExprSpec
from torchshape.guard import check_given
from torchshape.options import ITEMSIZES


def totals(spec: ExprSpec) -> Totals:
    given = sum(one.bytes for one in spec.tensors)
    return Totals(
        params=0,
        macs=0,
        param_bytes=0,
        input_bytes=given,
        state_bytes=0,
        output_bytes=0,
        peak_bytes_estimate=0 if spec.device == "meta" else given,
    )


def estimated_seconds(spec: ExprSpec) -> float:
    """Filling the tensors with random numbers (about 10^8 values a second) bounds the wait."""
    return sum(math.prod(one.shape) * (one.count or 1) for one in spec.tensors) / 1e8


def check_addressable(spec: ExprSpec) -> None:
    """Refuse a --tensor whose size in bytes torch cannot represent (on any device, meta too)."""
    check_given("--tensor", spec.tensors, ITEMSIZES)
