"""How the expr family reads: the steps with their rules, the failure and its checked fixes, the
values views of --explain, JSON keys and CSV rows (``torchshape.families.base.Family``'s
presentation side)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from torchshape.facts import Totals
from torchshape.families.expr.spec import ExprSpec
from torchshape.families.expr.steps import BroadcastPicture, ExprRun, Step, broadcast_picture
from torchshape.render.claims import mark_text, marked_grid
from torchshape.render.csv_format import csv_row
from torchshape.render.text import code_text, hanging
from torchshape.report import Report
from torchshape.view import ParametersSection


def _run(report: Report) -> ExprRun:
    run: ExprRun = report.probe.analysis
    return run


def _head(step: Step) -> Text:
    bad = "bold red" if step.holds is False else ""
    line = Text.assemble(code_text(step.expression, style=bad or "cyan"), "  →  ", (step.shape_text, "bold"))
    line.append(f" {step.dtype}")
    return line


def _steps(run: ExprRun) -> RenderableType:
    grid = marked_grid(overflow="ellipsis")
    for step in run.steps:
        grid.add_row(mark_text(step.holds), _head(step))
        rule = (
            step.rule
            if step.holds is None or step.rule.startswith(step.kind)
            else f"{step.kind}: {step.rule}"
        )
        grid.add_row("", hanging(rule, "dim" if step.holds is not False else "red"))
        if step.holds is False:
            grid.add_row("", hanging(f"✗ torch disagrees: {step.expected}", "bold red"))
    title = "steps, innermost first: each torch's result beside its rule"
    return Group(Text(title, style="bold"), grid)


def _failure(run: ExprRun) -> list[RenderableType]:
    failure = run.failure
    assert failure is not None
    lines: list[RenderableType] = [
        Text.assemble(("✗ torch refused ", "bold red"), code_text(failure.expression, style="bold red")),
        hanging(f"  {failure.error_type}: {failure.message}", "red"),
    ]
    if failure.rule:
        said = " (the rule says so too)" if failure.predicted else ""
        lines.append(hanging(f"  the rule that broke, {failure.kind}: {failure.rule}{said}"))
    else:
        lines.append(hanging("  no rule in torchshape covers this step: torch's message is the whole story"))
    if failure.fixes:
        lines.append(Text("fixes torch accepts (each re-run on the same tensors):", style="bold"))
        for fix in failure.fixes:
            shape = "" if fix.shape is None else f"  →  {fix.shape!r} {fix.dtype}"
            lines.append(Text.assemble(("✓ ", "green"), code_text(fix.change, style="cyan"), shape))
            if fix.change != fix.expression:
                lines.append(Text.assemble("    in ", code_text(fix.expression)))
    else:
        lines.append(Text("no fix that torch accepts was found among the usual ones", style="dim"))
    return lines


def _values(run: ExprRun) -> RenderableType:
    grid = marked_grid(overflow="ellipsis")
    for view in run.values:
        grid.add_row(mark_text(view.holds), code_text(view.expression, style="cyan"))
        if view.note:
            grid.add_row("", hanging(view.note, "dim"))
            continue
        grid.add_row("", hanging(f"the input, each element numbered by its place in memory: {view.numbered}"))
        for index, values in view.indices:
            grid.add_row("", hanging(f"index {index} = {values}"))
        grid.add_row("", hanging(f"picks {view.picked}: shape {view.shape!r}"))
    title = "--explain: which elements each index tensor picks"
    return Group(Text(title, style="bold"), grid)


def pictures(run: ExprRun) -> list[BroadcastPicture]:
    """--diagram: a picture per step that broadcast two tensors or more."""
    found = (broadcast_picture(step) for step in run.steps if step.kind == "broadcasting")
    return [picture for picture in found if picture is not None]


def _picture(picture: BroadcastPicture) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    for _ in picture.result:
        grid.add_column(justify="right", no_wrap=True)
    for label, cells in picture.rows:
        grid.add_row(
            code_text(label, style="cyan"), *(Text(c or "·", style="bold" if "→" in c else "") for c in cells)
        )
    grid.add_row(Text("result", style="bold"), *(Text(str(n), style="bold") for n in picture.result))
    from rich.padding import Padding

    head = Text.assemble(mark_text(picture.holds), " ", code_text(picture.expression))
    return Group(head, Padding(grid, (0, 0, 0, 2)))


def _pictures(run: ExprRun) -> list[RenderableType]:
    found = pictures(run)
    title = Text(
        "--diagram: each broadcast right-aligned, a column per dim (· no dim; 1→n, ·→n stretched)",
        style="bold",
    )
    if not found:
        return [Text(""), Text("--diagram: no step of this expression broadcast two tensors", style="dim")]
    return [Text(""), title, *(_picture(p) for p in found)]


def sections(report: Report) -> list[RenderableType]:
    """The steps; the failure with its fixes; with --explain the values views."""
    run = _run(report)
    parts: list[RenderableType] = []
    if run.steps:
        parts += [Text(""), _steps(run)]
    if run.failure is not None:
        parts += [Text(""), *_failure(run)]
    elif run.result is not None:
        result = run.result
        parts += [
            Text(""),
            Text.assemble(
                ("result ", "bold"),
                code_text(_last_statement(report.spec)),
                "  →  ",
                (result.shape_text, "bold"),
                f" {result.dtype}",
            ),
        ]
    if run.diagram:
        parts += _pictures(run)
    if run.explain:
        if run.values:
            parts += [Text(""), _values(run)]
        else:
            parts += [
                Text(""),
                Text("--explain: no index tensor in this expression to show values for", style="dim"),
            ]
    return parts


def _last_statement(spec: ExprSpec) -> str:
    import ast

    last = spec.checked.tree.body[-1]
    return " ".join((ast.get_source_segment(spec.checked.source, last) or ast.unparse(last)).split())


def footer(report: Report, totals: Totals) -> list[Text]:
    return []


def params(report: Report) -> ParametersSection:
    return ParametersSection(
        title="an expression has no parameters", rows=[], total=0, init="", notes=[], mismatches=[]
    )


def _result_json(step: Step | None) -> dict[str, Any] | None:
    """The whole expression's keys of its step: shape and dtype, shapes and value where it has them."""
    if step is None:
        return None
    found = step.as_dict()
    return {key: found[key] for key in ("shape", "dtype", "shapes", "value") if key in found}


