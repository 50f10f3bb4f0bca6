"""How the convolution family reads: the output sizes worked out, --explain, the footer,
--params, JSON keys and CSV rows (``Family``'s presentation side)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.diagram import checked
from torchshape.explain import NO_VALUES, Claim
from torchshape.facts import Totals
from torchshape.families.conv.counts import init_bound, macs_formula
from torchshape.families.conv.explain import ConvAnalysis, Unread
from torchshape.families.conv.formulas import dim_formulas
from torchshape.families.conv.spec import ConvSpec
from torchshape.families.spatial import Coverage
from torchshape.render.claims import claims_section
from torchshape.render.csv_format import csv_row
from torchshape.render.parameters import family_footer, parameters_section
from torchshape.render.text import code_text
from torchshape.report import Report
from torchshape.shapes import shape_text
from torchshape.view import ParametersSection

MAC_CONVENTION = "one multiply-accumulate per kernel weight and output position; no bias additions"


def _list(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def unread_claim(u: Unread, why: str = "") -> Claim:
    """One axis' unread input positions and torch's verdict on the whole set."""
    c = u.coverage
    if c.unread is None:
        return Claim("unread", f"{u.axis}: which input positions no window reads is {c.text()}")
    head = f"{u.axis}: {c.text()}" + (f" ({why})" if why and c.unread else "")
    if u.holds is None:
        return Claim("unread", head, None, u.reason or "")
    if u.holds and not c.unread:
        return Claim("unread", f"{head} (torch's gradient is non-zero at each)", True)
    if u.holds:
        return Claim(
            "unread", head, True, f"checked: torch's gradient is zero on exactly these positions of {u.axis}"
        )
    found = Coverage(c.axis, c.size, u.torch_unread).text().removesuffix(" read by no window")
    return Claim("unread", head, False, f"DOES NOT HOLD: torch's gradient is zero at {found}")


def unread_json(u: Unread) -> dict[str, Any]:
    return {
        **u.coverage.as_dict(),
        "held": u.holds,
        "torch_positions": None if u.torch_unread is None else list(u.torch_unread),
    }


def sections(report: Report) -> list[RenderableType]:
    """Every output dimension worked out; with --explain, each claim and torch's verdict."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    for d in dim_formulas(report.spec):
        grid.add_row(code_text(d.formula))
        grid.add_row(code_text(f"{' ' * len(d.symbol)} = {d.numeric}"))
    parts: list[RenderableType] = [Text(""), Text("Output size, per axis", style="bold"), grid]
    analysis = report.probe.analysis
    return parts + (
        claims_section(claims(report.spec, analysis)) if isinstance(analysis, ConvAnalysis) else []
    )


def claims(spec: ConvSpec, a: ConvAnalysis) -> list[Claim]:
    """--explain's claims, in the order the section lists them."""
    out = [
        unread_claim(u, "its writes all land in the cropped padding" if spec.transposed else "")
        for u in a.unread
    ]
    if a.same is not None:
        s = a.same
        parts = ", ".join(f"{axis}: {total} = {b} + {after}" for axis, total, b, after in s.totals)
        gave = (
            f"torch's module gave {shape_text(s.kept_shape)} for {shape_text(spec.size)}"
            if s.kept_shape is not None
            else f"torch refuses it for {shape_text(spec.size)} with padding_mode "
            f'{spec.padding_mode.value!r}: "{s.reason}"'
        )
        symmetric = (
            f"the same as padding={shape_text(s.symmetric)}"
            if s.symmetric is not None
            else "an odd total cannot be split evenly: no int padding does the same"
        )
        claim = f"padding='same' (stride 1) pads dilation·(kernel_size − 1) per axis, before + after: {parts}"
        out.append(Claim("same", f"{claim}; {gave}", s.kept, symmetric))
        refused = f'with stride {s.refusal_stride} torch refuses it: "{s.refusal}"'
        out.append(Claim("same", refused, s.refusal is not None))
    r = a.receptive
    if r is not None:
        where = ", ".join(f"{axis}_out={e}" for axis, e in zip(spec.axes, r.element, strict=True))
        reads = "; ".join(
            f"{axis}_in {_list(p) if p else 'none'} (span {span})"
            for axis, p, span in zip(spec.axes, r.positions, r.spans, strict=True)
        )
        claim = (
            f"output[{'' if spec.unbatched else '0, '}0, {where}] reads input channels 0 to "
            f"{r.channels - 1} (C_in/groups) at {reads}"
        )
        out.append(
            Claim(
                "receptive_field",
                claim,
                r.holds,
                r.reason or "checked: its gradient is non-zero exactly there",
            )
        )
    for o in a.output_padding:
        size = spec.size[spec.axes.index(o.axis)]
        conv = (
            f"{o.axis}: a Conv with this kernel, stride, padding and dilation maps {o.axis} = "
            f"{_list(o.conv_inputs)} all to {o.axis}_in = {size}; the ConvTranspose cannot know which to "
            "give back"
        )
        reachable = f"  output_padding 0 to {len(o.reachable) - 1} gives {o.axis}_out = {_list(o.reachable)}"
        picks = (
            f"  or forward(input, output_size=...) picks one of {_list(o.by_output_size)}; "
            f'{o.beyond} is refused: "{o.refusal}"'
        )
        out += [
            Claim("output_padding", conv, o.holds_conv),
            Claim("output_padding", reachable, o.holds_padding),
            Claim("output_padding", picks, o.holds_output_size),
        ]
    if a.inverse is not None:
        inv = a.inverse
        there = f"{shape_text(spec_input(spec))} → {shape_text(inv.there)} → {shape_text(inv.measured)}"
        out.append(Claim("inverse", f"{inv.module_call} undoes it shape-wise: {there}", inv.holds))
    if not a.values:
        out.append(Claim("values", f"{NO_VALUES}; the shape claims ran on torch's meta kernels"))
    return out


