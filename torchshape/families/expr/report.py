"""The expr family's report: the --tensor tensors as the core's rows, the walk as its analysis."""

from __future__ import annotations

from torchshape.families.expr.counts import totals
from torchshape.families.expr.spec import ExprSpec
from torchshape.families.expr.steps import ExprRun
from torchshape.options import INTEGER_DTYPES
from torchshape.probe import ProbeRun
from torchshape.report import Report, fed_report

NOTES = {
    "meta": "on meta: torch's meta kernels give every shape and dtype at any size, no values",
    "cpu": "on the CPU: floats from randn, integers from randint, bools half True, seeded (the same "
    "every run)",
}


def call(spec: ExprSpec, device: str) -> str:
    """The tensors, each with its shape and dtype (the python format's script shows how they are made)."""
    parts = []
    for one in spec.tensors:
        what = f"{one.name} {one.shape!r} {one.dtype}"
        if one.dtype in INTEGER_DTYPES and device != "meta":
            what += f" {one.low or 0} ≤ v < {spec.high(one)}"
        parts.append(f"{one.name}: {one.count} × {one.shape!r} {one.dtype}" if one.count else what)
    return "; ".join(parts) if parts else "no --tensor: the expression makes its own tensors"


def ran(probe: ProbeRun) -> str:
    run: ExprRun = probe.analysis
    where = "on meta (shapes only, no values)" if probe.device == "meta" else f"on {probe.device}"
    checked = sum(1 for step in run.steps if step.holds is not None)
    steps = f"{len(run.steps)} step{'s' if len(run.steps) != 1 else ''}"
    if run.failure is not None:
        return (
            f"torch {probe.torch_version} {where} refused {run.failure.expression} after {steps}, "
            f"{checked} checked against their rule"
        )
    done = f"every step run by torch {probe.torch_version} {where}"
    return f"{done}; {checked} of {steps} checked against their rules"


def build_report(spec: ExprSpec, probe: ProbeRun) -> Report:
    run: ExprRun = probe.analysis
    fed = [
        (one.name, f"--tensor {one.text}", shape)
        for one, shape in zip(spec.tensors, probe.shapes.values(), strict=True)
    ]
    notes = [run.why_device]
    if run.device == "cpu" and spec.tensors:
        notes.append(NOTES["cpu"])
    if any(step.holds is None for step in run.steps):
        notes.append("– marks a step with no rule in torchshape: torch's shape, shown unchecked")
    return fed_report(
        spec, probe, fed, notes, call=call(spec, probe.device), ran=ran(probe), totals=totals(spec)
    )
