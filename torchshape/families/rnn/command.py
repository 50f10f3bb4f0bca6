"""``torchshape rnn``: the recurrent family's flags, in PyTorch's names, checked by ``make_spec``.

Values arrive as text and are checked in one place, ``make_spec``, so that every bad
value gets the same kind of message naming its flag.
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
from torchshape.families.rnn.spec import DEFAULTS, Kind, Nonlinearity

# Shown under ``torchshape rnn --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape rnn --kind lstm --layers 2 --bidir",
    "torchshape rnn --kind gru --batch-first --format json",
    "torchshape rnn --kind lstm --proj-size 10 --unbatched --device meta",
    "torchshape rnn --lengths 5,3,2 --explain",
    "torchshape rnn --kind rnn-cell --nonlinearity relu --params",
)

EPILOG = "\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES)
# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset(kind.value for kind in Kind)


def rnn(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="Which module: gru, lstm, rnn (nn.GRU, nn.LSTM, nn.RNN); or one step of a cell: "
            "gru-cell, lstm-cell, rnn-cell (nn.GRUCell, nn.LSTMCell, nn.RNNCell).",
        ),
    ] = "lstm",
    input_size: Annotated[
        str, typer.Option("--input-size", metavar="INT", help="H_in: features per time step.")
    ] = "50",
    hidden_size: Annotated[
        str, typer.Option("--hidden-size", metavar="INT", help="H_cell: hidden_size.")
    ] = "30",
    layers: Annotated[
        str, typer.Option("--layers", "--num-layers", metavar="INT", help="num_layers: stacked layers.")
    ] = "1",
    seq_len: Annotated[
        Optional[str],
        typer.Option(
            "--seq-len",
            metavar="INT",
            help="L: time steps (a cell: only with --unroll; with --lengths, the longest length).",
        ),
    ] = str(DEFAULTS["seq_len"]),
    batch: Annotated[
        Optional[str],
        typer.Option("--batch", "--batch-size", metavar="INT", help="N: sequences per batch."),
    ] = str(DEFAULTS["batch"]),
    bidir: Annotated[
        bool, typer.Option("--bidir", "--bidirectional", metavar=SWITCH, help="Bidirectional: D = 2.")
    ] = False,
    batch_first: Annotated[
        bool,
        typer.Option(
            "--batch-first", metavar=SWITCH, help="Input and output as (N, L, H) instead of (L, N, H)."
        ),
    ] = False,
    proj_size: Annotated[
        str, typer.Option("--proj-size", metavar="INT", help="LSTM only: projection size H_out; 0 = none.")
    ] = "0",
    no_bias: Annotated[
        bool, typer.Option("--no-bias", metavar=SWITCH, help="Build without bias terms.")
    ] = False,
    dropout: Annotated[
        str, typer.Option("--dropout", metavar="FLOAT", help="Dropout between stacked layers, in [0, 1).")
    ] = "0",
    nonlinearity: Annotated[
        Optional[str],
        typer.Option(
            "--nonlinearity",
            metavar="|".join(n.value for n in Nonlinearity),
            help="rnn and rnn-cell only: tanh (torch's default) or relu.",
            show_default=False,
        ),
    ] = None,
    unbatched: Annotated[
        bool, typer.Option("--unbatched", metavar=SWITCH, help="2-D input (L, H_in), no batch dimension.")
    ] = False,
    device: Device = "cpu",
    dtype: DTypeOption = "float32",
    output_format: FormatOption = None,
    output: OutputOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", metavar=SWITCH, help="How output relates to h_n (and c_n), checked on the values."
        ),
    ] = False,
    lengths: Annotated[
        Optional[str],
        typer.Option(
            "--lengths",
            metavar="L1,L2,...",
            help="Pack a variable-length batch: one length (1 to L) per sequence; N without --batch.",
            show_default=False,
        ),
    ] = None,
    unroll: Annotated[
        bool,
        typer.Option(
            "--unroll", metavar=SWITCH, help="One call per time step, carrying the state, beside one call."
        ),
    ] = False,
    diagram: DiagramOption = False,
    debug: Debug = False,
    params: Params = False,
    time: Time = False,
    repeats: Repeats = REPEATS_SHOWN,
    warmup: Warmup = WARMUP_SHOWN,
) -> None:
    """Build a recurrent layer from flags, run it, and print every shape with its formula."""
    from torchshape.api import inspect
    from torchshape.families.rnn.request import make_spec
    from torchshape.families.rnn.spec import FLAGS

    spec = make_spec(
        kind=kind,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=layers,
        seq_len=typed(ctx, "seq_len", seq_len),
        batch=typed(ctx, "batch", batch),
        bidirectional=bidir,
        batch_first=batch_first,
        proj_size=proj_size,
        bias=not no_bias,
        dropout=dropout,
        nonlinearity=nonlinearity,
        unbatched=unbatched,
        device=device,
        dtype=dtype,
        lengths=lengths,
        unroll=unroll,
        names=FLAGS,
    )
    deliver(
        ctx,
        spec,
        lambda: inspect(spec, explain=explain, unroll=unroll, diagram=diagram, names=FLAGS),
        output_format=output_format,
        output=output,
        params=params,
        time=time,
        repeats=repeats,
        warmup=warmup,
        explain=explain,
        diagram=diagram,
    )
