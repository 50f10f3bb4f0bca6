"""Calls torch accepted that usually mean a mistake: warnings with their evidence, not errors.

The one known today: a sequence-first recurrent layer (``batch_first=False``) whose input's
first dimension is the model input's batch size. torch reads that dimension as L, the
sequence length, without complaint; most often the input was (N, L, H_in). The evidence is
checked: the same layer built with ``batch_first=True`` runs on the tensor that arrived, and
its h_n then has the model's batch size as N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torchshape.attributes import json_object
from torchshape.shapes import shape_text

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class Suspicion:
    layer: str  # the module's path
    type: str  # nn.LSTM
    message: str  # what looks wrong, in one sentence
    evidence: str  # what torch showed when asked
    verified: bool  # torch ran the check that the evidence describes

    @property
    def shown_layer(self) -> str:
        return self.layer or "(model)"

    def lines(self) -> list[str]:
        return [f"⚠ warning: {self.shown_layer} ({self.type}): {self.message}", f"  {self.evidence}"]

    def as_dict(self) -> dict[str, Any]:
        return json_object(self)


def sequence_first(
    module: nn.Module, path: str, args: tuple[Any, ...], batch: int | None, source: str
) -> Suspicion | None:
    """A batch_first=False recurrent layer whose input's dimension 0 is the model's batch size."""
    import torch
    from torch import nn

    from torchshape.families.diagnosis import type_name

    if batch is None or not isinstance(module, nn.RNNBase) or module.batch_first or not args:
        return None
    x = args[0]
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        return None
    length, n = int(x.shape[0]), int(x.shape[1])
    if length != batch or n == batch:
        return None
    h_n = _rebuilt_h_n(module, x)
    verified = h_n is not None and h_n[1] == batch
    message = (
        f"batch_first=False read its input {shape_text(tuple(x.shape))} as (L, N, H_in): L = {length}, "
        f"N = {n}; but {length} is the batch size ({source}), so the input is probably (N, L, H_in)"
    )
    if verified and h_n is not None:
        evidence = (
            f"with batch_first=True torch reads N = {batch}: h_n {shape_text(h_n)} ✓ torch ran it on the "
            f"tensor that arrived; or transpose the input: x.transpose(0, 1)"
        )
    else:
        evidence = "torch did not run the layer with batch_first=True on the tensor that arrived"
    return Suspicion(path, type_name(module), message, evidence, verified)


def _rebuilt_h_n(module: nn.Module, x: torch.Tensor) -> tuple[int, ...] | None:
    from torchshape.families.diagnosis import run_rebuilt
    from torchshape.families.model.diagnose import arguments

    try:
        _, (_, state) = run_rebuilt(module, arguments(module), {"batch_first": True}, x)
    except Exception:
        return None
    h = state[0] if isinstance(state, tuple) else state
    return tuple(int(d) for d in h.shape)
