"""One layer of a model as a family's spec: its constructor settings, read from the live module,
and the sizes of the input it was called with (``torchshape model --layer``, ``inspect_module``).

No torch here: a module is recognised by its class (an nn class, or a subclass that keeps its
forward), and its settings go through the family's own ``make_spec``, so a layer read from a
module passes the same checks as the family's command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.conv.request import make_spec as conv_spec
from torchshape.families.pool.request import make_spec as pool_spec
from torchshape.families.rnn.request import make_spec as rnn_spec

# nn class name -> the family and its kind
RECURRENT = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn", "LSTMCell": "lstm-cell", "GRUCell": "gru-cell"}
RECURRENT["RNNCell"] = "rnn-cell"
CONVOLUTIONS = {f"Conv{d}d": d for d in (1, 2, 3)} | {f"ConvTranspose{d}d": d for d in (1, 2, 3)}
POOLS = {
    f"{stem}{d}d": kind
    for d in (1, 2, 3)
    for stem, kind in (
        ("MaxPool", "max"),
        ("AvgPool", "avg"),
        ("LPPool", "lp"),
        ("AdaptiveMaxPool", "adaptive-max"),
        ("AdaptiveAvgPool", "adaptive-avg"),
    )
}
SUPPORTED = (
    "rnn (nn.LSTM, nn.GRU, nn.RNN and their cells), conv (nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d), "
    "pool (max, avg, LP and adaptive pools, 1d/2d/3d), attention (nn.MultiheadAttention), embedding "
    "(nn.Embedding, nn.EmbeddingBag) and transformer (nn.TransformerEncoderLayer, "
    "nn.TransformerDecoderLayer, their stacks, nn.Transformer)"
)


@dataclass(frozen=True)
class Layer:
    """One layer's family spec, what its call saw, and the tensors it was fed."""

    family: str  # rnn, conv or pool
    spec: Any  # the family's checked spec, from the module's settings and the observed input
    seen: str  # what the call saw, in the family's symbols: "L = 10, N = 4"
    inputs: dict[str, Any]  # the family's input names -> the tensors the layer got (None: torch's zeros)


def nn_class(module: Any) -> type | None:
    """The torch.nn layer class that ``module`` is, or that it subclasses without a forward of its own."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn.modules.") and cls.__name__ in (
            RECURRENT.keys() | CONVOLUTIONS.keys() | POOLS.keys()
        ):
            return cls if getattr(type(module), "forward", None) is getattr(cls, "forward", None) else None
    return None


def family_of(module: Any) -> str | None:
    """rnn, conv or pool: the family that describes ``module``; None: none does."""
    cls = nn_class(module)
    if cls is None:
        return None
    name = cls.__name__
    return "rnn" if name in RECURRENT else "conv" if name in CONVOLUTIONS else "pool"


def class_text(module: Any) -> str:
    """``nn.BatchNorm2d`` for torch's layers, the class's own name for the user's."""
    kind = type(module)
    return ("an nn." if kind.__module__.startswith("torch.nn.") else "a ") + kind.__qualname__


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dim") and hasattr(value, "dtype")


def _text(value: Any) -> str:
    return str(value).removeprefix("torch.")


def _device_and_dtype(module: Any, x: Any) -> tuple[str, str]:
    """Where the layer's weights live and in what dtype; a layer without weights: its input's."""
    first = next(iter(module.parameters()), None)
    where = x if first is None else first
    device = where.device
    return ("cpu" if device.type == "cpu" else _text(device)), _text(where.dtype)


def read_layer(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], *, flag: str, name: str) -> Layer:
    """``module`` called with ``args``/``kwargs`` as its family's spec; ``UsageError`` naming ``flag``
    when no family describes it or it was called in a way the family does not take."""
    cls = nn_class(module)
    if cls is None:
        raise UsageError(
            flag,
            f"{name} is {class_text(module)}, which no torchshape family describes; {flag} takes {SUPPORTED}",
        )
    x = args[0] if args else kwargs.get("input")
    if type(x).__name__ == "PackedSequence":
        raise UsageError(
            flag,
            f"{name} was called with a PackedSequence; a layer is read from a padded tensor only "
            "for now (torchshape rnn --lengths shows the packed call)",
        )
    if not _is_tensor(x):
        raise UsageError(flag, f"{name} was called without a tensor as its input ({type(x).__name__})")
    family = family_of(module)
    if family == "rnn":
        return _recurrent(module, cls.__name__, x, args, kwargs)
    if family == "conv":
        if len(args) > 1 or kwargs:
            raise UsageError(
                flag,
                f"{name} was called with output_size; torchshape conv gives the size that "
                "stride, padding and output_padding give, and does not take that call",
            )
        return _convolution(module, CONVOLUTIONS[cls.__name__], x)
    return _pool(module, cls.__name__, x, flag=flag, name=name)


