"""What the layer families' --explain probes share on torch: its refusal in its own words, and
the note for values that overflowed their dtype. torch is imported by the caller, not here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torchshape import contain

# What torch raises when it refuses a call (its own checks assert, too).
REFUSALS: tuple[type[Exception], ...] = (RuntimeError, ValueError, AssertionError, TypeError)


def refusal(action: Callable[[], Any]) -> str | None:
    """torch's first line when ``action`` raises (None when it runs)."""
    try:
        action()
    except REFUSALS as error:
        return contain.message(error)
    return None


def overflow_text(t: Any) -> str:
    """Why a check on ``t``'s values proves nothing: they overflowed its dtype."""
    return f"not checkable in {str(t.dtype).removeprefix('torch.')}: values overflow"
