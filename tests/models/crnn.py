"""A CRNN: convolutions and pools, then the columns as a sequence for a bidirectional LSTM."""

from __future__ import annotations

import torch
from torch import nn


class CRNN(nn.Module):
    def __init__(self, classes: int = 20, hidden: int = 24) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d((2, 1)),
        )
        self.flatten = nn.Flatten(1, 2)
        self.rnn = nn.LSTM(16 * 8, hidden, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        columns = self.flatten(self.features(image))  # (N, C·H, W)
        sequence = columns.permute(2, 0, 1)  # (W, N, C·H): the width is the time axis
        output, _ = self.rnn(sequence)
        return self.classifier(output)
