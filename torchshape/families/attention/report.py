"""The attention family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.families.attention.counts import parameter_rows, totals
from torchshape.families.attention.formulas import INPUTS, legend, notes, symbols, tensor_formulas
from torchshape.families.attention.spec import AttentionSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, real_pass, row_at_your_sizes

META = "meta: shapes from torch's meta kernels, no values"


def call(spec: AttentionSpec) -> str:
    given = "query, query, query" if spec.self_attention else "query, key, value"
    args = ", ".join([given, *spec.call_arguments()])
    result = "attn_output, attn_output_weights" if spec.need_weights else "attn_output, _"
    return f"{result} = attention({args})"


def ran(probe: ProbeRun) -> str:
    """One sentence saying exactly what was run, for the table footer and JSON."""
    if probe.device == "meta":
        return f"{META}; torch {probe.torch_version} ran the module on meta at your sizes ({probe.dtype})"
    return real_pass(probe)


def build_report(spec: AttentionSpec, probe: ProbeRun) -> Report:
    sym = symbols(spec)
    rows = [
        row_at_your_sizes(
            f.name,
            f.formula,
            f.shape(sym),
            probe.shapes.get(f.name),
            fed=f.name in INPUTS,
            error=probe.error,
        )
        for f in tensor_formulas(spec)
    ]
    return Report(
        family="attention",
        spec=spec,
        symbols=sym,
        legend=legend(spec),
        rows=rows,
        notes=notes(spec),
        probe=probe,
        call=call(spec),
        ran=ran(probe),
        parameters=parameter_rows(spec, probe.parameters),
        totals=totals(spec),
    )
