"""CSV: a rectangular table, a header row and one row per tensor.

Shapes are written as the same text the table shows, Python's tuple: ``(5, 3, 50)``,
and ``(50,)`` for a one-dimensional shape, so the text always holds a comma: no
spreadsheet reads it as a number (or a date), and the csv module quotes it. Booleans are ``true`` and
``false`` as in the JSON; lines end in ``\\n``.
"""

from __future__ import annotations

import csv
import io

from torchshape.render.plain import shape_text
from torchshape.report import Report

COLUMNS = ("tensor", "formula", "shape", "verified", "source", "torch_shape", "probe_shape")


def _shape_or_empty(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else shape_text(shape)


def render_csv(report: Report) -> str:
    """``tensor, formula, shape, verified, source, torch_shape, probe_shape`` per tensor.

    ``shape`` is what the JSON calls ``shape``: torch's own at your sizes, or on meta the
    formula's value. ``torch_shape`` is empty where torch did not run at your sizes (meta);
    ``probe_shape`` is the shape at the sizes the forward pass ran.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        writer.writerow(
            [
                row.name,
                row.formula,
                shape_text(row.shape),
                "true" if row.verified else "false",
                "forward" if row.actual is not None else "formula",
                _shape_or_empty(row.actual),
                _shape_or_empty(row.probe_shape),
            ]
        )
    return buffer.getvalue()
