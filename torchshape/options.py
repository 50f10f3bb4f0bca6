"""What every command shares: dtypes, output formats, --time's defaults, the seed, devices.

No torch here. The families (``torchshape.families``) build their specs on these.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum

from torchshape.errors import UsageError

# Bytes per element of every dtype torchshape names: the floating ones of --dtype first, then
# those a tensor given by its shape may also have (``model --input``, ``expr --tensor``).
ITEMSIZES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4}
ITEMSIZES |= {"int16": 2, "int8": 1, "uint8": 1, "bool": 1, "complex64": 8}
INTEGER_DTYPES = frozenset({"int64", "int32", "int16", "int8", "uint8"})


def dtype_and_range(
    flag: str, text: str, parts: list[str], dtypes: tuple[str, ...], default: str, aliases: dict[str, str]
) -> tuple[str, int | None, int | None]:
    """The DTYPE and LOW-HIGH of a tensor given as SHAPE[:DTYPE[:LOW-HIGH]] (``parts``: ``text``
    split at ':'); a refusal names ``flag`` and the whole ``text``."""
    dtype = parts[1].strip().lower() if len(parts) > 1 and parts[1].strip() else default
    dtype = aliases.get(dtype, dtype)
    if dtype not in dtypes:
        raise UsageError(flag, f"{text!r}: dtype {dtype!r} is not one of {', '.join(dtypes)}")
    if len(parts) < 3:
        return dtype, None, None
    if dtype not in INTEGER_DTYPES:
        raise UsageError(flag, f"{text!r}: a value range applies to integer dtypes only")
    match = re.fullmatch(r"\s*(-?\d+)\s*-\s*(-?\d+)\s*", parts[2])
    if not match or int(match[1]) >= int(match[2]):
        raise UsageError(flag, f"{text!r}: the range is LOW-HIGH with LOW < HIGH (values LOW ≤ v < HIGH)")
    return dtype, int(match[1]), int(match[2])


class DType(str, Enum):
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"

    @property
    def itemsize(self) -> int:
        return ITEMSIZES[self.value]


class MaskForm(str, Enum):
    """An attention mask (attention's --attn-mask, transformer's --src-mask and the like): none,
    one (L, S) for every sample and head, or (N·num_heads, L, S)."""

    NONE = "none"
    TWO_D = "2d"
    THREE_D = "3d"


class Format(str, Enum):
    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"
    CSV = "csv"
    SVG = "svg"
    PYTHON = "python"


# The random seed of every forward pass, so the same command always draws the same tensors.
SEED = 0

# --time: timed runs, and untimed runs before them.
DEFAULT_REPEATS = 10
DEFAULT_WARMUP = 3

# --device: cpu, cuda, cuda:N, mps or meta.
DEVICE_PATTERN = re.compile(r"^(cpu|meta|mps|cuda(:\d{1,3})?)$")


def parse_format(value: str | Format | None, output: str | None = None) -> Format:
    """``--format``, checked like every other flag.

    Without ``--format``, the extension of ``--output FILE`` picks it (``OUTPUT_SUFFIXES``);
    with neither, the table.
    """
    if value is None:
        return format_for_path(output) if output is not None else Format.TABLE
    try:
        return value if isinstance(value, Format) else Format(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in Format)
        raise UsageError("--format", f"{value!r} is not one of {allowed}") from None


# What each format cannot carry: a flag whose output would be silently dropped is refused.
# CSV is one rectangular table of shapes (tensors, parameters, packed and step shapes,
# totals); the python script asserts shapes, relations and parameters and times nothing.
CANNOT_CARRY: dict[Format, dict[str, str]] = {
    Format.CSV: {
        "--explain": "CSV is one table of shapes and cannot carry the relations; "
        "use --format json, markdown or table",
        "--time": "CSV is one table of shapes and cannot carry the timings; "
        "use --format json, markdown or table",
        "--diagram": "CSV is one table of shapes and cannot carry a drawing; "
        "use --format svg, json, markdown or table",
    },
    Format.PYTHON: {
        "--time": "the python script builds and checks the module but times nothing; "
        "use --format json, markdown or table",
        "--diagram": "the python script builds and checks the module but draws nothing; "
        "use --format svg, json, markdown or table",
    },
}


def check_format_flags(fmt: Format, **flags: bool) -> None:
    """Refuse a flag whose output ``fmt`` cannot carry (``explain=True`` names ``--explain``)."""
    for name, given in flags.items():
        flag = "--" + name.replace("_", "-")
        if given and flag in CANNOT_CARRY.get(fmt, {}):
            raise UsageError(flag, f"not with --format {fmt.value}: {CANNOT_CARRY[fmt][flag]}")


# The file extensions ``--output`` understands when ``--format`` is not given.
OUTPUT_SUFFIXES: dict[str, Format] = {
    ".txt": Format.TABLE,
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".json": Format.JSON,
    ".csv": Format.CSV,
    ".svg": Format.SVG,
    ".py": Format.PYTHON,
}


def format_for_path(path: str) -> Format:
    """The format that the extension of ``--output FILE`` asks for (``-``, stdout: the table)."""
    if path == "-":
        return Format.TABLE
    suffix = os.path.splitext(path)[1].lower()
    if suffix in OUTPUT_SUFFIXES:
        return OUTPUT_SUFFIXES[suffix]
    known = ", ".join(s for s in OUTPUT_SUFFIXES if s != ".markdown")
    said = f"the extension {suffix!r}" if suffix else "a file without an extension"
    raise UsageError(
        "--output", f"cannot tell the format from {said} in {path!r}; use {known}, or give --format"
    )


@dataclass(frozen=True)
class Shown:
    """Output flags every format honours: ``--params`` and ``--output FILE``."""

    params: bool = False  # the table of every parameter
    output: str | None = None  # the file written, so that the command reproduces it


def output_words(
    fmt: Format | None,
    *,
    params: bool = False,
    timing: tuple[int, int] | None = None,
    output: str | None = None,
    diagram: bool = False,
) -> list[str]:
    """The output flags of a command line that reproduces an output: ``--params``, ``--time``
    (``timing`` is its (repeats, warmup)), ``--diagram``, ``--output FILE``, and ``--format`` where the
    file's extension does not already say it."""
    words = ["--params"] if params else []
    words += ["--diagram"] if diagram else []
    if timing is not None:
        repeats, warmup = timing
        words.append("--time")
        words += ["--repeats", str(repeats)] if repeats != DEFAULT_REPEATS else []
        words += ["--warmup", str(warmup)] if warmup != DEFAULT_WARMUP else []
    implied = Format.TABLE
    if output is not None:
        words += ["--output", output]
        implied = OUTPUT_SUFFIXES.get(os.path.splitext(output)[1].lower(), Format.TABLE)
    if fmt is not None and fmt is not implied:
        words += ["--format", fmt.value]
    return words
