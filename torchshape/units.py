"""Counts, bytes and durations in words a person reads at a glance."""

from __future__ import annotations


def _scaled(n: int, base: int, units: tuple[str, ...], plain: str) -> str:
    """n in three significant digits and the largest unit it reaches a whole 1 of (``plain``
    below the first unit; past the last, n itself). The unit changes at ``base`` itself, so a
    number never shows below 1 of a unit (no "0.977 KiB" beside "960 B"): 1000 B stays "1000 B"."""
    value, unit = float(n), ""
    for bigger in units:
        if value < base:
            break
        value, unit = value / base, bigger
    if value >= base:
        return f"{n:.3g} {plain}".rstrip()
    digits = f"{value:.0f}" if value >= 100 else f"{value:.3g}"
    if float(digits) >= base and unit != units[-1]:  # 1023.7 KiB rounds to 1024: say 1 MiB
        digits, unit = "1", units[units.index(unit) + 1] if unit else units[0]
    return f"{digits} {unit or plain}".rstrip()


def human_bytes(n: int) -> str:
    """Bytes in binary units: 512 B, 1000 B, 1.5 KiB, 23 GiB, ..."""
    return _scaled(n, 1024, ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"), "B")


def human_count(n: int) -> str:
    """A count in SI units: 950, 29.8 K, 1.34 M, 7.2 G, ..."""
    return _scaled(n, 1000, ("K", "M", "G", "T", "P", "E", "Z", "Y"), "")


def human_duration(seconds: float) -> str:
    """Rough words for a duration: 3 s, 4 min, 2.5 h, 12 days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
