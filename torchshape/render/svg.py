"""SVG: the terminal table as an image, drawn by rich at a fixed width, colours included."""

from __future__ import annotations

import io

from rich.console import Console

from torchshape.render.table import table_renderable
from torchshape.report import Report


def render_svg(report: Report, width: int = 80) -> str:
    """A standalone SVG document of the table as a terminal ``width`` columns wide would show it."""
    console = Console(
        file=io.StringIO(),
        record=True,
        width=width,
        color_system="truecolor",
        force_terminal=True,
        legacy_windows=False,
    )
    console.print(table_renderable(report))
    return console.export_svg(title=f"torchshape: {report.spec.module_call}") + "\n"
