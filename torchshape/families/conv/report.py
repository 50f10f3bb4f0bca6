"""The convolution family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.families.conv.counts import parameter_rows, totals
from torchshape.families.conv.formulas import legend, notes, symbols, tensor_formulas
from torchshape.families.conv.spec import ConvSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, real_pass, row_at_your_sizes

META = "meta: shapes from torch's meta kernels, no values"


def call(spec: ConvSpec) -> str:
    name = "conv_transpose" if spec.transposed else "conv"
    if spec.output_size is not None:
        return f"output = {name}(input, output_size={list(spec.output_size)})"
    return f"output = {name}(input)"


def ran(probe: ProbeRun) -> str:
    """One sentence saying exactly what was run, for the table footer and JSON."""
    if probe.device == "meta":
        return f"{META}; torch {probe.torch_version} ran the module on meta at your sizes ({probe.dtype})"
    return real_pass(probe)


def build_report(spec: ConvSpec, probe: ProbeRun) -> Report:
    sym = symbols(spec)
    rows = [
        row_at_your_sizes(
            f.name,
            f.formula,
            f.shape(sym),
            probe.shapes.get(f.name),
            fed=f.name == "input",
            error=probe.error,
        )
        for f in tensor_formulas(spec)
    ]
    return Report(
        family="conv",
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
