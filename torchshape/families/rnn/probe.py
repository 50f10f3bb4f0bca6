"""The torch side: build the module, run a real forward pass, return what torch gave.

Everything that imports torch lives here (imported lazily by ``torchshape.api``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from torchshape import guard
from torchshape.families.rnn.counts import diagram_bytes
from torchshape.families.rnn.formulas import symbols
from torchshape.families.rnn.handoff import handoff_decoders
from torchshape.families.rnn.probe_sizes import META_PARAMETER_LAYERS, probe_spec
from torchshape.families.rnn.spec import RNNSpec
from torchshape.families.rnn.torch_side import build_module, forward, make_inputs
from torchshape.forward import forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


@quiet()
def run(spec: RNNSpec, *, explain: bool = False, unroll: bool = False, diagram: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device.

    torch's notices (``torchshape.quiet``) are silenced from its import to the end.
    """
    # refuse what cannot fit before anything is allocated (cpu: before importing torch);
    # --explain's hand-off decoders run beside the module, so they count too, and --diagram's run
    guard.check(
        spec,
        companions=handoff_decoders(spec) if explain else (),
        diagram_bytes=diagram_bytes(spec) if diagram else 0,
    )
    import torch

    from torchshape.families.rnn.explain_probe import analyse

    ran = probe_spec(spec) if spec.device == "meta" else spec
    analysis = None
    drawn = None
    # torch's refusal (e.g. GRUCell: "Expected input to be 1D or 2D") becomes done.error
    with forward_pass(ran, build_module, make_inputs, forward) as done:
        if done.error is None:
            analysis = analyse(
                spec, ran, done.module, done.inputs, done.results, explain=explain, unroll=unroll
            )
        if diagram:
            from torchshape.families.rnn.diagram_probe import diagram as draw

            values = done.error is None and ran is spec
            results = done.results if values else {}
            drawn = guard.interruptible(spec, draw, spec, done.module, done.inputs, results, values)
    parameters, parameter_layers = parameter_shapes(spec, done.module, getattr(torch, spec.dtype.value))
    found = done.run(ran, symbols(ran), analysis, parameters)
    # on meta it ran at probe sizes on the CPU (reduced), and the deeper layers' parameters are
    # named after the last one built there (parameter_layers)
    return replace(found, reduced=ran is not spec, parameter_layers=parameter_layers, diagram=drawn)


def parameter_shapes(
    spec: RNNSpec, module: torch.nn.Module, dtype: torch.dtype
) -> tuple[dict[str, tuple[int, ...]], int | None]:
    """named_parameters() at the user's sizes, and how many layers of it torch built (None: all).

    On meta: of the module built there at full size with at most META_PARAMETER_LAYERS
    layers, the deeper layers named after the last one built.
    """
    import torch

    if spec.device != "meta":
        return {name: tuple(p.shape) for name, p in module.named_parameters()}, None
    built_layers = min(spec.num_layers, META_PARAMETER_LAYERS)
    built = build_module(replace(spec, num_layers=built_layers), torch.device("meta"), dtype)
    shapes = {name: tuple(p.shape) for name, p in built.named_parameters()}
    if built_layers == spec.num_layers:
        return shapes, None
    last = f"_l{built_layers - 1}"
    top = {name: shape for name, shape in shapes.items() if name.endswith((last, f"{last}_reverse"))}
    for layer in range(built_layers, spec.num_layers):
        for name, shape in top.items():
            shapes[name.replace(last, f"_l{layer}")] = shape
    return shapes, built_layers
