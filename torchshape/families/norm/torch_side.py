"""The torch side shared by every forward pass: the module, its input, the call.

``probe`` runs the checked forward pass with these, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchshape.families.norm.spec import NormSpec

if TYPE_CHECKING:
    import torch


def build_module(spec: NormSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.*Norm* that ``spec`` describes, in training or eval mode as asked."""
    import torch

    args, kwargs = spec.module_arguments()
    module: torch.nn.Module = getattr(torch.nn, spec.module_name)(*args, **kwargs, device=device, dtype=dtype)
    return module.train(spec.train)


def make_inputs(spec: NormSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The input, N(0, 1), shaped by the formula: torch checks it when it runs."""
    import torch

    if device.type == "meta":
        return {"input": torch.empty(spec.input_shape, device=device, dtype=dtype)}
    return {"input": torch.randn(spec.input_shape, device=device, dtype=dtype)}


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Call the module as users do."""
    return {"output": module(inputs["input"])}
