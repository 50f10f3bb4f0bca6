"""How the model family reads: the trace table, the footer, --params, JSON keys and CSV rows
(``torchshape.families.base.Family``'s presentation side)."""

from __future__ import annotations

import math
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from torchshape.attributes import json_object
from torchshape.facts import ParameterRow, Totals
from torchshape.families.diagnosis import CODE_INDENT
from torchshape.families.model.spec import ModelSpec
from torchshape.families.model.trace import LayerCall, Trace, collapse
from torchshape.render.csv_format import csv_row
from torchshape.render.text import code_text, hanging
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.units import human_bytes, human_count
from torchshape.view import ParametersSection

NO_FORMULA = "no formula"
FAILED = "—"  # the outputs of the call that raised
MACS_ALL = (
    "MACs: every matrix product, convolution and attention torch ran, recurrent layers by their formulas"
)
MACS_RAISED = "MACs: only the operations that ran before forward raised (a lower bound)"
MACS_UNCOUNTED = "MACs: a lower bound: no MAC formula for {}"
MEMORY = "memory ≈ {} (estimate)"
MEMORY_OF = "memory: parameters + buffers + inputs + the most activations alive at once, {}"
MEASURED = "measured {}"
MEASURED_OF = {
    "cpu": "measured: the resident memory the run added, from building the model to the end of forward",
    "cuda": "measured: torch.cuda.max_memory_allocated during the run",
}


def _trace(report: Report) -> Trace:
    trace: Trace = report.probe.analysis
    return trace


def shown_layers(report: Report) -> list[LayerCall]:
    """The rows shown: every call, identical consecutive calls as one, down to --depth."""
    spec: ModelSpec = report.spec
    rows = collapse([row for row in _trace(report).layers if spec.ops or not row.op])
    return [row for row in rows if spec.depth is None or row.depth <= spec.depth]


def mark(verified: bool | None, from_formula: bool = False) -> str:
    """✓ torch returned the formula's shape; ✓* the formula gave it, checked at small sizes (meta)."""
    return "" if verified is None else ("✓*" if from_formula else "✓") if verified else "✗"


def _mark_text(verified: bool | None, from_formula: bool = False) -> Text:
    return Text(mark(verified, from_formula), style="green" if verified else "bold red")


# The widest the trace table makes a file or pipe: past it, its cells wrap (a terminal's own
# width applies there). Code lines elsewhere (the model's source in a diagnosis) stay unbroken.
TRACE_WIDTH = 120
# Inputs of one call shown on one line up to this many characters, else one per line.
INPUTS_ON_ONE_LINE = 32


class CappedTable:
    """The trace table. A file or pipe gets its natural width up to ``width`` columns, where
    ``unbroken_code`` would make it as wide as its widest cell. Where the page is narrower than
    the table, the layer paths and the formulas fold first, then the shapes."""

    FOLD_FIRST = (0, 4)  # the layer and formula columns
    NARROWEST = 16  # the least either of them folds to before the shapes wrap

    def __init__(self, table: Table, width: int) -> None:
        self.table = table
        self.width = width

    def _natural(self, column: int) -> int:
        cells = [*self.table.columns[column]._cells, self.table.columns[column].header]
        return max((cell_len(line) for cell in cells for line in str(cell).split("\n")), default=0)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = self.table.columns
        for index in self.FOLD_FIRST:
            columns[index].max_width = None
        natural = [self._natural(i) for i in range(len(columns))]
        wide = Measurement.get(console, options.update_width(10_000), self.table).maximum
        excess = wide - options.max_width
        for index in sorted(self.FOLD_FIRST, key=lambda i: -natural[i]):  # the wider folds first
            if excess <= 0:
                break
            cut = min(excess, max(0, natural[index] - self.NARROWEST))
            if cut:
                columns[index].max_width = natural[index] - cut
                excess -= cut
        yield self.table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        measured = Measurement.get(console, options, self.table)
        return Measurement(min(measured.maximum, self.width), measured.maximum)


def _inputs_lines(row: LayerCall) -> list[str]:
    """A call's input shapes on one line when short, else one per line."""
    shapes = [shape_text(shape) for _, shape in row.inputs]
    joined = ", ".join(shapes)
    return [joined] if len(joined) <= INPUTS_ON_ONE_LINE else shapes


