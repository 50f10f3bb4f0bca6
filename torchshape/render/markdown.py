"""Markdown: a GitHub pipe table per report, the legend, the notes, and the command behind it.

Plain text only: no ANSI escapes and no box-drawing characters, so it pastes into a
README, an issue or a design doc as it is.
"""

from __future__ import annotations

from torchshape.render.plain import mark, shape_text, torch_header, torch_shape, verdict_lines
from torchshape.report import Report
from torchshape.spec import Format, command_line


def cell(text: str) -> str:
    """One table cell: a ``|`` would end the cell early, so it is escaped; no line breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    separator = align or ["---"] * len(header)
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(separator) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(report: Report) -> str:
    """The whole report as GitHub-flavoured Markdown, ending in the command that reproduces it."""
    lines = [f"`{report.spec.module_call}`", "", f"`{report.call}`", ""]
    lines += _table(
        ["tensor", "formula", "shape", torch_header(report), "verified"],
        [
            [
                row.name,
                row.formula,
                shape_text(row.expected),
                shape_text(torch_shape(report, row)),
                mark(report, row),
            ]
            for row in report.rows
        ],
    )
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
    # One paragraph per verdict line: a hard line break would need trailing spaces.
    for verdict in verdict_lines(report):
        lines += [verdict, ""]
    analysis = report.probe.analysis
    if analysis is not None:
        # --explain, --lengths, --unroll: the terminal's sections, as preformatted text.
        lines += ["```text", *_analysis_text(report).splitlines(), "```", ""]
    explain = analysis is not None and analysis.relations is not None
    unroll = analysis is not None and analysis.unroll is not None
    command = command_line(report.spec, Format.MARKDOWN, explain=explain, unroll=unroll)
    lines.append(f"Reproduce with `{command}`")
    return "\n".join(lines) + "\n"


def _analysis_text(report: Report) -> str:
    import io

    from rich.console import Console, Group

    from torchshape.render.explain import sections

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, force_terminal=False, legacy_windows=False)
    console.print(Group(*sections(report)))
    return "\n".join(line.rstrip() for line in buffer.getvalue().strip("\n").splitlines())
