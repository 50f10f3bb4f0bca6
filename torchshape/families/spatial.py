"""What convolutions and pools share: spatial axes, per-axis sizes from flags, and the
sliding-window output size with its formula written out, in symbols and in numbers.

Pure arithmetic, no torch. The symbols are the PyTorch docs': a 1-d input is
(N, C, L), a 2-d one (N, C, H, W), a 3-d one (N, C, D, H, W); ``H_in`` is the input's
height and ``H_out`` the output's.

    out = ⌊(in + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1⌋

With ``ceil_mode`` (pools) the division rounds up, but a last window that would start
in the right padding is dropped: if (out − 1)·stride ≥ in + padding, out − 1.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from torchshape.errors import UsageError

AXES: dict[int, tuple[str, ...]] = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
AXIS_NAMES = {"L": "length", "D": "depth", "H": "height", "W": "width"}  # in the legends' words
MAX_SIZE = 2**31 - 1


def axes(dims: int) -> tuple[str, ...]:
    """The spatial axes of a ``dims``-d layer: ("L",), ("H", "W") or ("D", "H", "W")."""
    return AXES[dims]


def dims_flag(value: Any, flag: str = "--dims") -> int:
    """``--dims 1|2|3``."""
    text = str(value).strip()
    if text not in ("1", "2", "3"):
        raise UsageError(flag, f"{value!r} is not 1, 2 or 3 (Conv1d/2d/3d, MaxPool1d/2d/3d, ...)")
    return int(text)


def items_of(value: Any, *, empty: bool = False) -> list[Any]:
    """A list setting's items, each still to check: an int alone, a tuple's or list's, or the
    comma-separated parts of text such as ``4,7`` (``()`` or ``[]``: none, where ``empty``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (tuple, list)):
        return list(value)
    text = str(value).strip()
    if empty and text in ("()", "[]"):
        return []
    return [item.strip() for item in text.split(",")] if text else [""]


def per_axis(
    flag: str, value: Any, dims: int, *, minimum: int = 1, maximum: int = MAX_SIZE
) -> tuple[int, ...]:
    """One whole number for every axis (``3``), or one per axis (``3,5`` for 2-d).

    Raises ``UsageError`` naming ``flag`` for anything else, including a list whose
    length is not ``dims``.
    """
    numbers = []
    for item in items_of(value):
        if isinstance(item, bool) or not (
            isinstance(item, int) or (isinstance(item, str) and re.fullmatch(r"[+-]?\d{1,30}", item))
        ):
            raise UsageError(
                flag,
                f"{item!r} is not a whole number; "
                f"give one ({minimum} to {maximum}) or one per axis, such as 3,5",
            )
        number = int(item)
        if not minimum <= number <= maximum:
            raise UsageError(flag, f"{number} is out of range; use whole numbers from {minimum} to {maximum}")
        numbers.append(number)
    if len(numbers) == 1:
        return tuple(numbers) * dims
    if len(numbers) != dims:
        raise UsageError(
            flag,
            f"{len(numbers)} values for --dims {dims}; give one for every axis "
            f"({', '.join(axes(dims))}) or a single one for all",
        )
    return tuple(numbers)


@dataclass(frozen=True)
class Window:
    """One axis of a sliding window: its sizes and the rule that gives the output size."""

    axis: str  # L, H, W or D
    size: int  # the input's size on this axis
    kernel: int
    stride: int
    padding: int  # on each side
    dilation: int = 1
    ceil_mode: bool = False

    @property
    def span(self) -> int:
        """How many input positions one window covers: dilation·(kernel_size − 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        return self.size + 2 * self.padding

    @property
    def out(self) -> int:
        """The output size on this axis, as torch computes it (0 or less: torch refuses the input)."""
        reach = self.padded - self.span + (self.stride - 1 if self.ceil_mode else 0)
        out = reach // self.stride + 1  # floor division, as torch's div_rtn
        if self.dropped_by_ceil:
            out -= 1
        return out

    @property
    def dropped_by_ceil(self) -> bool:
        """ceil_mode's last window would start in the right padding, so torch drops it."""
        if not self.ceil_mode:
            return False
        out = (self.padded - self.span + self.stride - 1) // self.stride + 1
        return (out - 1) * self.stride >= self.size + self.padding

    @property
    def unreached(self) -> int:
        """Input positions at the end (padding included) that no window reaches (floor rounding)."""
        if self.out <= 0:
            return 0
        last_end = (self.out - 1) * self.stride + self.span
        return max(0, self.padded - last_end)

    def formula(self, sub: str = "") -> str:
        """``H_out = ⌊(H_in + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1⌋``.

        ``sub`` indexes the per-axis settings, e.g. ``[0]``.
        """
        left, right = ("⌈", "⌉") if self.ceil_mode else ("⌊", "⌋")
        inside = f"{self.axis}_in + 2·padding{sub} − dilation{sub}·(kernel_size{sub} − 1) − 1"
        return f"{self.axis}_out = {left}({inside}) / stride{sub} + 1{right}"

    def numeric(self) -> str:
        """The same with this axis' numbers, then the value: ``⌊(32 + 2·1 − 1·(3 − 1) − 1) / 2 + 1⌋ = 16``."""
        left, right = ("⌈", "⌉") if self.ceil_mode else ("⌊", "⌋")
        text = (
            f"{left}({self.size} + 2·{self.padding} − {self.dilation}·({self.kernel} − 1) − 1)"
            f" / {self.stride} + 1{right}"
        )
        value = self.out
        if self.ceil_mode and self.dropped_by_ceil:
            return f"{text} − 1 = {value} (the last window would start in the right padding)"
        return f"{text} = {value}"


