"""The torch side shared by every forward pass: the module, its inputs and masks, the call.

``probe`` runs the checked forward pass with these, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from torchshape.attributes import attributes
from torchshape.families.transformer.formulas import mask_dtype, symbols, tensor_formulas
from torchshape.families.transformer.spec import Layer, TransformerSpec
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch

# torch's notices about these modules that say nothing about shapes: the nested-tensor fast
# path it will not take (batch_first=False) or takes (nested tensors are a prototype), and bool
# beside float masks (the notes say so).
NOTICES = (
    r"The PyTorch API of nested tensors is in prototype stage",
    r"enable_nested_tensor is True, but self.use_nested_tensor is False",
    r"Support for mismatched \w+ and \w+ is deprecated",
    r"Converting mask without torch.bool dtype to bool",
)


@contextmanager
def hushed() -> Iterator[None]:
    with quiet(), warnings.catch_warnings():
        for message in NOTICES:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        yield


def constructor_kwargs(spec: TransformerSpec) -> dict[str, Any]:
    kwargs = attributes(spec, "d_model nhead dim_feedforward batch_first norm_first")
    if spec.layer is Layer.FULL:
        kwargs["num_encoder_layers"] = spec.num_encoder_layers
        kwargs["num_decoder_layers"] = spec.num_decoder_layers
    return kwargs


def build_module(spec: TransformerSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.Transformer, nn.TransformerEncoder
    or nn.TransformerDecoder ``spec`` describes."""
    import torch

    with hushed():
        if spec.stacked:  # nn.TransformerEncoder(encoder_layer, num_layers, norm): copies of the layer
            layer = getattr(torch.nn, f"{spec.module_name}Layer")(
                device=device, dtype=dtype, **constructor_kwargs(spec)
            )
            norm = torch.nn.LayerNorm(spec.d_model, device=device, dtype=dtype) if spec.final_norm else None
            module: torch.nn.Module = getattr(torch.nn, spec.module_name)(layer, spec.num_layers, norm=norm)
        else:
            module = getattr(torch.nn, spec.module_name)(
                device=device, dtype=dtype, **constructor_kwargs(spec)
            )
    if device.type == "meta":
        # an encoder stack's nested-tensor path (batch_first, a key padding mask, no grad) has no
        # meta kernel; without it the layers run the same shapes
        for part in module.modules():
            if isinstance(part, torch.nn.TransformerEncoder):
                part.use_nested_tensor = False
    return module.eval()


def causal_mask(length: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """nn.Transformer.generate_square_subsequent_mask: 0 on and below the diagonal, −inf above."""
    import torch

    return torch.nn.Transformer.generate_square_subsequent_mask(length, device=device, dtype=dtype)


def make_mask(
    spec: TransformerSpec, name: str, shape: tuple[int, ...], device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """A mask of ``shape`` that hides some keys but never all keys of a query.

    Attention masks hide nothing (bool False) unless causal; a padding mask hides the last
    position of every odd-numbered sample (when its sequence is longer than one).
    """
    import torch

    kind = mask_dtype(spec, name)
    if name == "tgt_mask" and spec.causal:
        return causal_mask(shape[-1], device, dtype).expand(shape).contiguous()
    hidden = torch.zeros(shape, dtype=torch.bool, device=device)
    if name.endswith("key_padding_mask") and shape[1] > 1 and device.type != "meta":
        hidden[1::2, -1] = True
    if kind == "bool":
        return hidden
    zeros = torch.zeros(shape, dtype=dtype, device=device)
    return zeros.masked_fill(hidden, float("-inf"))


def make_inputs(spec: TransformerSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Every tensor the forward takes, shaped by its formula: torch checks them when it runs."""
    import torch

    sym = symbols(spec)
    out: dict[str, torch.Tensor] = {}
    for f in tensor_formulas(spec):
        if not f.fed:
            continue
        shape = f.shape(sym)
        if f.name.endswith("mask"):
            out[f.name] = make_mask(spec, f.name, shape, device, dtype)
        elif device.type == "meta":
            out[f.name] = torch.empty(shape, device=device, dtype=dtype)
        else:
            out[f.name] = torch.randn(shape, device=device, dtype=dtype)
    return out


def call(module: torch.nn.Module, inputs: dict[str, torch.Tensor], **extra: Any) -> Any:
    """``module(...)`` with the inputs by the forward's own names (the masks by keyword)."""
    masks = {name: t for name, t in inputs.items() if name.endswith("mask")}
    kind = type(module).__name__
    if kind == "TransformerEncoderLayer":
        return module(inputs["src"], **masks, **extra)
    if kind == "TransformerDecoderLayer" or kind == "TransformerDecoder":
        return module(inputs["tgt"], inputs["memory"], **masks, **extra)
    if kind == "TransformerEncoder":  # its forward calls the attention mask ``mask``
        return module(
            inputs["src"], **{"mask" if k == "src_mask" else k: v for k, v in masks.items()}, **extra
        )
    return module(inputs["src"], inputs["tgt"], **masks, **extra)


def meta_hints(kind: str) -> dict[str, Any]:
    """nn.Transformer and the stacks compare a mask with the causal one to pick a path (mask.item()):
    no values on meta. The hint False keeps the masks themselves in use, shapes checked."""
    return {
        "Transformer": {"src_is_causal": False, "tgt_is_causal": False},
        "TransformerEncoder": {"is_causal": False},
        "TransformerDecoder": {"tgt_is_causal": False},
    }.get(kind, {})


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The output, and for nn.Transformer the memory its encoder handed the decoder."""
    kind = type(module).__name__
    full = kind == "Transformer"
    extra = meta_hints(kind) if next(iter(inputs.values())).device.type == "meta" else {}
    with hushed():
        if not full:
            return {"output": call(module, inputs, **extra)}
        memory: list[Any] = []
        hook = module.encoder.register_forward_hook(lambda _m, _i, out: memory.append(out))
        try:
            output = call(module, inputs, **extra)
        finally:
            hook.remove()
        return {"memory": memory[0], "output": output}
