"""Parameters, MACs and memory: the footer under the table, the --params table, the JSON keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.families.rnn.counts import ParameterRow, human_bytes, human_count, init_bound, steps
from torchshape.render.text import shape_text as _fmt
from torchshape.report import Report
from torchshape.view import params_mark, row_mark

# How the MAC count is meant, said wherever the count is shown.
MAC_CONVENTION = "no bias additions or gate element-wise ops, which torchinfo and thop add"


def _params_mark(report: Report) -> Text:
    mark = params_mark(report)
    style = "dim" if mark == "(not checked)" else "bold red" if mark.startswith("✗") else "green"
    return Text(mark, style=style)


def _steps_phrase(report: Report) -> str:
    spec = report.spec
    n = steps(spec)
    products = "x·W_ihᵀ, h·W_hhᵀ, h·W_hrᵀ" if spec.proj_size else "x·W_ihᵀ, h·W_hhᵀ"
    if spec.kind.is_cell:
        return f"{products} for {'1 input' if spec.unbatched else f'N = {n:,} inputs'}, one step"
    if spec.lengths is not None:
        # the count is the packed call's; the table's plain call on the padded input runs every step
        padded = spec.seq_len * spec.batch
        return (
            f"{products} over sum(lengths) = {n:,} real steps of the packed call "
            f"(the plain call on the padded input runs L·N = {padded:,}), every layer and direction"
        )
    else:
        where = f"L = {n:,}" if spec.unbatched else f"L·N = {n:,}"
    return f"{products} over {where} real steps, every layer and direction"


def footer_lines(report: Report) -> list[Text]:
    """Always under the table: total parameters, MACs with their convention, memory."""
    t = report.totals
    if t is None:
        return []
    dtype = report.spec.dtype.value
    head = Text.assemble(
        ("parameters ", "bold"),
        f"{t.params:,} ",
        _params_mark(report),
        " · ",
        (f"{human_count(t.macs)} MACs", "bold"),
        " · ",
        ("peak memory ≈ ", "bold"),
        f"{human_bytes(t.peak_bytes_estimate)} (estimate)",
    )
    states = "h/c" if report.spec.kind.has_cell_state else "h"
    memory = Text(
        f"{dtype}: parameters {human_bytes(t.param_bytes)}, input {human_bytes(t.input_bytes)}, "
        f"{states} {human_bytes(t.state_bytes)}, output {human_bytes(t.output_bytes)}"
    )
    notes = Text(f"MACs: {_steps_phrase(report)}; {MAC_CONVENTION}.", style="dim")
    return [head, memory, notes]


def footer(report: Report) -> list[RenderableType]:
    """The footer for the table, after a blank line."""
    lines = footer_lines(report)
    return [Text(""), *lines] if lines else []


@dataclass(frozen=True)
class ParametersSection:
    """The --params section as plain data, for the table and for markdown alike."""

    title: str
    rows: list[tuple[ParameterRow, str]]  # each parameter and its mark: ✓, ✓* or ✗
    total: int
    init: str
    notes: list[str]  # how deeper layers on meta were named
    mismatches: list[str]


def parameters_section(report: Report) -> ParametersSection:
    """Every parameter with its formula, shape, element count and mark; the total; the init rule."""
    probe = report.probe
    where = (
        "the module built at full size on meta (no forward pass)"
        if probe.reduced
        else f"the module that ran on {probe.device}"
    )
    total = report.totals.params if report.totals else sum(p.numel for p in report.parameters)
    rows = [(p, row_mark(p.verified, p.source == "formula")) for p in report.parameters]
    b = init_bound(report.spec)
    notes = []
    built = probe.parameter_layers
    if built is not None:
        last = report.spec.num_layers - 1
        deeper = f"layer {built}" if last == built else f"layers {built} to {last}"
        notes.append(
            f"✓* {deeper}: torch built {built} layers on meta (time grows with layers); deeper ones "
            f"repeat layer {built - 1}, as torch builds every layer above the first alike"
        )
    mismatches = []
    for p in report.parameters:
        if not p.verified:
            got = "no such parameter" if p.actual is None else f"torch has {_fmt(p.actual)}"
            if p.formula == "-":
                got = f"torch has it, {_fmt(p.actual)}, the formulas do not"
            mismatches.append(f"✗ MISMATCH {p.name}: formula {p.formula} gives {_fmt(p.shape)}; {got}")
    return ParametersSection(
        title=f"named_parameters() of {where}",
        rows=rows,
        total=total,
        init=f"init: every parameter starts as U(−1/√H_cell, 1/√H_cell) = U(−{b:.4g}, {b:.4g})",
        notes=notes,
        mismatches=mismatches,
    )


def parameters_renderable(report: Report) -> RenderableType:
    """The --params table: every parameter with its formula, shape and element count."""
    section = parameters_section(report)
    title = Text.assemble(("Parameters", "bold"), (f"  {section.title}", "dim"))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, show_footer=True)
    table.add_column("parameter", "total", style="cyan", no_wrap=True)
    table.add_column("formula", no_wrap=True)
    table.add_column("shape", overflow="fold")
    table.add_column("numel", f"{section.total:,}", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for p, mark in section.rows:
        style = "bold red" if mark == "✗" else "green"
        table.add_row(
            p.name,
            p.formula,
            _fmt(p.shape),
            f"{p.numel:,}",
            Text(mark, style=style),
            style=None if p.verified else "bold red",
        )
    parts: list[RenderableType] = [Text(""), title, Text(""), table, Text(""), Text(section.init)]
    parts += [Text(note, style="dim") for note in section.notes]
    parts += [Text(line, style="bold red") for line in section.mismatches]
    return Group(*parts)


def parameters_json(report: Report) -> list[dict[str, Any]]:
    """JSON ``parameters``: every parameter of the module, in named_parameters() order."""
    return [
        {
            "name": p.name,
            "shape": list(p.shape),
            "formula": p.formula,
            "numel": p.numel,
            "verified": p.verified,
            "source": p.source,
        }
        for p in report.parameters
    ]


def totals_json(report: Report) -> dict[str, int] | None:
    """JSON ``totals``: parameters, MACs and bytes at the chosen dtype."""
    t = report.totals
    if t is None:
        return None
    return {
        "params": t.params,
        "macs": t.macs,
        "param_bytes": t.param_bytes,
        "input_bytes": t.input_bytes,
        "state_bytes": t.state_bytes,
        "output_bytes": t.output_bytes,
        "peak_bytes_estimate": t.peak_bytes_estimate,
    }
