"""The torch side: build the module, run one forward pass at the user's sizes, return what torch gave.

On the meta device too: torch's meta kernels for nn.MultiheadAttention (the projections, bmm,
softmax, scaled_dot_product_attention) compute shapes in constant time, whatever L, S, N and E
(a 128 k-token context with E 8192 and 64 heads takes milliseconds, per-head weights included),
so the module runs there at exactly the user's sizes and the ✓ means torch's meta kernels agreed.
"""

from __future__ import annotations

from torchshape import guard
from torchshape.families.attention.formulas import symbols
from torchshape.families.attention.spec import AttentionSpec
from torchshape.families.attention.torch_side import build_module, forward, make_inputs
from torchshape.forward import forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet


def run(spec: AttentionSpec, *, explain: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device."""
    with quiet():
        return _run(spec, explain=explain)


def _run(spec: AttentionSpec, *, explain: bool) -> ProbeRun:
    guard.check(spec)  # refuse what cannot fit before anything is allocated
    from torchshape.families.attention.explain_probe import analyse

    with forward_pass(spec, build_module, make_inputs, forward) as done:
        analysis = (
            analyse(spec, done.module, done.inputs, done.results) if explain and done.error is None else None
        )
        parameters = {name: tuple(p.shape) for name, p in done.module.named_parameters()}
    return done.run(spec, symbols(spec), analysis, parameters)
