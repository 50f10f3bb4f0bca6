"""The expression as a module: ``forward`` evaluates it on the --tensor tensors (for the core's
``build``/``inputs``/``forward``; the command line's own run is ``probe.run``)."""

from __future__ import annotations

from typing import Any

import torch

from torchshape.families.expr.evaluate import Evaluator
from torchshape.families.expr.probe import environment
from torchshape.families.expr.spec import ExprSpec


class Expression(torch.nn.Module):  # type: ignore[misc]
    """Evaluates the checked expression; torch's error where a sub-expression fails."""

    def __init__(self, spec: ExprSpec) -> None:
        super().__init__()
        self.spec = spec

    def forward(self, env: dict[str, Any]) -> Any:
        device = next((v.device for v in env.values() if isinstance(v, torch.Tensor)), torch.device("cpu"))
        walk = Evaluator(self.spec.checked.source, self.spec.checked.tree, env, record=False).run(device)
        if walk.failure is not None:
            raise RuntimeError(walk.failure.message)
        return walk.result


def build_module(spec: ExprSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    return Expression(spec)


def make_inputs(spec: ExprSpec, device: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    return environment(spec, device)


def forward(module: torch.nn.Module, inputs: dict[str, Any]) -> Any:
    return module(inputs)
