"""The torch side: build the module, run a real forward pass, return what torch gave.

Everything that imports torch lives here (imported lazily by ``torchshape.api``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from torchshape import guard
from torchshape.families.rnn.explain import handoff_decoders
from torchshape.families.rnn.formulas import symbols
from torchshape.families.rnn.spec import RNNSpec
from torchshape.families.rnn.torch_side import SEED, build_module, forward, make_inputs
from torchshape.given import adopt, fed
from torchshape.probe import ProbeRun, resolve_device
from torchshape.quiet import quiet
from torchshape.threads import few_threads

if TYPE_CHECKING:
    import torch


# On the meta device a recurrent forward pass steps through time in Python-level
# decompositions (about a minute for a large LSTM), so torchshape never runs one
# there. It runs the same module on the CPU at probe sizes instead: every size
# within these caps is kept as the user gave it, every larger one is replaced by
# a small stand-in distinct from the others, and the user's own sizes then come
# from the formulas that this very forward pass verified.
PROBE_CAPS = {"L": 16, "N": 16, "H_in": 64, "H_cell": 64, "num_layers": 4}
# On meta, named_parameters() comes from the module built there at full size but with
# at most this many layers: building costs time in proportion to the layers (0.5 s for
# 1024 bidirectional ones). torch builds every layer above the first from the same
# arguments, so deeper layers repeat the last one built, by name; those rows are marked
# as coming from the formulas, like the full-size tensor shapes on meta.
META_PARAMETER_LAYERS = 4
_STAND_INS = (7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


def probe_spec(spec: RNNSpec) -> RNNSpec:
    """The configuration a meta-device request actually runs: same structure, small sizes.

    Any two dimensions that differ at the user's sizes (L, N, H_in, H_cell, H_out,
    D·H_out, D·num_layers) differ at the probe's too, so a formula that confused
    one for another would disagree with torch in the probe run.
    """
    directions = 2 if spec.bidirectional else 1
    taken = {spec.seq_len, spec.batch, spec.input_size, spec.hidden_size, spec.proj_size}
    # A stand-in p is an odd prime, so D·p never equals another stand-in; it also
    # avoids the sizes that are kept, alone and times D.
    pool = [n for n in _STAND_INS if n not in taken and directions * n not in taken]

    def keep_or_stand_in(value: int, cap: int, above: int = 0) -> int:
        if value <= cap:
            return value
        pick = next((n for n in pool if n > above), None)
        if pick is None:  # a kept proj_size near the cap: the next free size above it
            pick = next(n for n in range(above + 1, above + 10) if n not in taken)
        else:
            pool.remove(pick)
        taken.add(pick)
        return pick

    proj = keep_or_stand_in(spec.proj_size, PROBE_CAPS["H_cell"])
    # proj_size must stay below hidden_size; a kept hidden_size already is.
    hidden = keep_or_stand_in(spec.hidden_size, PROBE_CAPS["H_cell"], above=proj)
    seq_len = keep_or_stand_in(spec.seq_len, PROBE_CAPS["L"])
    batch = keep_or_stand_in(spec.batch, PROBE_CAPS["N"])
    input_size = keep_or_stand_in(spec.input_size, PROBE_CAPS["H_in"])
    num_layers = spec.num_layers
    if num_layers > PROBE_CAPS["num_layers"]:
        # fewer layers, but a count whose D·num_layers is no other dimension of the probe
        h_out = proj or hidden
        sizes = {seq_len, batch, input_size, hidden, h_out, directions * h_out}
        num_layers = next(
            (n for n in (4, 3, 2, *range(5, spec.num_layers)) if not {n, directions * n} & sizes),
            spec.num_layers,  # unreachable in practice: six sizes rule out at most twelve counts
        )
    return replace(
        spec,
        seq_len=seq_len,
        batch=batch,
        input_size=input_size,
        hidden_size=hidden,
        proj_size=proj,
        num_layers=num_layers,
        device="cpu",
    )


def run(spec: RNNSpec, *, explain: bool = False, unroll: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device.

    torch's notices (``torchshape.quiet``) are silenced from its import to the end.
    """
    with quiet():
        return _run(spec, explain=explain, unroll=unroll)


def _run(spec: RNNSpec, *, explain: bool, unroll: bool) -> ProbeRun:
    # refuse what cannot fit before anything is allocated (cpu: before importing torch);
    # --explain's hand-off decoders run beside the module, so they count too
    guard.check(spec, companions=handoff_decoders(spec) if explain else ())
    import torch

    from torchshape.families.rnn.explain_probe import analyse

    ran = probe_spec(spec) if spec.device == "meta" else spec
    device = resolve_device(ran.device)
    dtype = getattr(torch, spec.dtype.value)
    shapes: dict[str, tuple[int, ...]] = {}
    error = None
    analysis = None
    with torch.random.fork_rng(devices=[]), torch.inference_mode(), few_threads(ran):
        torch.manual_seed(SEED)
        module = adopt(guard.interruptible(spec, build_module, ran, device, dtype))
        inputs = fed(guard.interruptible(spec, make_inputs, ran, device, dtype))
        shapes.update({name: tuple(t.shape) for name, t in inputs.items()})
        try:
            results = guard.interruptible(spec, forward, module, inputs)
        except (RuntimeError, ValueError) as exc:  # e.g. GRUCell: "Expected input to be 1D or 2D"
            error = str(exc).strip().splitlines()[0]
        else:
            shapes.update({name: tuple(t.shape) for name, t in results.items()})
            analysis = analyse(spec, ran, module, inputs, results, explain=explain, unroll=unroll)
    parameters, parameter_layers = parameter_shapes(spec, module, dtype)
    return ProbeRun(
        device=str(device),
        dtype=spec.dtype.value,
        torch_version=torch.__version__,
        spec=ran,
        sizes=symbols(ran),
        shapes=shapes,
        error=error,
        reduced=ran is not spec,
        analysis=analysis,
        parameters=parameters,
        parameter_layers=parameter_layers,
    )


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
