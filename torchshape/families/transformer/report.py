"""The transformer family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from dataclasses import replace

from torchshape.families.transformer import formulas
from torchshape.families.transformer.counts import parameter_rows, totals
from torchshape.families.transformer.spec import Layer, TransformerSpec
from torchshape.probe import ProbeRun
from torchshape.report import META, Report, layer_report, real_pass


def call(spec: TransformerSpec) -> str:
    masks = "".join(f", {name}" for name in spec.masks())
    if spec.layer is Layer.ENCODER:
        return f"output = encoder_layer(src{masks})"
    if spec.layer is Layer.DECODER:
        return f"output = decoder_layer(tgt, memory{masks})"
    # a stack's masks by keyword (nn.TransformerEncoder's forward calls the attention mask ``mask``)
    named = "".join(f", {'mask' if m == 'src_mask' else m}={m}" for m in spec.masks())
    if spec.layer is Layer.ENCODER_STACK:
        return f"output = encoder(src{named})"
    if spec.layer is Layer.DECODER_STACK:
        return f"output = decoder(tgt, memory{named})"
    return f"output = transformer(src, tgt{masks})"


def ran(spec: TransformerSpec, probe: ProbeRun) -> str:
    """One sentence saying exactly what was run, for the table footer and JSON."""
    if probe.device != "meta":
        return real_pass(probe)
    if not probe.reduced:
        return f"{META}; torch {probe.torch_version} ran the module on meta at your sizes ({probe.dtype})"
    built = probe.spec
    return (
        f"{META}; torch {probe.torch_version} ran nn.{spec.module_name} on meta at your sizes "
        f"({probe.dtype}) with {_built(built, spec)} (each layer keeps the shape); the rest come from "
        "the formulas that run verified"
    )


def _built(built: TransformerSpec, spec: TransformerSpec) -> str:
    if spec.stacked:
        return f"{built.num_layers} of {spec.num_layers} layers"
    return (
        f"{built.num_encoder_layers} of {spec.num_encoder_layers} encoder and "
        f"{built.num_decoder_layers} of {spec.num_decoder_layers} decoder layers"
    )


def build_report(spec: TransformerSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned (on meta too: at the user's sizes)."""
    parameters = parameter_rows(spec, probe.parameters, probe.parameter_layers)
    report = layer_report(spec, probe, formulas, call(spec), totals(spec), parameters, ran=ran(spec, probe))
    if not probe.reduced:
        return report
    # fewer layers ran: the same shapes, but not this very module's
    return replace(report, rows=[replace(row, actual=None) for row in report.rows])
