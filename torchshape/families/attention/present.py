"""How the attention family reads: the MACs worked out, --explain, the footer, --params, JSON
keys and CSV rows (``Family``'s presentation side)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.diagram import checked
from torchshape.explain import Claims
from torchshape.facts import Totals
from torchshape.families.attention.counts import mac_terms, macs_formula, mask_bytes
from torchshape.render.claims import claims_section
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.render.text import code_text
from torchshape.report import Report
from torchshape.units import human_bytes
from torchshape.view import ParametersSection, claims_json

MAC_CONVENTION = "one multiply-accumulate per product term of the six matrix products; no bias additions"

# --explain's JSON keys, field by field
KEYS = {"key": "topic", "claim": "claim", "held": "holds", "evidence": "evidence", "mistake": "mistake"}


def sections(report: Report) -> list[RenderableType]:
    """The MACs of each matrix product; with --explain, each claim and torch's verdict."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, justify="right")
    for what, formula, value in mac_terms(report.spec):
        grid.add_row(what, code_text(formula), f"{value:,}")
    parts: list[RenderableType] = [Text(""), Text("MACs, per matrix product", style="bold"), grid]
    analysis = report.probe.analysis
    return parts + (claims_section(analysis.claims) if isinstance(analysis, Claims) else [])


def footer(report: Report, t: Totals) -> list[Text]:
    masks = mask_bytes(report.spec)
    inputs = f"inputs {human_bytes(t.input_bytes)}" + (f" (masks {human_bytes(masks)})" if masks else "")
    work = f"MACs: {macs_formula(report.spec)} = {t.macs:,}; {MAC_CONVENTION}."
    return family_footer(report, work, ("parameters", t.param_bytes), inputs, ("outputs", t.output_bytes))


def params(report: Report) -> ParametersSection:
    e = report.spec.embed_dim
    bound = math.sqrt(6 / (e + 3 * e)) if report.spec.same_embed_dim else math.sqrt(6 / (e + e))
    init = (
        f"init: in_proj_weight (or q/k/v_proj_weight) xavier_uniform_ (b = {bound:.4g} for the packed "
        "(3·E, E)); in_proj_bias and out_proj.bias 0; bias_k, bias_v xavier_normal_; out_proj.weight "
        "U(−1/√E, 1/√E)"
    )
    return parameters_section(report, init)


def json_extra(report: Report) -> dict[str, Any]:
    """``macs_terms``: each matrix product; with --explain: ``explain``."""
    out: dict[str, Any] = {
        "macs_terms": [
            {"product": what, "formula": formula, "macs": value}
            for what, formula, value in mac_terms(report.spec)
        ]
    }
    a = report.probe.analysis
    if isinstance(a, Claims):
        out["explain"] = claims_json(a, KEYS)
    return out


def csv_rows(report: Report) -> list[list[str]]:
    """No rows beyond the tensors and the totals: the MACs' terms are in JSON (``macs_terms``)."""
    return []


diagram = checked  # --diagram: the drawing the probe checked; None without the flag
