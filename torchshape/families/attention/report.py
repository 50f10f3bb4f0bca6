"""The attention family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.facts import parameter_rows
from torchshape.families.attention import counts, formulas
from torchshape.families.attention.spec import AttentionSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, layer_report


def call(spec: AttentionSpec) -> str:
    given = "query, query, query" if spec.self_attention else "query, key, value"
    args = ", ".join([given, *spec.call_arguments()])
    result = "attn_output, attn_output_weights" if spec.need_weights else "attn_output, _"
    return f"{result} = attention({args})"


def build_report(spec: AttentionSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned (on meta too: at the user's sizes)."""
    parameters = parameter_rows(counts.parameter_formulas(spec), probe.parameters)
    return layer_report(spec, probe, formulas, call(spec), counts.totals(spec), parameters)
