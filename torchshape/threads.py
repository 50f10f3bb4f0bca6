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

from torchshape.spec import RNNSpec

SMALL_MACS = 10**7  # about a few milliseconds on one core


def _rough_macs(spec: RNNSpec) -> int:
    """The matrix products' multiply-adds, near enough to tell small from large."""
    h_out = spec.proj_size or spec.hidden_size
    directions = 2 if spec.bidirectional else 1
    widest_input = max(spec.input_size, directions * h_out)
    per_step = spec.kind.gates * spec.hidden_size * (widest_input + h_out) + spec.hidden_size * h_out
    steps = spec.seq_len * (1 if spec.unbatched else spec.batch)
    return steps * spec.num_layers * directions * per_step


@contextmanager
def few_threads(spec: RNNSpec) -> Iterator[None]:
    """Run the body on one CPU thread when ``spec``'s forward pass is small."""
    import torch

    if spec.device != "cpu" or _rough_macs(spec) > SMALL_MACS:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
