"""HTML: the report in a notebook (``Report._repr_html_``): the tensors with their formulas and
marks, the legend, the notes, the family's sections, the drawing, the footer and the verdict.

One self-contained fragment. Text takes the page's own colour, so it reads on a light or a dark
theme; only the marks are coloured, in tones that read on both. A family may give its sections
as HTML (the model's trace, collapsed by depth); other sections are the terminal's text.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from torchshape import families
from torchshape.options import Shown
from torchshape.render.text import plain_lines
from torchshape.render.timing import timing_text
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.view import view

if TYPE_CHECKING:
    from rich.console import RenderableType

# Scoped to the fragment: borders and dim text take the page's colour at part strength.
STYLE = """<style>
.torchshape{font-family:var(--jp-content-font-family,system-ui,sans-serif);line-height:1.4}
.torchshape table{border-collapse:collapse;margin:.4em 0}
.torchshape th,.torchshape td{text-align:left;padding:.15em .8em .15em 0;vertical-align:top;
 border-bottom:1px solid rgba(127,127,127,.3)}
.torchshape th{font-weight:600}
.torchshape code,.torchshape pre{font-family:var(--jp-code-font-family,ui-monospace,Menlo,monospace)}
.torchshape pre{margin:.4em 0;white-space:pre}
.torchshape pre.prose{white-space:pre-wrap}
.torchshape .dim{opacity:.7}
.torchshape .ok{color:#2e9e44}
.torchshape .bad{color:#e5534b;font-weight:600}
.torchshape tr.bad td{color:#e5534b}
.torchshape .drawing{display:inline-block;background:#fff;padding:4px;border-radius:4px}
.torchshape details{margin:.4em 0}
.torchshape summary{cursor:pointer}
</style>"""


def mark_html(mark: str) -> str:
    """A mark (✓, ✓*, ✗) in a span of its colour; nothing for no mark."""
    if not mark:
        return ""
    return f'<span class="{"bad" if mark.startswith("✗") else "ok"}">{escape(mark)}</span>'


def code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def table_html(header: list[str], rows: list[list[str]], bad: list[bool] | None = None) -> str:
    """A table; ``header`` is text, each cell of ``rows`` HTML already. ``bad``: rows shown in red."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for index, row in enumerate(rows):
        attr = ' class="bad"' if bad is not None and bad[index] else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def preformatted(renderables: list[RenderableType], *, prose: bool = False) -> str:
    """Rich renderables as the terminal's plain text, in a ``<pre>``, no line of code broken.

    ``prose``: lines of text (the footer), unwrapped here and wrapped by the page to its width.
    """
    lines = plain_lines(renderables, widest=prose)
    wrap = ' class="prose"' if prose else ""
    return f"<pre{wrap}>{escape(chr(10).join(lines))}</pre>"


def render_html(report: Report, shown: Shown | None = None) -> str:
    """The whole report as one HTML fragment, in the terminal table's order."""
    shown = shown or Shown()
    facts = view(report)
    family = families.of(report)
    parts = ['<div class="torchshape">', STYLE]
    if report.title is not None:
        parts.append(f"<div><strong>{escape(report.title)}</strong></div>")
    parts.append(f"<div><strong>{code(report.spec.module_call)}</strong></div>")
    parts.append(f'<div class="dim">{code(report.call)}</div>')
    parts.append(
        table_html(
            ["tensor", "formula", "shape", facts.torch_header, ""],
            [
                [
                    code(row.name),
                    code(row.formula),
                    code(shape_text(row.expected)),
                    code(shape_text(row.torch_shape)),
                    mark_html(row.mark),
                ]
                for row in facts.rows
            ],
            bad=[not row.verified for row in facts.rows],
        )
    )
    if report.legend:
        parts.append(
            table_html(
                ["symbol", "value", "meaning"],
                [[code(e.symbol), f"{e.value:,}", escape(e.meaning)] for e in report.legend],
            )
        )
    if report.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(note)}</li>" for note in report.notes) + "</ul>")
    own = family.html_sections(report)
    if own is not None:
        parts.extend(own)
    else:
        sections = family.sections(report)
        if sections:
            parts.append(preformatted(sections))
    drawn = family.diagram(report)
    if drawn is not None:  # --diagram: the vector drawing on a white card (its inks are dark)
        from torchshape.render.diagram_svg import render_diagram_svg

        svg = render_diagram_svg(drawn)
        parts.append(f'<div class="drawing">{svg[svg.index("<svg") :].strip()}</div>')
    footer = family.footer(report)
    if footer:
        parts.append(preformatted(list(footer), prose=True))
    parts.extend(
        f'<div class="{"bad" if line.bad else "ok"}">{escape(line.text)}</div>' for line in facts.verdict
    )
    timing = timing_text(report)
    if timing:
        parts.append(f"<pre>{escape(chr(10).join(timing))}</pre>")
    if shown.params:
        section = family.parameters_section(report)
        rows = [
            [code(p.name), code(p.formula), code(shape_text(p.shape)), f"{p.numel:,}", mark_html(mark)]
            for p, mark in section.rows
        ]
        parts.append(f"<div><strong>parameters</strong>: {escape(section.title)}</div>")
        parts.append(table_html(["parameter", "formula", "shape", "numel", ""], rows))
    parts.append("</div>")
    return "\n".join(parts) + "\n"
