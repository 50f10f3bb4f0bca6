"""An LSTMCell stepped through the sequence by hand: the cell is called L times."""

from __future__ import annotations

import torch
from torch import nn


class CellLoop(nn.Module):
    def __init__(self, input_size: int = 8, hidden_size: int = 12) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(input_size, hidden_size)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (L, N, input_size)
        h = x.new_zeros(x.shape[1], self.cell.hidden_size)
        c = x.new_zeros(x.shape[1], self.cell.hidden_size)
        for step in x:
            h, c = self.cell(step, (h, c))
        return self.head(h)


model = CellLoop()  # a module object: the third form a TARGET may name
