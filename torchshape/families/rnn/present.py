"""How the recurrent family reads: its sections, footer, --params notes, JSON keys, CSV rows,
python script and command line (``torchshape.families.base.Family``'s presentation side)."""

from __future__ import annotations

from rich.text import Text

from torchshape.diagram import checked
from torchshape.facts import Totals
from torchshape.families.rnn.sections import sections as sections
from torchshape.families.rnn.sections_json import json_extra as json_extra
from torchshape.families.rnn.sizes import init_bound, steps
from torchshape.render.csv_format import csv_row
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.view import ParametersSection

# How the MAC count is meant, said wherever the count is shown.
MAC_CONVENTION = "no bias additions or gate element-wise ops, which torchinfo and thop add"


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
    where = f"L = {n:,}" if spec.unbatched else f"L·N = {n:,}"
    return f"{products} over {where} real steps, every layer and direction"


def footer(report: Report, t: Totals) -> list[Text]:
    """Always under the table: total parameters, MACs with their convention, memory."""
    states = "h/c" if report.spec.kind.has_cell_state else "h"
    memory = ("parameters", t.param_bytes), ("input", t.input_bytes), (states, t.state_bytes)
    work = f"MACs: {_steps_phrase(report)}; {MAC_CONVENTION}."
    return family_footer(report, work, *memory, ("output", t.output_bytes))


def params(report: Report) -> ParametersSection:
    """--params: every parameter, its U(−1/√H_cell, 1/√H_cell) start, the deeper layers on meta."""
    b = init_bound(report.spec)
    notes = []
    built = report.probe.parameter_layers
    if built is not None:
        last = report.spec.num_layers - 1
        deeper = f"layer {built}" if last == built else f"layers {built} to {last}"
        notes.append(
            f"✓* {deeper}: torch built {built} layers on meta (time grows with layers); deeper ones "
            f"repeat layer {built - 1}, as torch builds every layer above the first alike"
        )
    init = f"init: every parameter starts as U(−1/√H_cell, 1/√H_cell) = U(−{b:.4g}, {b:.4g})"
    return parameters_section(report, init, notes)


def csv_rows(report: Report) -> list[list[str]]:
    """The shapes of the packed call (--lengths) and of one step (--unroll), as CSV rows."""
    analysis = report.probe.analysis
    checks = []
    if analysis is not None and analysis.packed is not None:
        checks += [("packed", check) for check in analysis.packed.shapes]
    if analysis is not None and analysis.unroll is not None:
        checks += [("step", check) for check in analysis.unroll.step_shapes]
    rows = []
    for kind, check in checks:
        measured = "" if check.measured is None else shape_text(check.measured)
        source, torch = ("forward", measured) if check.exact else ("formula", "")
        rows.append(
            csv_row(
                check.code,
                check.formula,
                kind,
                verified=check.verified,
                source=source,
                shape=shape_text(check.shown),
                torch=torch,
                probe=measured,
            )
        )
    return rows


diagram = checked  # --diagram: the drawing the probe checked; None without the flag
