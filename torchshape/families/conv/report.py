"""The convolution family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.facts import parameter_rows
from torchshape.families.conv import counts, formulas
from torchshape.families.conv.spec import ConvSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, layer_report


def call(spec: ConvSpec) -> str:
    name = "conv_transpose" if spec.transposed else "conv"
    if spec.output_size is not None:
        return f"output = {name}(input, output_size={list(spec.output_size)})"
    return f"output = {name}(input)"


def build_report(spec: ConvSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned (on meta too: at the user's sizes)."""
    parameters = parameter_rows(counts.parameter_formulas(spec), probe.parameters)
    return layer_report(spec, probe, formulas, call(spec), counts.totals(spec), parameters)
