"""The --explain, --lengths and --unroll sections as table parts (JSON: ``sections_json``).

Nothing here runs torch; every mark comes from a check ``torchshape.families.rnn.explain_probe`` made.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.explain import NO_RELATION_VALUES, NO_VALUES_HEADING
from torchshape.families.rnn.explain import Layout
from torchshape.families.rnn.handoff import HandoffResult
from torchshape.families.rnn.packed import PackedResult, ShapeCheck, packed_code
from torchshape.families.rnn.relations import RelationCheck
from torchshape.families.rnn.unroll import UnrollResult
from torchshape.render.claims import mark_text, marked_grid
from torchshape.render.text import code_text
from torchshape.render.text import shape_text as _fmt
from torchshape.report import Report
from torchshape.view import row_mark

# A grid of more layers than this shows the first and last few.
GRID_ROWS = 6


def _num(value: float) -> str:
    return "0" if value == 0 else f"{value:.3g}"


# ---------------------------------------------------------------- table


def sections(report: Report) -> list[RenderableType]:
    """The extra sections for the table, each preceded by a blank line; none without the flags."""
    analysis = report.probe.analysis
    if analysis is None:
        return []
    parts: list[RenderableType] = []
    if analysis.relations is not None:
        parts.extend([Text(""), _relations(report, analysis.relations, analysis.values)])
    if analysis.layouts:
        parts.extend([Text(""), _layouts(report, analysis.layouts, analysis.feature_sizes or {})])
    if analysis.handoff is not None:
        parts.extend([Text(""), _handoff(report, analysis.handoff, analysis.values)])
    if analysis.packed is not None:
        parts.extend([Text(""), _packed(report, analysis.packed, analysis.values)])
    if analysis.unroll is not None:
        parts.extend([Text(""), _unroll(report, analysis.unroll)])
    return parts


def _verdict(check: RelationCheck) -> tuple[Text, str]:
    """The mark and the few words saying what the check found."""
    rel = check.relation
    diff = "" if check.max_abs_diff is None else f", max |Δ| {_num(check.max_abs_diff)}"
    if check.holds is None:
        return mark_text(None), NO_VALUES_HEADING
    if check.numeric_agrees is False:
        return mark_text(False), "the numeric form picked other values"
    if check.holds and rel.expected:
        if check.max_abs_diff is None:
            return mark_text(True), "holds"
        return mark_text(True), "bit for bit" if check.exact else f"within tolerance{diff}"
    if check.evidence:
        mark = Text("≠", style="yellow") if not rel.expected else mark_text(False)
        return mark, f"torch refuses it: {check.evidence}"
    if not check.holds and not rel.expected:
        return Text("≠", style="yellow"), f"does not hold{diff}"
    if check.holds:
        return Text("✓", style="yellow"), "holds here by coincidence of these values, not in general"
    return mark_text(False), f"DOES NOT HOLD{diff}, though the rules say it does"


def _relation_rows(checks: list[RelationCheck]) -> Table:
    grid = marked_grid()
    for check in checks:
        rel = check.relation
        mark, verdict = _verdict(check)
        bad = "bold red" if not check.ok else None
        grid.add_row(mark, code_text(rel.expression, style=bad or "cyan"))
        if rel.numeric != rel.expression:
            grid.add_row("", code_text(rel.numeric))
        grid.add_row("", Text(f"{rel.meaning} ({verdict})", style=bad or "dim"))
    return grid


# With --lengths two calls run, and their h_n differ: each relation block says which it is about.
PLAIN_CALL = "the plain call on the padded input (the table's)"
PACKED_CALL = "the packed call (pack_padded_sequence)"


def _heading(report: Report, title: str, checked: str, values: bool) -> Text:
    """A section's heading: which call it is about (with --lengths), and how it was checked."""
    which = f" of {PLAIN_CALL}" if report.spec.lengths is not None else ""
    return Text(f"{title}{which}: {checked if values else NO_RELATION_VALUES}", style="bold")


