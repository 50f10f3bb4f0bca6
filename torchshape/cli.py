"""The command line: parse flags, call the library, render, map errors to exit codes.

torch is imported only inside the command body, so ``--help`` never pays for it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from torchshape.argv import Options, first_problem
from torchshape.errors import TorchshapeError
from torchshape.families.rnn.spec import DEFAULTS, Kind, Nonlinearity
from torchshape.options import DType, Format
from torchshape.startup import pause_gc, skip_pydantic

if TYPE_CHECKING:
    from torchshape.render import Shown
    from torchshape.report import Report

# --time's defaults, for the help text; torchshape.timing holds them (a test checks they agree)
# but is not imported before a command runs.
DEFAULT_REPEATS, DEFAULT_WARMUP = 10, 3

# Switches take no value: an empty metavar keeps typer from showing a type such as <bool>.
SWITCH = ""


def _parse_error() -> type[Exception]:
    """The base of the parser's errors: typer >= 0.2x carries its own click (TyperException)."""
    found: type[Exception] | None = getattr(typer, "TyperException", None)
    if found is None:  # pragma: no cover - older typer on top of click
        import importlib

        found = importlib.import_module("click").ClickException
    return found


ParseError = _parse_error()


class _Command(TyperCommand):
    """A command whose -h/--help, a switch like the others, shows no ``<bool>`` type."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = SWITCH
        return option


class _Group(TyperGroup):
    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = SWITCH
        return option


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    help="Every shape of a PyTorch RNN, GRU or LSTM, with its formula, verified by a real forward pass.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
skip_pydantic()  # string options need no pydantic; importing it costs 0.1-0.2 s


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(version_line() + "\n")
        raise typer.Exit(0)


def version_line() -> str:
    """``torchshape 0.1.0 (torch 2.13.0+cpu)``: the only place outside a command that imports torch."""
    from torchshape import __version__

    try:
        import torch
    except ImportError:
        return f"torchshape {__version__} (torch is not installed; see https://pytorch.org/get-started/)"
    except Exception as exc:  # a broken install: say so, the version line is what was asked for
        return f"torchshape {__version__} (torch cannot be imported: {type(exc).__name__}: {exc})"
    return f"torchshape {__version__} (torch {torch.__version__})"


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar=SWITCH,
            is_eager=True,
            callback=_show_version,
            help="Print torchshape's version and torch's, and exit.",
        ),
    ] = False,
) -> None:
    """Every shape of a PyTorch RNN, GRU or LSTM, with its formula, verified by a real forward pass."""


def _typed(ctx: typer.Context, name: str, value: str | None) -> str | None:
    """``value`` when the user typed the flag, None when it is the default shown in --help.

    The library tells "not given" from "given" (--batch beside --lengths, --seq-len
    beside --lengths, --repeats without --time), so a default only fills the help text.
    """
    source = ctx.get_parameter_source(name)
    return None if source is not None and source.name == "DEFAULT" else value


def _choices(enum: type[Kind] | type[DType] | type[Nonlinearity] | type[Format]) -> str:
    return "|".join(member.value for member in enum)


# Shown under ``torchshape rnn --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape rnn --kind lstm --layers 2 --bidir",
    "torchshape rnn --kind gru --batch-first --format json",
    "torchshape rnn --kind lstm --proj-size 10 --unbatched --device meta",
    "torchshape rnn --lengths 5,3,2 --explain",
    "torchshape rnn --kind rnn-cell --nonlinearity relu --params",
)


# Values arrive as text and are checked in one place, ``make_spec``, so that every
# bad value gets the same kind of message naming its flag.
@app.command(
    cls=_Command,
    epilog="\bExamples:\n" + "\n".join(f"  {example}" for example in EXAMPLES),
)
def rnn(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option(
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
            metavar=_choices(Nonlinearity),
            help="rnn and rnn-cell only: tanh (torch's default) or relu.",
            show_default=False,
        ),
    ] = None,
    unbatched: Annotated[
        bool, typer.Option("--unbatched", metavar=SWITCH, help="2-D input (L, H_in), no batch dimension.")
    ] = False,
    device: Annotated[
        str, typer.Option("--device", metavar="DEVICE", help="cpu, cuda, cuda:N, mps or meta.")
    ] = "cpu",
    dtype: Annotated[
        str,
        typer.Option(
            metavar="DTYPE", help="Parameter and input dtype: float32, float64, float16 or bfloat16."
        ),
    ] = "float32",
    output_format: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="Output format: table, markdown, json, csv, svg or python "
            "(default: table, or the one that --output's extension names).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option(
            "--output",
            metavar="FILE",
            help="Write to FILE (whole or not at all) instead of stdout; "
            "its extension .md .json .csv .svg .py .txt picks the format.",
            show_default=False,
        ),
    ] = None,
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
    debug: Annotated[
        bool, typer.Option("--debug", metavar=SWITCH, help="Show tracebacks for errors.")
    ] = False,
    params: Annotated[
        bool,
        typer.Option(
            "--params", metavar=SWITCH, help="Add a table of every parameter, its formula and size."
        ),
    ] = False,
    time: Annotated[
        bool,
        typer.Option(
            "--time", metavar=SWITCH, help="Time the forward pass on the device: median, min, max, FLOP/s."
        ),
    ] = False,
    repeats: Annotated[
        Optional[str],
        typer.Option("--repeats", metavar="INT", help="With --time: timed runs."),
    ] = str(DEFAULT_REPEATS),
    warmup: Annotated[
        Optional[str],
        typer.Option("--warmup", metavar="INT", help="With --time: untimed runs first."),
    ] = str(DEFAULT_WARMUP),
) -> None:
    """Build a recurrent layer from flags, run it, and print every shape with its formula."""
    from torchshape import render, terminal
    from torchshape.api import inspect, with_timing
    from torchshape.families.rnn.request import make_spec
    from torchshape.families.rnn.spec import FLAGS
    from torchshape.options import check_format_flags, parse_format
    from torchshape.timing import timing_settings

    spec = make_spec(
        kind=kind,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=layers,
        seq_len=_typed(ctx, "seq_len", seq_len),
        batch=_typed(ctx, "batch", batch),
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
    fmt = parse_format(output_format, output)
    check_format_flags(fmt, explain=explain, time=time, params=params)
    shown = render.Shown(params=params, output=output)
    timed = timing_settings(spec, time, _typed(ctx, "repeats", repeats), _typed(ctx, "warmup", warmup))
    if timed is not None:
        from torchshape.guard import check_duration

        check_duration(spec, runs=1 + timed.warmup + timed.repeats)
    from torchshape.spinner import forward_status

    with forward_status(spec):
        report = with_timing(inspect(spec, explain=explain, unroll=unroll, names=FLAGS), timed)
    if output is not None:
        from torchshape.output_file import write_output

        write_output(output, render.render(report, fmt, shown=shown))
        if not report.ok:
            sys.stderr.write(f"torchshape: torch disagreed with a formula; see {output}\n")
    else:
        try:
            _print(report, fmt, shown)
        except BrokenPipeError:  # the reader left early (``| head -1``): nothing more to say
            terminal.reader_gone()
    if not report.ok:
        raise typer.Exit(1)


def _print(report: Report, fmt: Format, shown: Shown) -> None:
    """The report on stdout: a file format as text, or the rich table.

    On a terminal the table fits its width; through a pipe (no COLUMNS set) it is 80
    columns wide, or wider where a line of code needs it. No line ends in spaces.
    """
    from torchshape import render, terminal
    from torchshape.render.text import file_width, strip_trailing_spaces, unbroken_code

    if fmt is not Format.TABLE:
        text = render.render(report, fmt, shown=shown)
        sys.stdout.write(terminal.for_stream(text, fmt, sys.stdout))
        sys.stdout.flush()
        return
    renderable = render.table_renderable(report, shown)
    console = terminal.console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = file_width(console, unbroken_code(renderable))
    if not terminal.carries(sys.stdout, terminal.SYMBOLS):
        renderable = terminal.ascii_renderable(renderable)
    with console.capture() as captured:
        console.print(renderable)
    sys.stdout.write(strip_trailing_spaces(captured.get()))
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Entry point: the one place that turns errors into a line on stderr and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        args = ["--help"]
    debug = "--debug" in args
    from torchshape import quiet
    from torchshape.terminal import install

    quiet.install()  # torch's own notices (no numpy, dropout with one layer, ...) are not the user's
    install(sys.stdout, sys.stderr)  # ASCII fallbacks where the encoding cannot carry ×, ·, ✓
    command = typer.main.get_command(app)
    problem = first_problem(args, *_options(command))
    if problem is not None:
        return _fail(problem, 2)
    # Help through a pipe or into a file: rich pads every line to the width; strip that.
    helping = any(arg in ("-h", "--help") for arg in args) and not sys.stdout.isatty()
    try:
        if helping:
            import contextlib
            import io

            from torchshape.terminal import strip_trailing_spaces

            with contextlib.redirect_stdout(io.StringIO()) as buffer:
                result = command.main(args=args, prog_name="torchshape", standalone_mode=False)
            sys.stdout.write(strip_trailing_spaces(buffer.getvalue()))
        else:
            result = command.main(args=args, prog_name="torchshape", standalone_mode=False)
    except ParseError as exc:
        return _fail(getattr(exc, "format_message", exc.__str__)(), getattr(exc, "exit_code", 2))
    except TorchshapeError as exc:
        if debug:
            raise
        return _fail(exc.message, exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        return _fail("interrupted", 130)
    except BrokenPipeError:  # the reader of the help text or an error left early
        from torchshape.terminal import reader_gone

        reader_gone()
        return 0
    except Exception as exc:  # a defect in torchshape: still one line, the traceback on request
        if debug:
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", 1)
    if result == 130:  # typer turns a KeyboardInterrupt inside the command into 130, silently
        return _fail("interrupted", 130)
    return result if isinstance(result, int) else 0


def _options(group: Any) -> tuple[Options, dict[str, Options]]:
    """What each command's options take (a value or none), read from the parser's own table."""

    def table(command: Any) -> Options:
        values: set[str] = set()
        switches: set[str] = {"-h", "--help"}
        for param in command.params:
            names = [*param.opts, *param.secondary_opts]
            (switches if getattr(param, "is_flag", False) else values).update(
                name for name in names if name.startswith("-")
            )
        return Options(frozenset(values), frozenset(switches))

    return table(group), {name: table(command) for name, command in group.commands.items()}


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"torchshape: error: {message}\n")
    return code


def run() -> None:
    pause_gc()  # the command's process is short-lived; see torchshape/startup.py
    code = main()
    if code == 130:  # Ctrl-C: torch may still be running in a worker thread; do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
