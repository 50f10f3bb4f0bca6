"""What ``torchshape expr`` was asked: the expression (checked against the allow-list) and its
tensors. No torch.

A ``--tensor`` is ``NAME=SHAPE[:DTYPE[:LOW-HIGH]]``: ``a=3,4``, ``idx=5:int64:0-2`` (values
0 ≤ v < 2), ``m=3,4:bool``, ``b=()`` (0-d); ``inputs=[1,3]*5`` is a list of five (1, 3) tensors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from torchshape import settings
from torchshape.errors import UsageError
from torchshape.families.base import NoSymbols
from torchshape.families.expr.safety import BUILTINS, MODULES, Checked, check_expression
from torchshape.families.expr.table import SETTINGS
from torchshape.options import INTEGER_DTYPES, ITEMSIZES, Format, dtype_and_range

FLAG = "--tensor"
DTYPES = tuple(ITEMSIZES)
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32"}
# Integer tensors without LOW-HIGH hold 0 ≤ v < the smallest size of the other tensors, so that
# they index any of them; this many without other tensors.
DEFAULT_INTEGER_HIGH = 10
MAX_LIST = 1000  # tensors in one --tensor list
DEVICES = re.compile(r"^(auto|cpu|meta|mps|cuda(:\d{1,3})?)$")
FORMAT = "NAME=SHAPE[:DTYPE[:LOW-HIGH]]"


@dataclass(frozen=True)
class Given:
    """One --tensor: a tensor, or with ``count`` a list of ``count`` tensors of that shape."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    low: int | None = None
    high: int | None = None
    count: int | None = None  # [SHAPE]*COUNT: a list of tensors
    text: str = ""  # as typed

    @property
    def bytes(self) -> int:
        return math.prod(self.shape) * ITEMSIZES[self.dtype] * (self.count or 1)


Symbols = NoSymbols


class ExprSpec(settings.Spec, family="expr"):
    """The checked request of ``torchshape expr``."""

    expression: str
    checked: Checked
    tensors: tuple[Given, ...]
    device: str = "auto"  # auto: meta, or the CPU where values matter
    explain: bool = False
    diagram: bool = False  # --diagram: the broadcasting picture

    @property
    def module_call(self) -> str:
        """The title: the expression, on one line."""
        return " ".join(self.expression.split())

    @property
    def dtype(self) -> str:
        return "float32"

    def as_dict(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "tensors": [
                {
                    "name": one.name,
                    "shape": list(one.shape),
                    "dtype": one.dtype,
                    "low": one.low,
                    "high": one.high,
                    "count": one.count,
                }
                for one in self.tensors
            ],
            "device": self.device,
        }

    def high(self, one: Given) -> int:
        """The exclusive upper bound of an integer tensor's values."""
        if one.high is not None:
            return one.high
        sizes = [
            n for other in self.tensors if other.dtype not in INTEGER_DTYPES for n in other.shape if n > 0
        ]
        return min(sizes) if sizes else DEFAULT_INTEGER_HIGH


def parse_tensor(text: str) -> Given:
    """``NAME=SHAPE[:DTYPE[:LOW-HIGH]]``, or ``NAME=[SHAPE]*COUNT[:DTYPE...]`` for a list."""
    name, equals, body = text.strip().partition("=")
    name = name.strip()
    if not equals:
        raise UsageError(FLAG, f"{text!r} is not {FORMAT}, e.g. a=3,4 or idx=5:int64:0-2")
    if not name.isidentifier() or name.startswith("_"):
        raise UsageError(FLAG, f"{text!r}: {name!r} is not a name (letters, digits, _; not starting with _)")
    if name in MODULES or name in BUILTINS:
        raise UsageError(FLAG, f"{text!r}: {name} is taken (torch, F and the builtins keep their meaning)")
    parts = body.strip().split(":")
    bad = UsageError(FLAG, f"{text!r} is not {FORMAT}, e.g. a=3,4 or idx=5:int64:0-2")
    if len(parts) > 3:
        raise bad
    shape_text, count = parts[0].strip(), None
    listed = re.fullmatch(r"\[([^\]]*)\]\s*\*\s*(\d+)", shape_text)
    if listed:
        shape_text, count = listed[1], int(listed[2])
        if not 1 <= count <= MAX_LIST:
            raise UsageError(FLAG, f"{text!r}: a list holds 1 to {MAX_LIST} tensors")
    shape_text = shape_text.strip().strip("()").strip()
    try:
        shape = tuple(int(x) for x in shape_text.split(",") if x.strip()) if shape_text else ()
    except ValueError:
        raise bad from None
    if any(size < 0 for size in shape):
        raise UsageError(FLAG, f"{text!r}: a size cannot be negative")
    dtype, low, high = dtype_and_range(FLAG, text, parts, DTYPES, "float32", ALIASES)
    return Given(name=name, shape=shape, dtype=dtype, low=low, high=high, count=count, text=text.strip())


def make_spec(
    expression: str,
    tensors: list[str] | tuple[str, ...] = (),
    *,
    device: str = "auto",
    explain: bool = False,
    diagram: bool = False,
) -> ExprSpec:
    """The expression checked against the allow-list and every --tensor parsed; ``UsageError`` naming
    the bad part otherwise. Nothing runs here."""
    given = tuple(parse_tensor(text) for text in tensors)
    names = [one.name for one in given]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(FLAG, f"the name {twice[0]!r} is given twice")
    if not DEVICES.match(device.strip()):
        raise UsageError("--device", f"{device!r} is not auto, cpu, cuda, cuda:N, mps or meta")
    checked = check_expression(expression, tuple(names))
    return ExprSpec(
        expression=expression,
        checked=checked,
        tensors=given,
        device=device.strip(),
        explain=explain,
        diagram=diagram,
    )


# "Reproduce with": the table's flags, each --tensor as typed.
_COMMAND = settings.Command(
    "expr", SETTINGS, {"tensors": settings.Rule(value=lambda spec: tuple(one.text for one in spec.tensors))}
)


def command_line(spec: ExprSpec, fmt: Format | None, *, output: str | None = None, **_: Any) -> str:
    """The ``torchshape expr ...`` command that gives this output again: its switches are the
    spec's (expr has no --params or --time)."""
    return _COMMAND.line(spec, fmt, output=output, explain=spec.explain, diagram=spec.diagram)
