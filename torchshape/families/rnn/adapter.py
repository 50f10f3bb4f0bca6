"""The recurrent layers inside a user's model (``contract.LayerAdapter``): nn.LSTM/GRU/RNN and their
cells, read into this family's spec at the L and N of the call, and what its formulas say."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from torchshape.errors import UsageError
from torchshape.families.layers import Known, KnownOutput, Layer, LayerCall, claimed_class, first_tensor
from torchshape.families.rnn import counts, formulas
from torchshape.families.rnn.probe_sizes import probe_spec
from torchshape.families.rnn.request import make_spec
from torchshape.families.rnn.spec import Kind, Nonlinearity, RNNSpec
from torchshape.options import DType

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
    return Known(outputs(spec), macs=counts.macs(spec).total)


def outputs(spec: RNNSpec) -> tuple[KnownOutput, ...]:
    """What a recurrent layer or cell returns, by the rnn family's formulas."""
    sym = formulas.symbols(spec)
    returned = [f for f in formulas.tensor_formulas(spec) if f.name in ("output", "h_n", "c_n", "h_1", "c_1")]
    found = [KnownOutput(f.name, f.formula, f.shape(sym)) for f in returned]
    if spec.lengths is None:
        return tuple(found)
    # packed: output is a PackedSequence of every real step, batch_sizes as it came in
    packed = [
        KnownOutput("output.data", "(sum(lengths), D·H_out)", (sum(spec.lengths), sym.D * sym.H_out)),
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
        return replace(
            _spec(module, kind, max(lengths), len(lengths), batch_first=False, unbatched=False),
            lengths=lengths,
            input_size=int(module.input_size),
        )
    x = first_tensor(args)
    if kind is None or x is None or x.dim() not in ((1, 2) if kind.is_cell else (2, 3)):
        return None
    if kind.is_cell:
        unbatched = x.dim() == 1
        seq_len, batch, batch_first = 1, 1 if unbatched else x.shape[0], False
    else:
        batch_first = bool(getattr(module, "batch_first", False))
        unbatched = x.dim() == 2
        seq_len = x.shape[1] if batch_first and not unbatched else x.shape[0]
        batch = 1 if unbatched else (x.shape[0] if batch_first else x.shape[1])
    return _spec(module, kind, int(seq_len), int(batch), batch_first=batch_first, unbatched=unbatched)


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
    kind, x = KINDS[base].value, call.x
    raw: dict[str, Any] = {
        "kind": kind,
        "input_size": int(module.input_size),
        "hidden_size": int(module.hidden_size),
        "bias": bool(module.bias),
        "device": call.device,
        "dtype": call.dtype,
    }
    nonlinearity = getattr(module, "nonlinearity", None)
    if nonlinearity is not None:
        raw["nonlinearity"] = str(nonlinearity)
    if kind.endswith("-cell"):
        unbatched = x.dim() == 1
        batch = 1 if unbatched else int(x.shape[0])
        seen = "unbatched" if unbatched else f"N = {batch}"
    else:
        batch_first = bool(module.batch_first)
        unbatched = x.dim() == 2
        seq_len = int(x.shape[1] if batch_first and not unbatched else x.shape[0])
        batch = 1 if unbatched else int(x.shape[0] if batch_first else x.shape[1])
        raw |= {
            "num_layers": int(module.num_layers),
            "bidirectional": bool(module.bidirectional),
            "batch_first": batch_first,
            "proj_size": int(module.proj_size),
            "dropout": float(module.dropout),
            "seq_len": seq_len,
        }
        seen = f"L = {seq_len}, " + ("unbatched" if unbatched else f"N = {batch}")
    raw |= {"unbatched": True} if unbatched else {"batch": batch}
    hx = call.args[1] if len(call.args) > 1 else call.kwargs.get("hx")
    inputs: dict[str, Any] = {"input": x, "h_0": None}
    if kind in ("lstm", "lstm-cell"):
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
