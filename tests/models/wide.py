"""Models whose trace rows are wide: a multi-task network with 30 heads returning a tuple of 30
tensors, deep paths with long names, a concatenation of many tensors in the model's own code."""

from __future__ import annotations

import torch
from torch import nn


class AttributeHeads(nn.Module):
    """One small head per attribute, as a multi-task classifier has (the names are long)."""

    def __init__(self, features: int, tasks: int) -> None:
        super().__init__()
        name = "fine_grained_attribute_classifier_number_{}"
        self.heads = nn.ModuleDict({name.format(i): nn.Linear(features, 2 + i) for i in range(tasks)})

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(head(x) for head in self.heads.values())


class MultiTask(nn.Module):
    """A shared 3-D encoder, then 30 heads; the model returns their 30 outputs and their
    concatenation, each with the volume's five dimensions kept."""

    def __init__(self, tasks: int = 30) -> None:
        super().__init__()
        self.shared_volumetric_feature_encoder = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU())
        self.per_attribute_prediction_heads = AttributeHeads(4, tasks)

    def forward(self, volume: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features = self.shared_volumetric_feature_encoder(volume).permute(0, 2, 3, 4, 1)
        outputs = self.per_attribute_prediction_heads(features)
        return (*outputs, torch.cat(outputs, dim=-1))


class MultiView(nn.Module):
    """A multi-view network: any number of views, one shared encoder, their codes concatenated."""

    def __init__(self, features: int = 8) -> None:
        super().__init__()
        self.encoder = nn.Linear(features, features)

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        return self.encoder(torch.cat(views, dim=0))
