"""The torch side shared by every forward pass: the module, its input, the call.

``probe`` runs the checked forward pass with these, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.attributes import attributes
from torchshape.families.conv.formulas import symbols, tensor_formulas
from torchshape.families.conv.spec import ConvSpec
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


def constructor_kwargs(spec: ConvSpec) -> dict[str, Any]:
    kwargs = attributes(spec, "stride padding dilation groups bias") | {
        "padding_mode": spec.padding_mode.value
    }
    if spec.transposed:
        # with output_size, the module keeps torch's default and forward works it out
        kwargs["output_padding"] = (0,) * spec.dims if spec.output_size is not None else spec.output_padding
    return kwargs


def build_module(spec: ConvSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.ConvNd or nn.ConvTransposeNd that ``spec`` describes."""
    import torch

    module_class = getattr(torch.nn, spec.module_name)
    with quiet():
        module: torch.nn.Module = module_class(
            spec.in_channels,
            spec.out_channels,
            spec.kernel_size,
            device=device,
            dtype=dtype,
            **constructor_kwargs(spec),
        )
    # forward(input, output_size=...) is part of the call, not the module: the module carries it
    # to ``forward`` (which the timed runs share), as the user's own call would pass it
    module.torchshape_output_size = spec.output_size
    return module.eval()


def make_inputs(spec: ConvSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """``input``, shaped by its formula: torch checks it when it runs."""
    import torch

    shape = tensor_formulas(spec)[0].shape(symbols(spec))
    if device.type == "meta":
        return {"input": torch.empty(shape, device=device, dtype=dtype)}
    return {"input": torch.randn(shape, device=device, dtype=dtype)}


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    with quiet():  # torch warns that an uneven 'same' copies the input; the notes say so
        output_size = getattr(module, "torchshape_output_size", None)
        if output_size is not None:
            return {"output": module(inputs["input"], output_size=list(output_size))}
        return {"output": module(inputs["input"])}
