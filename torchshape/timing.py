"""``--time``: how long the real forward pass takes on the chosen device.

The settings are checked here without torch (so a bad ``--repeats`` exits before
torch loads); torch is imported only inside ``measure``. Only a configuration
whose forward pass ``inspect`` has already run is timed, so whatever rule guards
that forward pass (devices, memory) guards the timed ones too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from torchshape.errors import UsageError
from torchshape.facts import Timing
from torchshape.options import DEFAULT_REPEATS, DEFAULT_WARMUP, SEED

MAX_REPEATS = 10_000
MAX_WARMUP = 1_000


@dataclass(frozen=True)
class TimingSettings:
    """What ``--time``, ``--repeats`` and ``--warmup`` asked for, checked on creation."""

    repeats: int = DEFAULT_REPEATS
    warmup: int = DEFAULT_WARMUP

    def __post_init__(self) -> None:
        _count("--repeats", self.repeats, DEFAULT_REPEATS, 1, MAX_REPEATS)
        _count("--warmup", self.warmup, DEFAULT_WARMUP, 0, MAX_WARMUP)


def _count(flag: str, value: Any, default: int, minimum: int, maximum: int) -> int:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
        number = int(value)
    else:
        raise UsageError(flag, f"{value!r} is not a whole number; use one from {minimum} to {maximum}")
    if not minimum <= number <= maximum:
        raise UsageError(flag, f"{number} is out of range; use a whole number from {minimum} to {maximum}")
    return number


def timing_settings(spec: Any, time: bool, repeats: Any = None, warmup: Any = None) -> TimingSettings | None:
    """Check ``--time``, ``--repeats`` and ``--warmup``; None when nothing is to be timed."""
    if not time:
        for flag, value in (("--repeats", repeats), ("--warmup", warmup)):
            if value is not None:
                raise UsageError(flag, "applies only with --time; add --time to measure the forward pass")
        return None
    if spec.device == "meta":
        raise UsageError(
            "--time",
            "nothing runs on the meta device, so there is nothing to time; use --device cpu or cuda",
        )
    return TimingSettings(
        repeats=_count("--repeats", repeats, DEFAULT_REPEATS, 1, MAX_REPEATS),
        warmup=_count("--warmup", warmup, DEFAULT_WARMUP, 0, MAX_WARMUP),
    )


def measure(spec: Any, settings: TimingSettings) -> Timing:
    """Time the forward pass of ``spec`` (one ``inspect`` has verified) on its device."""
    import time

    import torch

    from torchshape import families
    from torchshape.probe import resolve_device
    from torchshape.quiet import quiet

    if spec.device == "meta":
        # inspect ran a probe, not this configuration's forward pass, so there is
        # nothing to time (the command line refuses meta earlier, in timing_settings).
        raise UsageError("--time", "nothing runs on the meta device, so there is nothing to time")
    family = families.of(spec)
    device = resolve_device(spec.device)
    dtype = getattr(torch, spec.dtype.value)
    cuda = device.type == "cuda"
    times: list[float] = []
    with torch.random.fork_rng(devices=[]), torch.inference_mode(), quiet():  # as in probe.run
        torch.manual_seed(SEED)
        module = family.build(spec, device, dtype)
        inputs = family.inputs(spec, device, dtype)
        if cuda:
            with torch.cuda.device(device):
                for _ in range(settings.warmup):
                    family.forward(module, inputs)
                torch.cuda.synchronize()
                pairs = []
                for _ in range(settings.repeats):
                    start = torch.cuda.Event(enable_timing=True)
                    end = torch.cuda.Event(enable_timing=True)
                    start.record()
                    family.forward(module, inputs)
                    end.record()
                    pairs.append((start, end))
                torch.cuda.synchronize()
                times = [float(start.elapsed_time(end)) for start, end in pairs]
        else:
            sync = None
            if device.type == "mps":  # MPS runs asynchronously too; torch < 2.0 has no torch.mps
                mps = getattr(torch, "mps", None)
                sync = mps.synchronize if mps is not None else lambda: torch.zeros(1, device=device).cpu()
            for _ in range(settings.warmup):
                family.forward(module, inputs)
            for _ in range(settings.repeats):
                if sync is not None:
                    sync()
                began = time.perf_counter()
                family.forward(module, inputs)
                if sync is not None:
                    sync()
                times.append((time.perf_counter() - began) * 1000)
    return Timing(
        device=str(device),
        dtype=spec.dtype.value,
        repeats=settings.repeats,
        warmup=settings.warmup,
        clock="torch.cuda.Event" if cuda else "time.perf_counter",
        times_ms=tuple(times),
        macs=family.macs(spec),
    )
