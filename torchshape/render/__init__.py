"""Renderers: a ``Report`` in, text out. Nothing here runs torch."""

from __future__ import annotations

from collections.abc import Callable

from torchshape.options import Format, Shown, parse_format
from torchshape.render.csv_format import render_csv
from torchshape.render.json_format import render_json, to_dict
from torchshape.render.markdown import render_markdown
from torchshape.render.svg import render_svg
from torchshape.render.table import render_table, table_renderable
from torchshape.report import Report

__all__ = ["Shown", "render_json", "render_table", "table_renderable", "to_dict"]
__all__ += ["render", "render_csv", "render_markdown", "render_python", "render_svg"]


def render_python(report: Report, shown: Shown | None = None) -> str:
    """The family's python script: it builds the same module and asserts what the report verified."""
    from torchshape import families

    return families.of(report).python(report, shown or Shown())


def render(report: Report, fmt: Format | str, *, width: int | None = None, shown: Shown | None = None) -> str:
    """The report in format ``fmt`` as text.

    ``width`` (columns) applies to the table and the SVG: by default 80, or wider where
    a line of code needs it. ``shown``: the output flags (``--params``, ``--output``).
    """
    shown = shown or Shown()
    fmt = parse_format(fmt)
    renderers: dict[Format, Callable[[], str]] = {
        Format.TABLE: lambda: render_table(report, width=width, shown=shown),
        Format.MARKDOWN: lambda: render_markdown(report, shown=shown),
        Format.JSON: lambda: render_json(report, shown=shown),
        Format.CSV: lambda: render_csv(report, shown=shown),
        Format.SVG: lambda: render_svg(report, width=width or 80, shown=shown),
        Format.PYTHON: lambda: render_python(report, shown),
    }
    return renderers[fmt]()