def sections(report: Report) -> list[RenderableType]:
    """The trace: one row per module call, each output with its formula and ✓ where torch agreed."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title=None)
    for header in ("layer", "type", "inputs", "outputs", "formula"):
        table.add_column(header, style="cyan" if header == "layer" else "", overflow="fold")
    table.add_column("", no_wrap=True)
    for row in shown_layers(report):
        shown = f"· {row.type.rpartition('.')[2]}" if row.op else row.shown_path
        name = "  " * max(0, row.depth - 1) + shown + (f" × {row.calls} calls" if row.calls > 1 else "")
        outputs = [f"{o.name}: {shape_text(o.shape)}" for o in row.outputs]
        formulas = [o.formula or NO_FORMULA for o in row.outputs]
        marks = [_mark_text(o.verified, o.from_formula) for o in row.outputs]
        if row.op:  # an operation of the model's code: where it was called, no formula to check
            formulas, marks = [f"at {row.where}"], []
        if row.failed:
            outputs, formulas, marks = [FAILED], ["raised"], [_mark_text(False)]
        style = "bold red" if row.verified is False else None
        # one line of the table per input and output, so that each output keeps its formula and
        # mark beside it where a narrow page wraps a cell
        inputs = _inputs_lines(row)
        for line in range(max(1, len(inputs), len(outputs), len(formulas))):
            table.add_row(
                code_text(name if line == 0 else ""),
                code_text(row.type if line == 0 else ""),
                code_text(inputs[line] if line < len(inputs) else ""),
                code_text(outputs[line] if line < len(outputs) else ""),
                code_text(formulas[line] if line < len(formulas) else ""),
                marks[line] if line < len(marks) else Text(""),
                style=style,
            )
    spec: ModelSpec = report.spec
    title = (
        "trace: every module call and every operation of your code, in call order"
        if spec.ops
        else "trace: every module call, in call order"
    )
    parts: list[RenderableType] = [Text(""), Text(title, style="bold"), CappedTable(table, TRACE_WIDTH)]
    return parts


def footer(report: Report, t: Totals) -> list[Text]:
    """Where forward raised, if it did (the diagnosis: as text in Markdown); the totals of the
    whole model, whatever --depth shows; then each mismatch."""
    trace = _trace(report)
    frozen = trace.params - trace.trainable
    lines: list[Text] = []
    if trace.diagnosis is not None:
        lines += [Text("diagnosis: where forward raised", style="bold")]
        lines += [
            code_text(line)
            if line.startswith(CODE_INDENT)
            else hanging(line, "bold red" if line.startswith("✗") else "")
            for line in trace.diagnosis.lines()
        ]
        lines.append(Text(""))
    for suspicion in trace.warnings:
        first, *rest = suspicion.lines()
        lines += [hanging(first, "bold yellow"), *(hanging(line) for line in rest)]
    if trace.warnings:
        lines.append(Text(""))
    measured = trace.measured_peak_bytes
    lines += [
        Text.assemble(
            ("parameters ", "bold"),
            f"{trace.params:,} (trainable {trace.trainable:,}, not {frozen:,}) · ",
            (f"{human_count(trace.macs)} MACs", "bold"),
            " · ",
            (MEMORY.format(human_bytes(t.peak_bytes_estimate)), "bold"),
            *(() if measured is None else (" · ", (MEASURED.format(human_bytes(measured)), "bold"))),
        ),
        *(Text(line, style="dim") for line in totals_notes(report)),
    ]
    lines += [hanging(line, "bold yellow") for line in macs_disagreements(trace)]
    lines += [Text(line, style="bold red") for line in trace.mismatches]
    return lines


def _formula_kinds(rows: list[LayerCall]) -> str:
    """``nn.Linear and nn.Conv2d (5 calls)``: the layer types of ``rows``, the first four named."""
    if not rows:
        return ""
    kinds = list(dict.fromkeys(row.type for row in rows))
    named = ", ".join(kinds[:4]) + (f" and {len(kinds) - 4} more" if len(kinds) > 4 else "")
    return f"{named} ({len(rows)} call{'' if len(rows) == 1 else 's'})"


def macs_disagreements(trace: Trace) -> list[str]:
    """One line per layer whose family's MAC formula is not the count of the operations it ran:
    the operations' count stands (it is what torch ran)."""
    lines = []
    seen: set[str] = set()
    for row in trace.layers:
        if row.macs_checked is False and row.shown_path not in seen:
            seen.add(row.shown_path)
            lines.append(
                f"⚠ MACs: {row.shown_path} ({row.type}): its family's formula gives {row.macs_formula:,}, "
                f"the operations it ran count {row.macs:,}; the operations' count is the one used"
            )
    return lines


def totals_notes(report: Report) -> list[str]:
    """What the totals count: the MACs (complete, or what is missing), the memory, the measured
    peak; "the whole model" only where the MACs are complete."""
    trace = _trace(report)
    if trace.diagnosis is not None or trace.error is not None:
        macs = MACS_RAISED
    elif trace.uncounted:
        macs = MACS_UNCOUNTED.format(
            ", ".join(f"aten.{name} ({calls} calls)" for name, calls in trace.uncounted)
        )
    else:
        macs = MACS_ALL
    agreed = _formula_kinds([row for row in trace.layers if row.macs_checked is True])
    if agreed:
        macs += f"; the MAC formulas of {agreed} agree with the operations they ran"
    mode = "with autograd on (--grad): what backward needs included" if trace.grad else "under no_grad"
    lines = [macs, MEMORY_OF.format(mode)]
    if trace.measured_peak_bytes is not None:
        lines.append(MEASURED_OF["cuda" if report.probe.device.startswith("cuda") else "cpu"])
    whole = "parameters and MACs count" if trace.macs_complete else "parameters count"
    lines.append(f"{whole} the whole model, whatever --depth shows")
    return ["; ".join(lines)]


