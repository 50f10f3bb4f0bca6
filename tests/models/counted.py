"""Layers whose MACs torchshape counts twice over, by their family's formula and by the operations
torch runs: a convolution and a linear head of any configuration, and a LoRA-adapted linear layer
(as minLoRA writes it: a parametrization that adds a low-rank product to an nn.Linear's weight)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

_CONV = {
    (1, False): nn.Conv1d,
    (2, False): nn.Conv2d,
    (3, False): nn.Conv3d,
    (1, True): nn.ConvTranspose1d,
    (2, True): nn.ConvTranspose2d,
    (3, True): nn.ConvTranspose3d,
}


class ConvHead(nn.Module):
    """A convolution (transposed or not) of any settings, then a linear layer over its channels."""

    def __init__(
        self,
        dims: int = 2,
        in_channels: int = 2,
        out_channels: int = 4,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        transposed: bool = False,
        features: int = 5,
    ) -> None:
        super().__init__()
        self.conv = _CONV[dims, transposed](
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        self.head = nn.Linear(out_channels, features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).movedim(1, -1))


class LoRAParametrization(nn.Module):
    """minLoRA's LoRA: the weight W computed as W + B·A·(alpha / r), registered on the layer with
    torch.nn.utils.parametrize, so that the layer stays an nn.Linear."""

    def __init__(self, fan_in: int, fan_out: int, rank: int = 4, lora_alpha: int = 1) -> None:
        super().__init__()
        self.lora_A = nn.Parameter(torch.zeros(rank, fan_in))
        self.lora_B = nn.Parameter(torch.zeros(fan_out, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = lora_alpha / rank

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return X + torch.matmul(self.lora_B, self.lora_A).view(X.shape) * self.scaling


class Adapted(nn.Module):
    """A LoRA-adapted projection (minLoRA's add_lora) and a plain one after it."""

    def __init__(self, features: int = 16, r: int = 4) -> None:
        super().__init__()
        self.query = nn.Linear(features, features)
        parametrize.register_parametrization(self.query, "weight", LoRAParametrization(features, features, r))
        self.out = nn.Linear(features, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.query(x))
