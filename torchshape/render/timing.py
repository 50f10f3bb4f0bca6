"""``--time`` in the output: the table's footer line and the JSON ``timing`` object."""

from __future__ import annotations

from typing import Any

from torchshape.attributes import json_object
from torchshape.report import Report


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:,.2f}"


def _si(value: float) -> str:
    """A count with an SI prefix: 1.23 G."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g} "


def timing_text(report: Report) -> list[str]:
    """The footer lines for ``--time``; none when the forward pass was not timed."""
    timing = report.timing
    if timing is None:
        return []
    runs = "repeat" if timing.repeats == 1 else "repeats"
    return [
        f"time: median {_ms(timing.median_ms)} ms, min {_ms(timing.min_ms)} ms, "
        f"max {_ms(timing.max_ms)} ms ({timing.repeats} {runs}, {timing.warmup} warm-up)",
        f"      forward pass on {timing.device} ({timing.dtype}), timed with {timing.clock}",
        f"      {_si(timing.flops_per_s)}FLOP/s at the median: 2 × {timing.macs:,} matmul MACs",
    ]


def timing_dict(report: Report) -> dict[str, Any] | None:
    """JSON ``timing``: null unless --time measured the forward pass."""
    timing = report.timing
    if timing is None:
        return None
    names = "median_ms min_ms max_ms repeats flops_per_s warmup macs clock device dtype times_ms"
    return json_object(timing, names)
