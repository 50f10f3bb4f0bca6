"""``torchshape pool``: the pooling family's flags, in PyTorch's names, checked by ``make_spec``.

Values arrive as text (None when not typed) and are checked in one place, ``make_spec``,
so every bad value gets the same kind of message naming its flag. No torch here.
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
from torchshape.families.pool.spec import Kind

# Shown under ``torchshape pool --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape pool --kind adaptive-avg --output-size None,7",
    "torchshape pool --kind max --kernel-size 3 --stride 2 --padding 1",
    "torchshape pool --kind max --size 8,7 --kernel-size 2 --ceil-mode --explain",
    "torchshape pool --kind adaptive-avg --output-size 7 --size 1000,999 --device meta",
    "torchshape pool --kind avg --dims 1 --size 10 --kernel-size 4 --format json",
)

EPILOG = "\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES)
# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset(kind.value for kind in Kind)

PerAxis = "INT[,INT...]"


def pool(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="max, avg, lp, adaptive-max or adaptive-avg (nn.MaxPoolNd, AvgPoolNd, LPPoolNd, "
            "AdaptiveMaxPoolNd, AdaptiveAvgPoolNd).",
        ),
    ] = "max",
    dims: Annotated[
        str, typer.Option("--dims", metavar="1|2|3", help="Spatial dimensions: the N in PoolNd.")
    ] = "2",
    channels: Annotated[str, typer.Option("--channels", metavar="INT", help="C: channels.")] = "5",
    size: Annotated[
        Optional[str],
        typer.Option(
            "--size",
            metavar=PerAxis,
            help="The input's spatial size: L_in; H_in,W_in; D_in,H_in,W_in (one number: every axis). "
            "[default: 28 | 28,20 | 12,28,20]",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        Optional[str], typer.Option("--batch", "--batch-size", metavar="INT", help="N: inputs per batch.")
    ] = "2",
    unbatched: Annotated[
        bool, typer.Option("--unbatched", metavar=SWITCH, help="Input without the batch dimension N.")
    ] = False,
    kernel_size: Annotated[
        Optional[str], typer.Option("--kernel-size", metavar=PerAxis, help="kernel_size (not adaptive).")
    ] = "3",
    stride: Annotated[
        Optional[str],
        typer.Option(
            "--stride", metavar=PerAxis, help="stride [default: kernel_size, as torch's]", show_default=False
        ),
    ] = None,
    padding: Annotated[
        Optional[str],
        typer.Option(
            "--padding", metavar=PerAxis, help="Padding on each side, at most kernel_size // 2 (max, avg)."
        ),
    ] = "0",
    dilation: Annotated[
        Optional[str],
        typer.Option("--dilation", metavar=PerAxis, help="Spacing of a window's taps (max only)."),
    ] = "1",
    ceil_mode: Annotated[
        bool,
        typer.Option("--ceil-mode", metavar=SWITCH, help="Round the output size up (max, avg, lp)."),
    ] = False,
    count_include_pad: Annotated[
        Optional[bool],
        typer.Option(
            "--count-include-pad/--no-count-include-pad",
            help="avg only: count the padding in the divisor [default: count it, as torch].",
            show_default=False,
        ),
    ] = None,
    return_indices: Annotated[
        bool,
        typer.Option(
            "--return-indices", metavar=SWITCH, help="Also return where each maximum was (max, adaptive-max)."
        ),
    ] = False,
    norm_type: Annotated[
        Optional[str], typer.Option("--norm-type", metavar="FLOAT", help="lp only: p of the p-norm.")
    ] = "2",
    output_size: Annotated[
        Optional[str],
        typer.Option(
            "--output-size",
            metavar=PerAxis,
            help="Adaptive only: output_size; None on an axis keeps the input's size there "
            "(None,7). [default: 7 | 7,4 | 3,7,4]",
            show_default=False,
        ),
    ] = None,
    device: Device = "cpu",
    dtype: DTypeOption = "float32",
    output_format: FormatOption = None,
    output: OutputOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            metavar=SWITCH,
            help="What each window reads: adaptive windows, ceil_mode's extra window, every input "
            "position no window reads, indices; checked on the values.",
        ),
    ] = False,
    diagram: DiagramOption = False,
    debug: Debug = False,
    params: Params = False,
    time: Time = False,
    repeats: Repeats = REPEATS_SHOWN,
    warmup: Warmup = WARMUP_SHOWN,
) -> None:
    """Build a pooling layer from flags, run it, and print every shape with its formula."""
    from torchshape.families.pool.request import make_spec
    from torchshape.families.pool.spec import FLAGS

    spec = make_spec(
        kind=kind,
        dims=dims,
        channels=channels,
        size=size,
        batch=typed(ctx, "batch", batch),
        unbatched=unbatched or None,
        kernel_size=typed(ctx, "kernel_size", kernel_size),
        stride=stride,
        padding=typed(ctx, "padding", padding),
        dilation=typed(ctx, "dilation", dilation),
        ceil_mode=ceil_mode or None,
        count_include_pad=count_include_pad,
        return_indices=return_indices or None,
        norm_type=typed(ctx, "norm_type", norm_type),
        output_size=output_size,
        device=device,
        dtype=dtype,
        names=FLAGS,
    )

    from torchshape.api import inspect_pool

    deliver(
        ctx,
        spec,
        lambda: inspect_pool(spec, explain=explain, diagram=diagram),
        output_format=output_format,
        output=output,
        params=params,
        time=time,
        repeats=repeats,
        warmup=warmup,
        explain=explain,
        diagram=diagram,
    )
