"""A spinner on stderr while a real forward pass that may take a while runs (command line only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from torchshape import families
from torchshape.units import human_count, human_duration

# A forward pass estimated to take longer than this gets a spinner.
SPINNER_AFTER_SECONDS = 1.0


def message(spec: Any, seconds: float) -> str:
    return (
        f"forward pass on {spec.device}: {human_count(families.of(spec).macs(spec))} MACs, "
        f"estimated ≤ {human_duration(seconds)}; Ctrl-C stops it"
    )


@contextmanager
def forward_status(spec: Any, console: Console | None = None) -> Iterator[None]:
    """Show a spinner for the body when a real forward pass is estimated to be slow.

    Only when stderr is a terminal: pipes and files get nothing. On meta the forward
    pass runs at small probe sizes, so there is never one.
    """
    if spec.device == "meta":
        yield
        return
    seconds = families.of(spec).estimated_seconds(spec)
    console = console if console is not None else Console(stderr=True)
    if seconds < SPINNER_AFTER_SECONDS or not console.is_terminal:
        yield
        return
    with console.status(message(spec, seconds)):
        yield
