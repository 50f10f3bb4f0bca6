"""A model whose forward takes a keyword argument: a padding mask for its attention."""

from __future__ import annotations

import torch
from torch import nn


class Masked(nn.Module):
    def __init__(self, vocab: int = 40, d_model: int = 16) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.attention = nn.MultiheadAttention(d_model, 2, batch_first=True)
        self.head = nn.Linear(d_model, 3)

    def forward(self, tokens: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embedding(tokens)
        attended, _ = self.attention(x, x, x, key_padding_mask=padding_mask)
        return self.head(attended)
