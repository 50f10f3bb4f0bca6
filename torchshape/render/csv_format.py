"""CSV: a rectangular table, a header row and one row per shape, then the totals.

The rows are the tensors; with ``--params`` every parameter; with ``--lengths`` the
tensors of the packed call; with ``--unroll`` the shapes of one step; the ``kind``
column says which. The totals of the footer (parameters, MACs, bytes) follow as rows
of kind ``total`` with their number in ``value``. The relations of ``--explain`` and the
timings of ``--time`` are not shapes: CSV refuses those flags (``spec.CANNOT_CARRY``).

Shapes are written as the same text the table shows, Python's tuple: ``(5, 3, 50)``,
and ``(50,)`` for a one-dimensional shape, so the text always holds a comma: no
spreadsheet reads it as a number (or a date), and the csv module quotes it. Booleans are ``true`` and
``false`` as in the JSON; lines end in ``\\n``.
"""

from __future__ import annotations

import csv
import io

from torchshape import families
from torchshape.options import Shown
from torchshape.render.parameters import totals_json
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.view import OK, OK_PROBE, view

COLUMNS = ("tensor", "formula", "shape", "verified", "source", "torch_shape", "probe_shape", "kind", "value")


def _shape_or_empty(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else shape_text(shape)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def csv_row(
    tensor: str,
    formula: str,
    kind: str,
    *,
    verified: bool | None,
    source: str,
    shape: str = "",
    torch: str = "",
    probe: str | None = None,
    value: object = "",
) -> list[str]:
    """A family's own row under ``COLUMNS`` (a dimension, a buffer, a step): ``torch`` is torch's
    shape at the user's sizes, ``probe`` at the sizes it ran where that differs; ``verified``
    None (nothing to check) is left empty."""
    checked = "" if verified is None else _bool(verified)
    probe = torch if probe is None else probe
    return [tensor, formula, shape, checked, source, torch, probe, kind, str(value)]


def render_csv(report: Report, shown: Shown | None = None) -> str:
    """``tensor, formula, shape, verified, source, torch_shape, probe_shape, kind, value`` per row.

    ``shape`` is what the JSON calls ``shape``: torch's own at your sizes, or on meta the
    formula's value. ``torch_shape`` is empty where torch did not run at your sizes (meta);
    ``probe_shape`` is the shape at the sizes the forward pass ran.
    """
    shown = shown or Shown()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in view(report).rows:
        writer.writerow(
            [
                row.name,
                row.formula,
                shape_text(row.shape),
                _bool(row.verified),
                row.source,
                _shape_or_empty(row.actual),
                _shape_or_empty(row.probe_shape),
                "tensor",
                "",
            ]
        )
    for p in report.parameters if shown.params else ():
        writer.writerow(
            [
                p.name,
                p.formula,
                shape_text(p.shape),
                _bool(p.verified),
                p.source,
                _shape_or_empty(p.actual),
                "",
                "parameter",
                str(p.numel),
            ]
        )
    writer.writerows(families.of(report).csv_rows(report))  # rnn: the packed call's and one step's shapes
    # The parameter count is verified as the footer's ✓ is: every parameter torch built agreed.
    params_ok = _bool(view(report).params_mark in (OK, OK_PROBE))
    for name, value in (totals_json(report) or {}).items():
        verified = params_ok if name == "params" else ""
        writer.writerow([name, "", "", verified, "formula", "", "", "total", str(value)])
    return buffer.getvalue()
