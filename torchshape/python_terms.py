"""A family's settings table in a Python caller's words: ``--kind gru`` is ``kind='gru'``.

The checks are written once, in the command line's words; a Python call gets the same message
with each flag turned into the argument that sets it (``in_python_terms``). The ``inspect_*``
functions' signatures and the settings in their docstrings are made from the table here too.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import inspect
import re
import sys
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from torchshape.errors import UsageError
from torchshape.options import DEVICE_PATTERN
from torchshape.settings import Given, Role, Setting

# A flag inside a message, and the word after it that may be its value: ``--kind gru-cell``.
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)(?: (-?\w[\w/-]*(?::\d+)?(?:\.\d+)?))?")


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


@functools.cache
def _field_types(spec_type: type) -> dict[str, Any]:
    """The type of each of the spec's fields that is one name (``Kind``, ``float``; None left out),
    found in the spec's module without evaluating its annotations (this runs at import)."""
    names = vars(builtins) | vars(sys.modules[spec_type.__module__])
    found = {}
    for field in dataclasses.fields(spec_type):
        words = [word.strip() for word in str(field.type).split("|") if word.strip() != "None"]
        found[field.name] = names.get(words[0]) if len(words) == 1 else None
    return found


def _python_value(row: Setting, spec_type: type, word: str) -> Any:
    """``word`` as the Python value of ``row``'s setting where it is one (``2``, ``'lstm'``), else None."""
    kind = _field_types(spec_type).get(row.name)
    if re.fullmatch(r"-?\d+(\.\d+)?", word) and (kind is float or row.metavar == "FLOAT"):
        return float(word)
    if re.fullmatch(r"-?\d+", word):
        return int(word)
    choices = [member.value for member in kind] if isinstance(kind, type) and issubclass(kind, Enum) else []
    choices += (row.metavar or "").split("|") if "|" in (row.metavar or "") else []
    return word if word in choices or (row.name == "device" and DEVICE_PATTERN.match(word)) else None


def python_words(text: str, table: Iterable[Setting], spec_type: type) -> str:
    """``text`` in a Python caller's words: ``--kind gru`` becomes ``kind='gru'``, ``--bidir``
    ``bidirectional=True``, ``--seq-len`` ``seq_len``; a flag Python has no argument for (--format)
    stays as it is."""
    return _in_python(text, _by_flag(table), spec_type)


def _in_python(text: str, flags: dict[str, tuple[Setting, bool]], spec_type: type) -> str:
    def word(match: re.Match[str]) -> str:
        flag, value = match.group(1), match.group(2)
        if flag not in flags:
            return match.group(0)
        row, on = flags[flag]
        after = f" {value}" if value else ""
        if row.is_switch or row.pair:
            return f"{row.name}={on}{after}"
        python = _python_value(row, spec_type, value) if value else None
        return row.name + after if python is None else f"{row.name}={python!r}"

    return _FLAG.sub(word, text)


def in_python_terms(
    error: UsageError, given: Mapping[str, Any], table: Iterable[Setting], spec_type: type
) -> UsageError:
    """``error``, written in the command line's words, reworded for a Python caller: ``option``
    becomes the argument (``proj_size``), the message starts with it and its value as ``given``
    (``proj_size=3: ...``), and the flags inside the advice become arguments too."""
    flags = _by_flag(table)
    found = flags.get(error.option)
    if found is None:
        return error
    row, on = found
    body = error.message.removeprefix(f"{error.option}: ")
    if given.get(row.name) is not None:
        shown = f"{row.name}={given[row.name]!r}"
    else:
        shown = f"{row.name}={on}" if row.is_switch or row.pair else row.name
    reworded = UsageError(row.name, _in_python(body, flags, spec_type), shown=shown)
    reworded.__cause__ = error.__cause__
    return reworded


def python_default(row: Setting, spec_type: type) -> Any:
    """What a Python call takes for a setting not given: what the command line passes then, so that
    passing it changes nothing. None where the command line passes None (a setting some kinds refuse,
    or one whose default depends on others); a switch of the run (explain) off."""
    if row.given in (Given.TYPED, Given.ON) or row.pair or row.default is None:
        return None
    if isinstance(row.default, bool):
        return not row.default if row.given is Given.NEGATED else row.default
    found = _python_value(row, spec_type, row.default)
    return row.default if found is None else found


def _annotation(row: Setting, spec_type: type) -> Any:
    """What a setting takes (None: not given): a switch a bool, a size per axis an int or a tuple."""
    metavar, kind = row.metavar or "", _field_types(spec_type).get(row.name)
    if row.is_switch or row.pair:
        kind = bool
    elif ",INT" in metavar:
        kind = int | tuple[int, ...] | str if "|" in metavar else int | tuple[int, ...]
    elif isinstance(kind, type) and issubclass(kind, Enum):
        kind = str
    elif kind not in (int, float, str):
        kind = {"INT": int, "FLOAT": float}.get(metavar, str if "|" in metavar else Any)
    return kind | None if kind is not Any and python_default(row, spec_type) is None else kind


def python_signature(table: Iterable[Setting], spec_type: type) -> inspect.Signature:
    """A family's Python call: its spec (or None), then every setting by name with its default."""
    first = inspect.Parameter(
        "spec",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=f"{spec_type.__name__} | None",
    )
    keywords = [
        inspect.Parameter(
            row.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=python_default(row, spec_type),
            annotation=_annotation(row, spec_type),
        )
        for row in table
        if row.role is not Role.OUTPUT
    ]
    return inspect.Signature([first, *keywords], return_annotation="Report")


def _fill(first: str, words: str, indent: int) -> str:
    """``first`` then ``words``, wrapped at 100 columns under ``indent`` spaces (this runs when
    torchshape.api is imported, where ``textwrap.fill`` would add milliseconds to every command)."""
    lines = [first.ljust(indent)]
    for word in words.split():
        if len(lines[-1]) + len(word) >= 100 and len(lines[-1]) > indent:
            lines.append(" " * indent)
        lines[-1] += word if len(lines[-1]) == indent else f" {word}"
    return "\n".join(lines)


def python_help(table: Iterable[Setting], spec_type: type, spec: str) -> str:
    """The settings of a Python call that takes ``spec`` or them, for its docstring: a line each,
    ``name=default`` and its flag's help in Python's words (``--no-bias``'s under ``False:``), with
    the command line's default where the call's is None."""
    rows = [(row, python_default(row, spec_type)) for row in table if row.role is not Role.OUTPUT]
    flags = _by_flag(row for row, _ in rows)
    width = max(len(f"{row.name}={default!r}") for row, default in rows) + 10
    lines = []
    for row, default in rows:
        words = _in_python(row.help, flags, spec_type)
        if row.given is Given.NEGATED:
            words = f"False: {words[0].lower()}{words[1:]}"
        if default is None and row.default is not None and "default" not in words:
            words += f" [default: {row.default}]"
        lines.append(_fill(f"        {row.name}={default!r}", words, width))
    return (
        f"    Pass {spec} or these settings by name, in PyTorch's names (the default beside each);\n"
        "    a bad one raises ``UsageError`` naming it (``name=value: ...``):\n\n" + "\n".join(lines) + "\n"
    )
