"""The torch side: build the module, run one forward pass, return what torch gave.

torch's meta kernels for these layers take the same time at any sequence length, batch and
width (measured: an encoder layer at S = 10⁶, N = 64, E = 1024 in 0.03 s), so on meta the
module runs at exactly the user's sizes. It does not for the number of layers: torch steps
through nn.Transformer's layers in Python (about 0.05 s each on meta), so on meta at most
``META_LAYERS`` of each stack are built and run; every layer maps (·, N, E) to the same
shape, and the deeper ones are checked by the formulas that run verified (marked ✓*).
"""

from __future__ import annotations

from dataclasses import replace

from torchshape import guard
from torchshape.families.transformer.formulas import symbols
from torchshape.families.transformer.spec import TransformerSpec
from torchshape.families.transformer.torch_side import build_module, forward, make_inputs
from torchshape.forward import forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet

META_LAYERS = 4


def probe_spec(spec: TransformerSpec) -> TransformerSpec:
    """What a request actually runs: on meta, at most META_LAYERS layers in each stack."""
    if spec.device != "meta" or max(spec.num_encoder_layers, spec.num_decoder_layers) <= META_LAYERS:
        return spec
    return replace(
        spec,
        num_encoder_layers=min(spec.num_encoder_layers, META_LAYERS),
        num_decoder_layers=min(spec.num_decoder_layers, META_LAYERS),
    )


@quiet()
def run(spec: TransformerSpec, *, explain: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device."""
    guard.check(spec)  # refuse what cannot fit before anything is allocated
    from torchshape.families.transformer.explain_probe import analyse

    ran = probe_spec(spec)
    with forward_pass(ran, build_module, make_inputs, forward) as done:
        analysis = analyse(ran, done.module, done.inputs) if explain and done.error is None else None
        parameters = done.parameters
    probe = done.run(ran, symbols(ran), analysis, parameters)
    if ran is spec:
        return probe
    return replace(probe, spec=ran, reduced=True, parameter_layers=META_LAYERS)
