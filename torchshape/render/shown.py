"""What the command line asked to show beyond the report itself, and the command that asked."""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.families.rnn.spec import command_line
from torchshape.options import Format
from torchshape.report import Report


@dataclass(frozen=True)
class Shown:
    """Output flags every format honours: ``--params`` and ``--output FILE``."""

    params: bool = False  # the table of every parameter
    output: str | None = None  # the file written, so that the command reproduces it


def reproduce(report: Report, fmt: Format, shown: Shown) -> str:
    """The whole command that gives this output again: every flag that shaped it."""
    analysis = report.probe.analysis
    timing = report.timing
    return command_line(
        report.spec,
        fmt,
        explain=analysis is not None and analysis.relations is not None,
        unroll=analysis is not None and analysis.unroll is not None,
        params=shown.params,
        timing=None if timing is None else (timing.repeats, timing.warmup),
        output=shown.output,
    )