def params(report: Report) -> ParametersSection:
    """--params: named_parameters() as torch built them; a whole model's parameters have no formulas yet."""
    found = report.probe.parameters
    rows = [
        (ParameterRow(name, "-", shape, math.prod(shape), shape, True), "–") for name, shape in found.items()
    ]
    return ParametersSection(
        title=f"named_parameters() of the model that ran on {report.probe.device}",
        rows=rows,
        total=_trace(report).params,
        init="shapes as torch built them: no formulas for a model's parameters yet (–)",
        notes=[],
        mismatches=[],
    )


def _layer_json(row: LayerCall) -> dict[str, Any]:
    if row.op:
        return _op_json(row)
    return (
        json_object(row, "path type module depth calls")
        | {"inputs": [{"name": name, "shape": list(shape)} for name, shape in row.inputs]}
        | {"outputs": [json_object(o, "name shape formula verified from_formula") for o in row.outputs]}
        | json_object(row, "params macs macs_formula macs_checked failed")
    )


def _op_json(row: LayerCall) -> dict[str, Any]:
    return (
        {"op": row.type}
        | json_object(row, "path depth calls where rule")
        | {"inputs": [list(shape) for _, shape in row.inputs]}
        | {"outputs": [list(o.shape) for o in row.outputs], "failed": row.failed}
    )


def json_extra(report: Report) -> dict[str, Any]:
    """``target``; ``layers``: the rows shown; ``error``: where forward raised, what the layer
    requires, what arrived and the checked fixes (None when forward ran)."""
    trace = _trace(report)
    return {
        "target": report.spec.target,
        "layers": [_layer_json(row) for row in shown_layers(report)],
        "ops": [_op_json(row) for row in collapse([row for row in trace.layers if row.op])],
        "trainable_params": trace.trainable,
        "macs_complete": trace.macs_complete,
        "macs_checked": {
            "agree": sum(row.macs_checked is True for row in trace.layers),
            "disagree": [
                {"path": row.path, "type": row.type, "macs_formula": row.macs_formula, "macs": row.macs}
                for row in trace.layers
                if row.macs_checked is False
            ],
        },
        "macs_uncounted": dict(trace.uncounted),
        "grad": trace.grad,
        "memory": {
            "estimate_bytes": report.totals.peak_bytes_estimate if report.totals else trace.memory_bytes,
            "param_bytes": trace.param_bytes,
            "buffer_bytes": trace.buffer_bytes,
            "input_bytes": trace.input_bytes,
            "activation_peak_bytes": trace.activation_peak_bytes,
            "measured_peak_bytes": trace.measured_peak_bytes,
        },
        "error": None if trace.diagnosis is None else trace.diagnosis.as_dict(),
        "warnings": [suspicion.as_dict() for suspicion in trace.warnings],
    }


def csv_rows(report: Report) -> list[list[str]]:
    """One row of kind ``layer`` per output of each layer shown; ``value`` is its number of calls."""
    rows = []
    for row in shown_layers(report):
        if row.failed:
            inputs = ", ".join(shape_text(shape) for _, shape in row.inputs)
            rows.append([f"{row.shown_path}: raised", "", "", "false", "forward", inputs, "", "layer", "1"])
        for o in row.outputs:
            expected = shape_text(o.expected if o.expected is not None else o.shape)
            name, torch = f"{row.shown_path}: {o.name}", shape_text(o.shape)
            rows.append(
                csv_row(
                    name,
                    o.formula or "",
                    "layer",
                    verified=o.verified,
                    source="forward",
                    shape=expected,
                    torch=torch,
                    value=row.calls,
                )
            )
    for s in _trace(report).warnings:
        rows.append(
            csv_row(
                s.shown_layer, s.message, "warning", verified=s.verified, source="forward", value=s.evidence
            )
        )
    diagnosis = _trace(report).diagnosis
    if diagnosis is not None:  # the error, then a row per fix: columns as ``csv_format.COLUMNS``
        layer, expects, source = diagnosis.shown_layer, diagnosis.expects or "", diagnosis.source or ""
        got = "" if diagnosis.got is None else shape_text(diagnosis.got)
        rows.append([layer, expects, "", "false", source, got, got, "error", diagnosis.message])
        for fix in diagnosis.fixes:
            verified = "true" if fix.verified else "false"
            rows.append([layer, fix.change, "", verified, "fix", fix.module, "", "fix", fix.change])
    return rows
