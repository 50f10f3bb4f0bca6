"""The convolution family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.families.conv import formulas
from torchshape.families.conv.counts import parameter_rows, totals
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
    return layer_report(
        spec, probe, formulas, call(spec), totals(spec), parameter_rows(spec, probe.parameters)
    )
