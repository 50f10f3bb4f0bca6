"""One pool and the input it is fed, in PyTorch's names: its settings table and its checked spec.
No torch here (``torchshape pool --help`` imports this)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from torchshape import settings
from torchshape.options import DType
from torchshape.settings import Given, Rule, option, pair, switch


class Kind(str, Enum):
    """Which pool to build: nn.MaxPoolNd, AvgPoolNd, LPPoolNd, AdaptiveMaxPoolNd, AdaptiveAvgPoolNd."""

    MAX = "max"
    AVG = "avg"
    LP = "lp"
    ADAPTIVE_MAX = "adaptive-max"
    ADAPTIVE_AVG = "adaptive-avg"

    @property
    def adaptive(self) -> bool:
        return self in (Kind.ADAPTIVE_MAX, Kind.ADAPTIVE_AVG)

    def module_name(self, dims: int) -> str:
        stem = {
            "max": "MaxPool",
            "avg": "AvgPool",
            "lp": "LPPool",
            "adaptive-max": "AdaptiveMaxPool",
            "adaptive-avg": "AdaptiveAvgPool",
        }[self.value]
        return f"{stem}{dims}d"


# The settings each kind takes besides the input's (dims, channels, size, batch, ...).
KIND_SETTINGS: dict[Kind, tuple[str, ...]] = {
    Kind.MAX: ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    Kind.AVG: ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    Kind.LP: ("norm_type", "kernel_size", "stride", "ceil_mode"),
    Kind.ADAPTIVE_MAX: ("output_size", "return_indices"),
    Kind.ADAPTIVE_AVG: ("output_size",),
}

# Defaults: every symbol of the table gets its own number (N 2, C 5; 2-d: H_in 28, W_in 20,
# H_out 9, W_out 6), so a formula that confused two of them would show it.
DEFAULT_SIZE: dict[int, tuple[int, ...]] = {1: (28,), 2: (28, 20), 3: (12, 28, 20)}
DEFAULT_OUTPUT_SIZE: dict[int, tuple[int, ...]] = {1: (7,), 2: (7, 4), 3: (3, 7, 4)}
# The settings of the command and of the Python call, one row each: the spec's field, the flags,
# --help's metavar and text, the command line's default (``torchshape.settings``).
SETTINGS = settings.table(
    option(
        "kind",
        "--kind",
        "KIND",
        "max, avg, lp, adaptive-max or adaptive-avg (nn.MaxPoolNd, AvgPoolNd, LPPoolNd, "
        "AdaptiveMaxPoolNd, AdaptiveAvgPoolNd).",
        "max",
    ),
    option("dims", "--dims", "1|2|3", "Spatial dimensions: the N in PoolNd.", "2"),
    option("channels", "--channels", "INT", "C: channels.", "5"),
    option(
        "size",
        "--size",
        "INT[,INT...]",
        "The input's spatial size: L_in; H_in,W_in; D_in,H_in,W_in (one number: every "
        "axis). [default: 28 | 28,20 | 12,28,20]",
    ),
    option("batch", ("--batch", "--batch-size"), "INT", "N: inputs per batch.", "2", given=Given.TYPED),
    switch("unbatched", "--unbatched", "Input without the batch dimension N.", given=Given.ON),
    option(
        "kernel_size", "--kernel-size", "INT[,INT...]", "kernel_size (not adaptive).", "3", given=Given.TYPED
    ),
    option("stride", "--stride", "INT[,INT...]", "stride [default: kernel_size, as torch's]"),
    option(
        "padding",
        "--padding",
        "INT[,INT...]",
        "Padding on each side, at most kernel_size // 2 (max, avg).",
        "0",
        given=Given.TYPED,
    ),
    option(
        "dilation",
        "--dilation",
        "INT[,INT...]",
        "Spacing of a window's taps (max only).",
        "1",
        given=Given.TYPED,
    ),
    switch("ceil_mode", "--ceil-mode", "Round the output size up (max, avg, lp).", given=Given.ON),
    pair(
        "count_include_pad",
        "--count-include-pad/--no-count-include-pad",
        "avg only: count the padding in the divisor [default: count it, as torch].",
        fallback=True,
    ),
    switch(
        "return_indices",
        "--return-indices",
        "Also return where each maximum was (max, adaptive-max).",
        given=Given.ON,
    ),
    option("norm_type", "--norm-type", "FLOAT", "lp only: p of the p-norm.", "2", given=Given.TYPED),
    option(
        "output_size",
        "--output-size",
        "INT[,INT...]",
        "Adaptive only: output_size; None on an axis keeps the input's size there "
        "(None,7). [default: 7 | 7,4 | 3,7,4]",
    ),
    explain=(
        "What each window reads: adaptive windows, ceil_mode's extra window, every input "
        "position no window reads, indices; checked on the values."
    ),
    diagram=True,
)
# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = settings.flags(SETTINGS)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)


class PoolSpec(settings.Spec, family="pool"):
    """One pool and the input it is fed. Per-axis settings hold one value per spatial axis."""

    kind: Kind
    dims: int
    channels: int
    size: tuple[int, ...]
    batch: int  # ignored when unbatched
    unbatched: bool
    kernel_size: tuple[int, ...]  # adaptive: ()
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    count_include_pad: bool
    return_indices: bool
    norm_type: float
    output_size: tuple[int, ...]  # adaptive only; () otherwise; an axis given as None: the input's size
    device: str
    dtype: DType
    output_size_none: tuple[bool, ...] = ()  # the axes of output_size given as None

    @property
    def output_size_given(self) -> tuple[int | None, ...]:
        """output_size as the user gave it: None on an axis keeps the input's size there."""
        nones = self.output_size_none or (False,) * len(self.output_size)
        return tuple(None if none else n for n, none in zip(self.output_size, nones, strict=True))

    def has(self, field: str) -> bool:
        """Whether this kind of pool takes ``field``."""
        return field in KIND_SETTINGS[self.kind]

    @property
    def module_name(self) -> str:
        return self.kind.module_name(self.dims)

    def as_dict(self) -> dict[str, Any]:
        """JSON's ``config``: the input's settings, then the settings this kind takes, in PyTorch's names."""
        names = ["kind", "dims", "channels", "size", "batch", "unbatched", *KIND_SETTINGS[self.kind]]
        out = settings.config(self, [*names, "device", "dtype"])
        if "output_size" in out:
            out["output_size"] = list(self.output_size_given)
        return out

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""

        def arg(values: tuple[int | None, ...]) -> str:
            return str(values[0]) if len(set(values)) == 1 else str(values)

        args: list[str] = []
        if self.kind.adaptive:
            given = self.output_size_given  # None on an axis (2-d, 3-d) keeps the input's size there
            args.append(f"({', '.join(map(str, given))})" if None in given else arg(given))
        else:
            if self.kind is Kind.LP:
                args.append(f"{self.norm_type:g}")
            args.append(arg(self.kernel_size))
            if self.stride != self.kernel_size:
                args.append(f"stride={arg(self.stride)}")
            if self.has("padding") and any(self.padding):
                args.append(f"padding={arg(self.padding)}")
            if self.has("dilation") and any(d != 1 for d in self.dilation):
                args.append(f"dilation={arg(self.dilation)}")
            if self.ceil_mode:
                args.append("ceil_mode=True")
            if self.has("count_include_pad") and not self.count_include_pad:
                args.append("count_include_pad=False")
        if self.return_indices:
            args.append("return_indices=True")
        return f"nn.{self.module_name}({', '.join(args)})"


command_line = settings.Command(
    "pool",
    SETTINGS,
    {
        "size": Rule(default=lambda spec: DEFAULT_SIZE[spec.dims]),
        "batch": settings.BATCHED,
        "norm_type": Rule(text=lambda p: f"{p:g}"),  # 2, not 2.0
        "output_size": Rule(
            default=lambda spec: DEFAULT_OUTPUT_SIZE[spec.dims],
            value=lambda spec: spec.output_size_given,  # None,7: None keeps the input's size there
            text=lambda sizes: settings.listed(sizes) if None in sizes else settings.text(sizes),
        ),
        "stride": Rule(default=lambda spec: spec.kernel_size),
    },
    takes=settings.by_kind(KIND_SETTINGS),
    # norm_type and output_size right after the input's settings (--help: after the window's)
    order=(
        *("kind", "dims", "channels", "size", "batch", "unbatched", "norm_type", "output_size"),
        *("kernel_size", "stride", "padding", "dilation", "ceil_mode", "count_include_pad", "return_indices"),
        *("device", "dtype"),
    ),
).line