def _relations(report: Report, checks: list[RelationCheck], values: bool) -> RenderableType:
    head = _heading(report, "output vs h_n (--explain)", "each relation checked on this forward pass", values)
    return Group(head, *_holding_then_mistakes(checks))


def _holding_then_mistakes(checks: list[RelationCheck]) -> list[RenderableType]:
    """The relations that hold, then (if any) the common mistakes, checked the same way."""
    mistakes = [c for c in checks if not c.relation.expected]
    parts: list[RenderableType] = [_relation_rows([c for c in checks if c.relation.expected])]
    if mistakes:
        parts += [Text("Common mistakes, checked the same way:", style="bold"), _relation_rows(mistakes)]
    return parts


def _handoff(report: Report, handoff: HandoffResult, values: bool) -> RenderableType:
    code = []
    for line, numeric in zip(handoff.code, handoff.code_numeric, strict=True):
        code.append(line if line == numeric else f"{line}    # {numeric.split(' = ', 1)[1]}")
    return Group(
        _heading(report, "Hand-off to a decoder (--explain)", "each line run on this forward pass", values),
        Text(
            "h_n (and c_n) as a decoder's initial state; the decoders are built at this run's "
            "dtype and device, and read the encoder's input as their own."
        ),
        *(code_text(line, style="dim") for line in code),
        *_holding_then_mistakes(handoff.relations),
    )


def _layouts(report: Report, layouts: list[Layout], sizes: dict[str, list[str]]) -> RenderableType:
    h_n = layouts[0]
    parts: list[RenderableType] = [
        code_text(f"h_n layout: {h_n.view}[layer, direction]", style="bold"),
        code_text(f"            {h_n.view_numeric}; each cell gives the index in h_n", style="dim"),
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="cyan", no_wrap=True)
    for _ in h_n.directions:
        grid.add_column(no_wrap=True)
    grid.add_column(style="dim", no_wrap=True)
    grid.add_row("", *h_n.directions, "")
    layers = len(h_n.grid)
    for layer in range(layers) if layers <= GRID_ROWS else [0, 1, 2, None, layers - 2, layers - 1]:
        if layer is None:
            grid.add_row("…", *("…" for _ in h_n.directions), "")
            continue
        cells = [Text(f"h_n[{i}]") for i in h_n.grid[layer]]
        note = "top layer: also in output" if layer == layers - 1 else ""
        grid.add_row(f"layer {layer}", *cells, note)
    parts.append(grid)
    for layout in layouts[1:]:
        parts.append(Text(f"{layout.tensor}: the same grid, {layout.view}[layer, direction]"))
    if report.spec.proj_size:
        sym = report.symbols
        parts.append(
            Text(
                f"H_out = {sym['H_out']} (proj_size): {', '.join(sizes.get('H_out', []))}; "
                f"H_cell = {sym['H_cell']} (hidden_size): {', '.join(sizes.get('H_cell', []))}."
            )
        )
    return Group(*parts)


def _shape_table(rows: list[ShapeCheck], reduced: bool, first: str) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1))
    table.add_column(first, style="cyan", overflow="fold")
    table.add_column("formula", overflow="fold")
    table.add_column("shape", overflow="fold")
    table.add_column("torch probe" if reduced else "torch", overflow="fold")
    table.add_column("", no_wrap=True)
    for row in rows:
        mark = Text(row_mark(row.verified, reduced), style="green" if row.verified else "bold red")
        style = None if row.verified else "bold red"
        cells = (row.code, row.formula, _fmt(row.expected), _fmt(row.measured))
        table.add_row(*(Text(cell) for cell in cells), mark, style=style)
    return table


