"""The command that gives an output again: every flag that shaped it."""

from __future__ import annotations

from typing import Any

from torchshape.options import Format, Shown
from torchshape.report import Report


def reproduce(report: Report, fmt: Format, shown: Shown) -> str:
    """The whole command that gives this output again: every flag that shaped it."""
    from torchshape import families

    return families.of(report).command_line(report, fmt, shown)


def output_options(report: Report, shown: Shown) -> dict[str, Any]:
    """The output's flags a family's ``command_line`` writes: --params, --time, --output."""
    timing = report.timing
    return {
        "params": shown.params,
        "timing": None if timing is None else (timing.repeats, timing.warmup),
        "output": shown.output,
    }
