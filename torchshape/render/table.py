"""The terminal table: one row per tensor, the legend, the notes, and what was run."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape import families
from torchshape.options import Shown
from torchshape.render.diagram_text import diagram_renderables
from torchshape.render.parameters import footer as costs_footer
from torchshape.render.parameters import parameters_renderable
from torchshape.render.text import code_text, file_width, plain_console, strip_trailing_spaces, unbroken_code
from torchshape.render.text import shape_text as _fmt
from torchshape.render.timing import timing_text
from torchshape.report import Report
from torchshape.view import Line, view


def mark_text(mark: str) -> Text:
    """A mark of ``torchshape.view`` in the table's colours."""
    return Text(mark, style="bold red" if mark.startswith("✗") else "green")


def _line_style(line: Line) -> str:
    if not line.bad:
        return "green"
    return "bold red" if line.loud else "red"


def table_renderable(report: Report, shown: Shown | None = None) -> RenderableType:
    """A rich renderable of the whole report, for a console of any width.

    With ``shown.params``, the table of every parameter follows.
    """
    spec = report.spec
    facts = view(report)
    title = code_text(spec.module_call, style="bold")
    call = code_text(report.call, style="dim")

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("tensor", style="cyan", no_wrap=True)
    table.add_column("formula", overflow="fold")
    table.add_column("shape", overflow="fold")
    table.add_column(facts.torch_header, overflow="fold")
    table.add_column("", no_wrap=True)
    for row in facts.rows:
        style = None if row.verified else "bold red"
        table.add_row(
            row.name, row.formula, _fmt(row.expected), _fmt(row.torch_shape), mark_text(row.mark), style=style
        )

    legend = Table.grid(padding=(0, 1))
    legend.add_column(justify="right", style="cyan", no_wrap=True)
    legend.add_column(no_wrap=True)
    legend.add_column(style="dim")
    for entry in report.legend:
        legend.add_row(entry.symbol, f"= {entry.value}", entry.meaning)

    parts: list[RenderableType] = [title, call, Text(""), table]
    if report.title is not None:
        parts.insert(0, Text(report.title, style="bold"))
    if report.legend:  # a whole model's trace has no symbols of its own
        parts += [Text(""), legend]
    if report.notes:
        notes = Table.grid(padding=(0, 1))
        notes.add_column(no_wrap=True)
        notes.add_column()
        for note in report.notes:
            notes.add_row("•", note)
        parts.extend([Text(""), notes])
    family = families.of(report)
    parts.extend(family.sections(report))  # the family's own: rnn's --explain, --lengths, --unroll
    drawn = family.diagram(report)
    if drawn is not None:  # --diagram
        parts.extend([Text(""), *diagram_renderables(drawn)])
    parts.extend(costs_footer(report))
    parts.append(Text(""))
    parts.extend(Text(line.text, style=_line_style(line)) for line in facts.verdict)
    parts.extend(Text(line) for line in timing_text(report))
    if shown is not None and shown.params:
        parts.append(parameters_renderable(family.parameters_section(report)))
    return Group(*parts)


def render_table(report: Report, width: int | None = None, shown: Shown | None = None) -> str:
    """The table as plain text without colour (files, tests, pipes), no line ending in spaces.

    ``width`` None: 80 columns, or wider where a line of code needs it, so that no code
    line is broken.
    """
    console, buffer = plain_console()
    renderable = table_renderable(report, shown)
    console.width = width if width is not None else file_width(console, unbroken_code(renderable))
    console.print(renderable)
    return strip_trailing_spaces(buffer.getvalue())
