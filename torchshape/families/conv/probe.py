"""The torch side: build the module, run one forward pass at the user's sizes, return what torch gave.

On the meta device too: torch's convolution meta kernels compute the output's shape in
constant time, whatever the sizes, so the module runs there at exactly the user's sizes
(no values, no probe sizes) and the ✓ means torch's meta kernel agreed.
"""

from __future__ import annotations

from torchshape import guard
from torchshape.families.conv.formulas import symbols
from torchshape.families.conv.spec import ConvSpec
from torchshape.families.conv.torch_side import build_module, forward, make_inputs
from torchshape.options import SEED
from torchshape.probe import ProbeRun, resolve_device
from torchshape.quiet import quiet


def run(spec: ConvSpec, *, explain: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device."""
    with quiet():
        return _run(spec, explain=explain)


def _run(spec: ConvSpec, *, explain: bool) -> ProbeRun:
    guard.check(spec)  # refuse what cannot fit before anything is allocated
    import torch

    from torchshape.families.conv.explain_probe import analyse

    device = resolve_device(spec.device)
    dtype = getattr(torch, spec.dtype.value)
    shapes: dict[str, tuple[int, ...]] = {}
    error = None
    analysis = None
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(SEED)
        module = guard.interruptible(spec, build_module, spec, device, dtype)
        inputs = guard.interruptible(spec, make_inputs, spec, device, dtype)
        shapes.update({name: tuple(t.shape) for name, t in inputs.items()})
        try:
            results = guard.interruptible(spec, forward, module, inputs)
        except (RuntimeError, ValueError) as exc:
            error = str(exc).strip().splitlines()[0]
        else:
            shapes.update({name: tuple(t.shape) for name, t in results.items()})
            if explain:
                analysis = analyse(spec, module, inputs["input"])
    return ProbeRun(
        device=str(device),
        dtype=spec.dtype.value,
        torch_version=torch.__version__,
        spec=spec,
        sizes=symbols(spec),
        shapes=shapes,
        error=error,
        reduced=False,
        analysis=analysis,
        parameters={name: tuple(p.shape) for name, p in module.named_parameters()},
    )
