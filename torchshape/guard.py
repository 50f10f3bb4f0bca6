"""Refuse what cannot run before anything is allocated; keep what runs interruptible.

``check`` compares the estimated peak of the forward pass (the family's counts) with
the memory the device has free, and refuses tensors too large for torch to address.
On the CPU it runs before torch is imported, so a refusal costs a fraction of a
second. ``interruptible`` runs a torch call in a worker thread: torch's kernels do
not look at signals, so a forward pass in the main thread would hear Ctrl-C only
when it ended.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from torchshape import families
from torchshape.errors import EnvironmentProblem
from torchshape.units import human_bytes, human_count, human_duration

T = TypeVar("T")

# A torch tensor's size in bytes is an int64: 2^63 − 1 bytes at most, on every device.
TORCH_MAX_BYTES = 2**63 - 1
# What importing torch adds to the process when the guard runs before it (measured
# about 213 MB of resident memory for the CPU build).
TORCH_RUNTIME_BYTES = 256 * 2**20
# Tensors under 32 MiB come from the C heap, which keeps some freed blocks: measured
# up to about 30 MB of resident memory above the tensors themselves.
HEAP_SLACK_BYTES = 64 * 2**20
# cgroup v1 reports "no limit" as a number near 2^63.
_NO_LIMIT = 2**60
_POLL_SECONDS = 0.05
# A real forward pass (with --time: all its runs) estimated to take longer than this
# is refused. The estimate is pessimistic; past ten minutes a shape check has hung,
# as far as its user can tell, and --device meta answers the same question at once.
MAX_SECONDS = 600.0


def check(spec: Any, companions: Sequence[Any] = (), explain_bytes: int = 0, diagram_bytes: int = 0) -> None:
    """Raise ``EnvironmentProblem`` if the configuration cannot run where the user asked.

    ``companions``: modules that run beside it on the same device (``--explain``'s
    hand-off decoders); their memory and time count too. ``explain_bytes``: what
    ``--explain``'s checks allocate beside the forward pass (``run_memory``);
    ``diagram_bytes``: what ``--diagram``'s own run allocates beside it (the family's
    ``counts.diagram_bytes``).
    """
    for one in (spec, *companions):
        families.of(one).check_addressable(one)
    if spec.device == "meta":  # nothing is allocated at the user's sizes there
        return
    available, where = available_bytes(spec.device)
    if available is None:  # unknown: torch's own allocation errors are caught in ``interruptible``
        return
    needed = required_bytes(spec, torch_imported="torch" in sys.modules) + explain_bytes + diagram_bytes
    needed += sum(families.of(other).peak_bytes(other) for other in companions)
    if needed > available:
        what = (
            "this forward pass and the modules --explain runs beside it need"
            if companions
            else "this forward pass and --explain's checks need"
            if explain_bytes
            else "this forward pass and --diagram's checks need"
            if diagram_bytes
            else "this forward pass needs"
        )
        # a family whose estimate may be partial says how (the model family: a trial on meta
        # that stopped early); then meta cannot run it either
        partial = getattr(spec, "estimate_note", "")
        estimate = f"{partial}" if partial else "at its peak (estimate)"
        advice = (
            "use smaller --input sizes or a machine with more memory"
            if partial
            else "use --device meta to see every shape without allocating"
        )
        raise EnvironmentProblem(
            f"--device {spec.device}: {what} about {human_bytes(needed)} "
            f"{estimate} but only {human_bytes(available)} of {where} is available; {advice}"
        )
    check_duration(spec, companions=companions)


def check_duration(spec: Any, runs: int = 1, companions: Sequence[Any] = ()) -> None:
    """Raise ``EnvironmentProblem`` if ``runs`` forward passes would take too long to wait for."""
    if spec.device == "meta":
        return
    family = families.of(spec)
    seconds = family.estimated_seconds(spec) * runs
    seconds += sum(families.of(other).estimated_seconds(other) for other in companions)
    if seconds <= MAX_SECONDS:
        return
    if runs > 1:
        what, advice = f" in {runs} runs (--time)", "use fewer --repeats or --warmup, or smaller sizes"
    else:
        what, advice = "", "use --device meta to see every shape without running it"
    raise EnvironmentProblem(
        f"--device {spec.device}: this would run for about {human_duration(seconds)} "
        f"(estimate: {human_count(family.macs(spec))} MACs{what}), more than the "
        f"{human_duration(MAX_SECONDS)} a shape check may take; {advice}"
    )


def required_bytes(spec: Any, *, torch_imported: bool) -> int:
    """What the process will add: the estimated peak, heap slack, and torch itself if not loaded yet."""
    torch_itself = 0 if torch_imported else TORCH_RUNTIME_BYTES
    return families.of(spec).peak_bytes(spec) + HEAP_SLACK_BYTES + torch_itself


def addressable(numel: int, itemsize: int) -> bool:
    """Whether torch can make a tensor of ``numel`` elements of ``itemsize`` bytes."""
    return numel * itemsize <= TORCH_MAX_BYTES


def check_tensor(name: str, shape: tuple[int, ...], numel: int, itemsize: int, flags: str) -> None:
    """Refuse ``name`` (``numel`` elements of ``shape``) if torch cannot address its size in bytes;
    ``flags``: the settings to make smaller."""
    if not addressable(numel, itemsize):
        raise EnvironmentProblem(
            f"{name} would have shape {shape}: {numel:.3g} elements of {itemsize} bytes, beyond the "
            f"2^63 - 1 bytes a torch tensor can address; use a smaller {flags}"
        )


def check_given(flag: str, given: Iterable[Any], itemsizes: Mapping[str, int]) -> None:
    """Refuse a tensor the user gave by ``flag`` (model's --input, expr's --tensor: each with its
    ``text``, ``shape`` and ``dtype``) if torch cannot address its size in bytes, on meta too."""
    for one in given:
        numel, itemsize = math.prod(one.shape), itemsizes[one.dtype]
        if not addressable(numel, itemsize):
            raise EnvironmentProblem(
                f"{flag} {one.text}: would hold {numel:.3g} elements of {itemsize} bytes ({one.dtype}), "
                "beyond the 2^63 - 1 bytes a torch tensor can address; use smaller sizes"
            )


def available_bytes(device: str) -> tuple[int | None, str]:
    """Free memory where ``device`` allocates, and what that memory is called."""
    if device.startswith("cuda"):
        return cuda_free_bytes(device), f"memory on {device}"
    # mps shares the machine's memory
    return cpu_available_bytes(), "memory"


def cuda_free_bytes(device: str) -> int | None:
    """Free memory of a CUDA device (None if there is no such device: probe says so)."""
    import torch

    if not torch.cuda.is_available():
        return None
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        return None
    free, _total = torch.cuda.mem_get_info(index)
    return int(free)


def cpu_available_bytes(proc: Path = Path("/proc"), cgroup_root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Memory this process can still take: the machine's, capped by its cgroup's limit."""
    found = [
        n for n in (meminfo_available(proc / "meminfo"), cgroup_available(proc, cgroup_root)) if n is not None
    ]
    return min(found) if found else _sysconf_available()


