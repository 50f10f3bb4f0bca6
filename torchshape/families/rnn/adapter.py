"""The recurrent layers inside a user's model (``contract.LayerAdapter``): nn.LSTM/GRU/RNN and their
cells, read into this family's spec at the L and N of the call, and what its formulas say."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import nn

from torchshape.errors import UsageError
from torchshape.families.diagnosis import (
    Diagnosis,
    Earlier,
    Fix,
    constructor,
    rebuild,
    run_rebuilt,
    source_of,
)
from torchshape.families.layers import Known, KnownOutput, Layer, LayerCall, claimed_class, first_tensor
from torchshape.families.rnn import formulas, sizes
from torchshape.families.rnn.probe_sizes import probe_spec
from torchshape.families.rnn.request import make_spec
from torchshape.families.rnn.spec import Kind, Nonlinearity, RNNSpec
from torchshape.options import DType
from torchshape.shapes import shape_text

KINDS = {
    nn.LSTM: Kind.LSTM,
    nn.GRU: Kind.GRU,
    nn.RNN: Kind.RNN,
    nn.LSTMCell: Kind.LSTM_CELL,
    nn.GRUCell: Kind.GRU_CELL,
    nn.RNNCell: Kind.RNN_CELL,
}
CLASSES: tuple[type, ...] = tuple(KINDS)
SUPPORTED = "rnn (nn.LSTM, nn.GRU, nn.RNN and their cells)"
OWN_WEIGHTS = True


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The rnn family's formulas at the observed L and N (for a PackedSequence: N = batch_sizes[0],
    L = max(lengths), and the packed formulas)."""
    spec = spec_of(module, args)
    if spec is None:
        return None
    return Known(outputs(spec), macs=sizes.macs(spec).total)


def outputs(spec: RNNSpec) -> tuple[KnownOutput, ...]:
    """What a recurrent layer or cell returns, by the rnn family's formulas."""
    sym = formulas.symbols(spec)
    returned = [f for f in formulas.tensor_formulas(spec) if f.name in ("output", "h_n", "c_n", "h_1", "c_1")]
    found = [KnownOutput(f.name, f.formula, f.shape(sym)) for f in returned]
    if spec.lengths is None:
        return tuple(found)
    # packed: output is a PackedSequence of every real step, batch_sizes as it came in
    packed = [
        KnownOutput("output.data", "(sum(lengths), D·H_out)", (sum(spec.lengths), sym["D·H_out"])),
        KnownOutput("output.batch_sizes", "(max(lengths),)", (max(spec.lengths),)),
    ]
    return (*packed, *(o for o in found if o.name != "output"))


def small(spec: RNNSpec) -> RNNSpec:
    """The same layer's structure at the family's small probe sizes, on the CPU."""
    return probe_spec(replace(spec, device="cpu"))


def padded_input(spec: RNNSpec) -> tuple[int, ...]:
    """The padded input's shape at ``spec``'s sizes (a packed call: before packing)."""
    sym = formulas.symbols(spec)
    padded = formulas.tensor_formulas(replace(spec, lengths=None))
    return next(f.shape(sym) for f in padded if f.name == "input")


def lengths_of(batch_sizes: Any) -> tuple[int, ...]:
    """The sequences' lengths, longest first, from a PackedSequence's batch_sizes."""
    steps = [int(n) for n in batch_sizes]
    return tuple(sum(1 for n in steps if n > i) for i in range(steps[0])) if steps else ()


def spec_of(module: Any, args: tuple[Any, ...]) -> RNNSpec | None:
    """The spec of a recurrent layer or cell object, at the L and N of its input."""
    from torch.nn.utils.rnn import PackedSequence

    base = claimed_class(module, KINDS)
    kind = None if base is None else KINDS[base]
    if kind is not None and not kind.is_cell and args and isinstance(args[0], PackedSequence):
        lengths = lengths_of(args[0].batch_sizes)
        if not lengths:
            return None
        spec = _spec(module, kind, max(lengths), len(lengths), batch_first=False, unbatched=False)
        return replace(spec, lengths=lengths)
    x = first_tensor(args)
    if kind is None or x is None or x.dim() not in ((1, 2) if kind.is_cell else (2, 3)):
        return None
    seq_len, batch, unbatched = _sizes(module, kind, x)
    batch_first = not kind.is_cell and bool(module.batch_first)
    return _spec(module, kind, seq_len, batch, batch_first=batch_first, unbatched=unbatched)


