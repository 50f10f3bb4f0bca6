"""What the core asks of a family before it runs: a model's counts are known only after its
forward pass (``trace.Trace``), so there is nothing to estimate or refuse here yet."""

from __future__ import annotations

from torchshape.facts import Totals
from torchshape.families.model.spec import ModelSpec


def totals(spec: ModelSpec) -> Totals:
    return Totals(
        params=0, macs=0, param_bytes=0, input_bytes=0, state_bytes=0, output_bytes=0, peak_bytes_estimate=0
    )


def estimated_seconds(spec: ModelSpec) -> float:
    return 0.0  # no spinner: the model's cost is unknown until it runs (a later step adds the guard)


def check_addressable(spec: ModelSpec) -> None:
    return None
