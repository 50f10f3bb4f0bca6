"""The transformer layers inside a user's model (``contract.LayerAdapter``):
nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, their stacks and nn.Transformer, at the
observed S, T and N. Their children have rows of their own, which count the MACs."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from torchshape.families.diagnosis import nothing
from torchshape.families.layers import Known, Layer, LayerCall, first_tensor, output_known
from torchshape.families.transformer import formulas
from torchshape.families.transformer.request import make_spec
from torchshape.families.transformer.spec import Layer as Kind

CLASSES: tuple[type, ...] = (
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
    nn.TransformerEncoder,
    nn.TransformerDecoder,
    nn.Transformer,
)
SUPPORTED = (
    "transformer (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, their stacks, nn.Transformer)"
)
OWN_WEIGHTS = False
expects = arguments = proposals = diagnose = nothing  # no diagnosis of its own yet


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The transformer family's output formula for the call."""
    spec = spec_of(module, args, kwargs)
    return None if spec is None else output_known(formulas, spec)


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call's settings and sizes, run on the family's own weights."""
    spec = spec_of(module, call.args, call.kwargs)
    return None if spec is None else Layer("transformer", spec)


def spec_of(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The spec of a transformer layer, stack or nn.Transformer call; None: one it does not take."""
    x = first_tensor(args)
    if x is None or x.dim() != 3:  # an unbatched call: the transformer command takes none
        return None
    if isinstance(module, nn.Transformer):
        first, kind = module.encoder.layers[0], Kind.FULL
        target = args[1] if len(args) > 1 else kwargs.get("tgt")
    elif isinstance(module, (nn.TransformerEncoder, nn.TransformerDecoder)):
        first = module.layers[0]
        kind = Kind.ENCODER if isinstance(module, nn.TransformerEncoder) else Kind.DECODER
        target = x
    else:
        first = module
        kind = Kind.ENCODER if isinstance(module, nn.TransformerEncoderLayer) else Kind.DECODER
        target = x
    attention: Any = first.self_attn
    batch_first = bool(attention.batch_first)
    time = 1 if batch_first else 0
    source = x if kind is not Kind.DECODER else (args[1] if len(args) > 1 else kwargs.get("memory"))
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
    if kind is not Kind.ENCODER:
        settings["target_len"] = int(target.shape[time])
    if kind is Kind.FULL:
        settings["num_encoder_layers"] = len(module.encoder.layers)
        settings["num_decoder_layers"] = len(module.decoder.layers)
    try:
        return make_spec(**settings)
    except Exception:  # settings the transformer command does not take: no formula, never a guess
        return None
