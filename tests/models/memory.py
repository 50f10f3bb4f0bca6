"""Stand-ins for the memory of real models: a language model whose head reads an LSTM's
batch_first output (not contiguous: torch adds the head's bias in place only without a dispatch
mode), and small layers that load torch's meta kernels on their first call."""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn


class LanguageModel(nn.Module):
    """Embedding → 2-layer bidirectional LSTM (batch_first) → Linear head over the vocabulary:
    the head's output is most of the peak."""

    def __init__(self, vocab: int = 20000, embed: int = 64, hidden: int = 128) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(tokens))
        return self.head(out)


class Dropping(nn.Module):
    """Lets go of each intermediate as soon as the next one is made (its own ``F.linear`` on a
    transposed input, with a bias and with a 1-d weight), and notes whether it is still alive
    then: nothing but the model should hold it. ``matrix``: the last product with the vector as a
    (1, width) weight, the same MACs as a product FlopCounterMode has a formula for (mm; it has
    none for mv)."""

    def __init__(self, width: int = 16, matrix: bool = False) -> None:
        super().__init__()
        self.matrix = matrix
        self.first = nn.Linear(width, width)
        self.weight = nn.Parameter(torch.randn(width, width))
        self.bias = nn.Parameter(torch.randn(width))
        self.vector = nn.Parameter(torch.randn(width))
        self.alive: list[bool] = []
        self.refs: list[weakref.ref[torch.Tensor]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        ref = weakref.ref(h)
        g = F.linear(h.transpose(0, 1), self.weight, self.bias)
        del h
        self.alive.append(ref() is not None)
        out = F.linear(g, self.vector[None]).squeeze(-1) if self.matrix else F.linear(g, self.vector)
        self.refs.append(weakref.ref(g))
        return out


class ConvNorm(nn.Module):
    """A convolution and a batch norm: on meta their first calls load torch's meta kernels, and
    batch norm's decomposition imports torch's compiler."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.norm = nn.BatchNorm2d(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))
