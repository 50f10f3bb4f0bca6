"""How a shape is written everywhere: as Python writes the tuple."""

from __future__ import annotations


def shape_text(shape: tuple[int, ...] | None) -> str:
    """A shape as Python writes the tuple: ``(5, 3, 50)``, ``(50,)``; ``-`` for none."""
    if shape is None:
        return "-"
    return repr(tuple(shape))
