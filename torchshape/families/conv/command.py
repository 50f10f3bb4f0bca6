"""``torchshape conv``: the convolution family's flags, in PyTorch's names, checked by ``make_spec``.

Values arrive as text and are checked in one place, ``request.make_spec``. No torch here.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from torchshape.command import (
    REPEATS_SHOWN,
    SWITCH,
    WARMUP_SHOWN,
    Debug,
    Device,
    DiagramOption,
    DTypeOption,
    FormatOption,
    OutputOption,
    Params,
    Repeats,
    Time,
    Warmup,
    deliver,
    typed,
)

# Shown under ``torchshape conv --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape conv --kernel-size 3 --stride 2 --padding 1",
    "torchshape conv --dims 1 --size 100 --kernel-size 4 --padding same --stride 1",
    "torchshape conv --transposed --stride 2 --output-padding 1 --explain",
    "torchshape conv --transposed --kernel-size 3 --stride 2 --padding 1 --size 10 --output-size 20,19",
    "torchshape conv --kernel-size 1 --stride 2 --size 16 --explain",
    "torchshape conv --dims 3 --in-channels 1024 --out-channels 1024 --size 64,512,512 --device meta",
    "torchshape conv --groups 3 --in-channels 6 --out-channels 9 --params --format json",
)

EPILOG = "\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES)
# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset[str]()
SIZE = "INT[,INT..]"


def conv(
    ctx: typer.Context,
    dims: Annotated[str, typer.Option("--dims", metavar="1|2|3", help="Conv1d, Conv2d or Conv3d.")] = "2",
    in_channels: Annotated[
        str, typer.Option("--in-channels", metavar="INT", help="C_in: in_channels.")
    ] = "3",
    out_channels: Annotated[
        str, typer.Option("--out-channels", metavar="INT", help="C_out: out_channels.")
    ] = "8",
    kernel_size: Annotated[
        str,
        typer.Option("--kernel-size", metavar=SIZE, help="kernel_size: one for all axes or one per axis."),
    ] = "5",
    stride: Annotated[str, typer.Option("--stride", metavar=SIZE, help="stride (torch's default).")] = "1",
    padding: Annotated[
        str,
        typer.Option(
            "--padding", metavar=f"{SIZE}|same|valid", help="padding on each side (torch's default)."
        ),
    ] = "0",
    dilation: Annotated[
        str, typer.Option("--dilation", metavar=SIZE, help="dilation (torch's default).")
    ] = "1",
    groups: Annotated[
        str,
        typer.Option(
            "--groups", metavar="INT", help="groups: C_in and C_out divide by it (torch's default)."
        ),
    ] = "1",
    output_padding: Annotated[
        Optional[str],
        typer.Option(
            "--output-padding",
            metavar=SIZE,
            help="--transposed only: added to one side of the output (default 0).",
            show_default=False,
        ),
    ] = None,
    output_size: Annotated[
        Optional[str],
        typer.Option(
            "--output-size",
            metavar=SIZE,
            help="--transposed only: forward(input, output_size=...), the size to give back "
            "(--explain lists those torch accepts).",
            show_default=False,
        ),
    ] = None,
    padding_mode: Annotated[
        str,
        typer.Option("--padding-mode", metavar="zeros|reflect|replicate|circular", help="padding_mode."),
    ] = "zeros",
    no_bias: Annotated[bool, typer.Option("--no-bias", metavar=SWITCH, help="Build without bias.")] = False,
    transposed: Annotated[
        bool,
        typer.Option("--transposed", metavar=SWITCH, help="nn.ConvTranspose1d/2d/3d instead of nn.Conv."),
    ] = False,
    size: Annotated[
        Optional[str],
        typer.Option(
            "--size",
            metavar=SIZE,
            help="The input's spatial size, one per axis (L; H,W; D,H,W). Default 32; 32,24; 12,32,24.",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[Optional[str], typer.Option("--batch", metavar="INT", help="N: batch size.")] = "4",
    unbatched: Annotated[
        bool, typer.Option("--unbatched", metavar=SWITCH, help="Input without N: (C_in, H_in, W_in).")
    ] = False,
    device: Device = "cpu",
    dtype: DTypeOption = "float32",
    output_format: FormatOption = None,
    output: OutputOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            metavar=SWITCH,
            help="Unread input positions, 'same' padding, the receptive field, output_padding; "
            "checked on torch.",
        ),
    ] = False,
    diagram: DiagramOption = False,
    debug: Debug = False,
    params: Params = False,
    time: Time = False,
    repeats: Repeats = REPEATS_SHOWN,
    warmup: Warmup = WARMUP_SHOWN,
) -> None:
    """Build a convolution from flags, run it, and print every shape with its formula."""
    from torchshape.api import inspect_conv
    from torchshape.families.conv.request import make_spec
    from torchshape.families.conv.spec import FLAGS

    spec = make_spec(
        dims=dims,
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        output_padding=output_padding,
        output_size=output_size,
        padding_mode=padding_mode,
        bias=not no_bias,
        transposed=transposed,
        size=size,
        batch=typed(ctx, "batch", batch),
        unbatched=unbatched,
        device=device,
        dtype=dtype,
        names=FLAGS,
    )
    deliver(
        ctx,
        spec,
        lambda: inspect_conv(spec, explain=explain, diagram=diagram),
        output_format=output_format,
        output=output,
        params=params,
        time=time,
        repeats=repeats,
        warmup=warmup,
        explain=explain,
        diagram=diagram,
    )