def transposed_out(
    size: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int
) -> int:
    """ConvTranspose: (in − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


# ---------------------------------------------------------------- coverage: what no window reads

# Past this many padded positions on one axis, or this much work, the unread positions are not
# worked out (a meta run may ask for 2³¹ positions).
MAX_COVERED = 1 << 20


@dataclass(frozen=True)
class Coverage:
    """One axis: every input position that no window reads, worked out from the windows' taps."""

    axis: str
    size: int  # the input's size on this axis
    unread: tuple[int, ...] | None  # every input index no window reads; None: too large to work out

    @property
    def count(self) -> int:
        return len(self.unread or ())

    def ranges(self) -> list[tuple[int, int]]:
        """The unread positions as [first, last] runs."""
        runs: list[tuple[int, int]] = []
        for p in self.unread or ():
            if runs and runs[-1][1] == p - 1:
                runs[-1] = (runs[-1][0], p)
            else:
                runs.append((p, p))
        return runs

    def pattern(self) -> tuple[int, int] | None:
        """(first, step) when the unread positions are single ones evenly spaced, three or more."""
        unread = self.unread or ()
        if len(unread) < 3:
            return None
        step = unread[1] - unread[0]
        if step < 2 or any(b - a != step for a, b in itertools.pairwise(unread)):
            return None
        return unread[0], step

    def as_dict(self) -> dict[str, Any]:
        """The JSON of one axis' unread positions (None where they are not worked out)."""
        pattern = self.pattern()
        return {
            "axis": self.axis,
            "positions": None if self.unread is None else list(self.unread),
            "count": None if self.unread is None else self.count,
            "size": self.size,
            "every": None if pattern is None else {"first": pattern[0], "step": pattern[1]},
        }

    def text(self) -> str:
        """``positions 2, 5, 8, 11 (4 of 12): every 3rd position from 2`` and the like."""
        if self.unread is None:
            return f"not worked out for more than {MAX_COVERED} positions"
        if not self.unread:
            return f"every one of the {self.size} input positions is read"
        runs = self.ranges()
        shown = [f"{a}" if a == b else f"{a} to {b}" for a, b in runs]
        if len(shown) > 8:
            shown = [*shown[:6], "…", *shown[-2:]]
        noun = "position" if self.count == 1 else "positions"
        text = f"{noun} {', '.join(shown)} ({self.count} of {self.size}) read by no window"
        pattern = self.pattern()
        if pattern is not None:
            first, step = pattern
            text += f": every {_ordinal(step)} position from {first}"
        return text


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def padded_source(q: int, size: int, before: int, mode: str) -> int | None:
    """The input index that padded position ``q`` holds (None: a zero), as torch pads: 'zeros',
    'reflect' (the edge not repeated), 'replicate' (the edge repeated) or 'circular' (wrapped)."""
    x = q - before
    if 0 <= x < size:
        return x
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(x, 0), size - 1)
    if mode == "circular":
        return x % size
    # reflect: torch requires padding < size, so one reflection is enough
    return -x if x < 0 else 2 * (size - 1) - x


def sliding_coverage(
    axis: str,
    size: int,
    before: int,
    kernel: int,
    stride: int,
    dilation: int,
    out: int,
    mode: str = "zeros",
) -> Coverage:
    """The input positions that no window of a convolution or pool reads on one axis.

    Window i reads padded positions i·stride + j·dilation for j in 0 .. kernel_size − 1;
    ``padded_source`` says which input position each padded one holds.
    """
    out = max(out, 0)
    last = (out - 1) * stride + (kernel - 1) * dilation + 1 if out else 0
    padded = max(last, before + size)
    if padded > MAX_COVERED or kernel * out > MAX_COVERED:
        return Coverage(axis, size, None)
    taps = bytearray(padded)
    if out:
        for j in range(kernel):
            start = j * dilation
            taps[start : start + (out - 1) * stride + 1 : stride] = b"\x01" * out
    read = bytearray(taps[before : before + size])
    read += bytes(size - len(read))
    if mode != "zeros":
        for q in [*range(min(before, padded)), *range(before + size, padded)]:
            source = padded_source(q, size, before, mode)
            if taps[q] and source is not None:
                read[source] = 1
    return Coverage(axis, size, _unread(read))


def _unread(read: bytearray) -> tuple[int, ...]:
    """The indices where ``read`` is 0 (at C speed: an axis may have millions of positions)."""
    return tuple(itertools.compress(range(len(read)), read.translate(_FLIP)))


_FLIP = bytes([1, 0]) + bytes(254)


def transposed_coverage(
    axis: str, size: int, kernel: int, stride: int, padding: int, dilation: int, out: int
) -> Coverage:
    """ConvTranspose: input position i writes output positions i·stride − padding + j·dilation;
    it is read when one of them lies in the output (padding crops both ends)."""
    if size > MAX_COVERED or kernel > MAX_COVERED:
        return Coverage(axis, size, None)
    read = bytearray(size)
    for j in range(kernel):
        shift = padding - j * dilation  # input i lands at i·stride − shift
        first = max(0, -(-shift // stride))
        last = min(size - 1, (out - 1 + shift) // stride)
        if first <= last:
            read[first : last + 1] = b"\x01" * (last + 1 - first)
    return Coverage(axis, size, _unread(read))


def joint(coverages: list[Coverage]) -> list[Coverage]:
    """Every axis together: a position is read when it is read on every axis, so an axis where
    the windows read nothing (dilation stepping over the whole input) leaves every position of
    the others unread too."""
    if not any(c.unread is not None and c.size and len(c.unread) == c.size for c in coverages):
        return coverages
    return [Coverage(c.axis, c.size, tuple(range(c.size))) for c in coverages]
