"""What the layer families' counts share: the guard's margin and rates, and its refusal of a
tensor past what torch can address. Pure arithmetic, no torch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from torchshape.errors import EnvironmentProblem
from torchshape.facts import Totals

# The forward pass's peak: what it holds at once, times this margin (measured,
# tests/test_guard_peaks.py).
PEAK_MARGIN = 1.25
MACS_PER_SECOND = {"cpu": 4e9, "cuda": 1e12}  # deliberately slow guesses, for every family
ELEMENTS_PER_SECOND = 1e8  # filling parameters and inputs with random numbers
# A torch tensor's size in bytes is an int64: 2^63 − 1 bytes at most, on every device.
TORCH_MAX_BYTES = 2**63 - 1


def batch(spec: Any) -> int:
    """N: 1 for unbatched input."""
    return 1 if spec.unbatched else int(spec.batch)


def seconds(spec: Any, macs: int, filled: int) -> float:
    """A pessimistic time for ``macs`` multiply-accumulates and ``filled`` elements filled with
    random numbers, on the spec's device."""
    family = "cuda" if spec.device.startswith("cuda") else "cpu"
    return macs / MACS_PER_SECOND[family] + filled / ELEMENTS_PER_SECOND


def totals(
    spec: Any, params: int, macs: int, *, inputs: int, outputs: int, peak: int, state: int = 0
) -> Totals:
    """A layer's totals: ``params`` parameters at the spec's dtype, the bytes fed (``inputs``), held
    as state and returned (``outputs``), and the forward pass's estimated ``peak``."""
    return Totals(
        params=params,
        macs=macs,
        param_bytes=params * spec.dtype.itemsize,
        input_bytes=inputs,
        state_bytes=state,
        output_bytes=outputs,
        peak_bytes_estimate=peak,
    )


def refuse_unaddressable(
    spec: Any,
    numels: Iterable[tuple[str, int]],
    *,
    flags: Callable[[str], str] | None = None,
    advice: str = "",
) -> None:
    """Refuse the first (name, elements) whose size in bytes at the spec's dtype torch cannot
    represent; ``flags(name)``: the settings the message starts with, ``advice``: what it ends with."""
    itemsize = spec.dtype.itemsize
    for name, numel in numels:
        if numel * itemsize > TORCH_MAX_BYTES:
            lead = "" if flags is None else f"{flags(name)}: "
            raise EnvironmentProblem(
                f"{lead}{name} would hold {numel:.3g} elements of {itemsize} bytes ({spec.dtype.value}), "
                f"beyond the 2^63 - 1 bytes a torch tensor can address; use smaller sizes{advice}"
            )
