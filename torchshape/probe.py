"""What every family's forward pass reports, and the device it runs on.

The families' own torch sides (``torchshape.families.*.probe``) fill a ``ProbeRun``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torchshape.errors import EnvironmentProblem

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ProbeRun:
    """What one real forward pass did."""

    device: str  # where the forward pass ran
    dtype: str
    torch_version: str
    spec: Any  # the family's spec that actually ran (RNN on meta: at probe sizes)
    sizes: Any  # the symbol values of that run (``.as_dict()``)
    shapes: dict[str, tuple[int, ...]]  # every tensor fed and returned, by name
    error: str | None  # torch's own message if it refused the inputs built from the formulas
    reduced: bool  # True when it ran at probe sizes on the CPU in place of the meta device
    analysis: Any = None  # what --explain and the family's other flags checked here (``.ok``)
    # named_parameters() of the module at the user's sizes: the one that ran, or on meta
    # the same module built at full size on the meta device (nothing allocated, no forward)
    parameters: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # how many layers of ``parameters`` torch built; None: all of them (rnn on meta: see its probe)
    parameter_layers: int | None = None
    # --diagram: the family's drawing (``torchshape.diagram``), its mappings checked on this pass
    diagram: Any = None


def resolve_device(name: str) -> torch.device:
    """The torch device for ``--device``, or EnvironmentProblem if this machine lacks it."""
    import torch

    flag = "--device"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EnvironmentProblem(f"{flag} {name}: no CUDA device is available on this machine")
        index = int(name.split(":")[1]) if ":" in name else 0
        count = torch.cuda.device_count()
        if index >= count:
            have = ", ".join(f"cuda:{i}" for i in range(count))
            raise EnvironmentProblem(f"{flag} {name}: this machine has {count} CUDA device(s): {have}")
    elif name == "mps" and not torch.backends.mps.is_available():
        raise EnvironmentProblem(f"{flag} mps: the Apple MPS backend is not available on this machine")
    return torch.device(name)
