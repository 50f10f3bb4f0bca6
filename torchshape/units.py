"""Counts, bytes and durations in words a person reads at a glance."""

from __future__ import annotations


def _scaled(n: int, base: int, units: tuple[str, ...]) -> tuple[str, str] | None:
    """n as (three significant digits, unit), in the largest unit it reaches a whole 1 of;
    None past the last unit. The unit changes at ``base`` itself, so a number never shows
    below 1 of a unit (no "0.977 KiB" beside "960 B"): 1000 B stays "1000 B"."""
    value, unit = float(n), ""
    for bigger in units:
        if value < base:
            break
        value, unit = value / base, bigger
    if value >= base:
        return None
    digits = f"{value:.0f}" if value >= 100 else f"{value:.3g}"
    if float(digits) >= base and unit != units[-1]:  # 1023.7 KiB rounds to 1024: say 1 MiB
        return "1", units[units.index(unit) + 1] if unit else units[0]
    return digits, unit


def human_bytes(n: int) -> str:
    """Bytes in binary units: 512 B, 1000 B, 1.5 KiB, 23 GiB, ..."""
    scaled = _scaled(n, 1024, ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"))
    if scaled is None:
        return f"{n:.3g} B"
    digits, unit = scaled
    return f"{digits} {unit or 'B'}"


def human_count(n: int) -> str:
    """A count in SI units: 950, 29.8 K, 1.34 M, 7.2 G, ..."""
    scaled = _scaled(n, 1000, ("K", "M", "G", "T", "P", "E", "Z", "Y"))
    if scaled is None:
        return f"{n:.3g}"
    digits, unit = scaled
    return f"{digits} {unit}".rstrip()


def human_duration(seconds: float) -> str:
    """Rough words for a duration: 3 s, 4 min, 2.5 h, 12 days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
