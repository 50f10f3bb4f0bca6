"""A model whose Linear expects the wrong width: forward fails in ``head``."""

from __future__ import annotations

import torch
from torch import nn


class Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3)
        self.head = nn.Linear(12, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))


class BrokenLSTM(nn.Module):
    """(a) The LSTM expects input_size 30; the embedding gives 32."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 32)
        self.rnn = nn.LSTM(30, 16, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.emb(x))
        return out


class BrokenFlatten(nn.Module):
    """(b) Linear after conv, pool and flatten: 8·5·5 = 200 features arrive, 100 expected."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(100, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flat(self.pool(self.conv(x))))


class BrokenConv(nn.Module):
    """(c) The second convolution expects 8 channels; the first gives 16."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(8, 4, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class BrokenView(nn.Module):
    """Forward itself fails (a view that does not fit): no layer to rebuild."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).view(-1, 7)


class BrokenHandoff(nn.Module):
    """(d) A bidirectional encoder's h_n, (2, N, 16), handed to a one-direction GRU decoder
    that needs h_0 of (1, N, 16)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.encoder = nn.GRU(8, 16, batch_first=True, bidirectional=True)
        self.decoder = nn.GRU(8, 16, batch_first=True)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _, h_n = self.encoder(self.embedding(source))
        decoded, _ = self.decoder(self.embedding(target), h_n)
        return decoded


class BrokenHandoffLSTM(nn.Module):
    """(d) The same with LSTMs of two layers: (h_n, c_n) of (4, N, 16) into a decoder of two layers."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.LSTM(8, 16, num_layers=2, bidirectional=True)
        self.decoder = nn.LSTM(8, 16, num_layers=2)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _, state = self.encoder(source)
        decoded, _ = self.decoder(target, state)
        return decoded


class BrokenKernel(nn.Module):
    """(e) After two poolings an 8 × 8 image is 2 × 2; the last convolution's 3 × 3 kernel does not fit."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class BrokenPoolKernel(nn.Module):
    """(e) A pool whose window is larger than what arrives: 3 steps, a window of 4."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 3)
        self.pool = nn.MaxPool1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class BrokenPositions(nn.Module):
    """(f) A position table of 8 rows fed the positions of a sequence of 12: index out of range."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = nn.Embedding(100, 16)
        self.positions = nn.Embedding(8, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        where = torch.arange(x.shape[1], device=x.device).expand_as(x)
        return self.tokens(x) + self.positions(where)


class SeqFirstByMistake(nn.Module):
    """Tokens (N, L) through an embedding into a sequence-first LSTM (batch_first=False): torch
    reads the (N, L, E) it gets as (L, N, E) without complaint. The trace warns."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(100, 8)
        self.rnn = nn.LSTM(8, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embedding(x))
        return self.head(out[-1])


class ConvThenSeqFirst(nn.Module):
    """A CRNN whose features (N, W, C) go into a sequence-first GRU: the convolution fixes N."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(3, 8, 3, padding=1)
        self.rnn = nn.GRU(8, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.conv(x).permute(0, 2, 1))
        return out
