"""SVG: the terminal table as an image, drawn by rich at a fixed width, colours included."""

from __future__ import annotations

import io

from rich.console import Console

from torchshape.options import Shown
from torchshape.render.table import table_renderable
from torchshape.render.text import file_width, strip_trailing_spaces, unbroken_code
from torchshape.report import Report


def render_svg(report: Report, width: int | None = None, shown: Shown | None = None) -> str:
    """A standalone SVG document of the table as a terminal ``width`` columns wide would show it.

    ``width`` None: 80 columns, or wider where a line of code needs it. With --diagram
    (the report carries a drawing): the drawing itself as a vector image instead.
    """
    from torchshape import families

    drawn = families.of(report).diagram(report)
    if drawn is not None:
        from torchshape.render.diagram_svg import render_diagram_svg

        return render_diagram_svg(drawn)
    console = Console(
        file=io.StringIO(),
        record=True,
        width=80,
        color_system="truecolor",
        force_terminal=True,
        force_jupyter=False,  # in a notebook rich would display the table instead of recording it
        legacy_windows=False,
    )
    renderable = table_renderable(report, shown)
    console.width = width if width is not None else file_width(console, unbroken_code(renderable))
    console.print(renderable)
    document = console.export_svg(title=f"torchshape: {report.spec.module_call}")
    return strip_trailing_spaces(document) + "\n"  # blank space between tags only
