"""How the pool family reads: its sections, footer, --params, JSON keys and CSV rows
(``torchshape.families.base.Family``'s presentation side)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from torchshape.diagram import checked
from torchshape.facts import Totals
from torchshape.families.pool.counts import window_reads
from torchshape.families.pool.formulas import dim_rules
from torchshape.families.pool.spec import Kind
from torchshape.render.claims import findings_section, mark_text, marked_grid
from torchshape.render.csv_format import csv_row
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.render.text import code_text
from torchshape.report import Report
from torchshape.units import human_bytes
from torchshape.view import ParametersSection, findings_json

# How the MAC count is meant, said wherever the count is shown.
MAC_CONVENTION = "no MACs: a pool multiplies nothing"
NOTHING = (
    "--explain: not adaptive, no ceil_mode, no indices, and every input position is read by a "
    "window: nothing more to check"
)
_WORK = {
    Kind.MAX: "max compares them",
    Kind.AVG: "avg adds them and divides once per output",
    Kind.LP: "lp sums their p-th powers and takes the p-th root once per output",
    Kind.ADAPTIVE_MAX: "adaptive max compares them",
    Kind.ADAPTIVE_AVG: "adaptive avg adds them and divides once per output",
}


def _torch_sizes(report: Report) -> tuple[int, ...] | None:
    """torch's output size on each spatial axis, where the forward pass returned one."""
    shape = report.probe.shapes.get("output")
    return None if shape is None else shape[len(shape) - report.spec.dims :]


def _dim_verified(report: Report) -> list[bool]:
    sizes = _torch_sizes(report)
    rules = dim_rules(report.spec)
    return [sizes is not None and sizes[i] == rule.value for i, rule in enumerate(rules)]


def _rules(report: Report) -> RenderableType:
    rules = dim_rules(report.spec)
    head = "output sizes: each axis' rule in the PyTorch docs' symbols, then with this run's numbers"
    grid = marked_grid()
    for rule, verified in zip(rules, _dim_verified(report), strict=True):
        grid.add_row(mark_text(verified), code_text(rule.formula, style="cyan"))
        pad = " " * (len(rule.axis) + len("_out "))
        grid.add_row("", code_text(f"{pad}= {rule.numeric}"))
    return Group(Text(head, style="bold"), grid)


def sections(report: Report) -> list[RenderableType]:
    """Every output size's rule; with --explain the windows' findings. Each after a blank line."""
    return [Text(""), _rules(report), *findings_section(report, "this forward pass", nothing=NOTHING)]


def footer(report: Report, t: Totals) -> list[Text]:
    """Always under the table: parameters (none), MACs (none) and why, memory."""
    spec = report.spec
    indices = " (with int64 indices)" if spec.return_indices else ""
    reads = f"{window_reads(spec):,}"
    what = "N·C·∏X_out·∏kernel_size" if not spec.kind.adaptive else "every window's positions"
    if spec.unbatched:
        what = what.replace("N·C", "C")
    work = f"{MAC_CONVENTION}; it reads {what} = {reads} input positions, and {_WORK[spec.kind]}."
    output = f"output {human_bytes(t.output_bytes)}{indices}"
    return family_footer(report, work, "no parameters", ("input", t.input_bytes), output)


def params(report: Report) -> ParametersSection:
    """--params: the empty table, said plainly."""
    found = report.probe.parameters
    module = report.spec.module_call
    said = f"named_parameters() of {module} is empty" if not found else f"torch's {module} has {len(found)}!"
    return parameters_section(report, f"a pool has no parameters: {said}")


def json_extra(report: Report) -> dict[str, Any]:
    """``dims``: every spatial output dimension; with --explain, ``explain``: the findings."""
    dims = [
        {"axis": rule.axis, "formula": rule.formula, "numeric": rule.numeric, "value": rule.value}
        for rule in dim_rules(report.spec)
    ]
    return {"dims": dims, **findings_json(report)}


def csv_rows(report: Report) -> list[list[str]]:
    """One row of kind ``dim`` per spatial output dimension: its rule and its value."""
    sizes = _torch_sizes(report)
    rows = []
    for i, (rule, ok) in enumerate(zip(dim_rules(report.spec), _dim_verified(report), strict=True)):
        size = "" if sizes is None else str(sizes[i])
        name = f"{rule.axis}_out"
        rows.append(
            csv_row(name, rule.formula, "dim", verified=ok, source="forward", torch=size, value=rule.value)
        )
    return rows


diagram = checked  # --diagram: the drawing the probe checked; None without the flag
