"""The formula for a module object: every output torch names, its formula and the shape it gives.

One place for every layer torchshape knows inside a model. Recurrent layers and cells use the
rnn family's formulas, convolutions the conv family's and pools the pool family's (each
spec built from the module's own constructor values and the input it was called with);
Linear, Embedding, Flatten, Unflatten and the shape-preserving layers are written here.
Any other layer gets None: "no formula", never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from torchshape.families.attention import counts as attention_counts
from torchshape.families.attention import formulas as attention_formulas
from torchshape.families.attention import request as attention_request
from torchshape.families.conv import counts as conv_counts
from torchshape.families.conv import formulas as conv_formulas
from torchshape.families.conv.spec import ConvSpec, PaddingMode
from torchshape.families.embedding import formulas as embedding_formulas
from torchshape.families.embedding import request as embedding_request
from torchshape.families.pool import formulas as pool_formulas
from torchshape.families.pool.spec import Kind as PoolKind
from torchshape.families.pool.spec import PoolSpec
from torchshape.families.rnn import counts as rnn_counts
from torchshape.families.rnn import formulas as rnn_formulas
from torchshape.families.rnn.spec import Kind as RNNKind
from torchshape.families.rnn.spec import Nonlinearity, RNNSpec
from torchshape.families.transformer import formulas as transformer_formulas
from torchshape.families.transformer import request as transformer_request
from torchshape.families.transformer.spec import Layer as TransformerLayer
from torchshape.options import DType


@dataclass(frozen=True)
class KnownOutput:
    name: str  # as the trace names the output: output, h_n, c_n, h_1, output[0], ...
    formula: str
    expected: tuple[int, ...]


@dataclass(frozen=True)
class Known:
    """What the formulas say about one call of one module."""

    outputs: tuple[KnownOutput, ...]
    macs: int | None = None  # multiply-accumulates of the call, where the family's formulas give them


# Layers that return a tensor of their input's shape.
SHAPE_PRESERVING: tuple[type[nn.Module], ...] = (
    nn.Identity,
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
    nn.modules.dropout._DropoutNd,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.Softplus,
    nn.Softsign,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Softmin,
    nn.Tanhshrink,
    nn.Threshold,
)
_RNN_KINDS = {
    nn.LSTM: RNNKind.LSTM,
    nn.GRU: RNNKind.GRU,
    nn.RNN: RNNKind.RNN,
    nn.LSTMCell: RNNKind.LSTM_CELL,
    nn.GRUCell: RNNKind.GRU_CELL,
    nn.RNNCell: RNNKind.RNN_CELL,
}
_POOL_KINDS = {
    nn.MaxPool1d: PoolKind.MAX,
    nn.MaxPool2d: PoolKind.MAX,
    nn.MaxPool3d: PoolKind.MAX,
    nn.AvgPool1d: PoolKind.AVG,
    nn.AvgPool2d: PoolKind.AVG,
    nn.AvgPool3d: PoolKind.AVG,
    nn.LPPool1d: PoolKind.LP,
    nn.LPPool2d: PoolKind.LP,
    nn.LPPool3d: PoolKind.LP,
    nn.AdaptiveMaxPool1d: PoolKind.ADAPTIVE_MAX,
    nn.AdaptiveMaxPool2d: PoolKind.ADAPTIVE_MAX,
    nn.AdaptiveMaxPool3d: PoolKind.ADAPTIVE_MAX,
    nn.AdaptiveAvgPool1d: PoolKind.ADAPTIVE_AVG,
    nn.AdaptiveAvgPool2d: PoolKind.ADAPTIVE_AVG,
    nn.AdaptiveAvgPool3d: PoolKind.ADAPTIVE_AVG,
}
_CONV_DIMS = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3, nn.ConvTranspose1d: 1, nn.ConvTranspose2d: 2}
_CONV_DIMS[nn.ConvTranspose3d] = 3


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def _first_tensor(args: tuple[Any, ...]) -> torch.Tensor | None:
    return args[0] if args and isinstance(args[0], torch.Tensor) else None


def _per_axis(value: Any, dims: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def recurrent(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.LSTM/GRU/RNN and their cells: the rnn family's formulas at the observed L and N (for a
    PackedSequence: N = batch_sizes[0], L = max(lengths), and the packed formulas)."""
    spec = rnn_spec(module, args)
    if spec is None:
        return None
    return Known(rnn_outputs(spec), macs=rnn_counts.macs(spec).total)


