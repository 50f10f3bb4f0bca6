"""The embedding family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.facts import parameter_rows
from torchshape.families.embedding import counts, formulas
from torchshape.families.embedding.spec import EmbeddingSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, layer_report, meta_or_real_pass


def call(spec: EmbeddingSpec) -> str:
    """How the module is called, in the names the table uses."""
    if not spec.bag:
        return "output = embedding(input)"
    args = ["input"]
    if spec.one_d:
        args.append("offsets")
    if spec.per_sample_weights:
        args.append("per_sample_weights=per_sample_weights")
    return f"output = bag({', '.join(args)})"


def build_report(spec: EmbeddingSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned (on meta too: at the user's sizes)."""
    ran = meta_or_real_pass(probe, "meta kernels")
    parameters = parameter_rows(counts.parameter_formulas(spec), probe.parameters)
    return layer_report(spec, probe, formulas, call(spec), counts.totals(spec), parameters, ran=ran)
