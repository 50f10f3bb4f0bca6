"""What ``torchshape model`` was asked to trace: the target, its inputs, its keywords. No torch.

``TARGET`` is ``path/to/file.py:Name`` or ``package.module:Name`` (Name may be dotted).
An ``--input`` is ``SHAPE[:DTYPE[:LOW-HIGH]]``: ``4,10:int64:0-100`` is a (4, 10) int64
tensor of values 0 ≤ v < 100.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from torchshape import settings
from torchshape.errors import UsageError
from torchshape.families.base import NoSymbols
from torchshape.families.checker import Checker
from torchshape.families.model.table import SETTINGS
from torchshape.options import INTEGER_DTYPES, ITEMSIZES, DType, Format, dtype_and_range

# The dtypes an --input may name: the floating ones of --dtype, and integers and bool.
INPUT_DTYPES = tuple(dtype for dtype in ITEMSIZES if dtype != "complex64")
# Integer inputs of a model without embeddings: 0 ≤ v < this.
DEFAULT_INTEGER_HIGH = 10
# Why an integer input holds the values it holds (``InputSpec.drawn``).
RANGE_WHY = {
    "given": "as given",
    "feeds": "the num_embeddings of the embedding it feeds",
    "fed none": "the smallest num_embeddings of the model's embeddings: it feeds none as it comes",
    "smallest": "the smallest num_embeddings of the model's embeddings",
    "none": "the model has no embedding",
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class InputSpec:
    """One positional argument of forward: its shape, dtype, and for integers a value range."""

    shape: tuple[int, ...]
    dtype: str
    low: int | None = None  # None: 0
    high: int | None = None  # None: the num_embeddings of the table it feeds (``feeds``), else see ``drawn``
    text: str = ""  # as the user typed it
    name: str | None = None  # a keyword argument of forward (--input NAME=SHAPE...); None: positional
    # without a range: the num_embeddings of the embeddings this input feeds (the smallest), as a
    # trial on meta saw them; None: the smallest of the model's, or DEFAULT_INTEGER_HIGH
    feeds: int | None = None
    # what the integer input was drawn from: LOW ≤ v < HIGH, and why (``RANGE_WHY``); set by the run
    drawn: tuple[int, int, str] | None = None

    @property
    def integer(self) -> bool:
        return self.dtype in INTEGER_DTYPES


Symbols = NoSymbols


class ModelSpec(settings.Spec, family="model"):
    """The checked request of ``torchshape model``."""

    target: str  # as typed: path/to/file.py:Name or package.module:Name
    path: str | None  # the file, for the file form
    module: str | None  # the importable module, for the package form
    name: str  # the (dotted) name inside it
    inputs: tuple[InputSpec, ...]
    args: tuple[tuple[str, Any], ...]  # --arg NAME=VALUE, literals
    arg_texts: tuple[str, ...] = field(default=())  # as typed, for the command line
    depth: int | None = None
    device: str = "cpu"
    dtype: DType = DType.FLOAT32
    grad: bool = False  # --grad: the forward runs with autograd on, as in training
    ops: bool = False  # --ops: the trace shows the operations of the model's own code as rows
    # What a trace on meta measured before the real run (the guard's estimate; 0: not yet):
    # the parameters, inputs and every layer's outputs in bytes, the MACs of the known
    # layers, and the elements filled with random numbers.
    peak_bytes: int = 0
    macs: int = 0
    elements: int = 0
    # "": the estimate is the whole forward's; else how it is partial (the guard says so)
    estimate_note: str = ""

    @property
    def module_call(self) -> str:
        """The title: the target and its keywords."""
        keywords = ", ".join(f"{k}={v!r}" for k, v in self.args)
        return f"{self.target}({keywords})" if self.args else self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "inputs": [
                {"shape": list(i.shape), "dtype": i.dtype, "low": i.low, "high": i.high} for i in self.inputs
            ],
            "args": {k: v for k, v in self.args},
            "depth": self.depth,
            "device": self.device,
            "dtype": self.dtype.value,
            "grad": self.grad,
            "ops": self.ops,
        }


def input_names(inputs: tuple[InputSpec, ...]) -> list[str]:
    """What the report calls each --input: ``input`` or ``input[i]`` by position, a keyword by its name."""
    count = sum(1 for one in inputs if one.name is None)
    names, index = [], 0
    for one in inputs:
        if one.name is not None:
            names.append(one.name)
        else:
            names.append("input" if count == 1 else f"input[{index}]")
            index += 1
    return names


def parse_target(text: str) -> tuple[str | None, str | None, str]:
    """(path, module, name) of ``path/to/file.py:Name`` or ``package.module:Name``."""
    where, colon, name = text.rpartition(":")
    if not colon or not where or not _NAME.match(name):
        raise UsageError(
            "TARGET", f"{text!r} is not path/to/file.py:Name or package.module:Name (Name may be dotted)"
        )
    if where.endswith(".py") or "/" in where or "\\" in where:
        return where, None, name
    if not _NAME.match(where):
        raise UsageError("TARGET", f"{where!r} is neither a .py file nor an importable module name")
    return None, where, name


def parse_input(text: str, default_dtype: str) -> InputSpec:
    """``[NAME=]SHAPE[:DTYPE[:LOW-HIGH]]``: ``4,10:int64:0-100``, ``mask=4,10:bool``."""
    name: str | None = None
    body = text.strip()
    if "=" in body:
        name, _, body = body.partition("=")
        name = name.strip()
        if not name.isidentifier():
            raise UsageError("--input", f"{text!r}: {name!r} is not a keyword name (NAME=SHAPE[:DTYPE])")
    parsed = _parse_shape(body, text, default_dtype)
    return InputSpec(parsed.shape, parsed.dtype, parsed.low, parsed.high, text=text.strip(), name=name)


def _parse_shape(body: str, text: str, default_dtype: str) -> InputSpec:
    parts = body.strip().split(":")
    bad = UsageError("--input", f"{text!r} is not [NAME=]SHAPE[:DTYPE[:LOW-HIGH]], e.g. 4,10:int64:0-100")
    if len(parts) > 3 or not parts[0]:
        raise bad
    try:
        shape = tuple(int(x) for x in parts[0].split(","))
    except ValueError:
        raise bad from None
    if any(size < 0 for size in shape):
        raise UsageError("--input", f"{text!r}: a size cannot be negative")
    dtype, low, high = dtype_and_range("--input", text, parts, INPUT_DTYPES, default_dtype, {})
    return InputSpec(shape=shape, dtype=dtype, low=low, high=high, text=text.strip())


def parse_arg(text: str) -> tuple[str, Any]:
    """``--arg NAME=VALUE``: VALUE is a Python literal, read by ``ast.literal_eval``, never evaluated."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name.isidentifier():
        raise UsageError(
            "--arg", f"{text!r} is not NAME=VALUE (VALUE a Python literal: 64, 0.1, True, 'tanh')"
        )
    try:
        return name, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise UsageError(
            "--arg",
            f"{text!r}: {value.strip()!r} is not a Python literal (numbers, strings, True, None, tuples)",
        ) from None


