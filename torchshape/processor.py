"""What this machine's processor offers torch's CPU kernels, read without importing torch.

The memory estimates follow the kernel torch picks, and torch picks by what the processor
can do: oneDNN's bfloat16 paths need AVX-512 (its ``avx512_core``: F, BW, VL and DQ) or
AVX-NE-CONVERT; oneDNN's blocked layouts group channels by 16 with AVX-512 and by 8
below it; a 1×1 convolution takes oneDNN only when torch runs more than one thread. Each
answer is None where it cannot be known here (no /proc/cpuinfo), and the estimates then
take the larger of the paths.
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
AVX512_CORE = frozenset({"avx512f", "avx512bw", "avx512vl", "avx512dq"})


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str] | None:
    """The x86 feature flags of the first processor /proc/cpuinfo lists (None elsewhere)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return None


def avx512_core() -> bool | None:
    """Whether oneDNN runs its AVX-512 kernels here (torch's ``mkldnn_bf16_device_check`` too)."""
    flags = cpu_flags()
    return None if flags is None else flags >= AVX512_CORE


def onednn_bfloat16() -> bool | None:
    """True where torch hands bfloat16 to oneDNN (``mkldnn_bf16_device_check``); None where
    that is not certain (it may still, through flags this kernel does not show)."""
    return True if avx512_core() or "avx_ne_convert" in (cpu_flags() or ()) else None


def onednn_channel_block() -> int:
    """Channels oneDNN's blocked layouts group together: 16 with AVX-512 (or not known), else 8."""
    return 8 if avx512_core() is False else 16


@lru_cache(maxsize=1)
def physical_cores() -> int | None:
    """Distinct (package, core) pairs /proc/cpuinfo lists: torch's default thread count."""
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    cores: set[tuple[str, str]] = set()
    package = core = ""
    for line in [*text.splitlines(), ""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            package = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not key and core:
            cores.add((package, core))
            package = core = ""
    return len(cores) or None


def torch_threads() -> int | None:
    """The number of threads torch's CPU kernels start with: MKL_NUM_THREADS, else
    OMP_NUM_THREADS (torch reads them in that order), else the physical cores (None: not known)."""
    for name in ("MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    if os.cpu_count() == 1:
        return 1
    return physical_cores()
