"""``torchshape embedding``: nn.Embedding and nn.EmbeddingBag from flags in PyTorch's names,
checked by ``make_spec``.

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

# Shown under ``torchshape embedding --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape embedding --num-embeddings 1000 --embedding-dim 64 --shape 8,32 --padding-idx 0",
    "torchshape embedding --num-embeddings 128256 --embedding-dim 4096 --shape 1,131072 --device meta",
    "torchshape embedding --bag --mode sum --bags 4 --bag-size 6 --per-sample-weights",
    "torchshape embedding --bag --offsets 0,3,3,7 --shape 9 --explain",
    "torchshape embedding --bag --offsets 0,2,5 --include-last-offset --max-norm 1 --format json",
)

EPILOG = "\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES)
# No --kind: nn.Embedding, or nn.EmbeddingBag with --bag.
KINDS: frozenset[str] = frozenset()


def embedding(
    ctx: typer.Context,
    num_embeddings: Annotated[
        str, typer.Option("--num-embeddings", metavar="INT", help="num_embeddings: rows of weight.")
    ] = "100",
    embedding_dim: Annotated[
        str, typer.Option("--embedding-dim", metavar="INT", help="embedding_dim: the length of each row.")
    ] = "16",
    shape: Annotated[
        Optional[str],
        typer.Option(
            "--shape",
            metavar="INT[,INT...]",
            help="The index tensor's shape, any number of dimensions (() for 0-D); with --bag --offsets "
            "the 1-D input's length L. [default: 4,7; with --offsets: the last offset, plus 2 without "
            "--include-last-offset]",
            show_default=False,
        ),
    ] = None,
    padding_idx: Annotated[
        Optional[str],
        typer.Option(
            "--padding-idx", metavar="INT", help="padding_idx: a row of zeros that gets no gradient."
        ),
    ] = None,
    max_norm: Annotated[
        Optional[str],
        typer.Option(
            "--max-norm", metavar="FLOAT", help="max_norm: rows looked up are rescaled to it, in place."
        ),
    ] = None,
    bag: Annotated[
        bool,
        typer.Option("--bag", metavar=SWITCH, help="nn.EmbeddingBag: reduce each bag of indices to one row."),
    ] = False,
    mode: Annotated[
        Optional[str],
        typer.Option(
            "--mode", metavar="sum|mean|max", help="With --bag: how a bag is reduced. [default: mean]"
        ),
    ] = None,
    bags: Annotated[
        Optional[str], typer.Option("--bags", metavar="INT", help="With --bag: B, bags of a 2-D input.")
    ] = "3",
    bag_size: Annotated[
        Optional[str],
        typer.Option("--bag-size", metavar="INT", help="With --bag: K, indices per bag of a 2-D input."),
    ] = "5",
    offsets: Annotated[
        Optional[str],
        typer.Option(
            "--offsets",
            metavar="INT[,INT...]",
            help="With --bag: a 1-D input; where each bag starts (the first is 0).",
        ),
    ] = None,
    include_last_offset: Annotated[
        bool,
        typer.Option(
            "--include-last-offset",
            metavar=SWITCH,
            help="With --offsets: the last offset ends the last bag, so B = len(offsets) − 1.",
        ),
    ] = False,
    per_sample_weights: Annotated[
        bool,
        typer.Option(
            "--per-sample-weights", metavar=SWITCH, help="With --bag --mode sum: one weight per index."
        ),
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
            help="The index range, padding_idx's zero row and gradient, each bag, empty bags, max_norm; "
            "checked on forward passes.",
        ),
    ] = False,
    debug: Debug = False,
    params: Params = False,
    time: Time = False,
    repeats: Repeats = REPEATS_SHOWN,
    warmup: Warmup = WARMUP_SHOWN,
) -> None:
    """Build nn.Embedding or nn.EmbeddingBag from flags, run it, and print every shape with its formula."""
    from torchshape.families.embedding.request import make_spec
    from torchshape.families.embedding.spec import FLAGS

    spec = make_spec(
        num_embeddings=num_embeddings,
        embedding_dim=embedding_dim,
        shape=shape,
        padding_idx=padding_idx,
        max_norm=max_norm,
        bag=bag or None,
        mode=mode,
        bags=typed(ctx, "bags", bags),
        bag_size=typed(ctx, "bag_size", bag_size),
        offsets=offsets,
        include_last_offset=include_last_offset or None,
        per_sample_weights=per_sample_weights or None,
        device=device,
        dtype=dtype,
        names=FLAGS,
    )

    from torchshape.api import inspect_embedding

    deliver(
        ctx,
        spec,
        lambda: inspect_embedding(spec, explain=explain),
        output_format=output_format,
        output=output,
        params=params,
        time=time,
        repeats=repeats,
        warmup=warmup,
        explain=explain,
    )
