"""A model whose forward takes one tuple of tensors, as a siamese network or a training step's
``forward(batch)`` does: ``x1, x2 = pair``. Given one tensor, Python unpacks it along dim 0."""

from __future__ import annotations

import torch
from torch import nn


class Siamese(nn.Module):
    """One encoder applied to both halves of a pair, their codes joined by a head."""

    def __init__(self, features: int = 8, hidden: int = 4) -> None:
        super().__init__()
        self.encoder = nn.Linear(features, hidden)
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, pair: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x1, x2 = pair
        return self.head(torch.cat([self.encoder(x1), self.encoder(x2)], dim=-1))


class TwoInputs(nn.Module):
    """The same model with the pair as two arguments of forward."""

    def __init__(self, features: int = 8, hidden: int = 4) -> None:
        super().__init__()
        self.siamese = Siamese(features, hidden)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.siamese((x1, x2))


class PointerPick(nn.Module):
    """A pointer network's last step: token ids feed an embedding; positions (integers too) pick
    one row per batch item and feed no embedding."""

    def __init__(self, vocab: int = 50, hidden: int = 8) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        codes = self.embed(tokens)
        return codes[torch.arange(codes.shape[0]), positions]
