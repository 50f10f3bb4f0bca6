"""A transformer encoder over embedded tokens, with a classification head."""

from __future__ import annotations

import torch
from torch import nn


class TinyTransformer(nn.Module):
    def __init__(self, vocab: int = 50, d_model: int = 32, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.encoder(self.embedding(tokens))).mean(dim=1))


def build() -> nn.Module:
    """A function returning a module: the other form a TARGET may name."""
    return TinyTransformer(layers=1)


class EmbedEncodeAttend(nn.Module):
    """An embedding, a transformer encoder layer and attention over its output."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.enc = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        self.mha = nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.enc(self.emb(tokens))
        return self.mha(h, h, h)[0]
