"""Ctrl-C on the command line: one line and exit 130, at any moment, without a traceback.

The handler is installed before anything slow is imported (``torchshape.entry``), so an
interrupt during the import of typer, rich or torch ends the run the same way as one during
the forward pass. Python's own handler raises ``KeyboardInterrupt`` wherever the main thread
happens to be, and code that catches broad exceptions (torch's, the model's) can swallow it.
Here the process ends at once instead; the forward pass runs in a worker thread, so the main
thread hears the signal while torch computes. Inside ``deferred()`` (the write of
``--output``), the exit waits until the block ends, so no file is left half-written.

The Python API installs nothing: its caller owns the process and its signals.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType

EXIT_CODE = 130
# deferring: how many ``deferred`` blocks are open; pending: an interrupt came in one;
# stderr: a copy of the terminal's stderr, taken at install, for the line even while the
# user's code runs with stderr silenced (``contain.silenced``).
_state = {"deferring": 0, "pending": 0, "stderr": 2}


def install() -> None:
    """Exit 130 with one line on SIGINT, for the rest of this process (the command line only)."""
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signals here
        signal.signal(signal.SIGINT, _on_interrupt)
    with contextlib.suppress(OSError):
        _state["stderr"] = os.dup(2)


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    if _state["deferring"]:
        _state["pending"] = 1
        return
    leave()


def leave() -> None:
    """One line on stderr and exit 130 now, whatever threads are still running."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        os.write(_state["stderr"], b"torchshape: error: interrupted\n")
    os._exit(EXIT_CODE)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """An interrupt inside the block ends the run when the block is over, not in the middle of it."""
    _state["deferring"] = int(_state["deferring"]) + 1
    try:
        yield
    finally:
        _state["deferring"] = int(_state["deferring"]) - 1
        if not _state["deferring"] and _state["pending"]:
            leave()
