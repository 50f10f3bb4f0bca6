"""A family's settings table: one row per setting, from which its command is made.

Each row says the setting's Python name (the spec's field, the ``inspect_*`` keyword), its flags
(the first is the one messages and "Reproduce with" name), what ``--help`` shows (metavar, help,
default) and where the value goes: to the family's ``make_spec``, to the run (``--explain``), or
to the output (``--format``). ``torchshape.command.family_command`` builds the Typer command from
it; ``flags`` gives the names ``make_spec`` uses in its messages, ``defaults`` what it takes for a
setting not given, and ``Command`` writes the command line back ("Reproduce with"), the family
naming only its exceptions (``Rule``). No typer and no torch here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from torchshape.options import DEFAULT_REPEATS, DEFAULT_WARMUP, Format, output_words

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:  # read by type checkers only
        return lambda cls: cls


@dataclass_transform(frozen_default=True)
class Spec:
    """A family's checked settings: a frozen dataclass of its fields, in PyTorch's names, that names
    its family (``class PoolSpec(Spec, family="pool")``), by which ``families.of(spec)`` finds it."""

    family: ClassVar[str]  # the command: rnn, conv, pool

    def __init_subclass__(cls, *, family: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.family = family
        dataclass(frozen=True)(cls)


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
    default: str | bool | None  # what the command line takes when the flag is not given (None: nothing)
    param: str = ""  # the command function's parameter, where it is not ``name`` (bidir)
    pair: bool = False  # --flag/--no-flag: True, False or None (not given)
    given: Given = Given.VALUE
    role: Role = Role.SPEC
    fallback: Any = None  # what make_spec takes where the command line gives None: --dims's 2
    positional: bool = False  # a word without a flag (model's TARGET), named by its metavar
    many: bool = False  # the flag may be given again, each value kept in order (--input)

    def __post_init__(self) -> None:
        # typer derives a flag from the parameter's name only on some versions: spell them all
        if self.positional and self.flags:
            raise ValueError(f"{self.name}: a positional word has no flags, not {self.flags!r}")
        if not self.positional and (not self.flags or not all(flag.startswith("-") for flag in self.flags)):
            raise ValueError(f"{self.name}: flags {self.flags!r} must each start with '-'")

    @property
    def flag(self) -> str:
        """The flag messages name: of an on/off pair, the one that changes the default; a
        positional word's metavar (EXPRESSION)."""
        if self.positional:
            return self.metavar or self.name.upper()
        on, _, off = self.flags[0].partition("/")
        return off if off and self.default is True else on

    @property
    def parameter(self) -> str:
        return self.param or self.name

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)

    @property
    def spec_default(self) -> Any:
        """What make_spec takes when the setting is not given: the command line's default as it is
        typed ("50"), bias=True behind --no-bias, or the ``fallback`` of a flag without one."""
        if self.given is Given.NEGATED:
            return not self.default
        return self.fallback if self.default is None else self.default

    def words(self, value: Any, default: Any, write: Callable[[Any], str]) -> list[str]:
        """The flag (and its value, as ``write`` spells it) that asks for ``value``; none where it
        is ``default``: the value itself, or the text the command line takes for it."""
        if self.positional:
            return [write(value)]
        if self.many:  # every value given, in order, each behind the flag: --input A --input B
            return [word for one in value or () for word in (self.flag, write(one))]
        if value is None or value == default:
            return []
        if isinstance(value, bool):  # a switch, an on/off pair, or --no-bias for bias=False
            on, _, off = self.flags[0].partition("/")
            return [off if off and not value else on]
        shown = write(value)
        if isinstance(default, str) and (
            shown == default or (isinstance(value, float) and value == float(default))
        ):
            return []
        return [self.flag, shown]

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


def option(
    name: str,
    flags: str | tuple[str, ...],
    metavar: str,
    help: str,
    default: str | None = None,
    *,
    param: str = "",
    given: Given = Given.VALUE,
    fallback: Any = None,
    role: Role = Role.SPEC,
) -> Setting:
    """A row that takes a value: ``--hidden-size INT`` (``flags``: the flag, or it and its aliases)."""
    flags = (flags,) if isinstance(flags, str) else flags
    return Setting(
        name, flags, metavar, help, default, param=param, given=given, fallback=fallback, role=role
    )


def argument(name: str, metavar: str, help: str) -> Setting:
    """A positional word, required: model's ``TARGET``, expr's ``EXPRESSION``."""
    return Setting(name, (), metavar, help, None, positional=True)


