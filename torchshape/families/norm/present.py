"""How the norm family reads: its sections (parameters and buffers, the statistics, --explain's
mistakes), footer, --params, JSON keys and CSV rows."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.facts import Totals
from torchshape.families.norm.counts import numel
from torchshape.families.norm.explain import Analysis
from torchshape.families.norm.formulas import statistics
from torchshape.render.claims import findings_section, mark_text
from torchshape.render.csv_format import csv_row
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.view import ParametersSection, finding_json, findings_json


def _analysis(report: Report) -> Analysis:
    analysis = report.probe.analysis
    assert isinstance(analysis, Analysis)
    return analysis


def held_rows(report: Report) -> list[tuple[str, str, str, tuple[int, ...], tuple[int, ...] | None, bool]]:
    """(kind, name, formula, shape, torch's shape, verified) of every parameter, then every buffer."""
    rows = [("parameter", p.name, p.formula, p.shape, p.actual, p.verified) for p in report.parameters]
    analysis = _analysis(report)
    rows += [
        ("buffer", h.name, h.formula, h.shape, actual, actual == h.shape) for h, actual in analysis.buffers
    ]
    rows += [("buffer", name, "-", shape, shape, False) for name, shape in analysis.extra_buffers]
    return rows


def _held(report: Report) -> RenderableType:
    rows = held_rows(report)
    if not rows:
        return Text("parameters and buffers: none (named_parameters() and named_buffers() are empty)")
    grid = Table.grid(padding=(0, 2))
    for _ in range(5):
        grid.add_column(no_wrap=True)
    grid.add_row(*(Text(h, style="bold") for h in ("name", "kind", "formula", "shape", "torch")), "")
    for kind, name, formula, shape, actual, verified in rows:
        grid.add_row(name, kind, formula, shape_text(shape), shape_text(actual), mark_text(verified))
    return Group(Text("parameters and buffers (named_parameters(), named_buffers())", style="bold"), grid)


def _statistics(report: Report) -> RenderableType:
    claim = _analysis(report).statistics
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for fact in claim.facts:
        grid.add_row("", Text(fact))
    verdict = claim.evidence or ""
    grid.add_row(
        mark_text(claim.holds) if claim.holds is not None else "", Text(f"{claim.claim} ({verdict})")
    )
    if claim.note:
        grid.add_row("", Text(claim.note, style="dim"))
    return Group(Text("statistics: which dimensions they are taken over", style="bold"), grid)


def sections(report: Report) -> list[RenderableType]:
    """Parameters and buffers, the statistics, and with --explain the mistakes."""
    parts = [Text(""), _held(report), Text(""), _statistics(report)]
    return parts + findings_section(report, "torch", values=True)


def footer(report: Report, t: Totals) -> list[Text]:
    spec = report.spec
    work = (
        f"no MACs: a normalization multiplies no matrices; it normalizes {numel(spec):,} values "
        f"by {statistics(spec).count:,} statistics."
    )
    memory = ("input", t.input_bytes), ("output", t.output_bytes), ("parameters", t.param_bytes)
    return family_footer(report, work, *memory, ("buffers", t.state_bytes))


def params(report: Report) -> ParametersSection:
    return parameters_section(report, "init: weight starts as ones, bias as zeros")


def json_extra(report: Report) -> dict[str, Any]:
    """``held``: parameters and buffers beside torch's; ``statistics``; with --explain ``explain``."""
    analysis = _analysis(report)
    out: dict[str, Any] = {
        "held": [
            {
                "kind": kind,
                "name": name,
                "formula": formula,
                "shape": list(shape),
                "torch": None if actual is None else list(actual),
                "verified": verified,
            }
            for kind, name, formula, shape, actual, verified in held_rows(report)
        ],
        "statistics": finding_json(analysis.statistics),
    }
    return out | findings_json(report)


def csv_rows(report: Report) -> list[list[str]]:
    """One row per buffer (kind ``buffer``): the parameters have their own rows already."""
    rows = []
    for kind, name, formula, shape, actual, verified in held_rows(report):
        if kind != "buffer":
            continue
        torch = "" if actual is None else shape_text(actual)
        rows.append(
            csv_row(
                name,
                formula,
                "buffer",
                verified=verified,
                source="module",
                shape=shape_text(shape),
                torch=torch,
            )
        )
    return rows
