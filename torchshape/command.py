"""What every command of the command line shares: its parser class, the Typer command made from a
settings table (``table_command``; a layer family's whole command, ``family_command``), and the
one way a checked spec becomes output on stdout or in a file (``deliver``).

No torch here: ``--help`` imports this. A family's command (``families/*/command.py``)
checks its own flags into a spec and hands it to ``deliver``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from torchshape.options import Format, Shown
from torchshape.settings import Role, Setting, flags

if TYPE_CHECKING:
    from torchshape.report import Report

# Switches take no value: an empty metavar keeps typer from showing a type such as <bool>.
SWITCH = ""


class _HelpIsASwitch:
    """-h/--help, a switch like the others, shows no ``<bool>`` type."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = SWITCH
        return option


class Command(_HelpIsASwitch, TyperCommand):
    """A family's command."""


class Group(_HelpIsASwitch, TyperGroup):
    """``torchshape`` itself, the group of the families' commands."""


def typed(ctx: typer.Context, name: str, value: str | None) -> str | None:
    """``value`` when the user typed the flag, None when it is the default shown in --help.

    The library tells "not given" from "given" (--batch beside --lengths, --seq-len
    beside --lengths, --repeats without --time), so a default only fills the help text.
    """
    return value if user_gave(ctx, name) else None


def user_gave(ctx: typer.Context, name: str) -> bool:
    """Whether the user typed the option (its value is not the default)."""
    source = ctx.get_parameter_source(name)
    return source is None or source.name != "DEFAULT"


def epilog(examples: Iterable[str]) -> str:
    """The end of a command's ``--help``: its examples, one a line (a test runs each one). rich
    reads ``[..]`` in help text as markup, so a bracket (an index) is escaped."""
    return "\bExamples:\n" + "\n".join(f"  {example}".replace("[", "\\[") for example in examples)


def deliver(
    ctx: typer.Context,
    spec: Any,
    inspect: Callable[[], Report],
    *,
    output_format: str | None,
    output: str | None,
    params: bool = False,
    time: bool = False,
    repeats: str | None = None,
    warmup: str | None = None,
    explain: bool = False,
    diagram: bool = False,
) -> None:
    """Check the output flags, run ``inspect`` (guarded, timed with --time), write the report.

    Exits 1 (after writing) when torch disagreed with a formula or the model's forward raised.
    """
    from torchshape import render, terminal
    from torchshape.api import with_timing
    from torchshape.request import check_request

    request = check_request(
        spec,
        output_format=output_format,
        output=output,
        params=params,
        explain=explain,
        time=time,
        repeats=typed(ctx, "repeats", repeats),
        warmup=typed(ctx, "warmup", warmup),
        diagram=diagram,
    )
    fmt, shown, timed = request.fmt, request.shown, request.timing
    output = shown.output  # None for stdout, also when it was --output -
    if timed is not None:
        from torchshape.guard import check_duration

        check_duration(spec, runs=1 + timed.warmup + timed.repeats)
    from torchshape.contain import no_exit
    from torchshape.spinner import forward_status

    with forward_status(spec), no_exit("in forward"), _model_prints(output):
        report = with_timing(inspect(), timed)
    if output is not None:
        from torchshape.output_file import write_output

        text = render.render(report, fmt, shown=shown)
        write_output(output, text)
        warn_if_huge(text, fmt)
    else:
        try:
            print_report(report, fmt, shown)
        except BrokenPipeError:  # the reader left early (``| head -1``): nothing more to say
            terminal.reader_gone()
    # torchshape model: the model's own forward raised; the trace and the diagnosis are written
    failure = getattr(report.probe.analysis, "failure", None)
    if failure is not None:
        sys.stderr.write(f"torchshape: error: {failure}; see {output or 'the trace above'}\n")
    elif not report.ok:
        where = output or "the ✗ above"
        sys.stderr.write(f"torchshape: error: torch disagreed with a formula; see {where}\n")
    if not report.ok:
        raise typer.Exit(1)