def meminfo_available(path: Path) -> int | None:
    """MemAvailable of /proc/meminfo: free memory plus what the kernel can reclaim."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _sysconf_available() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def cgroup_available(proc: Path, root: Path) -> int | None:
    """Room left under the memory limit of this process's cgroup (v2 or v1), if it has one."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return None
    found: list[int] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        relative = path.lstrip("/")
        if controllers == "":  # cgroup v2: every ancestor's limit applies
            found += _v2_rooms(root, root / relative)
        elif "memory" in controllers.split(","):
            found += _v1_room(root, relative)
    return min(found) if found else None


def _v2_rooms(root: Path, here: Path) -> list[int]:
    """cgroup v2: the room under the limit of ``here`` and of each of its ancestors up to ``root``."""
    found: list[int] = []
    for directory in [here, *here.parents]:
        room = _room(directory, "memory.max", "memory.current", "inactive_file")
        if room is not None:
            found.append(room)
        if directory == root:
            break
    return found


def _v1_room(root: Path, relative: str) -> list[int]:
    """cgroup v1: the room under the memory controller's limit, the group's or else the root's."""
    for directory in (root / "memory" / relative, root / "memory"):
        room = _room(
            directory,
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            "total_inactive_file",
            hierarchical="hierarchical_memory_limit",
        )
        if room is not None:
            return [room]
    return []


def _room(
    directory: Path, limit_file: str, usage_file: str, reclaimable: str, hierarchical: str = ""
) -> int | None:
    """limit − usage + reclaimable page cache, or None without a limit."""
    try:
        limit_text = (directory / limit_file).read_text().strip()
        usage = int((directory / usage_file).read_text().strip())
    except (OSError, ValueError):
        return None
    stat = _stat(directory / "memory.stat")
    limits = [int(limit_text)] if limit_text.isdigit() else []
    if hierarchical and hierarchical in stat:
        limits.append(stat[hierarchical])
    limits = [n for n in limits if n < _NO_LIMIT]
    if not limits:
        return None
    return max(0, min(limits) - usage + stat.get(reclaimable, 0))


def _stat(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                out[key] = int(value)
    except OSError:
        pass
    return out


def interruptible(spec: Any, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in inference mode on a worker thread; the caller hears Ctrl-C at once.

    The worker is not a daemon, so a Python program that goes on after the
    KeyboardInterrupt exits only when torch has finished; the command line leaves
    at once instead (``cli.run``). Running out of memory becomes ``EnvironmentProblem``.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        import torch

        try:
            with torch.inference_mode():
                result.append(fn(*args))
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=work, name="torchshape-forward")
    worker.start()
    while worker.is_alive():
        worker.join(_POLL_SECONDS)
    if failure:
        exc = failure[0]
        if _out_of_memory(exc):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EnvironmentProblem(
                f"--device {spec.device}: torch ran out of memory ({first}); "
                f"the estimated peak was {human_bytes(families.of(spec).peak_bytes(spec))}; "
                "use --device meta to see every shape without allocating"
            ) from None
        raise exc
    return result[0]


def _out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    if not isinstance(exc, RuntimeError):
        return False
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text or "cannot allocate memory" in text
