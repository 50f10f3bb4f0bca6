"""The torch side: build the module, run one forward pass at the user's sizes, return what torch gave.

On the meta device too: torch's convolution meta kernels compute the output's shape in
constant time, whatever the sizes, so the module runs there at exactly the user's sizes
(no values, no probe sizes) and the ✓ means torch's meta kernel agreed.
"""

from __future__ import annotations

from dataclasses import replace

from torchshape import guard
from torchshape.families.conv.formulas import symbols
from torchshape.families.conv.spec import ConvSpec
from torchshape.families.conv.torch_side import build_module, forward, make_inputs
from torchshape.forward import forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet


@quiet()
def run(spec: ConvSpec, *, explain: bool = False, diagram: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device."""
    guard.check(spec)  # refuse what cannot fit before anything is allocated
    from torchshape.families.conv.explain_probe import analyse

    with forward_pass(spec, build_module, make_inputs, forward) as done:
        analysis = (
            analyse(spec, done.module, done.inputs["input"]) if explain and done.error is None else None
        )
        parameters = done.parameters
    run = done.run(spec, symbols(spec), analysis, parameters)
    if not diagram:
        return run
    from torchshape.families.conv.diagram import plan

    return replace(run, diagram=plan(spec, done.shapes.get("output") if done.error is None else None))
