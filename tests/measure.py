"""Runs a memory-measuring script in a fresh process, as a command line runs: an earlier run's
freed heap would hide part of the next one's peak. The script prints, as its last line, a JSON
object with "grew" (bytes the run added at its peak) and "estimate" (torchshape's figure)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_measure(script: str, *args: str, small_mmap: bool = False) -> tuple[int, int]:
    """(bytes the run added at its peak, the estimate) from ``python -c script args...``, one
    thread; ``small_mmap`` has glibc map every block of 64 KiB or more, so that freed ones leave."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    if small_mmap:
        environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return int(found["grew"]), int(found["estimate"])
