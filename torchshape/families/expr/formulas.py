"""The rules that decide a tensor expression's shape and dtype, in the PyTorch docs' words. No torch.

Each rule takes what it operates on (a ``T`` per tensor: shape, dtype, strides) and gives an
``Outcome``: the shape and dtype the rule predicts, or that torch must refuse, and a sentence
with this run's numbers. The torch side (``evaluate``) runs the same operation and compares.

Here: dtypes, type promotion, broadcasting, elementwise operations, casts and factories; the
products (matmul, linear, conv, pool, einsum) are in ``products``, indexing with cat and split
in ``indexing``, view and the other shape changes in ``reshape``, reductions in ``reductions``.

- **Broadcasting**: shapes align from the right; each pair of sizes must be equal or one of them
  1 (or missing); the result takes the larger.
- **matmul**: 1-D·1-D is a dot product; 2-D·2-D a matrix product; a 1-D first argument gets a 1
  prepended (removed after), a 1-D second argument a 1 appended (removed after); the batch
  dimensions (all but the last two) broadcast. ``mm`` and ``bmm`` do not broadcast.
- **Indexing**: an int drops its dimension, a slice keeps it (its length from start:stop:step),
  ``None`` adds a dimension of 1, ``...`` stands for the dimensions not indexed. Index tensors
  (advanced indexing) broadcast together to one shape B; adjacent, B takes their place; separated
  by a slice, ``...`` or ``None``, B moves to the front. A boolean mask selects its True
  positions and flattens the dimensions it covers into one.
- **view**: the new shape must hold the same number of elements (one -1 is worked out), and be
  expressible with the input's strides; ``reshape`` copies when it must.
- **Type promotion** (``torch.result_type``): the highest category (bool < integer < floating <
  complex) wins; a dimensioned tensor outranks a zero-dimensional one, which outranks a Python
  number, within a category; ``/`` is true division (integers give the default float dtype),
  ``//`` keeps integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torchshape.options import ITEMSIZES

Shape = tuple[int, ...]

DEFAULT_FLOAT = "float32"
INTEGERS = ("uint8", "int8", "int16", "int32", "int64")
FLOATS = ("float16", "bfloat16", "float32", "float64")
ITEMSIZE = {**ITEMSIZES, "complex128": 16}
# x.float() and friends: the dtype each gives
CAST_METHODS = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "bfloat16": "bfloat16",
    "long": "int64",
    "int": "int32",
    "short": "int16",
    "char": "int8",
    "byte": "uint8",
    "bool": "bool",
}


@dataclass(frozen=True)
class T:
    """A tensor as the rules see it."""

    shape: Shape
    dtype: str
    stride: Shape = ()
    true_count: int | None = None  # a bool tensor's number of True values, where its values exist

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Dtype:
    """A dtype given as a value: ``torch.long``."""

    name: str


@dataclass(frozen=True)
class Outcome:
    """What a rule says: the shape and dtype (or several tensors' shapes), or that torch refuses."""

    kind: str  # the rule's name: broadcasting, matmul, indexing, view, ...
    text: str  # in the docs' words, with this run's numbers
    shape: Shape | None = None
    dtype: str | None = None  # None: the rule does not say
    shapes: tuple[Shape, ...] | None = None  # split, chunk, unbind, max(dim): one per tensor returned
    error: bool = False  # the rule says torch refuses


class NoRule(Exception):
    """The arguments are outside what the rule covers: the row shows torch's result unchecked."""


def shape_text(shape: Sequence[int]) -> str:
    return repr(tuple(shape))


def category(dtype: str) -> int:
    """bool 0 < integer 1 < floating 2 < complex 3."""
    if dtype == "bool":
        return 0
    if dtype in INTEGERS:
        return 1
    if dtype in FLOATS:
        return 2
    return 3


# -- type promotion ------------------------------------------------------------------------


def promote_types(a: str | None, b: str | None) -> str | None:
    """``torch.promote_types``: the smallest dtype both fit in."""
    if a is None or b is None:
        return b if a is None else a
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        high, low = (a, b) if ca > cb else (b, a)
        if category(high) == 3 and low == "float64":
            return "complex128"
        return high
    if {a, b} == {"uint8", "int8"}:
        return "int16"
    if {a, b} == {"float16", "bfloat16"}:
        return "float32"
    return a if ITEMSIZE[a] > ITEMSIZE[b] else b  # within a category, the wider


def _combine(higher: str | None, lower: str | None) -> str | None:
    """ATen's combine_categories: a lower group counts only when its category is higher."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if category(higher) == 3:
        return higher
    if category(lower) == 3:
        return ("complex128" if higher == "float64" else "complex64") if category(higher) == 2 else lower
    if category(higher) == 2:
        return higher
    if higher == "bool" or category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def python_dtype(value: Any) -> str:
    """The dtype a Python number takes in an operation (a float takes the default dtype)."""
    for kind, dtype in ((bool, "bool"), (int, "int64"), (float, DEFAULT_FLOAT), (complex, "complex64")):
        if isinstance(value, kind):  # bool before int: a bool is an int too
            return dtype
    raise NoRule(type(value).__name__)


def result_type(operands: Sequence[Any]) -> tuple[str, str]:
    """``torch.result_type`` of tensors and Python numbers, and the sentence that says why."""
    dimensioned: str | None = None
    zero_dim: str | None = None
    scalars: str | None = None
    for op in operands:
        if isinstance(op, T) and op.ndim > 0:
            dimensioned = promote_types(dimensioned, op.dtype)
        elif isinstance(op, T):
            zero_dim = promote_types(zero_dim, op.dtype)
        else:
            scalars = promote_types(scalars, python_dtype(op))
    found = _combine(dimensioned, _combine(zero_dim, scalars))
    assert found is not None
    named = ((dimensioned, "tensors"), (zero_dim, "0-d tensors"), (scalars, "Python numbers"))
    groups = [(dtype, name) for dtype, name in named if dtype is not None]
    if len(groups) == 1:
        return found, f"result_type: {found}"
    top, top_name = groups[0]
    lower = " and ".join(f"{name} ({dtype})" for dtype, name in groups[1:])
    if found == top:
        why = f"result_type: {found}, the {top_name}'; {lower} count only with a higher category"
    else:
        why = f"result_type: {found}: {lower} raise the {top_name}' {top} to a higher category"
    return found, why


# -- broadcasting --------------------------------------------------------------------------


def broadcast(shapes: Sequence[Shape], labels: Sequence[str]) -> tuple[Shape | None, str]:
    """The broadcast shape, dimension by dimension from the right, or None and where it broke."""
    width = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    parts: list[str] = []
    for back in range(1, width + 1):
        sizes = [s[-back] if back <= len(s) else None for s in shapes]
        present = [n for n in sizes if n is not None]
        big = {n for n in present if n != 1}
        shown = " vs ".join("–" if n is None else str(n) for n in sizes)
        if len(big) > 1:
            return None, (
                f"aligned from the right, dim −{back}: {shown}: neither is 1, so they cannot broadcast"
            )
        size = big.pop() if big else (0 if 0 in present else 1)
        stretched = [label for label, n in zip(labels, sizes, strict=True) if n is not None and n != size]
        missing = [label for label, n in zip(labels, sizes, strict=True) if n is None]
        note = f" ({', '.join(stretched)} stretched 1→{size})" if stretched else ""
        if missing and size != 1:
            note += f" ({', '.join(missing)} has no dim here: taken as 1, stretched to {size})"
        parts.append(f"{shown} → {size}{note}")
        out.append(size)
    shape = tuple(reversed(out))
    return shape, "; ".join(reversed(parts))


def elementwise(op: str, operands: Sequence[Any], labels: Sequence[str]) -> Outcome:
    """``a + b``, ``a / b``, ``a // b``, comparisons, ``torch.maximum``: broadcasting and promotion."""
    tensors = [(o, label) for o, label in zip(operands, labels, strict=True) if isinstance(o, T)]
    if not tensors:
        raise NoRule(op)
    shapes = [t.shape for t, _ in tensors]
    names = [f"{label} {shape_text(t.shape)}" for t, label in tensors]
    shape, how = broadcast(shapes, [label for _, label in tensors])
    if shape is None:
        return Outcome("broadcasting", f"{' and '.join(names)} {how}", error=True)
    dtype, why = result_type(operands)
    if op in ("/", "div", "true_divide", "divide") and category(dtype) < 2:
        why += f"; / is true division, so {dtype} becomes the default float, {DEFAULT_FLOAT}"
        dtype = DEFAULT_FLOAT
    elif op in ("//", "floor_divide") and category(dtype) < 2:
        why += "; // rounds down and keeps the integer dtype"
    elif op in COMPARISONS:
        why = "a comparison gives bool"
        dtype = "bool"
    elif op in BITWISE and category(dtype) >= 2:
        return Outcome("broadcasting", f"{op} needs integer or bool tensors, not {dtype}", error=True)
    if len(shapes) == 1 or all(s == shapes[0] for s in shapes):
        head = f"elementwise: {' and '.join(names)}" + (" have the same shape" if len(shapes) > 1 else "")
        return Outcome("elementwise", f"{head} → {shape_text(shape)}; {why}", shape, dtype)
    return Outcome("broadcasting", f"{' and '.join(names)}: {how} → {shape_text(shape)}; {why}", shape, dtype)


COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "eq", "ne", "lt", "le", "gt", "ge", "isclose"})
COMPARISONS |= {"logical_and", "logical_or", "logical_xor"}
BITWISE = frozenset({"&", "|", "^", "<<", ">>", "bitwise_and", "bitwise_or", "bitwise_xor"})

