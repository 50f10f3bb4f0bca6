"""The command that gives an output again: every flag that shaped it."""

from __future__ import annotations

from collections.abc import Callable

from torchshape.options import Format, Shown
from torchshape.report import Report


def reproduce(report: Report, fmt: Format, shown: Shown) -> str:
    """The whole command that gives this output again: every flag that shaped it."""
    from torchshape import families

    return families.of(report).command_line(report, fmt, shown)


def reproduce_with(
    command_line: Callable[..., str], report: Report, fmt: Format, shown: Shown, **run: bool
) -> str:
    """The family's ``command_line`` for this report: the spec's flags, the run's (``run``:
    explain, unroll), the output's (--params, --time, --output) and --diagram where one was drawn."""
    timing = None if report.timing is None else (report.timing.repeats, report.timing.warmup)
    drawn = {"diagram": True} if report.probe.diagram is not None else {}
    return command_line(
        report.spec, fmt, **run, params=shown.params, timing=timing, output=shown.output, **drawn
    )