def parse_depth(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        depth = int(text)
    except ValueError:
        depth = -1
    if depth < 0:
        raise UsageError("--depth", f"{text!r} is not a whole number ≥ 0")
    return depth


class _Shared(Checker[ModelSpec]):
    """--device and --dtype, checked as every family checks them; model's other flags are its own."""

    DEFAULTS: ClassVar[Mapping[str, Any]] = {"device": "cpu", "dtype": "float32"}


def make_spec(
    target: str,
    inputs: list[str] | tuple[str, ...] = (),
    args: list[str] | tuple[str, ...] = (),
    *,
    depth: str | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    grad: bool = False,
    ops: bool = False,
) -> ModelSpec:
    """Every flag of ``torchshape model`` checked; each bad value raises ``UsageError`` naming it."""
    shared = _Shared(settings.flags(SETTINGS), {"device": device, "dtype": dtype})
    path, module, name = parse_target(target)
    checked_dtype = shared.dtype()
    if not inputs:
        raise UsageError("--input", "give one --input SHAPE[:DTYPE] per positional argument of forward")
    parsed = tuple(parse_input(text, checked_dtype.value) for text in inputs)
    names = [one.name for one in parsed if one.name is not None]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError("--input", f"the keyword {twice[0]!r} is given twice")
    return ModelSpec(
        target=target,
        path=path,
        module=module,
        name=name,
        inputs=parsed,
        args=tuple(parse_arg(text) for text in args),
        arg_texts=tuple(args),
        depth=parse_depth(depth),
        device=shared.device(refusal="is not"),
        dtype=checked_dtype,
        grad=grad,
        ops=ops,
    )


# "Reproduce with": the table's flags in the command line's order; each --input and --arg as typed.
_COMMAND = settings.Command(
    "model",
    SETTINGS,
    {
        "inputs": settings.Rule(value=lambda spec: tuple(one.text for one in spec.inputs)),
        "args": settings.Rule(value=lambda spec: spec.arg_texts),
    },
    order=("target", "inputs", "args", "depth", "device", "dtype", "grad", "ops"),
)


def command_line(
    spec: ModelSpec, fmt: Format | None, *, params: bool = False, output: str | None = None, **_: Any
) -> str:
    """The ``torchshape model ...`` command that gives this output again (model has no --time)."""
    return _COMMAND.line(spec, fmt, params=params, output=output)