def rnn_outputs(spec: RNNSpec) -> tuple[KnownOutput, ...]:
    """What a recurrent layer or cell returns, by the rnn family's formulas."""
    sym = rnn_formulas.symbols(spec)
    returned = [
        f for f in rnn_formulas.tensor_formulas(spec) if f.name in ("output", "h_n", "c_n", "h_1", "c_1")
    ]
    outputs = [KnownOutput(f.name, f.formula, f.shape(sym)) for f in returned]
    if spec.lengths is None:
        return tuple(outputs)
    # packed: output is a PackedSequence of every real step, batch_sizes as it came in
    packed = [
        KnownOutput("output.data", "(sum(lengths), D·H_out)", (sum(spec.lengths), sym.D * sym.H_out)),
        KnownOutput("output.batch_sizes", "(max(lengths),)", (max(spec.lengths),)),
    ]
    return (*packed, *(o for o in outputs if o.name != "output"))


def lengths_of(batch_sizes: Any) -> tuple[int, ...]:
    """The sequences' lengths, longest first, from a PackedSequence's batch_sizes."""
    steps = [int(n) for n in batch_sizes]
    return tuple(sum(1 for n in steps if n > i) for i in range(steps[0])) if steps else ()


def rnn_spec(module: nn.Module, args: tuple[Any, ...]) -> RNNSpec | None:
    """The rnn family's spec of a recurrent layer or cell object, at the L and N of its input."""
    from torch.nn.utils.rnn import PackedSequence

    base = torch_class(module, _RNN_KINDS)
    kind = None if base is None else _RNN_KINDS[base]
    if kind is not None and not kind.is_cell and args and isinstance(args[0], PackedSequence):
        lengths = lengths_of(args[0].batch_sizes)
        if not lengths:
            return None
        return replace(
            _spec(module, kind, max(lengths), len(lengths), batch_first=False, unbatched=False),
            lengths=lengths,
            input_size=int(module.input_size),
        )
    x = _first_tensor(args)
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
    module: nn.Module, kind: RNNKind, seq_len: int, batch: int, *, batch_first: bool, unbatched: bool
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


