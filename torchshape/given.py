"""A layer torchshape was handed: its own weights and the tensors it was called with.

``torchshape model --layer`` and ``torchshape.inspect_module`` run a family's forward pass
inside ``given(...)``: the module the family builds from its spec loads the layer's
``state_dict``, and the input (and h_0, c_0) are the tensors the layer itself received, so
the shapes, and --explain's relations, are checked on what the user's model produced.
Outside ``given`` every family builds and feeds its module from a fixed seed. No torch here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Given:
    """The layer's ``state_dict`` and its inputs by the family's names (``input``, ``h_0``, ``c_0``);
    a name the layer was not given (h_0 when hx was None) is fed zeros, as torch does."""

    state: Mapping[str, Any]
    inputs: Mapping[str, Any]


_GIVEN: ContextVar[Given | None] = ContextVar("torchshape_given", default=None)


@contextmanager
def given(state: Mapping[str, Any], inputs: Mapping[str, Any]) -> Iterator[None]:
    """Within the body, a family's forward pass runs on these weights and inputs."""
    token = _GIVEN.set(Given(state, inputs))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def adopt(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with the given layer's weights loaded (unchanged outside ``given``)."""
    found = _GIVEN.get()
    if found is not None:
        module.load_state_dict(found.state)
    return module


def fed(inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The given layer's inputs in place of those built from the formulas (zeros where it had none);
    unchanged outside ``given``."""
    found = _GIVEN.get()
    if found is None:
        return inputs
    import torch

    return {
        name: torch.zeros_like(made)
        if found.inputs.get(name) is None
        else found.inputs[name].to(device=made.device, dtype=made.dtype)
        for name, made in inputs.items()
    }
