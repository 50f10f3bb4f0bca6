"""The model's trace as HTML, for a notebook: one row per module call, each output with its
formula and mark. A long trace shows its outer layers and folds the whole one into a ``<details>``."""

from __future__ import annotations

from html import escape

from torchshape.families.model.present import FAILED, NO_FORMULA, mark, shown_layers
from torchshape.families.model.trace import LayerCall
from torchshape.render.html import code, mark_html, table_html
from torchshape.report import Report
from torchshape.shapes import shape_text

# The most rows shown open; past this the outer layers show and the whole trace folds below them.
OPEN_ROWS = 30
HEADER = ["layer", "type", "inputs", "outputs", "formula", "", "params"]


def _row(row: LayerCall) -> list[str]:
    indent = "&nbsp;&nbsp;" * max(0, row.depth - 1)
    name = indent + code(row.shown_path) + (f" × {row.calls} calls" if row.calls > 1 else "")
    inputs = code(", ".join(shape_text(shape) for _, shape in row.inputs))
    if row.failed:
        outputs, formulas, marks = code(FAILED), escape("raised"), mark_html("✗")
    else:
        outputs = "<br>".join(code(f"{o.name}: {shape_text(o.shape)}") for o in row.outputs)
        formulas = "<br>".join(
            code(o.formula) if o.formula else f'<span class="dim">{NO_FORMULA}</span>' for o in row.outputs
        )
        marks = "<br>".join(mark_html(mark(o.verified, o.from_formula)) for o in row.outputs)
    return [name, code(row.type), inputs, outputs, formulas, marks, f"{row.params:,}"]


def _table(rows: list[LayerCall]) -> str:
    return table_html(HEADER, [_row(row) for row in rows], bad=[row.verified is False for row in rows])


def open_depth(rows: list[LayerCall], limit: int = OPEN_ROWS) -> int | None:
    """The deepest level whose rows fit in ``limit`` (1 at least); None when every row fits."""
    if len(rows) <= limit:
        return None
    deepest = max(row.depth for row in rows)
    depth = 1
    while depth < deepest and sum(1 for row in rows if row.depth <= depth + 1) <= limit:
        depth += 1
    return depth


def sections(report: Report) -> list[str]:
    """The trace table; when long, the rows down to ``open_depth`` (and any ✗) and the whole
    trace folded below them."""
    rows = shown_layers(report)
    heading = "<div><strong>trace</strong>: every module call, in call order</div>"
    depth = open_depth(rows)
    if depth is None:
        return [heading, _table(rows)]
    outer = [row for row in rows if row.depth <= depth or row.verified is False]  # a ✗ never folds
    hidden = len(rows) - len(outer)
    return [
        heading,
        _table(outer),
        f"<details><summary>every call: {len(rows):,} rows ({hidden:,} deeper than depth {depth})"
        f"</summary>{_table(rows)}</details>",
    ]