# -- casting -------------------------------------------------------------------------------


def cast(x: T, dtype: str, how: str) -> Outcome:
    text = f"{how} keeps the shape {shape_text(x.shape)}; dtype {x.dtype} → {dtype}"
    if category(dtype) < category(x.dtype):
        text += " (the fraction is cut toward zero)" if category(dtype) == 1 else ""
    return Outcome("casting", text, x.shape, dtype)


def item(x: T, label: str) -> Outcome:
    if x.numel != 1:
        why = f".item() needs exactly one element; {label} {shape_text(x.shape)} has {x.numel}"
        return Outcome("casting", why, error=True)
    kind = {0: "bool", 1: "int", 2: "float", 3: "complex"}[category(x.dtype)]
    return Outcome(
        "casting",
        f".item() turns the one element of a {x.dtype} tensor into a Python {kind}",
        None,
        f"{kind} (Python)",
    )


# -- factories -----------------------------------------------------------------------------


def _nested_shape(data: Any) -> tuple[Shape, list[Any]]:
    if isinstance(data, (list, tuple)):
        if not data:
            return (0,), []
        inner = [_nested_shape(d) for d in data]
        shapes = {s for s, _ in inner}
        if len(shapes) != 1:
            raise ValueError("ragged")
        return (len(data), *inner[0][0]), [v for _, vs in inner for v in vs]
    return (), [data]


