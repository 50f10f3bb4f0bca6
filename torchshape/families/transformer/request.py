"""``make_spec``: a transformer's settings checked into a ``TransformerSpec``, each refusal torch
would make at build or forward time made here first (``checker.Checker``). No torch here."""

from __future__ import annotations

from torchshape.families.checker import Checker
from torchshape.families.transformer.spec import (
    ATTENTION_MASKS,
    DEFAULTS,
    MASKS_OF,
    MODULE_NAMES,
    PADDING_MASKS,
    Layer,
    MaskForm,
    PaddingForm,
    TransformerSpec,
)

# nn.Transformer runs its layers one after another; more than this is no shape question.
MAX_LAYERS = 1024


class _Checker(Checker[TransformerSpec]):
    DEFAULTS = DEFAULTS

    def spec(self) -> TransformerSpec:
        layer = self.choice("layer", Layer)
        self.whole("d_model")
        self.whole("nhead")
        self.whole("dim_feedforward")
        for field in ("num_encoder_layers", "num_decoder_layers"):
            if layer is not Layer.FULL and self.given(field):
                raise self.error(
                    field,
                    f"only nn.Transformer takes it; add {self.n('layer')} full, or for one stack use "
                    f"{self.n('layer')} encoder-stack or decoder-stack with {self.n('num_layers')}",
                )
            self.whole(field, maximum=MAX_LAYERS)
        stacked = layer in (Layer.ENCODER_STACK, Layer.DECODER_STACK)
        for field in ("num_layers", "final_norm"):
            if not stacked and self.given(field) and self.values[field] is not False:
                raise self.error(
                    field,
                    f"only nn.TransformerEncoder and nn.TransformerDecoder take it; add {self.n('layer')} "
                    "encoder-stack or decoder-stack, or drop it",
                )
        num_layers = self.whole("num_layers", maximum=MAX_LAYERS)
        if layer is not Layer.FULL:  # one layer, or a stack of num_layers
            each, encoder = num_layers if stacked else 1, layer in (Layer.ENCODER, Layer.ENCODER_STACK)
            self.keep("num_encoder_layers", each if encoder else 0)
            self.keep("num_decoder_layers", 0 if encoder else each)
        if layer in (Layer.ENCODER, Layer.ENCODER_STACK) and self.given("target_len"):
            raise self.error(
                "target_len",
                f"an encoder layer has no target sequence; use {self.n('layer')} decoder or full, or drop it",
            )
        for field in ("source_len", "target_len", "batch"):
            self.whole(field)
        self._masks(layer)
        self.device()
        self.dtype()
        self.divisible(
            "d_model",
            "nhead",
            ' (each head gets d_model/nhead features; torch says "embed_dim must be divisible by num_heads")',
            offer="heads",
            most=64,
            shown=6,
        )
        for field in ("batch_first", "norm_first", "final_norm"):
            self.switch(field)
        return self.made(TransformerSpec)

    def _masks(self, layer: Layer) -> None:
        """The masks' forms, each one the layer's forward takes; ``causal`` sets tgt_mask's."""
        for field in (*ATTENTION_MASKS, *PADDING_MASKS):
            self.choice(field, MaskForm if field in ATTENTION_MASKS else PaddingForm)
        causal = self.switch("causal")
        for field in (*ATTENTION_MASKS, *PADDING_MASKS):
            if self.checked[field].value != "none" and field not in MASKS_OF[layer]:
                takes = ", ".join(self.n(m) for m in MASKS_OF[layer])
                raise self.error(
                    field, f"nn.{MODULE_NAMES[layer]}.forward takes no {field}; it takes {takes}"
                )
        if causal:
            if layer in (Layer.ENCODER, Layer.ENCODER_STACK):
                raise self.error(
                    "causal",
                    f"the causal mask is tgt_mask, and an encoder layer has no target; use "
                    f"{self.n('layer')} decoder or full (or {self.n('src_mask')} 2d for a mask on src)",
                )
            if self.checked["tgt_mask"] is MaskForm.NONE:
                self.keep("tgt_mask", MaskForm.TWO_D)


make_spec = _Checker.make_spec
__all__ = ["MAX_LAYERS", "MaskForm", "PaddingForm", "make_spec"]