# An SVG past this size takes a browser seconds to open (a --diagram of every window of a long axis).
HUGE_SVG_BYTES = 5 * 2**20


def warn_if_huge(text: str, fmt: Format) -> None:
    """One line on stderr when the SVG just written is too large to open comfortably."""
    if fmt is not Format.SVG:
        return
    size = len(text.encode("utf-8"))
    if size > HUGE_SVG_BYTES:
        from torchshape.units import human_bytes

        sys.stderr.write(
            f"torchshape: warning: --format svg: the drawing is {human_bytes(size)}, more than a browser "
            f"opens comfortably ({human_bytes(HUGE_SVG_BYTES)}); smaller sizes draw fewer elements\n"
        )


def _model_prints(output: str | None) -> Any:
    """Where the user's code may print while it runs: stderr when the report goes to stdout."""
    import contextlib

    from torchshape.contain import stdout_to_stderr
    from torchshape.output_file import is_stdout

    return stdout_to_stderr() if output is None or is_stdout(output) else contextlib.nullcontext()


def print_report(report: Report, fmt: Format, shown: Shown) -> None:
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
        warn_if_huge(text, fmt)
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


def family_command(name: str, table: tuple[Setting, ...], doc: str) -> Callable[..., None]:
    """``torchshape NAME`` of a layer family, made from its settings table (``table_command``): the
    rows for the spec through the family's ``make_spec`` (its messages naming the flags), the
    run's switches and the output flags to ``deliver``."""

    def run(ctx: typer.Context, **values: Any) -> None:
        from torchshape import families
        from torchshape.api import run_spec

        raw = {
            row.name: row.value(values, user_gave(ctx, row.parameter))
            for row in table
            if row.role in (Role.SPEC, Role.BOTH)
        }
        spec = families.family(name).make_spec(names=flags(table), **raw)
        switches = {row.name: values[row.parameter] for row in table if row.role in (Role.RUN, Role.BOTH)}
        # the output's flags (--format, --output, --params, --time, ...), --debug left to the boundary
        output = {
            row.name: values[row.name] for row in table if row.role is Role.OUTPUT and row.name in values
        }
        deliver(
            ctx,
            spec,
            lambda: run_spec(spec, **switches),
            explain=switches.get("explain", False),
            diagram=switches.get("diagram", False),
            **output,
        )

    return table_command(name, table, doc, run)


def table_command(
    name: str, table: tuple[Setting, ...], doc: str, run: Callable[..., None]
) -> Callable[..., None]:
    """The Typer command ``torchshape NAME`` of a settings table: a parameter per row, in the
    table's order (a positional word, an option, a switch, an on/off pair, a repeated flag as a
    list), each with its ``--help``; ``run(ctx, **values)`` gets the values by parameter name."""
    import inspect

    def command(ctx: typer.Context, **values: Any) -> None:
        values.pop("debug", None)  # the error boundary reads --debug from the arguments themselves
        run(ctx, **values)

    parameters = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for row in table:
        kind: Any = Optional[bool] if row.pair else bool if row.is_switch else str
        kind = (
            Optional[list[str]]
            if row.many
            else Optional[str]
            if row.default is None and kind is str
            else kind
        )
        default: Any = row.default
        if row.positional:
            kind, default = str, inspect.Parameter.empty
            given: Any = typer.Argument(metavar=row.metavar, help=row.help, show_default=False)
        else:
            given = typer.Option(
                *row.flags,
                metavar=row.metavar,
                help=row.help,
                show_default=row.default is not None,  # a flag without a default of its own shows none
            )
        parameters.append(
            inspect.Parameter(
                row.parameter,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=default,
                annotation=Annotated[kind, given],
            )
        )
    command.__name__ = command.__qualname__ = name
    command.__doc__ = doc
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return command