def convolution(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.ConvNd and nn.ConvTransposeNd: the conv family's formulas at the observed input."""
    x = _first_tensor(args)
    if x is None or len(args) > 1 or kwargs:  # ConvTranspose's output_size picks among sizes
        return None
    conv: Any = module
    dims = _CONV_DIMS[_class_in(module, _CONV_DIMS)]
    unbatched = x.dim() == dims + 1
    padding = conv.padding if isinstance(conv.padding, str) else _per_axis(conv.padding, dims)
    spec = ConvSpec(
        dims=dims,
        in_channels=conv.in_channels,
        out_channels=conv.out_channels,
        kernel_size=_per_axis(conv.kernel_size, dims),
        stride=_per_axis(conv.stride, dims),
        padding=padding,
        dilation=_per_axis(conv.dilation, dims),
        groups=conv.groups,
        output_padding=_per_axis(conv.output_padding, dims),
        padding_mode=PaddingMode(conv.padding_mode),
        bias=conv.bias is not None,
        transposed=bool(conv.transposed),
        size=tuple(int(s) for s in x.shape[-dims:]),
        batch=1 if unbatched else int(x.shape[0]),
        unbatched=unbatched,
        device="cpu",
        dtype=DType.FLOAT32,
    )
    sym = conv_formulas.symbols(spec)
    output = conv_formulas.tensor_formulas(spec)[1]
    return Known((KnownOutput("output", output.formula, output.shape(sym)),), macs=conv_counts.macs(spec))


def pooling(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """Max, avg, LP and adaptive pools: the pool family's formulas at the observed input."""
    x = _first_tensor(args)
    if x is None:
        return None
    pool: Any = module
    base = _class_in(module, _POOL_KINDS)
    kind = _POOL_KINDS[base]
    dims = int(base.__name__[-2])
    unbatched = x.dim() == dims + 1
    size = tuple(int(s) for s in x.shape[-dims:])
    if kind.adaptive:
        wanted = (
            pool.output_size if isinstance(pool.output_size, (tuple, list)) else (pool.output_size,) * dims
        )
        output_size = tuple(size[i] if v is None else int(v) for i, v in enumerate(wanted))
        kernel: tuple[int, ...] = ()
        stride = padding = dilation = kernel
    else:
        kernel = _per_axis(pool.kernel_size, dims)
        stride = _per_axis(pool.stride if pool.stride is not None else pool.kernel_size, dims)
        padding = _per_axis(getattr(pool, "padding", 0), dims)
        dilation = _per_axis(getattr(pool, "dilation", 1), dims)
        output_size = ()
    return_indices = bool(getattr(pool, "return_indices", False))
    spec = PoolSpec(
        kind=kind,
        dims=dims,
        channels=int(x.shape[-dims - 1]),
        size=size,
        batch=1 if unbatched else int(x.shape[0]),
        unbatched=unbatched,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=bool(getattr(pool, "ceil_mode", False)),
        count_include_pad=bool(getattr(pool, "count_include_pad", True)),
        return_indices=return_indices,
        norm_type=float(getattr(pool, "norm_type", 2.0)),
        output_size=output_size,
        device="cpu",
        dtype=DType.FLOAT32,
    )
    sym = pool_formulas.symbols(spec)
    found = [f for f in pool_formulas.tensor_formulas(spec) if f.name != "input"]
    names = ["output[0]", "output[1]"] if return_indices else ["output"]
    return Known(tuple(KnownOutput(n, f.formula, f.shape(sym)) for n, f in zip(names, found, strict=True)))


def linear(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Linear: (*, in_features) → (*, out_features); in·out MACs per row."""
    x = _first_tensor(args)
    layer: Any = module
    if x is None or x.dim() == 0:
        return None
    shape = (*_shape(x)[:-1], int(layer.out_features))
    rows = math.prod(_shape(x)[:-1])
    return Known(
        (KnownOutput("output", "(*, out_features)", shape),),
        macs=rows * layer.in_features * layer.out_features,
    )


def embedding(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Embedding: the embedding family's (*) → (*, embedding_dim)."""
    x = _first_tensor(args)
    if x is None:
        return None
    return _from_embedding_family(module, shape=_shape(x) or "()")


def embedding_bag(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.EmbeddingBag: the embedding family's one row per bag. A 2-D input (B, K) is B bags of K;
    a 1-D input is cut into bags at ``offsets`` (with include_last_offset, the last offset only
    ends the last bag)."""
    x = _first_tensor(args)
    if x is None:
        return None
    bag: Any = module
    settings: dict[str, Any] = {"bag": True, "mode": bag.mode}
    if x.dim() == 2:
        settings |= {"bags": int(x.shape[0]), "bag_size": int(x.shape[1])}
    else:
        offsets = args[1] if len(args) > 1 else kwargs.get("offsets")
        if x.dim() != 1 or not isinstance(offsets, torch.Tensor) or offsets.device.type == "meta":
            return None
        settings |= {
            "shape": _shape(x),
            "offsets": tuple(int(o) for o in offsets.tolist()),
            "include_last_offset": bool(bag.include_last_offset),
        }
    return _from_embedding_family(module, **settings)


def _from_embedding_family(module: nn.Module, **settings: Any) -> Known | None:
    spec = _embedding_spec(module, **settings)
    if spec is None:
        return None
    sym = embedding_formulas.symbols(spec)
    (output,) = [f for f in embedding_formulas.tensor_formulas(spec) if f.name == "output"]
    return Known((KnownOutput("output", output.formula, output.shape(sym)),))


def embedding_spec(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The embedding family's spec of an nn.Embedding call (an nn.EmbeddingBag: of a 2-D call)."""
    x = _first_tensor(args)
    if x is None:
        return None
    if isinstance(module, nn.EmbeddingBag):
        bag: Any = module
        if x.dim() != 2:
            return None
        return _embedding_spec(
            module, bag=True, mode=bag.mode, bags=int(x.shape[0]), bag_size=int(x.shape[1])
        )
    return _embedding_spec(module, shape=_shape(x) or "()")


def _embedding_spec(module: nn.Module, **settings: Any) -> Any:
    table: Any = module
    try:
        spec = embedding_request.make_spec(
            num_embeddings=int(table.num_embeddings),
            embedding_dim=int(table.embedding_dim),
            padding_idx=table.padding_idx,
            max_norm=table.max_norm,
            **settings,
        )
    except Exception:  # settings the embedding command does not take: no formula, never a guess
        return None
    return spec


_MHA_ARGS = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights")


def attention(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.MultiheadAttention: the attention family's formulas at the observed L, S and N, with the
    call's need_weights and average_attn_weights."""
    spec = attention_spec(module, args, kwargs)
    if spec is None:
        return None
    sym = attention_formulas.symbols(spec)
    outputs = tuple(
        KnownOutput(f.name, f.formula, f.shape(sym))
        for f in attention_formulas.tensor_formulas(spec)
        if f.name in ("attn_output", "attn_output_weights")
    )
    return Known(outputs, macs=attention_counts.macs(spec))


def attention_spec(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The attention family's spec of an nn.MultiheadAttention call; None: one it does not take."""
    call = dict(zip(_MHA_ARGS, args, strict=False)) | kwargs
    query, key = call.get("query"), call.get("key")
    if not isinstance(query, torch.Tensor) or not isinstance(key, torch.Tensor) or query.dim() not in (2, 3):
        return None
    mha: Any = module
    unbatched = query.dim() == 2
    need_weights = bool(call.get("need_weights", True))
    first = bool(mha.batch_first) and not unbatched
    time = 0 if unbatched or not first else 1
    try:
        spec = attention_request.make_spec(
            embed_dim=int(mha.embed_dim),
            num_heads=int(mha.num_heads),
            kdim=int(mha.kdim),
            vdim=int(mha.vdim),
            target_len=int(query.shape[time]),
            source_len=int(key.shape[time]),
            batch=None if unbatched else int(query.shape[0 if first else 1]),
            batch_first=bool(mha.batch_first),
            unbatched=unbatched,
            need_weights=need_weights,
            # without weights, how they would be kept does not matter
            average_attn_weights=bool(call.get("average_attn_weights", True)) or not need_weights,
            add_bias_kv=mha.bias_k is not None,
            add_zero_attn=bool(mha.add_zero_attn),
            bias=mha.in_proj_bias is not None,
        )
    except Exception:  # settings the attention command does not take: no formula, never a guess
        return None
    return spec


def transformer(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.Transformer and the encoder and
    decoder stacks: the transformer family's output formula at the observed S, T and N. Their
    children have rows of their own, which count the MACs."""
    spec = transformer_spec(module, args, kwargs)
    if spec is None:
        return None
    sym = transformer_formulas.symbols(spec)
    (output,) = [f for f in transformer_formulas.tensor_formulas(spec) if f.name == "output"]
    return Known((KnownOutput("output", output.formula, output.shape(sym)),))


def transformer_spec(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The transformer family's spec of a transformer layer, stack or nn.Transformer call."""
    x = _first_tensor(args)
    if x is None or x.dim() != 3:  # an unbatched call: the transformer command takes none
        return None
    layer: Any = module
    if isinstance(module, nn.Transformer):
        first, kind = layer.encoder.layers[0], TransformerLayer.FULL
        target = args[1] if len(args) > 1 else kwargs.get("tgt")
    elif isinstance(module, (nn.TransformerEncoder, nn.TransformerDecoder)):
        first = layer.layers[0]
        kind = (
            TransformerLayer.ENCODER
            if isinstance(module, nn.TransformerEncoder)
            else TransformerLayer.DECODER
        )
        target = x
    else:
        first = module
        kind = (
            TransformerLayer.ENCODER
            if isinstance(module, nn.TransformerEncoderLayer)
            else TransformerLayer.DECODER
        )
        target = x
    attention: Any = first.self_attn
    batch_first = bool(attention.batch_first)
    time = 1 if batch_first else 0
    source = (
        x if kind is not TransformerLayer.DECODER else (args[1] if len(args) > 1 else kwargs.get("memory"))
    )
    if not isinstance(source, torch.Tensor) or not isinstance(target, torch.Tensor) or source.dim() != 3:
        return None
    settings: dict[str, Any] = {
        "layer": kind,
        "d_model": int(attention.embed_dim),
        "nhead": int(attention.num_heads),
        "dim_feedforward": int(first.linear1.out_features),
        "batch_first": batch_first,
        "norm_first": bool(first.norm_first),
        "source_len": int(source.shape[time]),
        "batch": int(x.shape[0 if batch_first else 1]),
    }
    if kind is not TransformerLayer.ENCODER:
        settings["target_len"] = int(target.shape[time])
    if kind is TransformerLayer.FULL:
        settings["num_encoder_layers"] = len(layer.encoder.layers)
        settings["num_decoder_layers"] = len(layer.decoder.layers)
    try:
        spec = transformer_request.make_spec(**settings)
    except Exception:  # settings the transformer command does not take: no formula, never a guess
        return None
    return spec


def flatten(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Flatten: the dimensions start_dim..end_dim become their product."""
    x = _first_tensor(args)
    if x is None:
        return None
    layer: Any = module
    shape = _shape(x)
    if not shape:
        return None
    start, end = layer.start_dim % len(shape), layer.end_dim % len(shape)
    if start > end:
        return None
    out = (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])
    return Known((KnownOutput("output", f"(*, ∏ dims {layer.start_dim}..{layer.end_dim}, *)", out),))


def unflatten(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Unflatten: dimension ``dim`` becomes ``unflattened_size`` (one -1 is inferred)."""
    x = _first_tensor(args)
    layer: Any = module
    if x is None or not isinstance(layer.dim, int) or x.dim() == 0:
        return None
    shape = _shape(x)
    dim = layer.dim % len(shape)
    sizes = [int(s) for s in layer.unflattened_size]
    if sizes.count(-1) == 1:
        known_part = math.prod(s for s in sizes if s != -1)
        sizes[sizes.index(-1)] = shape[dim] // known_part if known_part else 0
    out = (*shape[:dim], *sizes, *shape[dim + 1 :])
    return Known((KnownOutput("output", f"(*, {tuple(layer.unflattened_size)}, *) at dim {layer.dim}", out),))


def same_shape(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """Norms, dropout, activations, Identity: the output has the input's shape."""
    x = _first_tensor(args)
    if x is None:
        return None
    return Known((KnownOutput("output", "same as input", _shape(x)),))


Rule = Callable[[nn.Module, tuple[Any, ...], dict[str, Any]], "Known | None"]

# The layer adapters: a torch.nn class and the rule that reads its call, matched through the
# module's class hierarchy (most derived first), so a subclass that keeps its class's forward
# (torchvision's Conv3DSimple, a parametrized or weight-normed layer) takes its family's formula.
ADAPTERS: dict[type[nn.Module], Rule] = {
    **dict.fromkeys(_RNN_KINDS, recurrent),
    **dict.fromkeys(_CONV_DIMS, convolution),
    **dict.fromkeys(_POOL_KINDS, pooling),
    nn.Linear: linear,
    nn.Embedding: embedding,
    nn.EmbeddingBag: embedding_bag,
    nn.MultiheadAttention: attention,
    nn.TransformerEncoderLayer: transformer,
    nn.TransformerDecoderLayer: transformer,
    nn.TransformerEncoder: transformer,
    nn.TransformerDecoder: transformer,
    nn.Transformer: transformer,
    nn.Flatten: flatten,
    nn.Unflatten: unflatten,
}


def torch_class(module: nn.Module, table: Any = ADAPTERS) -> type[nn.Module] | None:
    """The class of ``table`` that ``module`` is, or subclasses without a forward of its own
    (a subclass that changes forward may change what it returns: no formula, never a guess)."""
    for cls in type(module).__mro__:
        if cls in table:
            same_forward = getattr(type(module), "forward", None) is getattr(cls, "forward", None)
            return cls if same_forward else None
    return None


def _class_in(module: nn.Module, table: Any) -> type[nn.Module]:
    found = torch_class(module, table)
    if found is None:
        raise TypeError(f"{type(module).__name__} is not one of the layers this rule reads")
    return found


# The layers --layer reads into a family that runs them on its own weights (``layer.py`` reads
# the rnn, conv and pool ones onto the layer's own): the family, and the spec of a call.
SpecReader = Callable[[nn.Module, tuple[Any, ...], dict[str, Any]], Any]
FAMILY_SPECS: dict[type[nn.Module], tuple[str, SpecReader]] = {
    nn.MultiheadAttention: ("attention", attention_spec),
    nn.Embedding: ("embedding", embedding_spec),
    nn.EmbeddingBag: ("embedding", embedding_spec),
    **dict.fromkeys(
        (
            nn.TransformerEncoderLayer,
            nn.TransformerDecoderLayer,
            nn.TransformerEncoder,
            nn.TransformerDecoder,
            nn.Transformer,
        ),
        ("transformer", transformer_spec),
    ),
}


def family_spec(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any] | None:
    """(family, spec) of a call of one of ``FAMILY_SPECS``' layers (subclasses keeping forward);
    None: not one, or a call its family does not take."""
    base = torch_class(module, FAMILY_SPECS)
    if base is None:
        return None
    family, reader = FAMILY_SPECS[base]
    try:
        spec = reader(module, args, kwargs)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None
    return None if spec is None else (family, spec)


def rule_for(module: nn.Module) -> Rule | None:
    """The formula rule of ``module``'s torch.nn class (``ADAPTERS``); shape-preserving layers of
    torch.nn and their subclasses that keep forward: same shape."""
    base = torch_class(module)
    if base is not None:
        return ADAPTERS[base]
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn.") and issubclass(cls, SHAPE_PRESERVING):
            return (
                same_shape
                if getattr(type(module), "forward", None) is getattr(cls, "forward", None)
                else None
            )
    return None


def known(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """What the formulas say about calling ``module`` with ``args``; None: no formula."""
    rule = rule_for(module)
    if rule is None:
        return None
    try:
        return rule(module, args, kwargs)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None  # a configuration the family's spec does not describe: no formula, not a guess


def is_recurrent(module: nn.Module) -> bool:
    return isinstance(module, nn.RNNBase | nn.RNNCellBase)
