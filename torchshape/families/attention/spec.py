"""One nn.MultiheadAttention and the tensors it is fed, in PyTorch's names: its settings table
and its checked spec. No torch here (``torchshape attention --help`` imports this)."""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

from torchshape import settings
from torchshape.options import DType
from torchshape.options import MaskForm as MaskForm  # shared with the other attention family
from torchshape.settings import (
    DEBUG,
    DIAGRAM,
    PARAMS,
    TIMING,
    WHERE,
    Given,
    Rule,
    Setting,
    explain,
    option,
    switch,
)


class MaskDType(str, Enum):
    """bool: True means 'not allowed'; float: added to the scores before the softmax."""

    BOOL = "bool"
    FLOAT = "float"


# The settings of the command and of the Python call, one row each: the spec's field, the flags,
# --help's metavar and text, the command line's default (``torchshape.settings``). Every symbol
# gets its own number (L 5, S 7, N 3, E 24, num_heads 4, head_dim 6; S + 1 = 8, S + 2 = 9,
# N·num_heads = 12), so a formula that mixed two of them up would show.
SETTINGS: tuple[Setting, ...] = (
    option("embed_dim", "--embed-dim", "INT", "E: embed_dim.", "24"),
    option(
        "num_heads",
        "--heads",
        "INT",
        "num_heads; E divides by it (head_dim = E/num_heads).",
        "4",
        param="heads",
    ),
    option("kdim", "--kdim", "INT", "E_k: key features (default E)."),
    option("vdim", "--vdim", "INT", "E_v: value features (default E)."),
    option("target_len", "--target-len", "INT", "L: target (query) sequence length.", "5"),
    option(
        "source_len",
        "--source-len",
        "INT",
        "S: source (key, value) sequence length (default 7; L with --self).",
        fallback=7,
    ),
    option("batch", "--batch", "INT", "N: batch size.", "3", given=Given.TYPED),
    switch("batch_first", "--batch-first", "query, key, value, attn_output as (N, L, E)."),
    switch("unbatched", "--unbatched", "Inputs without N: query (L, E)."),
    switch("self_attention", "--self", "Self-attention: one tensor as query, key and value."),
    switch(
        "need_weights",
        "--need-weights/--no-need-weights",
        "Return attn_output_weights (default), or not: the fused kernel runs.",
        True,
    ),
    switch(
        "average_attn_weights",
        "--average-weights/--per-head-weights",
        "Weights averaged over the heads (default), or one set per head.",
        True,
        param="average_weights",
    ),
    switch("key_padding_mask", "--key-padding-mask", "Feed key_padding_mask (N, S): padding at the end."),
    option(
        "attn_mask", "--attn-mask", "none|2d|3d", "attn_mask: none, (L, S) or (N·num_heads, L, S).", "none"
    ),
    option(
        "mask_dtype",
        "--mask-dtype",
        "bool|float",
        "The masks' dtype: bool (True = not allowed) or float (added). Default bool.",
        fallback="bool",
    ),
    switch("is_causal", "--causal", "The causal attn_mask, with the is_causal hint.", param="causal"),
    switch("add_bias_kv", "--add-bias-kv", "add_bias_kv: one more key and value."),
    switch("add_zero_attn", "--add-zero-attn", "add_zero_attn: a key and value of zeros."),
    switch("bias", "--no-bias", "Build without bias.", param="no_bias", given=Given.NEGATED),
    option("dropout", "--dropout", "FLOAT", "dropout on the weights (training only).", "0"),
    *WHERE,
    explain(
        "Rows sum to 1, masked keys get 0, causal, output = weights @ V, the fused path, "
        "the common mask mistakes; checked on torch."
    ),
    DEBUG,
    PARAMS,
    DIAGRAM,
    *TIMING,
)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)


# JSON's config: the constructor's arguments, then the inputs' and the call's.
_CONFIG = ["embed_dim", "num_heads", "kdim", "vdim", "dropout", "bias", "add_bias_kv", "add_zero_attn"]
_CONFIG += ["batch_first", "target_len", "source_len", "batch", "unbatched", "self_attention"]
_CONFIG += ["need_weights", "average_attn_weights", "key_padding_mask", "attn_mask", "mask_dtype"]
_CONFIG += ["is_causal", "device", "dtype"]


class AttentionSpec(settings.Spec, family="attention"):
    """One nn.MultiheadAttention, the tensors it is fed and how it is called."""

    embed_dim: int  # E
    num_heads: int
    kdim: int  # E_k (E unless given)
    vdim: int  # E_v (E unless given)
    target_len: int  # L
    source_len: int  # S
    batch: int  # N; ignored when unbatched
    batch_first: bool
    unbatched: bool
    self_attention: bool  # query = key = value: one tensor
    need_weights: bool
    average_attn_weights: bool
    key_padding_mask: bool
    attn_mask: MaskForm  # 2d whenever is_causal without --attn-mask
    mask_dtype: MaskDType
    is_causal: bool
    add_bias_kv: bool
    add_zero_attn: bool
    bias: bool
    dropout: float
    device: str
    dtype: DType

    module_name: ClassVar[str] = "MultiheadAttention"

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    @property
    def same_embed_dim(self) -> bool:
        """torch packs the three projections into ``in_proj_weight`` when E_k = E_v = E."""
        return self.kdim == self.embed_dim and self.vdim == self.embed_dim

    @property
    def extra_keys(self) -> int:
        """What add_bias_kv and add_zero_attn add to S in the weights' last dimension."""
        return int(self.add_bias_kv) + int(self.add_zero_attn)

    @property
    def has_masks(self) -> bool:
        return self.key_padding_mask or self.attn_mask is not MaskForm.NONE

    def as_dict(self) -> dict[str, Any]:
        """PyTorch's argument names and the inputs'; plain JSON values."""
        out = settings.config(self, _CONFIG)
        out["mask_dtype"] = out["mask_dtype"] if self.has_masks else None
        return out

    def arguments(self) -> list[str]:
        """The constructor's arguments as a user writes them (torch's defaults left out)."""
        defaults = {"dropout": 0.0, "bias": True, "add_bias_kv": False, "add_zero_attn": False}
        defaults |= {"kdim": self.embed_dim, "vdim": self.embed_dim, "batch_first": False}
        return [str(self.embed_dim), str(self.num_heads), *settings.keywords(self, defaults)]

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        return f"nn.{self.module_name}({', '.join(self.arguments())})"

    def call_arguments(self) -> list[str]:
        """forward's keyword arguments besides query, key and value (torch's defaults left out)."""
        args = []
        if self.key_padding_mask:
            args.append("key_padding_mask=key_padding_mask")
        if not self.need_weights:
            args.append("need_weights=False")
        if self.attn_mask is not MaskForm.NONE:
            args.append("attn_mask=attn_mask")
        if not self.average_attn_weights:
            args.append("average_attn_weights=False")
        if self.is_causal:
            args.append("is_causal=True")
        return args


command_line = settings.Command(
    "attention",
    SETTINGS,
    {
        "batch": settings.BATCHED,
        "kdim": Rule(default=lambda spec: spec.embed_dim),
        "vdim": Rule(default=lambda spec: spec.embed_dim),
        "source_len": Rule(when=lambda spec: not spec.self_attention),
        # --causal alone gives the (L, S) mask
        "attn_mask": Rule(when=lambda spec: not (spec.is_causal and spec.attn_mask is MaskForm.TWO_D)),
        "mask_dtype": Rule(when=lambda spec: spec.has_masks),
    },
).line
