"""``torchshape transformer``: the transformer family's flags, in PyTorch's names, checked by ``make_spec``.

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

# Shown under ``torchshape transformer --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape transformer --src-mask 2d --src-key-padding-mask bool",
    "torchshape transformer --layer decoder --causal --memory-key-padding-mask bool --explain",
    "torchshape transformer --layer full --num-encoder-layers 2 --num-decoder-layers 2 --batch-first "
    "--params",
    "torchshape transformer --layer encoder-stack --num-layers 12 --final-norm --batch-first "
    "--src-key-padding-mask bool --explain",
    "torchshape transformer --layer full --d-model 1024 --nhead 16 --dim-feedforward 4096 "
    "--source-len 100000 --target-len 50000 --batch 64 --causal --device meta",
)

EPILOG = "\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES)
# The --kind choices, for the command line's advice on a stray word (this command has --layer).
KINDS = frozenset[str]()
MASK = "none|2d|3d"
PADDING = "none|bool|float"


def transformer(
    ctx: typer.Context,
    layer: Annotated[
        str,
        typer.Option(
            "--layer",
            metavar="encoder|decoder|full|encoder-stack|decoder-stack",
            help="nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.Transformer, "
            "nn.TransformerEncoder or nn.TransformerDecoder.",
        ),
    ] = "encoder",
    d_model: Annotated[str, typer.Option("--d-model", metavar="INT", help="E: d_model.")] = "18",
    nhead: Annotated[str, typer.Option("--nhead", metavar="INT", help="nhead: E divides by it.")] = "3",
    dim_feedforward: Annotated[
        str, typer.Option("--dim-feedforward", metavar="INT", help="F: dim_feedforward (torch's default).")
    ] = "2048",
    num_encoder_layers: Annotated[
        Optional[str],
        typer.Option(
            "--num-encoder-layers", metavar="INT", help="--layer full: encoder layers (torch's default 6)."
        ),
    ] = None,
    num_decoder_layers: Annotated[
        Optional[str],
        typer.Option(
            "--num-decoder-layers", metavar="INT", help="--layer full: decoder layers (torch's default 6)."
        ),
    ] = None,
    num_layers: Annotated[
        Optional[str],
        typer.Option(
            "--num-layers",
            metavar="INT",
            help="--layer encoder-stack/decoder-stack: num_layers, copies of the layer (default 2).",
        ),
    ] = None,
    final_norm: Annotated[
        bool,
        typer.Option(
            "--final-norm",
            metavar=SWITCH,
            help="--layer encoder-stack/decoder-stack: norm=nn.LayerNorm(d_model) after the last layer.",
        ),
    ] = False,
    batch_first: Annotated[
        bool, typer.Option("--batch-first", metavar=SWITCH, help="Sequences are (N, L, E), not (L, N, E).")
    ] = False,
    norm_first: Annotated[
        bool,
        typer.Option("--norm-first", metavar=SWITCH, help="LayerNorm before attention and feed-forward."),
    ] = False,
    source_len: Annotated[
        str, typer.Option("--source-len", metavar="INT", help="S: src length (memory's, for a decoder).")
    ] = "10",
    target_len: Annotated[
        Optional[str],
        typer.Option("--target-len", metavar="INT", help="T: tgt length (decoder, full; default 7)."),
    ] = None,
    batch: Annotated[str, typer.Option("--batch", metavar="INT", help="N: batch size.")] = "4",
    src_mask: Annotated[
        str, typer.Option("--src-mask", metavar=MASK, help="src_mask: (S, S) or (N·nhead, S, S), bool.")
    ] = "none",
    tgt_mask: Annotated[
        str, typer.Option("--tgt-mask", metavar=MASK, help="tgt_mask: (T, T) or (N·nhead, T, T), bool.")
    ] = "none",
    memory_mask: Annotated[
        str, typer.Option("--memory-mask", metavar=MASK, help="memory_mask: (T, S) or (N·nhead, T, S), bool.")
    ] = "none",
    causal: Annotated[
        bool,
        typer.Option(
            "--causal",
            metavar=SWITCH,
            help="tgt_mask = nn.Transformer.generate_square_subsequent_mask(T): float, −inf above "
            "the diagonal.",
        ),
    ] = False,
    src_key_padding_mask: Annotated[
        str, typer.Option("--src-key-padding-mask", metavar=PADDING, help="src_key_padding_mask: (N, S).")
    ] = "none",
    tgt_key_padding_mask: Annotated[
        str, typer.Option("--tgt-key-padding-mask", metavar=PADDING, help="tgt_key_padding_mask: (N, T).")
    ] = "none",
    memory_key_padding_mask: Annotated[
        str,
        typer.Option("--memory-key-padding-mask", metavar=PADDING, help="memory_key_padding_mask: (N, S)."),
    ] = "none",
    device: Device = "cpu",
    dtype: DTypeOption = "float32",
    output_format: FormatOption = None,
    output: OutputOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            metavar=SWITCH,
            help="The causal mask (float −inf against bool), padding masks' shape and dtype, memory; "
            "checked on torch.",
        ),
    ] = False,
    debug: Debug = False,
    params: Params = False,
    time: Time = False,
    repeats: Repeats = REPEATS_SHOWN,
    warmup: Warmup = WARMUP_SHOWN,
) -> None:
    """Build a transformer layer or nn.Transformer from flags, run it, and print every shape and mask."""
    from torchshape.api import inspect_transformer
    from torchshape.families.transformer.request import make_spec
    from torchshape.families.transformer.spec import FLAGS

    spec = make_spec(
        layer=layer,
        d_model=d_model,
        nhead=nhead,
        dim_feedforward=dim_feedforward,
        num_encoder_layers=num_encoder_layers,
        num_decoder_layers=num_decoder_layers,
        num_layers=num_layers,
        final_norm=final_norm,
        batch_first=batch_first,
        norm_first=norm_first,
        source_len=source_len,
        target_len=target_len,
        batch=typed(ctx, "batch", batch),
        src_mask=src_mask,
        tgt_mask=tgt_mask,
        memory_mask=memory_mask,
        causal=causal,
        src_key_padding_mask=src_key_padding_mask,
        tgt_key_padding_mask=tgt_key_padding_mask,
        memory_key_padding_mask=memory_key_padding_mask,
        device=device,
        dtype=dtype,
        names=FLAGS,
    )
    deliver(
        ctx,
        spec,
        lambda: inspect_transformer(spec, explain=explain),
        output_format=output_format,
        output=output,
        params=params,
        time=time,
        repeats=repeats,
        warmup=warmup,
        explain=explain,
    )
