"""nn.Embedding and nn.EmbeddingBag inside a user's model (``contract.LayerAdapter``): this family's
(*) → (*, embedding_dim), and one row per bag."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import nn

from torchshape.families.diagnosis import Diagnosis, Earlier, Fix, check, nothing
from torchshape.families.embedding import formulas
from torchshape.families.embedding.request import make_spec
from torchshape.families.layers import Known, Layer, LayerCall, first_tensor, output_known, shape

CLASSES: tuple[type, ...] = (nn.Embedding, nn.EmbeddingBag)
SUPPORTED = "embedding (nn.Embedding, nn.EmbeddingBag)"
OWN_WEIGHTS = False


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Embedding: (*) → (*, embedding_dim). nn.EmbeddingBag: a 2-D input (B, K) is B bags of K;
    a 1-D input is cut into bags at ``offsets`` (with include_last_offset, the last offset only
    ends the last bag)."""
    x = first_tensor(args)
    if x is None:
        return None
    if not isinstance(module, nn.EmbeddingBag):
        return _known(module, shape=shape(x) or "()")
    bag: Any = module
    settings: dict[str, Any] = {"bag": True, "mode": bag.mode}
    if x.dim() == 2:
        settings |= {"bags": int(x.shape[0]), "bag_size": int(x.shape[1])}
    else:
        offsets = args[1] if len(args) > 1 else kwargs.get("offsets")
        if x.dim() != 1 or not isinstance(offsets, torch.Tensor) or offsets.device.type == "meta":
            return None
        settings |= {
            "shape": shape(x),
            "offsets": tuple(int(o) for o in offsets.tolist()),
            "include_last_offset": bool(bag.include_last_offset),
        }
    return _known(module, **settings)


def _known(module: Any, **settings: Any) -> Known | None:
    spec = _spec(module, **settings)
    return None if spec is None else output_known(formulas, spec)


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: an nn.Embedding call (an nn.EmbeddingBag: a 2-D one), on the family's own weights."""
    x = first_tensor(call.args)
    if x is None:
        return None
    if isinstance(module, nn.EmbeddingBag):
        if x.dim() != 2:
            return None
        spec = _spec(module, bag=True, mode=module.mode, bags=int(x.shape[0]), bag_size=int(x.shape[1]))
    else:
        spec = _spec(module, shape=shape(x) or "()")
    return None if spec is None else Layer("embedding", spec)


def _spec(module: Any, **settings: Any) -> Any:
    try:
        return make_spec(
            num_embeddings=int(module.num_embeddings),
            embedding_dim=int(module.embedding_dim),
            padding_idx=module.padding_idx,
            max_norm=module.max_norm,
            **settings,
        )
    except Exception:  # settings the embedding command does not take: no formula, never a guess
        return None


expects = proposals = nothing  # the dtype and index checks say what it expects


def arguments(module: Any) -> dict[str, Any] | None:
    """The constructor arguments that rebuild ``module``."""
    found = {
        "num_embeddings": module.num_embeddings,
        "embedding_dim": module.embedding_dim,
        "padding_idx": module.padding_idx,
        "max_norm": module.max_norm,
        "norm_type": module.norm_type,
        "scale_grad_by_freq": module.scale_grad_by_freq,
        "sparse": module.sparse,
    }
    if isinstance(module, nn.EmbeddingBag):
        found |= {"mode": module.mode, "include_last_offset": module.include_last_offset}
    return found


def diagnose(
    base: Diagnosis, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], earlier: Earlier
) -> Diagnosis | None:
    """An embedding given an index outside 0 ≤ index < num_embeddings."""
    indices = args[0]
    if (
        indices.is_floating_point()
        or indices.is_complex()
        or indices.device.type == "meta"
        or indices.numel() == 0
    ):
        return None
    low, high = int(indices.min()), int(indices.max())
    count = module.num_embeddings
    if low >= 0 and high < count:
        return None
    outside = int(((indices < 0) | (indices >= count)).sum())
    detail = (
        f"the indices that arrived run from {low} to {high}: {outside} of {indices.numel()} are outside "
        f"0 ≤ index < {count}"
    )
    fixes: list[Fix] = []
    if low >= 0:
        fix = check(module, arguments(module), {"num_embeddings": high + 1}, indices)
        fixes.append(Fix(f"num_embeddings={high + 1}", fix.module, fix.verified))
    return replace(base, expects=f"0 ≤ index < num_embeddings = {count}", fixes=tuple(fixes), detail=detail)
