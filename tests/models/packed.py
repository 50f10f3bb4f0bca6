"""A recurrent layer fed a PackedSequence: padded token sequences of known lengths."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class Packed(nn.Module):
    def __init__(self, vocab: int = 30, embed: int = 8, hidden: int = 12) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed, hidden, batch_first=True)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        lengths = torch.arange(tokens.shape[1], 0, -1)[: tokens.shape[0]].clamp(min=1)
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True)
        out, _ = self.rnn(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True)
        return padded


class PackedLengths(nn.Module):
    """Padded token sequences and their lengths, both inputs of forward (Tacotron2, Conformer)."""

    def __init__(self, vocab: int = 30, embed: int = 8, hidden: int = 12) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        return padded
