"""A family's settings table: one row per setting, from which its command is made.

Each row says the setting's Python name (the spec's field, the ``inspect_*`` keyword), its flags
(the first is the one messages and "Reproduce with" name), what ``--help`` shows (metavar, help,
default) and where the value goes: to the family's ``make_spec``, to the run (``--explain``), or
to the output (``--format``). ``torchshape.command.family_command`` builds the Typer command from
it; ``flags`` gives the names ``make_spec`` uses in its messages. No typer and no torch here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from torchshape.options import DEFAULT_REPEATS, DEFAULT_WARMUP, Format, output_words


class Given(Enum):
    """How the command line's value reaches the spec."""

    VALUE = "value"  # as typed, or the default
    TYPED = "typed"  # None unless typed: the default only fills --help (--batch beside --lengths)
    NEGATED = "negated"  # --no-bias: bias=False
    ON = "on"  # a switch that is True or None (not given), never False


class Role(Enum):
    """Where the value goes."""

    SPEC = "spec"  # the family's make_spec
    RUN = "run"  # the run beside the spec: explain, diagram
    BOTH = "both"  # rnn's --unroll: the spec checks it, the run does it
    OUTPUT = "output"  # what every command shares: format, output, params, time, debug


@dataclass(frozen=True)
class Setting:
    """One row of a family's settings table."""

    name: str  # the Python argument: PyTorch's name (num_layers)
    flags: tuple[str, ...]  # on the command line, the first in messages: ("--layers", "--num-layers")
    metavar: str | None  # INT, KIND, "" for a switch; None: typer's (an on/off pair)
    help: str
    default: str | bool | None  # what the command line takes when the flag is not given
    param: str = ""  # the command function's parameter, where it is not ``name`` (bidir)
    optional: bool = False  # the parameter may be None (typer: Optional[str]; a pair: Optional[bool])
    pair: bool = False  # --flag/--no-flag: True, False or None (not given)
    show_default: bool | None = None  # False: --help shows no default (typer's own choice otherwise)
    given: Given = Given.VALUE
    role: Role = Role.SPEC

    def __post_init__(self) -> None:
        # typer derives a flag from the parameter's name only on some versions: spell them all
        if not self.flags or not all(flag.startswith("-") for flag in self.flags):
            raise ValueError(f"{self.name}: flags {self.flags!r} must each start with '-'")

    @property
    def flag(self) -> str:
        """The flag messages name: of an on/off pair, the one that changes the default."""
        on, _, off = self.flags[0].partition("/")
        return off if off and self.default is True else on

    @property
    def parameter(self) -> str:
        return self.param or self.name

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)

    def words(self, value: Any) -> list[str]:
        """The flag (and its value) that asks for ``value``; none where it is the default."""
        if self.given is Given.NEGATED:
            return [] if value else [self.flag]
        if self.is_switch or self.pair:
            return [self.flag] if bool(value) != bool(self.default) else []
        if value is None:
            return []
        shown = text(value)
        same = isinstance(value, float) and isinstance(self.default, str) and value == float(self.default)
        return [] if shown == self.default or same else [self.flag, shown]

    def value(self, values: dict[str, Any], typed: bool) -> Any:
        """What make_spec gets from the command line's ``values`` (``typed``: the user gave the flag)."""
        value = values[self.parameter]
        if self.given is Given.TYPED:
            return value if typed else None
        if self.given is Given.NEGATED:
            return not value
        if self.given is Given.ON:
            return value or None
        return value


def flags(table: Iterable[Setting]) -> dict[str, str]:
    """The flag that sets each of the spec's fields, so every message names what the user typed."""
    return {row.name: row.flag for row in table if row.role is Role.SPEC}


# The rows every layer family shares, in the same words everywhere.
DEVICE = Setting("device", ("--device",), "DEVICE", "cpu, cuda, cuda:N, mps or meta.", "cpu")
DTYPE = Setting(
    "dtype",
    ("--dtype",),
    "DTYPE",
    "Parameter and input dtype: float32, float64, float16 or bfloat16.",
    "float32",
)
FORMAT = Setting(
    "output_format",
    ("--format",),
    "FORMAT",
    "Output format: table, markdown, json, csv, svg or python "
    "(default: table, or the one that --output's extension names).",
    None,
    optional=True,
    show_default=False,
    role=Role.OUTPUT,
)
OUTPUT = Setting(
    "output",
    ("--output",),
    "FILE",
    "Write to FILE (whole or not at all) instead of stdout; "
    "its extension .md .json .csv .svg .py .txt picks the format.",
    None,
    optional=True,
    show_default=False,
    role=Role.OUTPUT,
)
DIAGRAM = Setting(
    "diagram",
    ("--diagram",),
    "",
    "Draw the picture of this configuration, every mapping in it checked by torch "
    "(under the table; --format svg: a vector drawing).",
    False,
    role=Role.RUN,
)
DEBUG = Setting("debug", ("--debug",), "", "Show tracebacks for errors.", False, role=Role.OUTPUT)
PARAMS = Setting(
    "params",
    ("--params",),
    "",
    "Add a table of every parameter, its formula and size.",
    False,
    role=Role.OUTPUT,
)
TIME = Setting(
    "time",
    ("--time",),
    "",
    "Time the forward pass on the device: median, min, max, FLOP/s.",
    False,
    role=Role.OUTPUT,
)
REPEATS = Setting(
    "repeats",
    ("--repeats",),
    "INT",
    "With --time: timed runs.",
    str(DEFAULT_REPEATS),
    optional=True,
    role=Role.OUTPUT,
)
WARMUP = Setting(
    "warmup",
    ("--warmup",),
    "INT",
    "With --time: untimed runs first.",
    str(DEFAULT_WARMUP),
    optional=True,
    role=Role.OUTPUT,
)
# Where the module runs and where its report goes: after every layer family's own settings.
WHERE = (DEVICE, DTYPE, FORMAT, OUTPUT)
TIMING = (TIME, REPEATS, WARMUP)
# What closes every layer family's table, after its own --explain (and --diagram).
CLOSING = (DEBUG, PARAMS, *TIMING)


def explain(help: str) -> Setting:
    """The family's --explain: what it checks, in the family's words."""
    return Setting("explain", ("--explain",), "", help, False, role=Role.RUN)


def text(value: Any) -> str:
    """A value as its flag takes it: an enum's value, ``3`` or ``3,5`` per axis, a float exactly."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return str(value[0]) if len(set(value)) == 1 else ",".join(str(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def flag_words(
    spec: Any, table: Iterable[Setting], special: Callable[[str, Any], list[str] | None] | None = None
) -> list[str]:
    """The flags that ask for ``spec``, in the table's order: those whose value differs from the
    command line's default. ``special(field, value)`` decides a field first (None: this rule)."""
    words: list[str] = []
    for row in table:
        if row.role is not Role.SPEC:
            continue
        value = getattr(spec, row.name)
        found = special(row.name, value) if special is not None else None
        words += row.words(value) if found is None else found
    return words


def command_text(
    family: str,
    words: Iterable[str],
    fmt: Format | None,
    *,
    run: Iterable[str] = (),
    params: bool = False,
    timing: tuple[int, int] | None = None,
    output: str | None = None,
    diagram: bool = False,
) -> str:
    """``torchshape FAMILY`` with the spec's ``words``, the run's (``--explain``) and the output's."""
    every = ["torchshape", family, *words, *run]
    every += output_words(fmt, params=params, timing=timing, output=output, diagram=diagram)
    return " ".join(shlex.quote(word) for word in every)
