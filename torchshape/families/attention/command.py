"""``torchshape attention``: nn.MultiheadAttention's flags, in PyTorch's names, checked by ``make_spec``.

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

# Shown under ``torchshape attention --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape attention --embed-dim 24 --heads 4 --target-len 5 --source-len 7",
    "torchshape attention --per-head-weights --key-padding-mask --add-bias-kv --explain",
    "torchshape attention --self --batch-first --causal --no-need-weights",
    "torchshape attention --kdim 10 --vdim 6 --attn-mask 3d --mask-dtype float --params",
    "torchshape attention --self --target-len 131072 --embed-dim 8192 --heads 64 --batch 1 --device meta",
)

EPILOG = "\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES)
# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset[str]()


def attention(
    ctx: typer.Context,
    embed_dim: Annotated[str, typer.Option("--embed-dim", metavar="INT", help="E: embed_dim.")] = "24",
    heads: Annotated[
        str,
        typer.Option("--heads", metavar="INT", help="num_heads; E divides by it (head_dim = E/num_heads)."),
    ] = "4",
    kdim: Annotated[
        Optional[str],
        typer.Option("--kdim", metavar="INT", help="E_k: key features (default E).", show_default=False),
    ] = None,
    vdim: Annotated[
        Optional[str],
        typer.Option("--vdim", metavar="INT", help="E_v: value features (default E).", show_default=False),
    ] = None,
    target_len: Annotated[
        str, typer.Option("--target-len", metavar="INT", help="L: target (query) sequence length.")
    ] = "5",
    source_len: Annotated[
        Optional[str],
        typer.Option(
            "--source-len",
            metavar="INT",
            help="S: source (key, value) sequence length (default 7; L with --self).",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[Optional[str], typer.Option("--batch", metavar="INT", help="N: batch size.")] = "3",
    batch_first: Annotated[
        bool,
        typer.Option("--batch-first", metavar=SWITCH, help="query, key, value, attn_output as (N, L, E)."),
    ] = False,
    unbatched: Annotated[
        bool, typer.Option("--unbatched", metavar=SWITCH, help="Inputs without N: query (L, E).")
    ] = False,
    self_attention: Annotated[
        bool,
        typer.Option("--self", metavar=SWITCH, help="Self-attention: one tensor as query, key and value."),
    ] = False,
    need_weights: Annotated[
        bool,
        typer.Option(
            "--need-weights/--no-need-weights",
            metavar=SWITCH,
            help="Return attn_output_weights (default), or not: the fused kernel runs.",
        ),
    ] = True,
    average_weights: Annotated[
        bool,
        typer.Option(
            "--average-weights/--per-head-weights",
            metavar=SWITCH,
            help="Weights averaged over the heads (default), or one set per head.",
        ),
    ] = True,
    key_padding_mask: Annotated[
        bool,
        typer.Option(
            "--key-padding-mask", metavar=SWITCH, help="Feed key_padding_mask (N, S): padding at the end."
        ),
    ] = False,
    attn_mask: Annotated[
        str,
        typer.Option(
            "--attn-mask", metavar="none|2d|3d", help="attn_mask: none, (L, S) or (N·num_heads, L, S)."
        ),
    ] = "none",
    mask_dtype: Annotated[
        Optional[str],
        typer.Option(
            "--mask-dtype",
            metavar="bool|float",
            help="The masks' dtype: bool (True = not allowed) or float (added). Default bool.",
            show_default=False,
        ),
    ] = None,
    causal: Annotated[
        bool,
        typer.Option("--causal", metavar=SWITCH, help="The causal attn_mask, with the is_causal hint."),
    ] = False,
    add_bias_kv: Annotated[
        bool, typer.Option("--add-bias-kv", metavar=SWITCH, help="add_bias_kv: one more key and value.")
    ] = False,
    add_zero_attn: Annotated[
        bool, typer.Option("--add-zero-attn", metavar=SWITCH, help="add_zero_attn: a key and value of zeros.")
    ] = False,
    no_bias: Annotated[bool, typer.Option("--no-bias", metavar=SWITCH, help="Build without bias.")] = False,
    dropout: Annotated[
        str, typer.Option("--dropout", metavar="FLOAT", help="dropout on the weights (training only).")
    ] = "0",
    device: Device = "cpu",
    dtype: DTypeOption = "float32",
    output_format: FormatOption = None,
    output: OutputOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            metavar=SWITCH,
            help="Rows sum to 1, masked keys get 0, causal, output = weights @ V, the fused path, "
            "the common mask mistakes; checked on torch.",
        ),
    ] = False,
    debug: Debug = False,
    params: Params = False,
    diagram: DiagramOption = False,
    time: Time = False,
    repeats: Repeats = REPEATS_SHOWN,
    warmup: Warmup = WARMUP_SHOWN,
) -> None:
    """Build nn.MultiheadAttention from flags, run it, and print every shape with its formula."""
    from torchshape.api import inspect_attention
    from torchshape.families.attention.request import make_spec
    from torchshape.families.attention.spec import FLAGS

    spec = make_spec(
        embed_dim=embed_dim,
        num_heads=heads,
        kdim=kdim,
        vdim=vdim,
        target_len=target_len,
        source_len=source_len,
        batch=typed(ctx, "batch", batch),
        batch_first=batch_first,
        unbatched=unbatched,
        self_attention=self_attention,
        need_weights=need_weights,
        average_attn_weights=average_weights,
        key_padding_mask=key_padding_mask,
        attn_mask=attn_mask,
        mask_dtype=mask_dtype,
        is_causal=causal,
        add_bias_kv=add_bias_kv,
        add_zero_attn=add_zero_attn,
        bias=not no_bias,
        dropout=dropout,
        device=device,
        dtype=dtype,
        names=FLAGS,
    )
    deliver(
        ctx,
        spec,
        lambda: inspect_attention(spec, explain=explain, diagram=diagram),
        output_format=output_format,
        output=output,
        params=params,
        time=time,
        repeats=repeats,
        warmup=warmup,
        explain=explain,
        diagram=diagram,
    )
