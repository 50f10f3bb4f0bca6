"""``torchshape expr EXPRESSION --tensor NAME=SHAPE``: the shape and dtype of a tensor expression,
a row per sub-expression with its rule, checked by torch. No torch here.

The expression is checked against the allow-list (``safety``) in ``make_spec``, before torch is
imported: a refused one exits 2 having run nothing.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from torchshape.command import Debug, FormatOption, OutputOption, argument, deliver, option, switch

# Shown under ``torchshape expr --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape expr 'a[:, 0]' --tensor a=3,4",
    "torchshape expr 'x @ W.T + b' --tensor x=32,784 --tensor W=10,784 --tensor b=10",
    "torchshape expr 'a[idx, :, idx]' --tensor a=5,6,7 --tensor idx=4:int64 --explain",
    "torchshape expr 'x.transpose(0, 1).reshape(-1)' --tensor x=1000000,1000000",
    "torchshape expr 'torch.cat(inputs).view(len(inputs), 1, -1)' --tensor 'inputs=[1,3]*5'",
)
KINDS: frozenset[str] = frozenset()


def expr(
    ctx: typer.Context,
    expression: Annotated[
        str,
        argument(
            "EXPRESSION",
            "A tensor expression in Python: a[:, 0], x @ W.T, torch.cat(xs, 1), a.view(-1, 4).float(); "
            "statements separated by ; may assign names (b = a.T; b.reshape(-1)). Parsed with ast "
            "and checked against an allow-list; never passed to eval. One that starts with - goes after --.",
        ),
    ],
    tensors: Annotated[
        Optional[list[str]],
        option(
            "--tensor",
            "NAME=SHAPE[:DTYPE[:LOW-HIGH]]",
            "A tensor the expression names: a=3,4; idx=5:int64:0-2 (values 0 ≤ v < 2); m=3,4:bool; "
            "b=() for 0-d; xs=[1,3]*5 for a list of five. DTYPE defaults to float32; integers are "
            "0 ≤ v < the smallest size of the other tensors unless LOW-HIGH is given.",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            metavar="DEVICE",
            help="auto: meta (shapes at any size, no memory), or the CPU where values matter (masks, "
            "index tensors, .item(), nonzero, --explain); or cpu, cuda, cuda:N, mps, meta.",
        ),
    ] = "auto",
    output_format: FormatOption = None,
    output: OutputOption = None,
    explain: Annotated[
        bool,
        switch(
            "--explain",
            "Show which elements each index tensor picks, on the input numbered 0, 1, 2, ... (CPU).",
        ),
    ] = False,
    diagram: Annotated[
        bool,
        switch(
            "--diagram",
            "Draw each broadcast: the shapes right-aligned, a column per dimension, where a 1 or a "
            "missing dim was stretched, the result torch gave.",
        ),
    ] = False,
    debug: Debug = False,
) -> None:
    """The shape and dtype of a tensor expression, each sub-expression with its rule, checked by torch."""
    from torchshape.families.expr.spec import make_spec

    spec = make_spec(expression, tensors or (), device=device, explain=explain, diagram=diagram)

    from torchshape.api import expr as run_expr

    deliver(
        ctx,
        spec,
        lambda: run_expr(spec),
        output_format=output_format,
        output=output,
        explain=explain,
        diagram=diagram,
    )
