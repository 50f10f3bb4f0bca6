"""A family's settings table in a Python caller's words: ``--kind gru`` is ``kind='gru'``.

The checks are written once, in the command line's words; a Python call gets the same message
with each flag turned into the argument that sets it (``in_python_terms``). The ``inspect_*``
functions' signatures and the settings in their docstrings are made from the table here too.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from torchshape.errors import UsageError
from torchshape.options import DEVICE_PATTERN
from torchshape.settings import Given, Role, Setting

# A flag inside a message, and the word after it that may be its value: ``--kind gru-cell``.
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)(?: (-?[\w:][\w:-]*(?:\.\d+)?))?")


def _by_flag(table: Iterable[Setting]) -> dict[str, tuple[Setting, bool]]:
    """Each flag of the rows a Python call takes, with the value a switch's flag means
    (``--no-bias``: False; ``--affine/--no-affine``: True and False)."""
    found: dict[str, tuple[Setting, bool]] = {}
    for row in table:
        if row.role is Role.OUTPUT:
            continue
        for flag in row.flags:
            on, _, off = flag.partition("/")
            found[on] = (row, row.given is not Given.NEGATED)
            if off:
                found[off] = (row, False)
    return found


def _python_value(row: Setting, default: Any, word: str) -> Any:
    """``word`` as the Python value of ``row``'s setting where it is one (``2``, ``'lstm'``), else None."""
    if re.fullmatch(r"-?\d+", word):
        return int(word)
    choices = [member.value for member in type(default)] if isinstance(default, Enum) else []
    choices += (row.metavar or "").split("|") if "|" in (row.metavar or "") else []
    if word in choices or (row.name == "device" and DEVICE_PATTERN.match(word)):
        return word
    floats = isinstance(default, float) or row.metavar == "FLOAT"
    return float(word) if floats and re.fullmatch(r"\d+\.\d+", word) else None


def python_words(text: str, table: Iterable[Setting], defaults: Mapping[str, Any]) -> str:
    """``text`` in a Python caller's words: ``--kind gru`` becomes ``kind='gru'``, ``--bidir``
    ``bidirectional=True``, ``--seq-len`` ``seq_len``; a flag Python has no argument for (--format)
    stays as it is."""
    flags = _by_flag(table)

    def word(match: re.Match[str]) -> str:
        flag, value = match.group(1), match.group(2)
        if flag not in flags:
            return match.group(0)
        row, on = flags[flag]
        after = f" {value}" if value else ""
        if row.is_switch or row.pair:
            return f"{row.name}={on}{after}"
        python = _python_value(row, defaults.get(row.name), value) if value else None
        return row.name + after if python is None else f"{row.name}={python!r}"

    return _FLAG.sub(word, text)


def in_python_terms(
    error: UsageError, given: Mapping[str, Any], table: Iterable[Setting], defaults: Mapping[str, Any]
) -> UsageError:
    """``error``, written in the command line's words, reworded for a Python caller: ``option``
    becomes the argument (``proj_size``), the message starts with it and its value as ``given``
    (``proj_size=3: ...``), and the flags inside the advice become arguments too."""
    table = tuple(table)
    found = _by_flag(table).get(error.option)
    if found is None:
        return error
    row, on = found
    body = error.message.removeprefix(f"{error.option}: ")
    if given.get(row.name) is not None:
        shown = f"{row.name}={given[row.name]!r}"
    else:
        shown = f"{row.name}={on}" if row.is_switch or row.pair else row.name
    reworded = UsageError(row.name, python_words(body, table, defaults), shown=shown)
    reworded.__cause__ = error.__cause__
    return reworded


def python_default(row: Setting, defaults: Mapping[str, Any]) -> Any:
    """What a Python call takes for a setting not given: what the command line passes then, so that
    passing it changes nothing. None where the command line passes None (a setting some kinds refuse,
    or one whose default depends on others); an enum's value; a switch of the run (explain) off."""
    if row.given in (Given.TYPED, Given.ON) or row.pair or (row.default is None and row.role is Role.SPEC):
        return None
    default = defaults.get(row.name, False)
    return default.value if isinstance(default, Enum) else default


def _annotation(row: Setting, default: Any) -> Any:
    """What a setting takes (None: not given): a switch a bool, a size per axis an int or a tuple."""
    metavar = row.metavar or ""
    if row.is_switch or row.pair:
        kind: Any = bool
    elif ",INT" in metavar:
        kind = int | tuple[int, ...] | str if "|" in metavar else int | tuple[int, ...]
    elif default is not None:
        kind = str if isinstance(default, Enum) else type(default)
    else:
        kind = {"INT": int, "FLOAT": float}.get(metavar, str if "|" in metavar else Any)
    return kind | None if kind is not Any and python_default(row, {row.name: default}) is None else kind


def python_signature(
    table: Iterable[Setting], defaults: Mapping[str, Any], first: inspect.Parameter
) -> inspect.Signature:
    """A family's Python call: ``first`` (its spec), then every setting by name with its default."""
    keywords = [
        inspect.Parameter(
            row.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=python_default(row, defaults),
            annotation=_annotation(row, defaults.get(row.name, False)),
        )
        for row in table
        if row.role is not Role.OUTPUT
    ]
    return inspect.Signature([first, *keywords], return_annotation="Report")


def python_help(table: Iterable[Setting], defaults: Mapping[str, Any], spec: str) -> str:
    """The settings of a Python call that takes ``spec`` or them, for its docstring: a line each,
    ``name=default`` and its flag's help in Python's words (``--no-bias``'s under ``False:``), with
    the spec's default where the call's is None."""
    rows = [row for row in table if row.role is not Role.OUTPUT]
    firsts = [f"        {row.name}={python_default(row, defaults)!r}" for row in rows]
    width = max(map(len, firsts)) + 2
    lines = []
    for row, first in zip(rows, firsts, strict=True):
        words = python_words(row.help, rows, defaults)
        if row.given is Given.NEGATED:
            words = f"False: {words[0].lower()}{words[1:]}"
        default = defaults.get(row.name)
        if python_default(row, defaults) is None and default is not None and "default" not in words:
            words += f" [default: {default.value if isinstance(default, Enum) else default}]"
        lines.append(
            textwrap.fill(words, 100, initial_indent=first.ljust(width), subsequent_indent=" " * width)
        )
    said = (
        f"Pass {spec} or these settings by name, in PyTorch's names (the default beside each); "
        "a bad one raises ``UsageError`` naming it (``name=value: ...``):"
    )
    lines.insert(0, textwrap.fill(said, 100, initial_indent="    ", subsequent_indent="    ") + "\n")
    return "\n".join(lines) + "\n"
