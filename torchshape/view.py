"""Presentation facts, decided once for every format: each row's mark and source, the
heading of torch's column, the verdict lines and the parameters' mark.

Plain data and no rich: ``torchshape.render`` turns these into a table, markdown, JSON,
CSV or SVG, and every format says the same thing because it reads it from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from torchshape.attributes import json_object
from torchshape.explain import NO_VALUES_HEADING, Claim, Claims
from torchshape.facts import ParameterRow
from torchshape.report import Report
from torchshape.shapes import shape_text

OK, OK_PROBE, FAIL = "✓", "✓*", "✗"
NOT_EVALUATED = "–"
MISTAKES = "Common mistakes, shown with torch's own error or inequality:"


@dataclass(frozen=True)
class RowView:
    """One tensor as every format shows it."""

    name: str
    formula: str
    expected: tuple[int, ...]  # the formula at the user's sizes
    shape: tuple[int, ...]  # torch's own where it ran at the user's sizes, else the formula's
    torch_shape: tuple[int, ...] | None  # what torch had: at the user's sizes, or the probe's on meta
    actual: tuple[int, ...] | None  # torch's shape at the user's sizes; None where it did not run there
    probe_shape: tuple[int, ...] | None
    verified: bool
    mark: str  # ✓ verified at the user's sizes, ✓* at probe sizes (meta), ✗ not
    source: str  # "forward": torch's shape at the user's sizes; "formula": the formula's (meta)


@dataclass(frozen=True)
class Line:
    """One line of text and whether it reports a problem (renderers colour those)."""

    text: str
    bad: bool = False
    loud: bool = False  # a specific problem (bold in colour), not only the overall verdict


@dataclass(frozen=True)
class View:
    rows: list[RowView]
    torch_header: str  # "torch", or "torch probe" on meta
    verdict: list[Line]  # mismatches, if any, then what was run
    params_mark: str  # the footer's mark for the parameter count


def row_mark(verified: bool, reduced: bool) -> str:
    """``✓`` verified by a forward pass at the user's sizes, ``✓*`` at probe sizes, ``✗`` not."""
    if not verified:
        return FAIL
    return OK_PROBE if reduced else OK


def view(report: Report) -> View:
    reduced = report.probe.reduced
    rows = [
        RowView(
            name=row.name,
            formula=row.formula,
            expected=row.expected,
            shape=row.shape,
            torch_shape=row.probe_shape if reduced else row.actual,
            actual=row.actual,
            probe_shape=row.probe_shape,
            verified=row.verified,
            mark=row_mark(row.verified, reduced),
            source="forward" if row.actual is not None else "formula",
        )
        for row in report.rows
    ]
    return View(
        rows=rows,
        torch_header="torch probe" if reduced else "torch",
        verdict=verdict(report),
        params_mark=params_mark(report),
    )


def verdict(report: Report) -> list[Line]:
    """torch's refusal, or each row whose formula it disagreed with; then what ran, marked."""
    lines: list[Line] = []
    error = report.probe.error
    if error is not None:
        lines.append(Line(f"✗ torch refused the inputs built from the formulas: {error}", True, True))
    for row in report.rows:
        if not row.verified and error is None:
            expected, returned = shape_text(row.expected), shape_text(row.probe_shape)
            text = f"✗ MISMATCH {row.name}: formula {row.formula} gives {expected}, torch returned {returned}"
            lines.append(Line(text, True, True))
    mark = OK_PROBE if report.probe.reduced else OK
    lines.append(Line(f"{mark} {report.ran}") if report.ok else Line(f"✗ {report.ran}", True))
    return lines


def params_mark(report: Report) -> str:
    """✓ every parameter torch built agreed (✓* with deeper layers on meta from the formulas)."""
    if not report.parameters:
        # a family without parameters (pools): ✓ when the module torch built has none either
        none = report.totals is not None and report.totals.params == 0 and not report.probe.parameters
        return OK if none else "(not checked)"
    if all(p.verified for p in report.parameters):
        return OK_PROBE if any(p.source == "formula" for p in report.parameters) else OK
    return "✗ torch disagrees, see --params"


@dataclass(frozen=True)
class ParametersSection:
    """The --params section as plain data, for the table and for markdown alike."""

    title: str
    rows: list[tuple[ParameterRow, str]]  # each parameter and its mark: ✓, ✓* or ✗
    total: int
    init: str
    notes: list[str]  # how deeper layers on meta were named
    mismatches: list[str]


# ---------------------------------------------------------------- --explain


def claim_mark(holds: bool | None) -> str:
    """``✓`` torch agreed, ``✗`` it did not, ``–`` not evaluated."""
    return NOT_EVALUATED if holds is None else OK if holds else FAIL


def claim_lines(claims: Iterable[Claim], *, quoted: bool = False) -> list[str]:
    """Each claim after its mark, then its evidence and note indented; the common mistakes after
    the rules, under a heading. ``quoted``: the evidence of a claim torch checked is its own
    words (a refusal), shown as ``torch: "..."``."""

    def one(c: Claim) -> list[str]:
        evidence = f'torch: "{c.evidence}"' if quoted and c.evidence and c.holds is not None else c.evidence
        lines = [f"{claim_mark(c.holds)} {c.claim}", *(f"    {line}" for line in evidence.splitlines())]
        return lines + ([f"    {c.note}"] if c.note else [])

    claims = list(claims)
    rules = [line for c in claims if not c.mistake for line in one(c)]
    mistakes = [line for c in claims if c.mistake for line in one(c)]
    return rules + ([MISTAKES, *mistakes] if mistakes else [])


def explain_heading(values: bool, checked_on: str) -> str:
    """The heading of an --explain section whose claims ran on ``checked_on``."""
    return f"--explain: {f'each claim checked on {checked_on}' if values else NO_VALUES_HEADING}"


def finding_lines(c: Claim) -> list[str]:
    """A claim under its topic: the facts the rules give, then the claim and how it came out."""
    verdict = c.evidence or ("holds" if c.holds else "")
    return [c.topic, *c.facts, f"{c.claim} ({verdict})"]


def finding_json(c: Claim) -> dict[str, Any]:
    """A claim under its topic in JSON: the facts, the claim, ``holds``, ``detail`` and its data."""
    return json_object(c, "topic facts claim holds") | {"detail": c.evidence} | c.data


def findings(report: Report) -> tuple[Claim, ...] | None:
    """--explain's findings, where the family's analysis holds them (pool, embedding, norm); None
    without --explain."""
    found: tuple[Claim, ...] | None = getattr(report.probe.analysis, "findings", None)
    return found


def findings_json(report: Report) -> dict[str, Any]:
    """JSON ``explain``: each of the findings (``finding_json``); nothing without --explain."""
    found = findings(report)
    return {} if found is None else {"explain": [finding_json(f) for f in found]}


def claims_json(a: Claims, keys: dict[str, str], *, empty_as_null: bool = False) -> dict[str, Any]:
    """``values`` and each claim under the JSON keys its family has always used (``keys``: JSON key
    to field); ``empty_as_null``: an empty text is ``null``."""

    def value(c: Claim, name: str) -> Any:
        found = getattr(c, name)
        return None if empty_as_null and found == "" else found

    return {
        "values": a.values,
        "claims": [{key: value(c, name) for key, name in keys.items()} for c in a.claims],
    }
