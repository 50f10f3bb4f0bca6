"""One convolution and the input it is fed, in PyTorch's names: its settings table and its
checked spec. No torch here (``torchshape conv --help`` imports this)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from torchshape import settings
from torchshape.families.spatial import axes
from torchshape.options import DType
from torchshape.settings import Given, Rule, option, switch


class PaddingMode(str, Enum):
    ZEROS = "zeros"
    REFLECT = "reflect"
    REPLICATE = "replicate"
    CIRCULAR = "circular"


# The settings of the command and of the Python call, one row each (``torchshape.settings``). The
# flags that mirror a keyword argument default to torch's own default (stride 1, padding 0,
# dilation 1, groups 1, padding_mode 'zeros', bias); the sizes torch requires (channels,
# kernel_size, the input) are illustrative, each its own number, so that a formula that mixed
# two of them up would show.
SETTINGS = settings.table(
    option("dims", "--dims", "1|2|3", "Conv1d, Conv2d or Conv3d.", "2"),
    option("in_channels", "--in-channels", "INT", "C_in: in_channels.", "3"),
    option("out_channels", "--out-channels", "INT", "C_out: out_channels.", "8"),
    option(
        "kernel_size", "--kernel-size", "INT[,INT..]", "kernel_size: one for all axes or one per axis.", "5"
    ),
    option("stride", "--stride", "INT[,INT..]", "stride (torch's default).", "1"),
    option("padding", "--padding", "INT[,INT..]|same|valid", "padding on each side (torch's default).", "0"),
    option("dilation", "--dilation", "INT[,INT..]", "dilation (torch's default).", "1"),
    option("groups", "--groups", "INT", "groups: C_in and C_out divide by it (torch's default).", "1"),
    option(
        "output_padding",
        "--output-padding",
        "INT[,INT..]",
        "--transposed only: added to one side of the output (default 0).",
    ),
    option(
        "output_size",
        "--output-size",
        "INT[,INT..]",
        "--transposed only: forward(input, output_size=...), the size to give back "
        "(--explain lists those torch accepts).",
    ),
    option("padding_mode", "--padding-mode", "zeros|reflect|replicate|circular", "padding_mode.", "zeros"),
    switch("bias", "--no-bias", "Build without bias.", param="no_bias", given=Given.NEGATED),
    switch("transposed", "--transposed", "nn.ConvTranspose1d/2d/3d instead of nn.Conv."),
    option(
        "size",
        "--size",
        "INT[,INT..]",
        "The input's spatial size, one per axis (L; H,W; D,H,W). Default 32; 32,24; 12,32,24.",
    ),
    option("batch", "--batch", "INT", "N: batch size.", "4", given=Given.TYPED),
    switch("unbatched", "--unbatched", "Input without N: (C_in, H_in, W_in)."),
    explain="Unread input positions, 'same' padding, the receptive field, output_padding; checked on torch.",
    diagram=True,
)
# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = settings.flags(SETTINGS)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)
# Without --size: 32 for 1-d, 32,24 for 2-d, 12,32,24 for 3-d.
DEFAULT_SIZES: dict[int, tuple[int, ...]] = {1: (32,), 2: (32, 24), 3: (12, 32, 24)}


class ConvSpec(settings.Spec, family="conv"):
    """One nn.ConvNd or nn.ConvTransposeNd and its input."""

    dims: int  # 1, 2 or 3 spatial dimensions
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str  # one int per axis, or 'same' / 'valid'
    dilation: tuple[int, ...]
    groups: int
    output_padding: tuple[int, ...]  # all 0 unless transposed
    padding_mode: PaddingMode
    bias: bool
    transposed: bool
    size: tuple[int, ...]  # the input's spatial size, one per axis
    batch: int  # N; ignored when unbatched
    unbatched: bool
    device: str
    dtype: DType
    # ConvTranspose only: the size forward(input, output_size=...) asks for; output_padding then
    # holds what torch derives from it (output_size − the size without output_padding)
    output_size: tuple[int, ...] | None = None

    @property
    def axes(self) -> tuple[str, ...]:
        return axes(self.dims)

    @property
    def module_name(self) -> str:
        return f"{'ConvTranspose' if self.transposed else 'Conv'}{self.dims}d"

    @property
    def int_padding(self) -> tuple[int, ...]:
        """padding per axis on each side; 'valid' is 0 ('same' pads per side: ``formulas.pads``)."""
        if self.padding == "valid":
            return (0,) * self.dims
        if isinstance(self.padding, str):
            raise ValueError("padding='same' pads each side differently; use formulas.pads")
        return self.padding

    def as_dict(self) -> dict[str, Any]:
        """PyTorch's argument names and the input's; plain JSON values."""
        names = ["dims", "transposed", "in_channels", "out_channels", "kernel_size", "stride", "padding"]
        names += ["dilation", "groups", *(["output_padding", "output_size"] if self.transposed else [])]
        names += ["padding_mode", "bias", "size", "batch", "unbatched", "device", "dtype"]
        return settings.config(self, names)

    def arguments(self) -> list[str]:
        """The constructor's arguments as a user writes them (torch's defaults left out)."""
        args = [str(self.in_channels), str(self.out_channels), f"kernel_size={_size(self.kernel_size)}"]
        if set(self.stride) != {1}:
            args.append(f"stride={_size(self.stride)}")
        if isinstance(self.padding, str):
            args.append(f"padding={self.padding!r}")
        elif set(self.padding) != {0}:
            args.append(f"padding={_size(self.padding)}")
        if self.transposed and self.output_size is None and set(self.output_padding) != {0}:
            args.append(f"output_padding={_size(self.output_padding)}")
        if self.groups != 1:
            args.append(f"groups={self.groups}")
        if not self.bias:
            args.append("bias=False")
        if set(self.dilation) != {1}:
            args.append(f"dilation={_size(self.dilation)}")
        if self.padding_mode is not PaddingMode.ZEROS:
            args.append(f"padding_mode={self.padding_mode.value!r}")
        return args

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        return f"nn.{self.module_name}({', '.join(self.arguments())})"


def _size(values: tuple[int, ...]) -> str:
    """One int when every axis has the same, else the tuple: ``3`` or ``(3, 5)``."""
    return str(values[0]) if len(set(values)) == 1 else repr(tuple(values))


command_line = settings.Command(
    "conv",
    SETTINGS,
    {
        "batch": settings.BATCHED,
        # given only by --transposed, and not beside --output-size
        "output_padding": Rule(
            when=lambda spec: spec.transposed and spec.output_size is None,
            default=lambda spec: (0,) * spec.dims,
        ),
        "size": Rule(default=lambda spec: DEFAULT_SIZES[spec.dims]),
    },
).line