def _recurrent(module: Any, class_name: str, x: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Layer:
    kind = RECURRENT[class_name]
    device, dtype = _device_and_dtype(module, x)
    raw: dict[str, Any] = {
        "kind": kind,
        "input_size": int(module.input_size),
        "hidden_size": int(module.hidden_size),
        "bias": bool(module.bias),
        "device": device,
        "dtype": dtype,
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
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    inputs: dict[str, Any] = {"input": x, "h_0": None}
    if kind in ("lstm", "lstm-cell"):
        inputs |= {"h_0": hx[0], "c_0": hx[1]} if hx is not None else {"c_0": None}
    elif hx is not None:
        inputs["h_0"] = hx
    return Layer("rnn", rnn_spec(**raw), seen, inputs)


def _convolution(module: Any, dims: int, x: Any) -> Layer:
    device, dtype = _device_and_dtype(module, x)
    unbatched = x.dim() == dims + 1
    transposed = bool(module.transposed)
    padding = module.padding
    raw: dict[str, Any] = {
        "dims": dims,
        "in_channels": int(module.in_channels),
        "out_channels": int(module.out_channels),
        "kernel_size": tuple(module.kernel_size),
        "stride": tuple(module.stride),
        "padding": padding if isinstance(padding, str) else tuple(padding),
        "dilation": tuple(module.dilation),
        "groups": int(module.groups),
        "output_padding": tuple(module.output_padding) if transposed else None,
        "padding_mode": str(module.padding_mode),
        "bias": module.bias is not None,
        "transposed": transposed,
        "size": tuple(int(s) for s in x.shape[-dims:]),
        "device": device,
        "dtype": dtype,
    }
    raw |= {"unbatched": True} if unbatched else {"batch": int(x.shape[0])}
    return Layer("conv", conv_spec(**raw), _spatial_seen(x, dims, unbatched, "C_in"), {"input": x})


def _pool(module: Any, class_name: str, x: Any, *, flag: str, name: str) -> Layer:
    kind = POOLS[class_name]
    dims = int(class_name[-2])
    device, dtype = _device_and_dtype(module, x)
    unbatched = x.dim() == dims + 1
    size = tuple(int(s) for s in x.shape[-dims:])
    raw: dict[str, Any] = {
        "kind": kind,
        "dims": dims,
        "channels": int(x.shape[-dims - 1]),
        "size": size,
        "device": device,
        "dtype": dtype,
    }
    raw |= {"unbatched": True} if unbatched else {"batch": int(x.shape[0])}
    if kind.startswith("adaptive"):
        wanted = module.output_size
        wanted = tuple(wanted) if isinstance(wanted, (tuple, list)) else (wanted,) * dims
        raw["output_size"] = tuple(None if v is None else int(v) for v in wanted)
    else:
        raw |= {"kernel_size": module.kernel_size, "stride": module.stride, "ceil_mode": module.ceil_mode}
    if kind in ("max", "adaptive-max"):
        raw["return_indices"] = bool(module.return_indices)
    if kind == "max":
        raw |= {"padding": module.padding, "dilation": module.dilation}
    if kind == "avg":
        divisor = getattr(module, "divisor_override", None)  # AvgPool2d/3d only
        if divisor is not None:
            raise UsageError(
                flag, f"{name} has divisor_override={divisor}, which torchshape pool does not take yet"
            )
        raw |= {"padding": module.padding, "count_include_pad": bool(module.count_include_pad)}
    if kind == "lp":
        raw["norm_type"] = float(module.norm_type)
    return Layer("pool", pool_spec(**raw), _spatial_seen(x, dims, unbatched, "C"), {"input": x})


def _spatial_seen(x: Any, dims: int, unbatched: bool, channels: str) -> str:
    shape = tuple(int(s) for s in x.shape)
    batch = "unbatched" if unbatched else f"N = {shape[0]}"
    return f"input {shape}: {batch}, {channels} = {shape[-dims - 1]}"
