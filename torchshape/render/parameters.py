"""Parameters, MACs and memory for every family: the footer's first line, the --params table, JSON keys."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.render.text import shape_text as _fmt
from torchshape.report import Report
from torchshape.units import human_bytes, human_count
from torchshape.view import ParametersSection, params_mark, row_mark


def totals_head(report: Report) -> Text:
    """The footer's first line: total parameters (with their mark), MACs, the peak memory estimate."""
    t = report.totals
    assert t is not None
    mark = params_mark(report)
    style = "dim" if mark == "(not checked)" else "bold red" if mark.startswith("✗") else "green"
    return Text.assemble(
        ("parameters ", "bold"),
        f"{t.params:,} ",
        (mark, style),
        " · ",
        (f"{human_count(t.macs)} MACs", "bold"),
        " · ",
        ("peak memory ≈ ", "bold"),
        f"{human_bytes(t.peak_bytes_estimate)} (estimate)",
    )


def footer(report: Report) -> list[RenderableType]:
    """The family's footer for the table, after a blank line."""
    from torchshape import families

    lines = families.of(report).footer(report)
    return [Text(""), *lines] if lines else []


def parameters_section(report: Report, init: str, notes: list[str] | None = None) -> ParametersSection:
    """Every parameter with its formula, shape, element count and mark; the total; the family's
    initialization rule (``init``) and notes."""
    probe = report.probe
    where = (
        "the module built at full size on meta (no forward pass)"
        if probe.reduced
        else f"the module that ran on {probe.device}"
    )
    total = report.totals.params if report.totals else sum(p.numel for p in report.parameters)
    rows = [(p, row_mark(p.verified, p.source == "formula")) for p in report.parameters]
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
        init=init,
        notes=notes or [],
        mismatches=mismatches,
    )


def parameters_renderable(section: ParametersSection) -> RenderableType:
    """The --params table: every parameter with its formula, shape and element count."""
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
    """JSON ``totals``: parameters, MACs and bytes at the chosen dtype, in ``Totals``' order."""
    return None if report.totals is None else asdict(report.totals)


def family_footer(report: Report, work: str, *memory: str | tuple[str, int]) -> list[Text]:
    """The footer: the totals' line; the bytes each part takes at the report's dtype (``memory``:
    what and its bytes, or a part written whole); then the work done (dim)."""
    parts = ", ".join(
        part if isinstance(part, str) else f"{part[0]} {human_bytes(part[1])}" for part in memory
    )
    return [totals_head(report), Text(f"{report.spec.dtype.value}: {parts}"), Text(work, style="dim")]