def tensor(data: Any, dtype: str | None) -> Outcome:
    """``torch.tensor(data)``: the nested lists' lengths give the shape; the values the dtype."""
    try:
        shape, values = _nested_shape(data)
    except ValueError:
        return Outcome("factory", "torch.tensor: the nested lists have different lengths", error=True)
    if any(isinstance(v, T) for v in values):
        raise NoRule("tensor")
    if dtype is not None:
        why = f"dtype={dtype}"
    elif values and all(isinstance(v, bool) for v in values):
        dtype, why = "bool", "all bools: bool"
    elif all(isinstance(v, int) for v in values):
        dtype, why = "int64", "Python ints: int64"
    elif any(isinstance(v, complex) for v in values):
        dtype, why = "complex64", "a complex number: complex64"
    else:
        dtype, why = DEFAULT_FLOAT, f"a Python float: the default {DEFAULT_FLOAT}"
    return Outcome(
        "factory", f"torch.tensor: the nested lengths give {shape_text(shape)}; {why}", shape, dtype
    )


def filled(op: str, sizes: list[int], dtype: str | None, fill: Any = None) -> Outcome:
    if any(n < 0 for n in sizes):
        return Outcome("factory", f"{op}: negative size in {shape_text(tuple(sizes))}", error=True)
    if dtype is None:
        if op == "full" and fill is not None:
            dtype = python_dtype(fill) if not isinstance(fill, T) else fill.dtype
        else:
            dtype = "int64" if op == "randint" else DEFAULT_FLOAT
    shape = tuple(sizes)
    return Outcome("factory", f"torch.{op}{shape_text(shape)} → {shape_text(shape)}, {dtype}", shape, dtype)


def arange(args: list[Any], dtype: str | None) -> Outcome:
    if not 1 <= len(args) <= 3 or not all(
        isinstance(a, (int, float)) and not isinstance(a, bool) for a in args
    ):
        raise NoRule("arange")
    start, end, step = (
        (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
    )
    if step == 0:
        return Outcome("factory", "arange: step must be nonzero", error=True)
    count = max(0, math.ceil((end - start) / step))
    chosen = dtype or ("int64" if all(isinstance(a, int) for a in (start, end, step)) else DEFAULT_FLOAT)
    return Outcome(
        "factory",
        f"arange({start}, {end}, {step}): ⌈({end} − {start}) / {step}⌉ = {count} values, {chosen}",
        (count,),
        chosen,
    )


def like(x: T, op: str, dtype: str | None) -> Outcome:
    chosen = dtype or x.dtype
    return Outcome(
        "factory", f"{op} takes the shape {shape_text(x.shape)} and dtype {chosen}", x.shape, chosen
    )