def many(name: str, flag: str, metavar: str, help: str) -> Setting:
    """A flag given once per value, in order: ``--input 4,10 --input 4,7`` (none: an empty list)."""
    return Setting(name, (flag,), metavar, help, None, many=True)


def switch(
    name: str,
    flags: str | tuple[str, ...],
    help: str,
    default: bool = False,
    *,
    param: str = "",
    given: Given = Given.VALUE,
    role: Role = Role.SPEC,
) -> Setting:
    """A switch: ``--batch-first``, or ``--need-weights/--no-need-weights`` on by default."""
    flags = (flags,) if isinstance(flags, str) else flags
    return Setting(name, flags, "", help, default, param=param, given=given, role=role)


def pair(name: str, flags: str, help: str, *, fallback: Any = None) -> Setting:
    """``--affine/--no-affine``: True, False, or None where neither is given (then ``fallback``)."""
    return Setting(name, (flags,), None, help, None, pair=True, fallback=fallback)


def flags(table: Iterable[Setting]) -> dict[str, str]:
    """The flag that sets each of the spec's fields, so every message names what the user typed."""
    return {row.name: row.flag for row in table if row.role is Role.SPEC}


def defaults(table: Iterable[Setting]) -> dict[str, Any]:
    """What make_spec takes for each of the spec's settings that is not given."""
    return {row.name: row.spec_default for row in table if row.role is Role.SPEC}


def _output(name: str, flag: str, metavar: str, default: str | bool | None, help: str) -> Setting:
    """A row that goes to the output, not to the spec: --format, --output, --params, --time, ..."""
    return Setting(name, (flag,), metavar, help, default, role=Role.OUTPUT)


# The rows every layer family shares, in the same words everywhere.
DEVICE = option("device", "--device", "DEVICE", "cpu, cuda, cuda:N, mps or meta.", "cpu")
DTYPE = option(
    "dtype",
    "--dtype",
    "DTYPE",
    "Parameter and input dtype: float32, float64, float16 or bfloat16.",
    "float32",
)
FORMAT = _output(
    "output_format",
    "--format",
    "FORMAT",
    None,
    "Output format: table, markdown, json, csv, svg or python "
    "(default: table, or the one that --output's extension names).",
)
OUTPUT = _output(
    "output",
    "--output",
    "FILE",
    None,
    "Write to FILE (whole or not at all) instead of stdout; "
    "its extension .md .json .csv .svg .py .txt picks the format.",
)
DIAGRAM = switch(
    "diagram",
    "--diagram",
    "Draw the picture of this configuration, every mapping in it checked by torch "
    "(under the table; --format svg: a vector drawing).",
    role=Role.RUN,
)
DEBUG = _output("debug", "--debug", "", False, "Show tracebacks for errors.")
PARAMS = _output("params", "--params", "", False, "Add a table of every parameter, its formula and size.")
TIME = _output("time", "--time", "", False, "Time the forward pass on the device: median, min, max, FLOP/s.")
REPEATS = _output("repeats", "--repeats", "INT", str(DEFAULT_REPEATS), "With --time: timed runs.")
WARMUP = _output("warmup", "--warmup", "INT", str(DEFAULT_WARMUP), "With --time: untimed runs first.")
# Where the module runs and where its report goes: after every layer family's own settings.
WHERE = (DEVICE, DTYPE, FORMAT, OUTPUT)
TIMING = (TIME, REPEATS, WARMUP)
# What closes every layer family's table, after its own --explain (and --diagram).
CLOSING = (DEBUG, PARAMS, *TIMING)


def explain(help: str) -> Setting:
    """The family's --explain: what it checks, in the family's words."""
    return switch("explain", "--explain", help, role=Role.RUN)


def table(*rows: Setting, explain: str, diagram: bool = False) -> tuple[Setting, ...]:
    """A layer family's table: its own ``rows``, then where the module runs (``WHERE``), its
    --explain (``explain`` says what it checks), --diagram where it draws one, and ``CLOSING``."""
    drawn = (DIAGRAM,) if diagram else ()
    return (*rows, *WHERE, switch("explain", "--explain", explain, role=Role.RUN), *drawn, *CLOSING)


