"""Plain-text pieces the file formats share with the terminal table.

They come from ``table.py`` itself, so every format marks and words a row exactly as
the table does (a ✓ only where torch agreed).
"""

from __future__ import annotations

from torchshape.render.table import _mark, _verdict
from torchshape.render.text import shape_text
from torchshape.report import Report, TensorRow

__all__ = ["mark", "shape_text", "torch_header", "torch_shape", "verdict_lines"]


def mark(report: Report, row: TensorRow) -> str:
    """``✓`` verified by a forward pass at your sizes, ``✓*`` at probe sizes (meta), ``✗`` not."""
    return _mark(report, row).plain


def torch_header(report: Report) -> str:
    """The table's heading for torch's own shapes."""
    return "torch probe" if report.probe.reduced else "torch"


def torch_shape(report: Report, row: TensorRow) -> tuple[int, ...] | None:
    """The shape torch had: at your sizes, or on meta at the probe sizes it ran."""
    return row.probe_shape if report.probe.reduced else row.actual


def verdict_lines(report: Report) -> list[str]:
    """The lines under the table: mismatches, if any, then what was run."""
    return [line.plain for line in _verdict(report)]
