"""The command that gives an output again: every flag that shaped it."""

from __future__ import annotations

from torchshape.options import Format, Shown
from torchshape.report import Report


def reproduce(report: Report, fmt: Format, shown: Shown) -> str:
    """The whole command that gives this output again: every flag that shaped it."""
    from torchshape import families

    return families.of(report).command_line(report, fmt, shown)
