"""Our own copies of torchinfo's test models (torchinfo's tests/fixtures/models.py, MIT), for
``torchshape.summary``: the totals torchinfo's golden outputs give for them are in test_summary.py."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


class SingleInputNet(nn.Module):
    """Simple CNN model."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(0.3)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class MultipleInputNetDifferentDtypes(nn.Module):
    """Two inputs of different dtypes."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1a = nn.Linear(300, 50)
        self.fc1b = nn.Linear(50, 10)
        self.fc2a = nn.Linear(300, 50)
        self.fc2b = nn.Linear(50, 10)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        x1 = self.fc1b(F.relu(self.fc1a(x1)))
        x2 = self.fc2b(F.relu(self.fc2a(x2.type(torch.float))))
        return F.log_softmax(torch.cat((x1, x2), 0), dim=1)


class LSTMNet(nn.Module):
    """An embedding, a two-layer sequence-first LSTM and a decoder."""

    def __init__(
        self, vocab_size: int = 20, embed_dim: int = 300, hidden_dim: int = 512, num_layers: int = 2
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.encoder = nn.LSTM(embed_dim, hidden_dim, num_layers=num_layers)
        self.decoder = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        out, hidden = self.encoder(self.embedding(x))
        out = self.decoder(out)
        return out.view(-1, out.size(2)), hidden


class ContainerChildModule(nn.Module):
    """A Sequential called whole and looped over, its layers called outside its forward."""

    def __init__(self) -> None:
        super().__init__()
        self._sequential = nn.Sequential(nn.Linear(5, 5), nn.Linear(5, 5))
        self._between = nn.Linear(5, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._between(self._sequential(x))
        for layer in self._sequential:
            out = layer(out)
        out = self._sequential(x)
        for layer in self._sequential:
            out = layer(out)
        return cast(torch.Tensor, out)


class ContainerModule(nn.Module):
    """A ModuleList holding a nested module (and a None, filtered out)."""

    def __init__(self) -> None:
        super().__init__()
        self._layers = nn.ModuleList()
        self._layers.append(nn.Linear(5, 5))
        self._layers.append(ContainerChildModule())
        self._layers.append(nn.Linear(5, 5))
        self._layers.append(None)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self._layers:
            if layer is not None:
                out = layer(out)
        return out


class MixedTrainableParameters(nn.Module):
    """A trainable and a frozen parameter in one module."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(10), requires_grad=True)
        self.b = nn.Parameter(torch.zeros(10), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w * x + self.b


class TiedWeightsModel(nn.Module):
    """One parameter shared by an embedding and the output head (tied weights)."""

    def __init__(self, vocab_size: int = 1000, embed_dim: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.head = nn.Linear(embed_dim, vocab_size, bias=False)
        self.head.weight = self.embedding.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.head(self.embedding(x)))