def spec_input(spec: ConvSpec) -> tuple[int, ...]:
    lead = () if spec.unbatched else (spec.batch,)
    return (*lead, spec.in_channels, *spec.size)


def footer(report: Report, t: Totals) -> list[Text]:
    work = f"MACs: {macs_formula(report.spec)} = {t.macs:,}; {MAC_CONVENTION}."
    return family_footer(
        report, work, ("parameters", t.param_bytes), ("input", t.input_bytes), ("output", t.output_bytes)
    )


def params(report: Report) -> ParametersSection:
    b = init_bound(report.spec)
    fan = "C_out" if report.spec.transposed else "C_in"
    init = f"init: every parameter starts as U(−b, b), b = 1/√({fan}/groups·∏kernel_size) = {b:.4g}"
    return parameters_section(report, init)


def json_extra(report: Report) -> dict[str, Any]:
    """``dims``: every output axis; with --explain: ``explain``."""
    out: dict[str, Any] = {
        "dims": [
            {
                "axis": d.symbol.removesuffix("_out"),
                "formula": d.formula,
                "numeric": d.numeric,
                "value": d.value,
            }
            for d in dim_formulas(report.spec)
        ]
    }
    a = report.probe.analysis
    if isinstance(a, ConvAnalysis):
        out["explain"] = explain_json(a)
    return out


def explain_json(a: ConvAnalysis) -> dict[str, Any]:
    same = a.same
    r = a.receptive
    inv = a.inverse
    return {
        "values": a.values,
        "unread": [unread_json(u) for u in a.unread],
        "same": None
        if same is None
        else {
            "totals": [{"axis": ax, "total": t, "before": b, "after": af} for ax, t, b, af in same.totals],
            "symmetric": None if same.symmetric is None else list(same.symmetric),
            "kept": same.kept,
            "refusal_stride": same.refusal_stride,
            "refusal": same.refusal,
        },
        "receptive_field": None
        if r is None
        else {
            "element": list(r.element),
            "positions": [list(p) for p in r.positions],
            "spans": list(r.spans),
            "channels": r.channels,
            "held": r.holds,
        },
        "output_padding": [
            {
                "axis": o.axis,
                "conv_inputs": list(o.conv_inputs),
                "reachable": list(o.reachable),
                "by_output_size": list(o.by_output_size),
                "refused": o.beyond,
                "refusal": o.refusal,
                "held": o.holds_padding is not False
                and o.holds_output_size is not False
                and o.holds_conv is not False,
            }
            for o in a.output_padding
        ],
        "inverse": None
        if inv is None
        else {
            "module": inv.module_call,
            "there": list(inv.there),
            "back": list(inv.back),
            "measured": None if inv.measured is None else list(inv.measured),
            "held": inv.holds,
        },
    }


def csv_rows(report: Report) -> list[list[str]]:
    """One row per output axis: its formula and value (kind ``dim``)."""
    output = next(row for row in report.rows if row.name == "output")
    return [
        csv_row(d.symbol, d.formula, "dim", verified=output.verified, source="formula", value=d.value)
        for d in dim_formulas(report.spec)
    ]


diagram = checked  # --diagram: the drawing the probe checked; None without the flag
