"""nn.MultiheadAttention inside a user's model (``contract.LayerAdapter``): this family's spec at the
observed L, S and N, with the call's need_weights and average_attn_weights."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from torchshape.families.attention import counts, formulas
from torchshape.families.attention.request import make_spec
from torchshape.families.diagnosis import nothing
from torchshape.families.layers import Known, KnownOutput, Layer, LayerCall

CLASSES: tuple[type, ...] = (nn.MultiheadAttention,)
SUPPORTED = "attention (nn.MultiheadAttention)"
OWN_WEIGHTS = False
expects = arguments = proposals = diagnose = nothing  # no diagnosis of its own yet

_ARGS = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights")


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The attention family's formulas for the call."""
    spec = spec_of(module, args, kwargs)
    if spec is None:
        return None
    sym = formulas.symbols(spec)
    outputs = tuple(
        KnownOutput(f.name, f.formula, f.shape(sym))
        for f in formulas.tensor_formulas(spec)
        if f.name in ("attn_output", "attn_output_weights")
    )
    return Known(outputs, macs=counts.macs(spec))


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call's settings and sizes, run on the family's own weights."""
    spec = spec_of(module, call.args, call.kwargs)
    return None if spec is None else Layer("attention", spec)


def spec_of(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The spec of an nn.MultiheadAttention call; None: one the family does not take."""
    call = dict(zip(_ARGS, args, strict=False)) | kwargs
    query, key = call.get("query"), call.get("key")
    if not isinstance(query, torch.Tensor) or not isinstance(key, torch.Tensor) or query.dim() not in (2, 3):
        return None
    mha: Any = module
    unbatched = query.dim() == 2
    need_weights = bool(call.get("need_weights", True))
    first = bool(mha.batch_first) and not unbatched
    time = 0 if unbatched or not first else 1
    try:
        return make_spec(
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
