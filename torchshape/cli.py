"""The command line: parse flags, call the library, render, map errors to exit codes.

torch is imported only inside the command body, so ``--help`` never pays for it.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer
import typer.main

from torchshape import families
from torchshape.argv import Options, first_problem
from torchshape.command import SWITCH, Command, Group, epilog
from torchshape.errors import TorchshapeError
from torchshape.startup import pause_gc, skip_pydantic

# The base of the parser's errors: typer >= 0.2x carries its own click (TyperException); an
# older typer runs on top of click.
ParseError: type[Exception] = (
    getattr(typer, "TyperException", None) or importlib.import_module("click").ClickException
)


HELP = (
    "Every shape of a PyTorch layer (recurrent, convolution, pooling, attention, embedding, "
    "transformer), with its formula, verified by a real forward pass."
)
skip_pydantic()  # string options need no pydantic; importing it costs 0.1-0.2 s


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(version_line() + "\n")
        raise typer.Exit(0)


def version_line() -> str:
    """``torchshape 0.1.0 (torch 2.13.0+cpu)``, torch's version as ``torch.__version__`` says it
    (with its build, ``+cu130``), read from the installed files without importing torch; the
    distribution's version where those cannot be read."""
    import re
    from importlib import metadata
    from pathlib import Path

    from torchshape import __version__

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return f"torchshape {__version__} (torch is not installed; see https://pytorch.org/get-started/)"
    try:  # torch/version.py holds __version__ with the build tag the wheel's metadata may lack
        located = metadata.distribution("torch").locate_file("torch/version.py")
        source = Path(str(located)).read_text(encoding="utf-8")
        found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", source, re.MULTILINE)
        torch_version = found[1] if found else torch_version
    except (OSError, ValueError):
        pass
    return f"torchshape {__version__} (torch {torch_version})"


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
    """The group itself: its --version option (its help is ``HELP``)."""


