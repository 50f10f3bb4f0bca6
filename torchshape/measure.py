"""Memory as the process sees it: the measured peak of a run, and how the command line's own
process hands freed tensors back to the system. No torch at import.

On Linux with glibc, a tensor smaller than malloc's mmap threshold comes from the C heap. glibc
raises that threshold to the size of each mmapped block freed (up to 32 MiB), so after the first
freed activation every later one comes from the heap; the small objects a trace keeps between
them (the records of each call, the shapes) split the freed blocks, and the heap grows by
layers' worth of freed activations that no tensor uses (BERT-base: about 300 MB above the
tensors). ``command_line_process`` fixes the threshold at glibc's default instead: every tensor
from 128 KiB up is mapped on its own and returned to the system when torch frees it, so the
process's resident memory follows the tensors alive. Only the command line's own process does
so; a Python program that imports torchshape keeps its malloc as it was.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import torch

# glibc's M_MMAP_THRESHOLD, and its default: blocks from this size up are mapped on their own
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024
# Resident growth under this says nothing about the run's tensors when the threshold is fixed:
# pages of code and torch's first-call tables (a few MB). When it moves, the heap's slack
# (``guard.HEAP_SLACK_BYTES``).
FIXED_SLACK_BYTES = 8 * 2**20

T = TypeVar("T")

_OWN: list[bool] = []  # set once: this process is the command line's


def command_line_process() -> None:
    """This process is torchshape's command line: freed tensors go back to the system (see the
    module's note), and the guard's trial on meta may run in a forked child (``own_process``)."""
    if _OWN:
        return
    _OWN.append(_fix_mmap_threshold())


def own_process() -> bool:
    """True in the command line's own process (``command_line_process``), not in a Python program
    that imports torchshape."""
    return bool(_OWN)


def threshold_fixed() -> bool:
    """True when this process maps every block from 128 KiB up on its own (glibc, command line)."""
    return bool(_OWN) and _OWN[0]


def _fix_mmap_threshold() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is None or not getattr(libc, "gnu_get_libc_version", None):
            return False  # not glibc (musl keeps no dynamic threshold)
        return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


class Measure:
    """The measured peak of a real run, from before the model is built to the end of its forward:
    on the CPU the growth of resident memory (up to the process's highest), on CUDA the
    allocator's peak."""

    def __init__(self, device: torch.device) -> None:
        import torch

        self.device = device
        self.start: int | None = None
        self.peak_start: int | None = None
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            self.start = int(torch.cuda.memory_allocated(device))
        elif device.type == "cpu":
            reset_peak_resident()  # Linux: the peak starts again from now, not from the meta trial's
            self.start, self.peak_start = resident_bytes(), peak_resident_bytes()

    def measured(self) -> int | None:
        import torch

        from torchshape.guard import HEAP_SLACK_BYTES

        if self.device.type == "cuda" and self.start is not None:
            return int(torch.cuda.max_memory_allocated(self.device)) - self.start
        peak = peak_resident_bytes()
        if self.start is None or self.peak_start is None or peak is None or peak <= self.peak_start:
            return None  # the run stayed under an earlier peak of the process: not measured
        grown = peak - self.start
        # below the C heap's slack, resident memory says nothing about the run's tensors
        return grown if grown >= (FIXED_SLACK_BYTES if threshold_fixed() else HEAP_SLACK_BYTES) else None


def resident_bytes() -> int | None:
    """This process's resident memory now (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def reset_peak_resident() -> None:
    """Start the process's peak resident memory (VmHWM) again from its present size, where Linux
    lets a process do so; elsewhere the peak stays the process's highest."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def peak_resident_bytes() -> int | None:
    """The most resident memory this process has held since the last reset (Linux: VmHWM), or
    since it began (ru_maxrss)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (ImportError, OSError):
        return None
    return peak if sys.platform == "darwin" else peak * 1024


def in_child(work: Callable[[], T]) -> T | None:
    """``work()`` in a forked child of this process, its result sent back pickled: whatever the
    work imports and allocates leaves with the child. None where it cannot run so (not the
    command line's own process, no fork, not Linux) or the child sent nothing back (it died, or
    its result does not pickle); an exception ``work`` raised is raised here, when it pickles."""
    if not own_process() or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return None
    import pickle
    import signal
    import warnings

    parent = os.getpid()
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12: fork() beside other threads
        pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            _die_with(parent)
            os.close(read)
            try:
                answer: tuple[str, Any] = ("value", work())
            except Exception as exc:
                answer = ("raised", exc)
            try:
                data = pickle.dumps(answer)
            except Exception:
                data = b""
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    try:
        with os.fdopen(read, "rb") as pipe:
            chunks.append(pipe.read())
        os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    try:
        kind, value = pickle.loads(b"".join(chunks))
    except Exception:
        return None
    if kind == "raised":
        raise value
    result: T = value
    return result


def _die_with(parent: int) -> None:
    """This forked child is killed when its parent ends (Linux ``PR_SET_PDEATHSIG``): Ctrl-C
    ends the command line's process at once (``interrupt.leave``), and a child left running the
    model's code would hold the parent's stdout and stderr open."""
    import ctypes
    import signal

    set_death_signal = 1  # PR_SET_PDEATHSIG
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(set_death_signal, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the call
        os._exit(1)
