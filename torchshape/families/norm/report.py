"""The norm family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.facts import parameter_rows
from torchshape.families.norm import formulas
from torchshape.families.norm.counts import totals
from torchshape.families.norm.spec import Kind, NormSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, layer_report


def build_report(spec: NormSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned (on meta too: at the user's sizes)."""
    mode = f"  # {'train' if spec.train else 'eval'} mode" if spec.kind in (Kind.BATCH, Kind.INSTANCE) else ""
    call = f"output = norm(input){mode}"
    parameters = parameter_rows(
        ((p.name, p.formula, p.shape) for p in formulas.parameters(spec)), probe.parameters
    )
    return layer_report(spec, probe, formulas, call, totals(spec), parameters)