def json_extra(report: Report) -> dict[str, Any]:
    """``expression``; ``result`` {shape, dtype} of the whole expression (null when torch refused it);
    ``steps`` [{expression, shape, dtype, rule, holds}]; ``error`` {expression, message, rule, fixes[]}
    or null; ``device_reason``; with --explain ``explain``: the values views."""
    run = _run(report)
    out: dict[str, Any] = {
        "expression": report.spec.expression,
        "result": _result_json(run.result),
        "steps": [step.as_dict() for step in run.steps],
        "error": None if run.failure is None else run.failure.as_dict(),
        "device_reason": run.why_device,
    }
    if run.explain:
        out["explain"] = [view.as_dict() for view in run.values]
    if run.diagram:
        out["broadcasts"] = [picture.as_dict() for picture in pictures(run)]
    return out


def csv_rows(report: Report) -> list[list[str]]:
    """A row of kind ``step`` per step (``value``: its dtype); ``error`` and ``fix`` rows where torch
    refused. Columns: tensor, formula, shape, verified, source, torch_shape, probe_shape, kind, value."""
    run = _run(report)
    rows = [
        csv_row(
            step.expression,
            f"{step.kind}: {step.rule}",
            "step",
            verified=step.holds,
            source="forward",
            shape=step.shape_text,
            torch=step.shape_text,
            probe="",
            value=step.dtype,
        )
        for step in run.steps
    ]
    failure = run.failure
    if failure is not None:
        rows.append(
            csv_row(
                failure.expression,
                failure.rule,
                "error",
                verified=failure.predicted,
                source="forward",
                value=failure.message,
            )
        )
        for fix in failure.fixes:
            shape = "" if fix.shape is None else repr(fix.shape)
            rows.append([fix.change, fix.expression, shape, "true", "fix", shape, "", "fix", fix.dtype])
    return rows
