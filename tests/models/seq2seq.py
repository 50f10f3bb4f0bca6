"""A seq2seq model: an embedding, a bidirectional LSTM encoder and a GRU decoder."""

from __future__ import annotations

import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab: int = 100, embed: int = 16, hidden: int = 32) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.encoder = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)
        self.decoder = nn.GRU(embed, hidden, batch_first=True)
        self.dropout = nn.Dropout(0.1)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.encoder(self.embedding(source))
        h_0 = torch.tanh(self.bridge(torch.cat([h_n[0], h_n[1]], dim=-1))).unsqueeze(0)
        decoded, _ = self.decoder(self.embedding(target), h_0)
        return self.out(self.dropout(decoded))
