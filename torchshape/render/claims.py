"""--explain's claims as the terminal shows them: a mark, the topic, the facts, the claim and
torch's verdict, in a grid (plain text from ``torchshape.view``; only the styles are added here)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, OverflowMethod, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.explain import Claim
from torchshape.report import Report
from torchshape.view import claim_lines, claim_mark, explain_heading, finding_lines, findings

_STYLE = {None: "dim", True: "green", False: "bold red"}


def mark_text(holds: bool | None) -> Text:
    """``✓`` green, ``✗`` bold red, ``–`` dim."""
    return Text(claim_mark(holds), style=_STYLE[holds])


def marked_grid(overflow: OverflowMethod = "fold") -> Table:
    """Two columns: a mark, and text that folds (or ``overflow``: what a word too long does)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow=overflow)
    return grid


def claims_section(claims: Iterable[Claim], *, quoted: bool = False) -> list[RenderableType]:
    """--explain after a blank line: each claim after its mark (``view.claim_lines``)."""
    lines = claim_lines(claims, quoted=quoted)
    return [Text(""), Text("--explain (each claim checked on torch)", style="bold"), Group(*map(Text, lines))]


def findings_section(
    report: Report, checked_on: str, *, values: bool | None = None, nothing: str = ""
) -> list[RenderableType]:
    """--explain's findings after a blank line (``view.findings``; none without --explain), under
    a heading that says they were checked on ``checked_on`` (``values``: on real values, the
    analysis' own by default); ``nothing``: what to say where there is nothing to check."""
    found = findings(report)
    if found is None:
        return []
    if not found and nothing:
        return [Text(""), Text(nothing, style="bold")]
    checked = report.probe.analysis.values if values is None else values
    return [Text(""), claims_grid(explain_heading(checked, checked_on), found)]


def claims_grid(head: str, claims: Iterable[Claim]) -> RenderableType:
    """Each claim: its mark beside its topic, then the facts, then the claim and how it came out."""
    grid = marked_grid()
    for c in claims:
        bad = "bold red" if c.holds is False else None
        topic, *facts, verdict = finding_lines(c)
        grid.add_row(mark_text(c.holds), Text(topic, style=bad or "bold cyan"))
        for fact in facts:
            grid.add_row("", Text(fact))
        grid.add_row("", Text(verdict, style=bad or "dim"))
    return Group(Text(head, style="bold"), grid)
