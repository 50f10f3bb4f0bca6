"""Markdown: a GitHub pipe table per report, the legend, the notes, and the command behind it.

Plain text only: no ANSI escapes and no box-drawing characters, so it pastes into a
README, an issue or a design doc as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from torchshape import families
from torchshape.options import Format, Shown
from torchshape.render.shown import reproduce
from torchshape.render.text import plain_lines
from torchshape.render.timing import timing_text
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.view import view


def cell(text: str) -> str:
    """One table cell: a ``|`` would end the cell early, so it is escaped; no line breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    separator = align or ["---"] * len(header)
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(separator) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(report: Report, shown: Shown | None = None) -> str:
    """The whole report as GitHub-flavoured Markdown, ending in the command that reproduces it.

    It carries what the terminal table carries, in the same order: the tensors, the
    legend, the notes, the --explain/--lengths/--unroll sections, the parameters, MACs
    and memory, the verdict, --time, and with --params the table of every parameter.
    """
    shown = shown or Shown()
    lines = [f"`{report.spec.module_call}`", "", f"`{report.call}`", ""]
    if report.title is not None:
        lines[:0] = [f"**{report.title}**", ""]
    facts = view(report)
    lines += _table(
        ["tensor", "formula", "shape", facts.torch_header, "verified"],
        [
            [row.name, row.formula, shape_text(row.expected), shape_text(row.torch_shape), row.mark]
            for row in facts.rows
        ],
    )
    if report.legend:  # a whole model's trace has no symbols of its own
        lines.append("")
        lines += _table(
            ["symbol", "value", "meaning"],
            [[entry.symbol, str(entry.value), entry.meaning] for entry in report.legend],
            align=["---", "---:", "---"],
        )
    if report.notes:
        lines.append("")
        lines += [f"- {note}" for note in report.notes]
    lines.append("")
    family = families.of(report)
    sections = family.sections(report)
    if sections:
        # --explain, --lengths, --unroll: the terminal's sections, as preformatted text.
        lines += ["```text", *plain_lines(sections), "```", ""]
    drawn = family.diagram(report)
    if drawn is not None:  # --diagram: the terminal's drawing in a fenced block, its legend below
        from torchshape.render.diagram_text import diagram_renderables

        picture, _, *legend = diagram_renderables(drawn)
        lines += ["```text", *plain_lines([picture]), "```", ""]
        lines += _paragraphs(str(getattr(line, "plain", line)) for line in legend)
    lines += _paragraphs(line.plain for line in family.footer(report))
    lines += _paragraphs(verdict.text for verdict in facts.verdict)
    timing = timing_text(report)
    if timing:
        lines += ["```text", *timing, "```", ""]
    if shown.params:
        lines += _parameters(report)
    lines.append(f"Reproduce with `{reproduce(report, Format.MARKDOWN, shown)}`")
    return "\n".join(lines) + "\n"


def _parameters(report: Report) -> list[str]:
    section = families.of(report).parameters_section(report)
    lines = [f"**Parameters**: {section.title}", ""]
    rows = [[p.name, p.formula, shape_text(p.shape), f"{p.numel:,}", mark] for p, mark in section.rows]
    rows.append(["total", "", "", f"{section.total:,}", ""])
    lines += _table(
        ["parameter", "formula", "shape", "numel", "verified"],
        rows,
        align=["---", "---", "---", "---:", "---"],
    )
    lines.append("")
    return lines + _paragraphs([section.init, *section.notes, *section.mismatches])


def _paragraphs(texts: Iterable[str]) -> list[str]:
    """One paragraph per text: a hard line break would need trailing spaces."""
    return [line for text in texts for line in (text, "")]