def _packed(report: Report, packed: PackedResult, values: bool) -> RenderableType:
    spec = report.spec
    sym = report.symbols
    lengths = ",".join(str(n) for n in packed.lengths)
    reduced = report.probe.reduced
    parts: list[RenderableType] = [
        Text(
            f"Packed batch (--lengths {lengths}): sum(lengths) = {packed.sum_lengths} real steps, "
            f"not L·N = {sym['L·N']}",
            style="bold",
        ),
        *(code_text(line, style="dim") for line in packed_code(spec)),
        _shape_table(packed.shapes, reduced, "tensor"),
    ]
    long = len(packed.batch_sizes) > 24
    sizes = ", ".join(str(n) for n in packed.batch_sizes[: 20 if long else None]) + (", …" if long else "")
    if packed.batch_sizes_verified:
        mark = "✓*" if reduced else "✓"
        agreed = f"{mark} torch agrees" + (" (at the probe's lengths)" if reduced else "")
    else:
        agreed = f"✗ torch gave {list(packed.measured_batch_sizes or ())}"
    parts.append(Text(f"batch_sizes = [{sizes}]: sequences still running at each step; {agreed}"))
    notes = [
        "The table above is the plain call on the padded input; the packed call returns a "
        "PackedSequence, and h_n holds each sequence's last real step."
    ]
    if packed.max_length < sym["L"]:
        notes.append(
            f"pad_packed_sequence pads to max(lengths) = {packed.max_length}, not to L = {sym['L']}; "
            f"pass total_length={sym['L']} to get L back."
        )
    else:
        notes.append(f"pad_packed_sequence pads to max(lengths) = {packed.max_length}, here equal to L.")
    order = "" if packed.sorted_indices is None else f" (sorted_indices = {list(packed.sorted_indices)})"
    notes.append(f"enforce_sorted=False sorts the batch inside and hands h_n back in your order{order}.")
    if reduced:
        notes.append(
            f"The probe ran lengths {','.join(str(n) for n in packed.ran_lengths)} at its own sizes."
        )
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for note in notes:
        grid.add_row("•", note)
    parts.append(grid)
    head = f"padded output vs h_n of {PACKED_CALL}:" + ("" if values else f" {NO_RELATION_VALUES}")
    return Group(*parts, Text(head, style="bold"), _relation_rows(packed.relations))


def _unroll(report: Report, unroll: UnrollResult) -> RenderableType:
    if unroll.method == "module":
        how = f"L = {unroll.steps} calls of the module, one step each"
    elif unroll.method == "cell":
        kind = report.spec.kind
        state = "(h, c)" if kind.has_cell_state else "h"
        how = (
            f"L = {unroll.steps} calls of nn.{kind.module_name} carrying {state}, "
            f"vs one call of nn.{kind.layer.module_name} with its weights"
        )
    else:
        how = f"each layer and direction, L = {unroll.steps} calls each"
    parts: list[RenderableType] = [Text(f"Step by step vs one call (--unroll): {how}", style="bold")]
    if unroll.why:
        parts.append(Text(unroll.why))
    parts.extend(code_text(line, style="dim") for line in unroll.code)
    parts.append(_shape_table(unroll.step_shapes, False, "tensor" if unroll.method == "cell" else "one step"))
    diffs = ", ".join(f"{key} {_num(value)}" for key, value in unroll.max_abs_diff.items())
    rtol, atol = unroll.tolerance
    if unroll.agree:
        verdict = Text(f"✓ the same within rtol {rtol:g}, atol {atol:g}", style="green")
    else:
        bad = ", ".join(key for key, ok in unroll.within_tolerance.items() if not ok)
        verdict = Text(f"✗ {bad} differ beyond rtol {rtol:g}, atol {atol:g}", style="bold red")
    parts += [Text(f"max |step loop − one call|: {diffs}"), verdict]
    per_step = unroll.per_step_max_abs_diff
    shown = " ".join(_num(d) for d in per_step[:12]) + (" …" if len(per_step) > 12 else "")
    parts.append(Text(f"output, per step: {shown}", style="dim"))
    if unroll.naive_max_abs_diff is not None:
        naive = ", ".join(f"{key} {_num(value)}" for key, value in unroll.naive_max_abs_diff.items())
        parts.append(
            Text(f"The bidirectional module called one step at a time instead: {naive} (not the same).")
        )
    return Group(*parts)