def _sizes(module: Any, kind: Kind, x: Any) -> tuple[int, int, bool]:
    """L, N and whether unbatched, of ``module`` called on ``x`` (a cell: L = 1)."""
    if kind.is_cell:
        unbatched = x.dim() == 1
        return 1, 1 if unbatched else int(x.shape[0]), unbatched
    batch_first, unbatched = bool(module.batch_first), x.dim() == 2
    seq_len = x.shape[1] if batch_first and not unbatched else x.shape[0]
    batch = 1 if unbatched else (x.shape[0] if batch_first else x.shape[1])
    return int(seq_len), int(batch), unbatched


def _spec(
    module: Any, kind: Kind, seq_len: int, batch: int, *, batch_first: bool, unbatched: bool
) -> RNNSpec:
    nonlinearity = getattr(module, "nonlinearity", None)
    return RNNSpec(
        kind=kind,
        input_size=int(module.input_size),
        hidden_size=int(module.hidden_size),
        num_layers=int(getattr(module, "num_layers", 1)),
        seq_len=seq_len,
        batch=batch,
        bidirectional=bool(getattr(module, "bidirectional", False)),
        batch_first=batch_first,
        proj_size=int(getattr(module, "proj_size", 0)),
        bias=bool(getattr(module, "bias", True)),
        dropout=float(getattr(module, "dropout", 0.0)),
        nonlinearity=Nonlinearity(nonlinearity) if nonlinearity and kind.has_nonlinearity else None,
        unbatched=unbatched,
        device="cpu",
        dtype=DType.FLOAT32,
    )


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call through ``make_spec`` (the checks of the family's flags), on the layer's
    own weights, input and hx."""
    base = claimed_class(module, KINDS)
    if base is None:
        return None
    kind = KINDS[base]
    seq_len, batch, unbatched = _sizes(module, kind, call.x)
    raw: dict[str, Any] = {
        "kind": kind.value,
        "input_size": int(module.input_size),
        "hidden_size": int(module.hidden_size),
        "bias": bool(module.bias),
        "device": call.device,
        "dtype": call.dtype,
    }
    nonlinearity = getattr(module, "nonlinearity", None)
    if nonlinearity is not None:
        raw["nonlinearity"] = str(nonlinearity)
    seen = "unbatched" if unbatched else f"N = {batch}"
    if not kind.is_cell:
        raw |= {
            "num_layers": int(module.num_layers),
            "bidirectional": bool(module.bidirectional),
            "batch_first": bool(module.batch_first),
            "proj_size": int(module.proj_size),
            "dropout": float(module.dropout),
            "seq_len": seq_len,
        }
        seen = f"L = {seq_len}, {seen}"
    raw |= {"unbatched": True} if unbatched else {"batch": batch}
    hx = call.args[1] if len(call.args) > 1 else call.kwargs.get("hx")
    inputs: dict[str, Any] = {"input": call.x, "h_0": None}
    if kind.has_cell_state:
        inputs |= {"h_0": hx[0], "c_0": hx[1]} if hx is not None else {"c_0": None}
    elif hx is not None:
        inputs["h_0"] = hx
    spec = make_spec(**raw)
    if call.explain and spec.kind.is_cell:
        raise UsageError(
            "--explain",
            f"{call.name} is an nn.{spec.kind.module_name}: it returns only the next state, there is "
            "no output vs h_n to relate; drop --explain",
        )
    return Layer("rnn", spec, seen, inputs)


def expects(module: Any) -> str | None:
    """What the layer requires of its input (the diagnosis of a failed call)."""
    return f"H_in = input_size = {module.input_size}"


def arguments(module: Any) -> dict[str, Any] | None:
    """The constructor arguments that rebuild ``module``."""
    if isinstance(module, nn.RNNCellBase):
        names = ["input_size", "hidden_size", "bias"]
    else:
        names = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"]
    if isinstance(module, nn.LSTM):
        names.append("proj_size")
    if isinstance(module, (nn.RNN, nn.RNNCell)):
        names.append("nonlinearity")
    return {name: getattr(module, name) for name in names}


def proposals(module: Any, arrived: Any) -> list[tuple[str, dict[str, Any]]]:
    """The input's feature size against input_size: the fix to try."""
    last = int(arrived.shape[-1])
    return [(f"input_size={last}", {"input_size": last})] if last != module.input_size else []


def diagnose(
    base: Diagnosis, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], earlier: Earlier
) -> Diagnosis | None:
    """A recurrent layer given an initial state of the wrong shape: most often a bidirectional
    encoder's h_n handed to a one-direction decoder. The fixes are the hand-off as code."""
    if not isinstance(module, nn.RNNBase):
        return None
    x = args[0]
    state = args[1] if len(args) > 1 else kwargs.get("hx")
    if state is None or not isinstance(x, torch.Tensor) or x.dim() not in (2, 3):
        return None
    lstm = isinstance(module, nn.LSTM)
    h = state[0] if lstm else state
    c = state[1] if lstm else None
    directions = 2 if module.bidirectional else 1
    rows = directions * module.num_layers
    h_out = module.proj_size if lstm and module.proj_size > 0 else module.hidden_size
    batched = x.dim() == 3
    n = int(x.shape[0 if module.batch_first else 1]) if batched else None
    want_h = (rows, n, h_out) if n is not None else (rows, h_out)
    want_c = (rows, n, module.hidden_size) if n is not None else (rows, module.hidden_size)
    got_h = tuple(int(d) for d in h.shape)
    got_c = None if c is None else tuple(int(d) for d in c.shape)
    if got_h == want_h and (c is None or got_c == want_c):
        return None
    shape = "(D·num_layers, N, {})" if batched else "(D·num_layers, {})"
    batch = f"{n}, " if batched else ""
    numbers = f"({directions}·{module.num_layers}, {batch}{{}})"
    need = f"h_0 = {shape.format('H_out')} = {numbers.format(h_out)} = {shape_text(want_h)}"
    if lstm:
        need += f", c_0 = {shape.format('H_cell')} = {shape_text(want_c)}"
    fixes: list[Fix] = []
    detail = None
    if batched and directions == 1 and len(got_h) == 3 and got_h[0] % 2 == 0 and got_h[1] == n:
        layers = got_h[0] // 2
        detail = (
            f"{shape_text(got_h)} is what a bidirectional encoder of {layers} layer"
            f"{'s' if layers > 1 else ''} returns as h_n: 2·num_layers = {got_h[0]} rows, "
            "forward and backward of each layer (h_n[2·layer], h_n[2·layer + 1])"
        )
        if layers >= module.num_layers:
            fixes = _hand_offs(module, x, h, c, n, h_out)
    return replace(
        base,
        expects=need,
        got=got_h,
        argument="h_0",
        source=source_of(got_h, earlier),
        fixes=tuple(fixes),
        detail=detail,
    )


