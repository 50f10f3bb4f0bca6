"""How the transformer family reads: what each tensor is, --explain, the footer, --params,
JSON keys and CSV rows (``Family``'s presentation side)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.explain import Claims
from torchshape.facts import Totals
from torchshape.families.transformer.counts import macs_formula
from torchshape.families.transformer.formulas import tensor_formulas
from torchshape.render.claims import claims_section
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.report import Report
from torchshape.view import ParametersSection, claims_json

MAC_CONVENTION = (
    "one multiply-accumulate per product of the projections, Q·Kᵀ, weights·V and the feed-forward; "
    "no bias, softmax, LayerNorm or masks"
)


def meanings(report: Report) -> list[tuple[str, str]]:
    return [(f.name, f.meaning) for f in tensor_formulas(report.spec)]


# --explain's JSON keys, field by field
KEYS = {"topic": "topic", "claim": "claim", "held": "holds", "detail": "evidence", "note": "note"}


def sections(report: Report) -> list[RenderableType]:
    """What each tensor is; with --explain, each claim and torch's verdict."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="cyan")
    grid.add_column()
    for name, meaning in meanings(report):
        grid.add_row(name, meaning)
    parts: list[RenderableType] = [Text(""), Text("What each tensor is", style="bold"), grid]
    analysis = report.probe.analysis
    return parts + (claims_section(analysis.claims, quoted=True) if isinstance(analysis, Claims) else [])


def footer(report: Report, t: Totals) -> list[Text]:
    work = f"MACs: {macs_formula(report.spec)} = {t.macs:,}; {MAC_CONVENTION}."
    parts = ("parameters", t.param_bytes), ("inputs and masks", t.input_bytes), ("output", t.output_bytes)
    return family_footer(report, work, *parts)


def params(report: Report) -> ParametersSection:
    init = (
        "init: in_proj_weight xavier_uniform_, in_proj_bias and out_proj.bias 0; linear layers "
        "U(−1/√fan_in, 1/√fan_in); LayerNorm weight 1, bias 0. A stack's layers share one row (×layers)"
    )
    notes = []
    if report.probe.parameter_layers is not None:
        notes.append(
            f"on meta torch built {report.probe.parameter_layers} layers of each stack; the deeper ones "
            "have the same names and shapes (✓*)"
        )
    return parameters_section(report, init, notes)


def json_extra(report: Report) -> dict[str, Any]:
    """``meanings``: what each tensor is; with --explain: ``explain``."""
    out: dict[str, Any] = {"meanings": dict(meanings(report))}
    a = report.probe.analysis
    if isinstance(a, Claims):
        out["explain"] = claims_json(a, KEYS, empty_as_null=True)
    return out


def csv_rows(report: Report) -> list[list[str]]:
    """No rows beyond the tensors: their meanings are in the table and JSON."""
    return []