def _group() -> typer.Typer:
    """``torchshape`` itself, with its --version and shell completion (Typer's
    --install-completion and --show-completion), before any command is registered."""
    group = typer.Typer(
        cls=Group,
        add_completion=True,
        help=HELP,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    group.callback()(_root)
    return group


app = _group()
for _name in families.COMMANDS:  # one command per family: torchshape rnn, conv, pool, ...
    _module = families.command(_name)
    app.command(_name, cls=Command, epilog=epilog(_module.EXAMPLES))(getattr(_module, _name))


def _listed() -> None:
    """Stands in for a command in ``torchshape --help``'s list: only its name and help are read."""


def for_line(args: list[str]) -> typer.Typer:
    """``app`` as this command line needs it: the command it runs built whole and no other; for
    ``torchshape --help``, ``--version`` or a word that is no command, every command by its
    name and help alone. Building a command's options is most of what --help costs."""
    import copy
    import inspect

    word = next((arg for arg in args if not arg.startswith("-")), None)
    names = [info.name for info in app.registered_commands]
    only = word if word in names else None
    line = _group()
    for info in app.registered_commands:
        if only is None:
            listed = copy.copy(info)
            listed.help = info.help if info.help is not None else inspect.getdoc(info.callback)
            listed.callback = _listed
            line.registered_commands.append(listed)
        elif info.name == only:
            line.registered_commands.append(info)
    return line


# Set by the script that --install-completion installs, when the shell asks for completions.
COMPLETE = "_TORCHSHAPE_COMPLETE"


def _completion_switches(command: Any) -> Any:
    """Typer's --install-completion and --show-completion, shown as the switches they are."""
    for param in command.params:
        if param.name in ("install_completion", "show_completion"):
            param.metavar = SWITCH
    return command


def completions(args: list[str]) -> int:
    """Answer the shell's completion request (the words are in the environment): the whole app,
    every command built, since the line being completed may name any of them."""
    command = _completion_switches(typer.main.get_command(app))
    try:
        command.main(args=args, prog_name="torchshape", complete_var=COMPLETE, standalone_mode=False)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: the one place that turns errors into a line on stderr and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        args = ["--help"]
    from torchshape import quiet
    from torchshape.terminal import install

    quiet.install()  # torch's own notices (no numpy, dropout with one layer, ...) are not the user's
    install(sys.stdout, sys.stderr)  # ASCII fallbacks where the encoding cannot carry ×, ·, ✓
    if COMPLETE in os.environ:  # the shell asks for completions: every command, every option
        return completions(args)
    command = _completion_switches(typer.main.get_command(for_line(args)))
    kinds = {name: families.command(name).KINDS for name in families.COMMANDS}
    problem = first_problem(args, *_options(command), kinds=kinds)
    if problem is not None:
        return _fail(problem, 2)
    if _eager(args) == "--version":  # torchshape rnn --version: the version, as after torchshape alone
        sys.stdout.write(version_line() + "\n")
        return 0
    return _run(command, args)


def _run(command: Any, args: list[str]) -> int:
    """Run the command line: its exit code, every error turned into one line on stderr (with
    --debug, torchshape's own errors raise)."""
    debug = "--debug" in args
    try:
        result = _main_of(command, args)
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
        from torchshape.contain import message

        return _fail(
            f"internal error: {type(exc).__name__}: {message(exc)} (rerun with --debug for the traceback)", 1
        )
    if result == 130:  # typer turns a KeyboardInterrupt inside the command into 130, silently
        return _fail("interrupted", 130)
    return result if isinstance(result, int) else 0


def _main_of(command: Any, args: list[str]) -> Any:
    """The parser's run of the command line; help through a pipe or into a file without the
    spaces rich pads every line with to the width."""
    if not any(arg in ("-h", "--help") for arg in args) or sys.stdout.isatty():
        return command.main(args=args, prog_name="torchshape", standalone_mode=False)
    import contextlib
    import io

    from torchshape.terminal import strip_trailing_spaces

    with contextlib.redirect_stdout(io.StringIO()) as buffer:
        result = command.main(args=args, prog_name="torchshape", standalone_mode=False)
    sys.stdout.write(strip_trailing_spaces(buffer.getvalue()))
    return result


def _options(group: Any) -> tuple[Options, dict[str, Options]]:
    """What each command's options take (a value or none), read from the parser's own table."""

    def table(command: Any) -> Options:
        values: set[str] = set()
        switches: set[str] = {"-h", "--help"}
        positionals = sum(
            1 for param in command.params if getattr(param, "param_type_name", "") == "argument"
        )
        for param in command.params:
            names = [*param.opts, *param.secondary_opts]
            (switches if getattr(param, "is_flag", False) else values).update(
                name for name in names if name.startswith("-")
            )
        return Options(frozenset(values), frozenset(switches), positionals)

    return table(group), {name: table(command) for name, command in group.commands.items()}


def _eager(args: list[str]) -> str | None:
    """The first of -h, --help, --version on the command line (before any ``--``): it wins."""
    for arg in args:
        if arg == "--":
            return None
        if arg in ("-h", "--help", "--version"):
            return arg
    return None


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"torchshape: error: {one_line(message)}\n")
    return code


# An error line echoes what the user typed; past this many characters the middle is cut.
MAX_ERROR_CHARS = 2000


def one_line(message: str) -> str:
    """``message`` as one printable line of reasonable length: control characters escaped
    (a model's ANSI codes, a pasted newline) and a huge echoed value cut in the middle."""
    from torchshape.contain import printable

    text = printable(message)
    if len(text) > MAX_ERROR_CHARS:
        half = MAX_ERROR_CHARS // 2
        text = f"{text[:half]} ...({len(text) - 2 * half} characters)... {text[-half:]}"
    return text


# Narrower than this, a table breaks inside words; COLUMNS below it (0, 5) is ignored, as git and pip do.
MIN_COLUMNS = 40


def sane_columns(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Drop a COLUMNS that is not a number or is below ``MIN_COLUMNS``: the terminal's own width wins."""
    text = environ.get("COLUMNS")
    if text is None:
        return
    try:
        width = int(text.strip())
    except ValueError:
        width = 0
    if width < MIN_COLUMNS:
        del environ["COLUMNS"]


def run() -> None:
    pause_gc()  # the command's process is short-lived; see torchshape/startup.py
    from torchshape.measure import command_line_process

    command_line_process()  # before torch allocates: freed tensors go back to the system
    sane_columns()
    code = main()
    if code == 130:  # Ctrl-C: torch may still be running in a worker thread; do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    from torchshape.contain import leave_if_threads_remain

    leave_if_threads_remain(code)  # threads the user's model started do not hold the report's exit
    sys.exit(code)
