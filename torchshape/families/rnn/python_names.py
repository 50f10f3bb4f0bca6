"""The Python API's wording: errors name ``proj_size=3``, not the flag ``--proj-size``.

The checks are written once, in the command line's words (``spec.FLAGS``); a call from
Python gets the same message with every flag turned into the argument that sets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.rnn.spec import FLAGS, Kind, Nonlinearity
from torchshape.options import DType, Format

# The argument that each field is set by in Python: PyTorch's names, as RNNSpec has them.
PYTHON: dict[str, str] = {field: field for field in FLAGS} | {"explain": "explain", "unroll": "unroll"}

# What a switch on the command line means as a Python argument.
_SWITCHES: dict[str, tuple[str, bool]] = {
    "--bidir": ("bidirectional", True),
    "--batch-first": ("batch_first", True),
    "--no-bias": ("bias", False),
    "--unbatched": ("unbatched", True),
    "--explain": ("explain", True),
    "--unroll": ("unroll", True),
}
_FIELDS: dict[str, str] = {flag: field for field, flag in FLAGS.items()} | {
    "--explain": "explain",
    "--unroll": "unroll",
}
_CHOICES: dict[str, set[str]] = {
    "kind": {k.value for k in Kind},
    "nonlinearity": {n.value for n in Nonlinearity},
    "dtype": {d.value for d in DType},
    "format": {f.value for f in Format},
    "device": {"cpu", "cuda", "mps", "meta"},
}
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)(?: ([\w:-]+(?:\.\d+)?))?")


def _value(field: str, word: str) -> Any:
    """``word`` as the Python value of ``field`` when it is one (``2``, ``'lstm'``), else None."""
    if field in _CHOICES:
        return word if word in _CHOICES[field] or re.fullmatch(r"cuda:\d+", word) else None
    if re.fullmatch(r"\d+", word):
        return int(word)
    if re.fullmatch(r"\d+\.\d+", word) and field == "dropout":
        return float(word)
    return None


def _in_python(match: re.Match[str]) -> str:
    flag, word = match.group(1), match.group(2)
    if flag in _SWITCHES:
        name, on = _SWITCHES[flag]
        return f"{name}={on}" + (f" {word}" if word else "")
    field = _FIELDS.get(flag)
    if field is None:  # a flag with no Python argument (--format, --time): left as it is
        return match.group(0)
    value = _value(field, word) if word else None
    if value is None:
        return PYTHON[field] + (f" {word}" if word else "")
    return f"{PYTHON[field]}={value!r}"


def in_python_terms(error: UsageError, given: Mapping[str, Any]) -> UsageError:
    """``error`` reworded for a Python caller; ``given`` holds the arguments as they were passed.

    ``option`` becomes the argument's name (``proj_size``) and the message starts with it
    and its value (``proj_size=3: ...``); flags inside the advice become arguments too.
    """
    field = _FIELDS.get(error.option)
    if field is None:
        return error
    body = error.message.removeprefix(f"{error.option}: ")
    name = PYTHON[field]
    if field in given and given[field] is not None:
        shown = f"{name}={given[field]!r}"
    elif error.option in _SWITCHES:
        shown = f"{name}={_SWITCHES[error.option][1]}"
    else:
        shown = name
    reworded = UsageError(name, _FLAG.sub(_in_python, body), shown=shown)
    reworded.__cause__ = error.__cause__
    return reworded
