"""The checked settings of one transformer layer (or nn.Transformer) and the tensors it is fed.

No torch here (``torchshape transformer --help`` imports this). ``request.make_spec`` builds
a ``TransformerSpec`` from raw values; ``command_line`` writes the command that asks for it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from torchshape.options import DType, Format, output_words


class Layer(str, Enum):
    ENCODER = "encoder"
    DECODER = "decoder"
    FULL = "full"


class MaskForm(str, Enum):
    """An attention mask: none, one (L, S) for every sample and head, or (N·nhead, L, S)."""

    NONE = "none"
    TWO_D = "2d"
    THREE_D = "3d"


class PaddingForm(str, Enum):
    """A key padding mask (N, S): none, bool (True: ignore), or float (added: −inf ignores)."""

    NONE = "none"
    BOOL = "bool"
    FLOAT = "float"


# The flags that mirror a keyword argument default to torch's own default (dim_feedforward
# 2048, six encoder and six decoder layers, batch_first and norm_first off); the sizes torch
# requires (d_model, nhead, the sequences, the batch) are illustrative, each its own number
# (S, T, N, E, nhead, E/nhead, F, N·nhead all differ), so a formula that mixed two of them up
# would show; small enough to run at once on a CPU.
DEFAULTS: dict[str, Any] = {
    "layer": Layer.ENCODER,
    "d_model": 18,
    "nhead": 3,
    "dim_feedforward": 2048,
    "num_encoder_layers": None,  # 6; None: not given (refused without --layer full)
    "num_decoder_layers": None,  # 6
    "batch_first": False,
    "norm_first": False,
    "source_len": 10,
    "target_len": None,  # 7; None: not given (refused with --layer encoder)
    "batch": 4,
    "src_mask": MaskForm.NONE,
    "tgt_mask": MaskForm.NONE,
    "memory_mask": MaskForm.NONE,
    "causal": False,
    "src_key_padding_mask": PaddingForm.NONE,
    "tgt_key_padding_mask": PaddingForm.NONE,
    "memory_key_padding_mask": PaddingForm.NONE,
    "device": "cpu",
    "dtype": DType.FLOAT32,
}
DEFAULT_TARGET_LEN = 7
DEFAULT_LAYERS = 6  # nn.Transformer's num_encoder_layers and num_decoder_layers

# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = {field: "--" + field.replace("_", "-") for field in DEFAULTS}
# From Python, each setting is named by its argument: PyTorch's names.
PYTHON: dict[str, str] = {field: field for field in FLAGS}

ATTENTION_MASKS = ("src_mask", "tgt_mask", "memory_mask")
PADDING_MASKS = ("src_key_padding_mask", "tgt_key_padding_mask", "memory_key_padding_mask")
# The masks each module's forward takes.
MASKS_OF: dict[Layer, tuple[str, ...]] = {
    Layer.ENCODER: ("src_mask", "src_key_padding_mask"),
    Layer.DECODER: ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask"),
    Layer.FULL: (*ATTENTION_MASKS, *PADDING_MASKS),
}


@dataclass(frozen=True)
class TransformerSpec:
    """One nn.TransformerEncoderLayer, nn.TransformerDecoderLayer or nn.Transformer and its inputs."""

    family: ClassVar[str] = "transformer"

    layer: Layer
    d_model: int  # E
    nhead: int
    dim_feedforward: int  # F
    num_encoder_layers: int  # --layer full only (else 1: the one layer)
    num_decoder_layers: int
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

    @property
    def module_name(self) -> str:
        return {
            Layer.ENCODER: "TransformerEncoderLayer",
            Layer.DECODER: "TransformerDecoderLayer",
            Layer.FULL: "Transformer",
        }[self.layer]

    @property
    def has_target(self) -> bool:
        return self.layer is not Layer.ENCODER

    @property
    def head_dim(self) -> int:
        return self.d_model // self.nhead

    def masks(self) -> list[str]:
        """The masks this configuration passes, in the forward's order."""
        return [name for name in MASKS_OF[self.layer] if getattr(self, name).value != "none"]

    def as_dict(self) -> dict[str, Any]:
        """PyTorch's argument names and the inputs'; plain JSON values."""
        out: dict[str, Any] = {"layer": self.layer.value, "d_model": self.d_model, "nhead": self.nhead}
        out["dim_feedforward"] = self.dim_feedforward
        if self.layer is Layer.FULL:
            out["num_encoder_layers"] = self.num_encoder_layers
            out["num_decoder_layers"] = self.num_decoder_layers
        out |= {"batch_first": self.batch_first, "norm_first": self.norm_first, "source_len": self.source_len}
        out["target_len"] = self.target_len if self.has_target else None
        out["batch"] = self.batch
        for name in MASKS_OF[self.layer]:
            out[name] = getattr(self, name).value
        if self.has_target:
            out["causal"] = self.causal
        out |= {"device": self.device, "dtype": self.dtype.value}
        return out

    def arguments(self) -> list[str]:
        """The constructor's arguments as a user writes them (torch's defaults left out)."""
        args = [f"d_model={self.d_model}", f"nhead={self.nhead}"]
        if self.layer is Layer.FULL:
            if self.num_encoder_layers != 6:
                args.append(f"num_encoder_layers={self.num_encoder_layers}")
            if self.num_decoder_layers != 6:
                args.append(f"num_decoder_layers={self.num_decoder_layers}")
        if self.dim_feedforward != 2048:
            args.append(f"dim_feedforward={self.dim_feedforward}")
        if self.batch_first:
            args.append("batch_first=True")
        if self.norm_first:
            args.append("norm_first=True")
        return args

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        return f"nn.{self.module_name}({', '.join(self.arguments())})"


def command_line(
    spec: TransformerSpec,
    fmt: Format | None = None,
    *,
    explain: bool = False,
    params: bool = False,
    timing: tuple[int, int] | None = None,
    output: str | None = None,
) -> str:
    """The ``torchshape transformer ...`` command that asks for exactly ``spec``, non-default flags only.

    Parsing it back through the command line gives an equal spec (a test checks it).
    """
    words = ["torchshape", "transformer"]
    for field, flag in FLAGS.items():
        value = getattr(spec, field)
        if field in ("num_encoder_layers", "num_decoder_layers"):
            if spec.layer is Layer.FULL and value != DEFAULT_LAYERS:
                words += [flag, str(value)]
        elif field == "target_len":
            if spec.has_target and value != DEFAULT_TARGET_LEN:
                words += [flag, str(value)]
        elif field in ("batch_first", "norm_first", "causal"):
            words += [flag] if value else []
        elif field == "tgt_mask" and spec.causal and value is MaskForm.TWO_D:
            continue  # --causal alone gives the (T, T) mask
        elif isinstance(value, Enum):
            if value != DEFAULTS[field]:
                words += [flag, value.value]
        elif value != DEFAULTS[field]:
            words += [flag, str(value)]
    if explain:
        words.append("--explain")
    words += output_words(fmt, params=params, timing=timing, output=output)
    return " ".join(shlex.quote(word) for word in words)