def text(value: Any) -> str:
    """A value as its flag takes it: an enum's value, ``3`` or ``3,5`` per axis, a float exactly."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return str(value[0]) if len(set(value)) == 1 else ",".join(str(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def plain(value: Any) -> Any:
    """A setting's value as JSON holds it: an enum's value, a tuple as a list."""
    if isinstance(value, Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


def config(spec: Any, names: Iterable[str]) -> dict[str, Any]:
    """JSON's ``config``: the spec's settings ``names`` in that order, as plain values; an
    unbatched input has no batch (None)."""
    out = {name: plain(getattr(spec, name)) for name in names}
    if "batch" in out and getattr(spec, "unbatched", False):
        out["batch"] = None
    return out


def keywords(spec: Any, defaults: Mapping[str, Any]) -> list[str]:
    """The constructor's keyword arguments whose value is not torch's ``defaults``: ``bias=False``."""
    return [
        f"{name}={getattr(spec, name)!r}"
        for name, default in defaults.items()
        if getattr(spec, name) != default
    ]


def listed(values: tuple[Any, ...]) -> str:
    """A list as its flag takes it, every item written: ``5,3,3``; ``()`` for none."""
    return ",".join(str(v) for v in values) if values else "()"


@dataclass(frozen=True)
class Rule:
    """How "Reproduce with" writes a setting where the table alone cannot say: only ``when`` the
    spec holds, against a ``default`` that depends on the spec, a ``value`` that is not the spec's
    field of that name, or in a ``text`` other than ``settings.text``."""

    when: Callable[[Any], bool] | None = None
    default: Callable[[Any], Any] | None = None
    value: Callable[[Any], Any] | None = None
    text: Callable[[Any], str] = text


PLAIN = Rule()
BATCHED = Rule(when=lambda spec: not spec.unbatched)  # --batch: unbatched input has none


def by_kind(kinds: Mapping[Any, tuple[str, ...]]) -> Callable[[Any, str], bool]:
    """Whether a spec takes a setting, where ``kinds`` lists the settings only some kinds take."""
    some = {name for names in kinds.values() for name in names}
    return lambda spec, name: name not in some or name in kinds[spec.kind]


@dataclass(frozen=True)
class Command:
    """The command line that asks for a spec ("Reproduce with"), written from the family's settings
    table: each setting whose value is not its default, the table's rule; ``rules`` name the
    exceptions; ``takes(spec, name)`` says whether the spec has a setting at all; ``order`` is the
    order of the spec's settings on the command line, where it is not the table's."""

    family: str
    table: tuple[Setting, ...]
    rules: Mapping[str, Rule] = field(default_factory=dict)
    takes: Callable[[Any, str], bool] | None = None
    order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [row.name for row in self.table if row.role is Role.SPEC]
        if self.order and sorted(self.order) != sorted(names):
            raise ValueError(f"{self.family}: the order {self.order} names other settings than {names}")
        if set(self.rules) - set(names):
            raise ValueError(f"{self.family}: rules for settings it has not: {set(self.rules) - set(names)}")

    def words(self, spec: Any, hide: Collection[str] = ()) -> tuple[list[str], list[str]]:
        """The spec's flags, those that ``hide`` names left out; and apart, the positional words
        that start with - (expr's ``-a``), which would read as flags: the line puts them after --."""
        rows = {row.name: row for row in self.table if row.role is Role.SPEC}
        words: list[str] = []
        dashed: list[str] = []
        for name in self.order or rows:
            rule = self.rules.get(name, PLAIN)
            if (
                name in hide
                or (self.takes and not self.takes(spec, name))
                or (rule.when and not rule.when(spec))
            ):
                continue
            value = rule.value(spec) if rule.value else getattr(spec, name)
            default = rule.default(spec) if rule.default else rows[name].spec_default
            written = rows[name].words(value, default, rule.text)
            last = rows[name].positional and written[0].startswith("-")
            (dashed if last else words).extend(written)
        return words, dashed

    def line(self, spec: Any, fmt: Format | None = None, *, hide: Collection[str] = (), **flags: Any) -> str:
        """``torchshape FAMILY ...`` that asks for exactly ``spec`` (non-default flags only), the run's
        flags given True (``explain=True``: --explain) and the output's (``command_text``'s params,
        timing, output, diagram). Parsing it back through the command line gives an equal spec."""
        run = [
            row.flag
            for row in self.table
            if row.role in (Role.RUN, Role.BOTH) and row.name != "diagram" and flags.pop(row.name, False)
        ]
        words, dashed = self.words(spec, hide)
        return command_text(self.family, words, fmt, run=run, last=dashed, **flags)


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
    last: Iterable[str] = (),
) -> str:
    """``torchshape FAMILY`` with the spec's ``words``, the run's (``--explain``) and the output's;
    the positional words that start with - ``last``, after ``--``."""
    every = ["torchshape", family, *words, *run]
    every += output_words(fmt, params=params, timing=timing, output=output, diagram=diagram)
    every += ["--", *last] if last else []
    return " ".join(shlex.quote(word) for word in every)
