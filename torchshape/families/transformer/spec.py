"""One transformer layer (a stack, or nn.Transformer) and the tensors it is fed, in PyTorch's
names: its settings table and its checked spec. No torch here (``--help`` imports this)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from torchshape import settings
from torchshape.options import DType
from torchshape.options import MaskForm as MaskForm  # shared with the other attention family
from torchshape.settings import Given, Rule, option, switch


class Layer(str, Enum):
    ENCODER = "encoder"
    DECODER = "decoder"
    FULL = "full"
    ENCODER_STACK = "encoder-stack"  # nn.TransformerEncoder(encoder_layer, num_layers, norm)
    DECODER_STACK = "decoder-stack"  # nn.TransformerDecoder(decoder_layer, num_layers, norm)


class PaddingForm(str, Enum):
    """A key padding mask (N, S): none, bool (True: ignore), or float (added: −inf ignores)."""

    NONE = "none"
    BOOL = "bool"
    FLOAT = "float"


# The flags that mirror a keyword argument default to torch's own default (dim_feedforward
# 2048, six encoder and six decoder layers, batch_first and norm_first off); the sizes torch
# requires (d_model, nhead, the sequences, the batch) are illustrative, each its own number
# (S, T, N, E, nhead, E/nhead, F, N·nhead all differ), so a formula that mixed two of them up
# would show; small enough to run at once on a CPU. A stack's num_layers has no default in torch:
# 2 is an illustrative one. One row a setting of the command and the Python call
# (``torchshape.settings``).
SETTINGS = settings.table(
    option(
        "layer",
        "--layer",
        "encoder|decoder|full|encoder-stack|decoder-stack",
        "nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.Transformer, "
        "nn.TransformerEncoder or nn.TransformerDecoder.",
        "encoder",
    ),
    option("d_model", "--d-model", "INT", "E: d_model.", "18"),
    option("nhead", "--nhead", "INT", "nhead: E divides by it.", "3"),
    option("dim_feedforward", "--dim-feedforward", "INT", "F: dim_feedforward (torch's default).", "2048"),
    option(
        "num_encoder_layers",
        "--num-encoder-layers",
        "INT",
        "--layer full: encoder layers (torch's default 6).",
        fallback=6,
    ),
    option(
        "num_decoder_layers",
        "--num-decoder-layers",
        "INT",
        "--layer full: decoder layers (torch's default 6).",
        fallback=6,
    ),
    option(
        "num_layers",
        "--num-layers",
        "INT",
        "--layer encoder-stack/decoder-stack: num_layers, copies of the layer (default 2).",
        fallback=2,
    ),
    switch(
        "final_norm",
        "--final-norm",
        "--layer encoder-stack/decoder-stack: norm=nn.LayerNorm(d_model) after the last layer.",
    ),
    switch("batch_first", "--batch-first", "Sequences are (N, L, E), not (L, N, E)."),
    switch("norm_first", "--norm-first", "LayerNorm before attention and feed-forward."),
    option("source_len", "--source-len", "INT", "S: src length (memory's, for a decoder).", "10"),
    option("target_len", "--target-len", "INT", "T: tgt length (decoder, full; default 7).", fallback=7),
    option("batch", "--batch", "INT", "N: batch size.", "4", given=Given.TYPED),
    option("src_mask", "--src-mask", "none|2d|3d", "src_mask: (S, S) or (N·nhead, S, S), bool.", "none"),
    option("tgt_mask", "--tgt-mask", "none|2d|3d", "tgt_mask: (T, T) or (N·nhead, T, T), bool.", "none"),
    option(
        "memory_mask", "--memory-mask", "none|2d|3d", "memory_mask: (T, S) or (N·nhead, T, S), bool.", "none"
    ),
    switch(
        "causal",
        "--causal",
        "tgt_mask = nn.Transformer.generate_square_subsequent_mask(T): float, −inf above the diagonal.",
    ),
    option(
        "src_key_padding_mask",
        "--src-key-padding-mask",
        "none|bool|float",
        "src_key_padding_mask: (N, S).",
        "none",
    ),
    option(
        "tgt_key_padding_mask",
        "--tgt-key-padding-mask",
        "none|bool|float",
        "tgt_key_padding_mask: (N, T).",
        "none",
    ),
    option(
        "memory_key_padding_mask",
        "--memory-key-padding-mask",
        "none|bool|float",
        "memory_key_padding_mask: (N, S).",
        "none",
    ),
    explain=(
        "The causal mask (float −inf against bool), padding masks' shape and dtype, memory; checked on torch."
    ),
)
# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = settings.flags(SETTINGS)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)

ATTENTION_MASKS = ("src_mask", "tgt_mask", "memory_mask")
PADDING_MASKS = ("src_key_padding_mask", "tgt_key_padding_mask", "memory_key_padding_mask")
# The masks each module's forward takes.
MASKS_OF: dict[Layer, tuple[str, ...]] = {
    Layer.ENCODER: ("src_mask", "src_key_padding_mask"),
    Layer.DECODER: ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask"),
    Layer.FULL: (*ATTENTION_MASKS, *PADDING_MASKS),
    Layer.ENCODER_STACK: ("src_mask", "src_key_padding_mask"),
    Layer.DECODER_STACK: ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask"),
}
MODULE_NAMES: dict[Layer, str] = {
    Layer.ENCODER: "TransformerEncoderLayer",
    Layer.DECODER: "TransformerDecoderLayer",
    Layer.FULL: "Transformer",
    Layer.ENCODER_STACK: "TransformerEncoder",
    Layer.DECODER_STACK: "TransformerDecoder",
}
# A stack's layer: what each of its num_layers copies is.
LAYER_OF: dict[Layer, Layer] = {Layer.ENCODER_STACK: Layer.ENCODER, Layer.DECODER_STACK: Layer.DECODER}


class TransformerSpec(settings.Spec, family="transformer"):
    """One nn.TransformerEncoderLayer, nn.TransformerDecoderLayer or nn.Transformer and its inputs."""

    layer: Layer
    d_model: int  # E
    nhead: int
    dim_feedforward: int  # F
    num_encoder_layers: int  # --layer full; an encoder stack's num_layers; 1 for one encoder layer
    num_decoder_layers: int  # --layer full; a decoder stack's num_layers; 1 for one decoder layer
    batch_first: bool
    norm_first: bool
    source_len: int  # S: src, or memory for a decoder layer
    target_len: int  # T: tgt (unused by an encoder layer)
    batch: int  # N
    src_mask: MaskForm
    tgt_mask: MaskForm
    memory_mask: MaskForm
    causal: bool  # tgt_mask from nn.Transformer.generate_square_subsequent_mask(T)
    src_key_padding_mask: PaddingForm
    tgt_key_padding_mask: PaddingForm
    memory_key_padding_mask: PaddingForm
    device: str
    dtype: DType
    final_norm: bool = False  # a stack's norm=nn.LayerNorm(d_model)

    @property
    def module_name(self) -> str:
        return MODULE_NAMES[self.layer]

    @property
    def stacked(self) -> bool:
        """nn.TransformerEncoder or nn.TransformerDecoder: num_layers copies of one layer."""
        return self.layer in LAYER_OF

    @property
    def encoder_only(self) -> bool:
        """One encoder layer or a stack of them: src in, src's shape out."""
        return self.layer in (Layer.ENCODER, Layer.ENCODER_STACK)

    @property
    def decoder_only(self) -> bool:
        """One decoder layer or a stack of them: tgt and memory in."""
        return self.layer in (Layer.DECODER, Layer.DECODER_STACK)

    @property
    def num_layers(self) -> int:
        """A stack's num_layers."""
        return self.num_encoder_layers if self.encoder_only else self.num_decoder_layers

    @property
    def has_target(self) -> bool:
        return not self.encoder_only

    @property
    def head_dim(self) -> int:
        return self.d_model // self.nhead

    def masks(self) -> list[str]:
        """The masks this configuration passes, in the forward's order."""
        return [name for name in MASKS_OF[self.layer] if getattr(self, name).value != "none"]

    def as_dict(self) -> dict[str, Any]:
        """PyTorch's argument names and the inputs'; plain JSON values."""
        names = ["layer", "d_model", "nhead", "dim_feedforward"]
        names += ["num_encoder_layers", "num_decoder_layers"] if self.layer is Layer.FULL else []
        names += ["num_layers", "final_norm"] if self.stacked else []
        names += ["batch_first", "norm_first", "source_len", "target_len", "batch", *MASKS_OF[self.layer]]
        out = settings.config(self, [*names, *(["causal"] if self.has_target else []), "device", "dtype"])
        out["target_len"] = self.target_len if self.has_target else None
        return out

    def arguments(self) -> list[str]:
        """The constructor's arguments as a user writes them (torch's defaults left out)."""
        defaults = {"num_encoder_layers": 6, "num_decoder_layers": 6} if self.layer is Layer.FULL else {}
        defaults |= {"dim_feedforward": 2048, "batch_first": False, "norm_first": False}
        return [f"d_model={self.d_model}", f"nhead={self.nhead}", *settings.keywords(self, defaults)]

    def stack_arguments(self, layer: str, norm: str) -> list[str]:
        """A stack's arguments around ``layer`` (its layer's constructor call) and ``norm``."""
        args = [layer, f"num_layers={self.num_layers}"]
        return [*args, f"norm={norm}"] if self.final_norm else args

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        if self.stacked:
            inner = f"nn.{self.module_name}Layer({', '.join(self.arguments())})"
            args = self.stack_arguments(inner, f"nn.LayerNorm({self.d_model})")
            return f"nn.{self.module_name}({', '.join(args)})"
        return f"nn.{self.module_name}({', '.join(self.arguments())})"


command_line = settings.Command(
    "transformer",
    SETTINGS,
    {
        "num_encoder_layers": Rule(when=lambda spec: spec.layer is Layer.FULL),
        "num_decoder_layers": Rule(when=lambda spec: spec.layer is Layer.FULL),
        "num_layers": Rule(when=lambda spec: spec.stacked),
        "target_len": Rule(when=lambda spec: spec.has_target),
        # --causal alone gives the (T, T) mask
        "tgt_mask": Rule(when=lambda spec: not (spec.causal and spec.tgt_mask is MaskForm.TWO_D)),
    },
).line
