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