def _hand_offs(module: Any, x: torch.Tensor, h: Any, c: Any, n: int | None, h_out: int) -> list[Fix]:
    """The fixes for a bidirectional encoder's h_n (and c_n) handed to a one-direction layer of
    at most as many layers: the two directions' mean, or side by side in a wider layer."""
    layers, width = int(h.shape[0]) // 2, int(h.shape[2])
    fixes: list[Fix] = []
    top = "" if layers == module.num_layers else f"[-{module.num_layers}:]"

    def hand_off(tensor: torch.Tensor, how: str) -> torch.Tensor:
        parts = tensor.view(layers, 2, tensor.shape[1], tensor.shape[2])
        joined = parts.mean(dim=1) if how == "mean" else torch.cat((parts[:, 0], parts[:, 1]), dim=-1)
        return joined[layers - module.num_layers :]

    def run_with(changes: dict[str, Any] | None, how: str) -> bool:
        """The layer itself (None), or built again with ``changes``, on the input and
        the state handed off ``how``: does torch run it?"""
        given = (hand_off(h, how), hand_off(c, how)) if c is not None else hand_off(h, how)
        try:
            if changes is None:
                with torch.no_grad():
                    module(x, given)
            else:
                run_rebuilt(module, arguments(module), changes, x, given)
        except Exception:
            return False
        return True

    on = "the input and the state that arrived"
    states = {"h": h} if c is None else {"h": h, "c": c}
    views = {k: f"{k}_n.view({layers}, 2, {n}, {int(state.shape[2])})" for k, state in states.items()}
    if width == h_out and (c is None or tuple(c.shape) == (2 * layers, n, module.hidden_size)):
        code = [f"{k}_0 = {view}.mean(dim=1){top}" for k, view in views.items()]
        fixes.append(
            Fix(
                code[0],
                constructor(module),
                run_with(None, "mean"),
                on,
                why="the mean of the two directions",
                code=tuple(code),
            )
        )
    found = arguments(module)
    if found is not None and not (isinstance(module, nn.LSTM) and module.proj_size > 0):
        try:
            wider = rebuild(module, found, {"hidden_size": 2 * width})
        except Exception:
            wider = None
        if wider is not None:
            code = []
            for k, view in views.items():
                code += [f"{k}_v = {view}", f"{k}_0 = torch.cat(({k}_v[:, 0], {k}_v[:, 1]), dim=-1){top}"]
            fixes.append(
                Fix(
                    f"hidden_size={2 * width}",
                    constructor(wider),
                    run_with({"hidden_size": 2 * width}, "cat"),
                    on,
                    why=f"the two directions side by side, hidden_size={2 * width} (the layers "
                    f"after it then take {2 * width} features)",
                    code=tuple(code),
                )
            )
    return fixes
