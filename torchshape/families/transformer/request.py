"""One validation step: raw settings from the command line or the Python call become a ``TransformerSpec``.

No torch here. Every refusal torch would make at build or forward time is made here
first, as a ``UsageError`` naming the flag (``names=FLAGS``) or the Python argument
(Python's names, the default), so a bad value never reaches torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from torchshape.families.checker import Checker
from torchshape.families.transformer.spec import (
    DEFAULTS,
    MASKS_OF,
    Layer,
    MaskForm,
    PaddingForm,
    TransformerSpec,
)

E = TypeVar("E", bound=Enum)

# nn.Transformer runs its layers one after another; more than this is no shape question.
MAX_LAYERS = 1024


def make_spec(*, names: Mapping[str, str] | None = None, **raw: Any) -> TransformerSpec:
    """Validate raw settings (None or missing: the default) into the spec; a bad one is a ``UsageError``
    naming it as ``names`` say (``FLAGS`` on the command line, Python's names by default)."""
    return _Checker(names, raw).spec()


class _Checker(Checker):
    DEFAULTS = DEFAULTS

    def spec(self) -> TransformerSpec:
        v = self.values
        layer = self.choice("layer", Layer)
        d_model = self.whole("d_model")
        nhead = self.whole("nhead")
        dim_feedforward = self.whole("dim_feedforward")
        counts: dict[str, int] = {}
        for field in ("num_encoder_layers", "num_decoder_layers"):
            if layer is not Layer.FULL and self.given(field):
                raise self.error(
                    field,
                    f"only nn.Transformer takes it; add {self.n('layer')} full, or for one stack use "
                    f"{self.n('layer')} encoder-stack or decoder-stack with {self.n('num_layers')}",
                )
            counts[field] = self.whole(field, maximum=MAX_LAYERS)
        stacked = layer in (Layer.ENCODER_STACK, Layer.DECODER_STACK)
        for field in ("num_layers", "final_norm"):
            if not stacked and self.given(field) and v[field] is not False:
                raise self.error(
                    field,
                    f"only nn.TransformerEncoder and nn.TransformerDecoder take it; add {self.n('layer')} "
                    "encoder-stack or decoder-stack, or drop it",
                )
        num_layers = self.whole("num_layers", maximum=MAX_LAYERS)
        if layer is Layer.ENCODER:
            counts = {"num_encoder_layers": 1, "num_decoder_layers": 0}
        elif layer is Layer.DECODER:
            counts = {"num_encoder_layers": 0, "num_decoder_layers": 1}
        elif layer is Layer.ENCODER_STACK:
            counts = {"num_encoder_layers": num_layers, "num_decoder_layers": 0}
        elif layer is Layer.DECODER_STACK:
            counts = {"num_encoder_layers": 0, "num_decoder_layers": num_layers}
        if layer in (Layer.ENCODER, Layer.ENCODER_STACK) and self.given("target_len"):
            raise self.error(
                "target_len",
                f"an encoder layer has no target sequence; use {self.n('layer')} decoder or full, or drop it",
            )
        source_len = self.whole("source_len")
        target_len = self.whole("target_len")
        batch = self.whole("batch")
        masks: dict[str, Any] = {}
        for field in ("src_mask", "tgt_mask", "memory_mask"):
            masks[field] = self.choice(field, MaskForm)
        for field in ("src_key_padding_mask", "tgt_key_padding_mask", "memory_key_padding_mask"):
            masks[field] = self.choice(field, PaddingForm)
        causal = self.switch("causal")
        for field, form in masks.items():
            if form.value != "none" and field not in MASKS_OF[layer]:
                takes = ", ".join(self.n(m) for m in MASKS_OF[layer])
                raise self.error(field, f"nn.{_module(layer)}.forward takes no {field}; it takes {takes}")
        if causal:
            if layer in (Layer.ENCODER, Layer.ENCODER_STACK):
                raise self.error(
                    "causal",
                    f"the causal mask is tgt_mask, and an encoder layer has no target; use "
                    f"{self.n('layer')} decoder or full (or {self.n('src_mask')} 2d for a mask on src)",
                )
            if masks["tgt_mask"] is MaskForm.NONE:
                masks["tgt_mask"] = MaskForm.TWO_D
        device = self.device()
        dtype = self.dtype()
        if d_model % nhead:
            fits = [h for h in range(1, min(d_model, 64) + 1) if d_model % h == 0]
            raise self.error(
                "d_model",
                f"{d_model} is not divisible by {self.n('nhead')} {nhead} (each head gets "
                f'd_model/nhead features; torch says "embed_dim must be divisible by num_heads"); '
                f"heads that divide {d_model}: {', '.join(map(str, fits[-6:]))}",
            )
        return TransformerSpec(
            layer=layer,
            d_model=d_model,
            nhead=nhead,
            dim_feedforward=dim_feedforward,
            batch_first=self.switch("batch_first"),
            norm_first=self.switch("norm_first"),
            source_len=source_len,
            target_len=target_len,
            batch=batch,
            causal=causal,
            device=device,
            dtype=dtype,
            num_encoder_layers=counts["num_encoder_layers"],
            num_decoder_layers=counts["num_decoder_layers"],
            final_norm=self.switch("final_norm"),
            **masks,
        )


def _module(layer: Layer) -> str:
    return {
        Layer.ENCODER: "TransformerEncoderLayer",
        Layer.DECODER: "TransformerDecoderLayer",
        Layer.ENCODER_STACK: "TransformerEncoder",
        Layer.DECODER_STACK: "TransformerDecoder",
    }.get(layer, "Transformer")


__all__ = ["MAX_LAYERS", "MaskForm", "PaddingForm", "make_spec"]
