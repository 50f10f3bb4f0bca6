"""A model built from lazy layers (``nn.LazyConv2d``, ``nn.LazyBatchNorm2d``, ``nn.LazyLinear``):
their sizes are learnt on the first forward, as in many training scripts."""

from __future__ import annotations

import torch
from torch import nn


class LazyNet(nn.Module):
    def __init__(self, channels: int = 4, classes: int = 8) -> None:
        super().__init__()
        self.conv = nn.LazyConv2d(channels, 3)
        self.norm = nn.LazyBatchNorm2d()
        self.head = nn.LazyLinear(classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.conv(x)).flatten(1))
