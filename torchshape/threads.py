"""One CPU thread for small forward passes.

A shape check's forward pass is small (on meta it runs at probe sizes), and it
is over before a pool of threads gets going: on two busy cores, waking torch's
pool made a 3 ms LSTM forward pass take 0.4 s. So a small pass on the CPU runs
on one thread, and torch's setting is restored afterwards. ``--time`` does not
use this: it measures the user's configuration with torch's own settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torchshape import families

SMALL_MACS = 10**7  # about a few milliseconds on one core


@contextmanager
def few_threads(spec: Any) -> Iterator[None]:
    """Run the body on one CPU thread when ``spec``'s forward pass is small."""
    import torch

    if spec.device != "cpu" or families.of(spec).macs(spec) > SMALL_MACS:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
