"""How the embedding family reads: its sections, footer, --params, JSON keys and CSV rows
(``torchshape.families.base.Family``'s presentation side)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from torchshape.facts import Totals
from torchshape.families.embedding.counts import index_count, values_read
from torchshape.families.embedding.formulas import MAX_LISTED, bag_spans, rule, spans_text
from torchshape.families.embedding.spec import Mode
from torchshape.render.claims import findings_section, mark_text, marked_grid
from torchshape.render.csv_format import csv_row
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.render.text import code_text
from torchshape.report import Report
from torchshape.units import human_bytes
from torchshape.view import ParametersSection, findings_json

# How the MAC count is meant, said wherever the count is shown.
MAC_CONVENTION = "no MACs: a lookup multiplies nothing and a bag adds"
_WORK = {
    Mode.SUM: "adds them per bag",
    Mode.MEAN: "adds them per bag and divides once per bag",
    Mode.MAX: "compares them per bag",
}


def _output_verified(report: Report) -> bool:
    return all(row.verified for row in report.rows if row.name == "output")


def _rule(report: Report) -> RenderableType:
    spec = report.spec
    found = rule(spec)
    head = "bags: how B comes about" if spec.bag else "lookup: one row of weight per index"
    grid = marked_grid()
    grid.add_row(mark_text(_output_verified(report)), code_text(found.formula, style="cyan"))
    grid.add_row("", code_text(found.numeric))
    if spec.one_d:
        grid.add_row("", Text(f"bags [start, end): {spans_text(bag_spans(spec))}"))
    return Group(Text(head, style="bold"), grid)


def sections(report: Report) -> list[RenderableType]:
    """The lookup or bag rule; with --explain the findings. Each after a blank line."""
    return [Text(""), _rule(report), *findings_section(report, "a forward pass")]


def footer(report: Report, t: Totals) -> list[Text]:
    """Always under the table: parameters, MACs (none) and why, memory, the work done."""
    spec = report.spec
    fed = "int64 indices" + (", offsets" if spec.one_d else "")
    fed += ", per_sample_weights" if spec.per_sample_weights else ""
    inputs = f"input {human_bytes(t.input_bytes)} ({fed})"
    reads = f"{index_count(spec):,} rows × {spec.embedding_dim} = {values_read(spec):,} values"
    if not spec.bag:
        work = f"{MAC_CONVENTION}; it copies {reads}."
    else:
        weighted = ", multiplies each by its per_sample_weight" if spec.per_sample_weights else ""
        work = f"{MAC_CONVENTION}; it reads {reads}{weighted} and {_WORK[spec.mode]}."
    return family_footer(report, work, ("weight", t.param_bytes), inputs, ("output", t.output_bytes))


def params(report: Report) -> ParametersSection:
    """--params: weight, its formula and its initialization."""
    spec = report.spec
    init = "init: weight starts as N(0, 1)"
    if spec.padding_idx is not None:
        init += f", and its padding_idx row {spec.padding_row} as zeros"
    return parameters_section(report, init)


def json_extra(report: Report) -> dict[str, Any]:
    """``rule``: the lookup or bag rule (with each bag's span for a 1-D input); with --explain,
    ``explain``: the findings."""
    spec = report.spec
    found = rule(spec)
    out: dict[str, Any] = {"rule": {"formula": found.formula, "numeric": found.numeric, "value": found.value}}
    if spec.one_d:
        out["rule"]["bags"] = [list(span) for span in bag_spans(spec)[:MAX_LISTED]]
    return out | findings_json(report)


def csv_rows(report: Report) -> list[list[str]]:
    """A bag: one row of kind ``dim`` for B, its rule and its value."""
    spec = report.spec
    if not spec.bag:
        return []
    found = rule(spec)
    output = report.probe.shapes.get("output")
    size = "" if output is None else str(output[0])
    verified = _output_verified(report)
    return [
        csv_row("B", found.formula, "dim", verified=verified, source="forward", torch=size, value=found.value)
    ]
