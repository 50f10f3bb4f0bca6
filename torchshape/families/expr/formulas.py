"""The rules that decide a tensor expression's shape and dtype, in the PyTorch docs' words. No torch.

Each rule takes what it operates on (a ``T`` per tensor: shape, dtype, strides) and gives an
``Outcome``: the shape and dtype the rule predicts, or that torch must refuse, and a sentence
with this run's numbers. The torch side (``evaluate``) runs the same operation and compares.

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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torchshape.families.spatial import Window, axes

Shape = tuple[int, ...]

DEFAULT_FLOAT = "float32"
INTEGERS = ("uint8", "int8", "int16", "int32", "int64")
FLOATS = ("float16", "bfloat16", "float32", "float64")
COMPLEXES = ("complex64", "complex128")
ITEMSIZE = {
    "bool": 1,
    "uint8": 1,
    "int8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "float16": 2,
    "bfloat16": 2,
    "float32": 4,
    "float64": 8,
    "complex64": 8,
    "complex128": 16,
}
# torch.float -> float32: the dtype names of torch, as they print
DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "int": "int32",
    "long": "int64",
    "short": "int16",
    "cfloat": "complex64",
    "cdouble": "complex128",
}
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
    if ca == 1:
        if {a, b} == {"uint8", "int8"}:
            return "int16"
        if "uint8" in (a, b):
            return b if a == "uint8" else a
        return a if ITEMSIZE[a] > ITEMSIZE[b] else b
    if ca == 2:
        if {a, b} == {"float16", "bfloat16"}:
            return "float32"
        return a if ITEMSIZE[a] > ITEMSIZE[b] else b
    return a if ITEMSIZE[a] > ITEMSIZE[b] else b


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
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return DEFAULT_FLOAT
    if isinstance(value, complex):
        return "complex64"
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
        note = ""
        if stretched:
            note = f" ({', '.join(stretched)} stretched 1→{size})"
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

# -- matmul --------------------------------------------------------------------------------


def matmul(a: T, b: T, la: str, lb: str, op: str = "matmul") -> Outcome:
    """``a @ b``, ``torch.matmul``, ``mm``, ``bmm``, ``mv``, ``dot``."""
    kind = "matmul"
    A, B = f"{la} {shape_text(a.shape)}", f"{lb} {shape_text(b.shape)}"
    if a.ndim == 0 or b.ndim == 0:
        return Outcome(kind, f"{op}: both arguments need at least 1 dimension ({A}, {B})", error=True)
    dtype, _ = result_type([a, b])
    if a.dtype != b.dtype:
        return Outcome(kind, f"{op} does not promote: {A} is {a.dtype}, {B} is {b.dtype}", error=True)
    want = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1), "dot": (1, 1)}.get(op)
    if want is not None and (a.ndim, b.ndim) != want:
        return Outcome(
            kind,
            f"{op} takes {want[0]}-D and {want[1]}-D tensors and does not broadcast; got {A}, {B}",
            error=True,
        )
    if a.ndim == 1 and b.ndim == 1:
        if a.shape[0] != b.shape[0]:
            return Outcome(
                kind, f"dot product: {A}·{B} contracts {a.shape[0]} with {b.shape[0]}: unequal", error=True
            )
        return Outcome(
            kind, f"1-D·1-D is a dot product: contracts {a.shape[0]} → () (a 0-d tensor)", (), dtype
        )
    sa = (1, *a.shape) if a.ndim == 1 else a.shape
    sb = (*b.shape, 1) if b.ndim == 1 else b.shape
    notes = []
    if a.ndim == 1:
        notes.append(f"{la} is 1-D: a 1 is prepended ({shape_text(sa)}) and removed after")
    if b.ndim == 1:
        notes.append(f"{lb} is 1-D: a 1 is appended ({shape_text(sb)}) and removed after")
    n, k1 = sa[-2], sa[-1]
    k2, p = sb[-2], sb[-1]
    if k1 != k2:
        hint = (
            f"{la}'s last dim ({k1}) must equal {lb}'s {'first' if b.ndim <= 2 else 'second-to-last'} ({k2})"
        )
        return Outcome(kind, f"{A} @ {B}: contracts {k1} with {k2}: {hint}", error=True)
    batch_a, batch_b = sa[:-2], sb[:-2]
    if op == "bmm" and batch_a != batch_b:
        return Outcome(
            kind,
            f"bmm: batch sizes {batch_a[0]} and {batch_b[0]} differ (bmm does not broadcast)",
            error=True,
        )
    batch, how = broadcast([batch_a, batch_b], [la, lb])
    if batch is None:
        return Outcome(
            kind, f"{A} @ {B}: batch dims {shape_text(batch_a)} and {shape_text(batch_b)} {how}", error=True
        )
    shape: Shape = (*batch, n, p)
    if b.ndim == 1:
        shape = shape[:-1]
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:] if b.ndim > 1 else shape[:-1]
    text = f"({n}, {k1}) @ ({k2}, {p}) contracts {k1} → ({n}, {p})"
    if batch:
        text += (
            f"; batch dims {shape_text(batch_a)} and {shape_text(batch_b)} broadcast to {shape_text(batch)}"
        )
    if notes:
        text += "; " + "; ".join(notes)
    return Outcome(kind, f"{text}; result {shape_text(shape)}", shape, dtype)


def linear(x: T, w: T, b: T | None, lx: str, lw: str) -> Outcome:
    """``F.linear(x, weight, bias)``: (*, in_features) with weight (out_features, in_features)
    → (*, out_features)."""
    kind = "F.linear"
    if w.ndim not in (1, 2) or x.ndim == 0:
        raise NoRule(kind)
    if w.ndim == 1:
        raise NoRule(kind)
    out_f, in_f = w.shape
    if x.shape[-1] != in_f:
        return Outcome(
            kind,
            f"F.linear: input (*, in_features) = {shape_text(x.shape)}, weight (out_features, in_features) = "
            f"{shape_text(w.shape)}: in_features {x.shape[-1]} ≠ {in_f} (the weight is used transposed: x "
            "@ W.T)",
            error=True,
        )
    if b is not None and b.shape not in ((out_f,), ()):
        raise NoRule(kind)
    shape = (*x.shape[:-1], out_f)
    dtype, _ = result_type([x, w])
    return Outcome(
        kind,
        f"F.linear: (*, in_features) {shape_text(x.shape)} @ weight.T {shape_text((in_f, out_f))} "
        f"contracts in_features = {in_f} → (*, out_features) = {shape_text(shape)}",
        shape,
        dtype,
    )


def conv(x: T, w: T, dims: int, stride: Any, padding: Any, dilation: Any, groups: int, lx: str) -> Outcome:
    """``F.conv1d/2d/3d``: ⌊(in + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1⌋ per axis."""
    kind = f"F.conv{dims}d"
    if w.ndim != dims + 2 or x.ndim not in (dims + 1, dims + 2) or isinstance(padding, str):
        raise NoRule(kind)
    batched = x.ndim == dims + 2
    c_in = x.shape[1] if batched else x.shape[0]
    c_out, c_per_group, *kernel = w.shape

    def each(value: Any) -> tuple[int, ...]:
        if isinstance(value, int):
            return (value,) * dims
        if isinstance(value, (tuple, list)) and len(value) == dims and all(isinstance(v, int) for v in value):
            return tuple(value)
        raise NoRule(kind)

    s, p, d = each(stride), each(padding), each(dilation)
    if c_in != c_per_group * groups:
        return Outcome(
            kind,
            f"{kind}: weight (C_out, C_in/groups, *kernel_size) = {shape_text(w.shape)} expects "
            f"C_in = {c_per_group}·{groups} = {c_per_group * groups} channels; {lx} has {c_in}",
            error=True,
        )
    spatial = x.shape[-dims:]
    out = []
    parts = []
    windows = [
        Window(axis, n, k, si, pi, di)
        for axis, n, k, si, pi, di in zip(axes(dims), spatial, kernel, s, p, d, strict=True)
    ]
    out = [w.out for w in windows]
    parts = [f"{w.axis}_out = {w.numeric()}" for w in windows]
    if min(out) <= 0:
        return Outcome(kind, f"{kind}: output size {'; '.join(parts)}: too small an input", error=True)
    head = (x.shape[0], c_out) if batched else (c_out,)
    shape = (*head, *out)
    dtype, _ = result_type([x, w])
    return Outcome(
        kind,
        f"{kind}: (N, C_in, *in) → (N, C_out, *out), C_out = {c_out}; {'; '.join(parts)} → "
        f"{shape_text(shape)}",
        shape,
        dtype,
    )


def pool(
    x: T, op: str, dims: int, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> Outcome:
    """``F.max_pool2d``/``F.avg_pool2d``: the sliding-window size of ``torchshape pool``, channels kept."""
    kind = f"F.{op}"
    if x.ndim not in (dims + 1, dims + 2):
        raise NoRule(kind)

    def each(value: Any) -> tuple[int, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,) * dims
        if isinstance(value, (tuple, list)) and len(value) == dims and all(isinstance(v, int) for v in value):
            return tuple(value)
        raise NoRule(kind)

    k = each(kernel)
    s = each(stride if stride not in (None, [], ()) else kernel)
    p, d = each(padding), each(dilation)
    if any(2 * pi > ki for pi, ki in zip(p, k, strict=True)):
        return Outcome(kind, f"{kind}: padding {p} must be at most half of kernel_size {k}", error=True)
    windows = [
        Window(axis, n, ki, si, pi, di, ceil_mode)
        for axis, n, ki, si, pi, di in zip(axes(dims), x.shape[-dims:], k, s, p, d, strict=True)
    ]
    out = tuple(w.out for w in windows)
    parts = "; ".join(f"{w.axis}_out = {w.numeric()}" for w in windows)
    if min(out) <= 0:
        return Outcome(kind, f"{kind}: {parts}: the input is smaller than one window", error=True)
    shape = (*x.shape[:-dims], *out)
    return Outcome(
        kind,
        f"{kind} keeps (N, C) and slides over the last {dims}: {parts} → {shape_text(shape)}",
        shape,
        x.dtype,
    )


# -- einsum --------------------------------------------------------------------------------


def einsum(equation: str, operands: Sequence[T]) -> Outcome:
    """``torch.einsum``: each letter is one size; the letters after -> are kept, the rest summed."""
    kind = "einsum"
    eq = equation.replace(" ", "")
    if "." in eq or not re.fullmatch(r"[a-zA-Z,]*(->[a-zA-Z]*)?", eq):
        raise NoRule(kind)
    inputs, arrow, output = eq.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        return Outcome(
            kind, f"einsum: {len(terms)} operands in {equation!r}, {len(operands)} given", error=True
        )
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands, strict=True):
        if len(term) != op.ndim:
            return Outcome(
                kind,
                f"einsum: {term!r} names {len(term)} dims but the operand {shape_text(op.shape)} has "
                f"{op.ndim}",
                error=True,
            )
        for letter, size in zip(term, op.shape, strict=True):
            if letter in sizes and sizes[letter] != size and 1 not in (size, sizes[letter]):
                return Outcome(
                    kind,
                    f"einsum: {letter} is {sizes[letter]} in one operand and {size} in another",
                    error=True,
                )
            sizes[letter] = max(sizes.get(letter, size), size) if size != 1 else sizes.get(letter, 1)
    if not arrow:
        counts = {letter: inputs.count(letter) for letter in sizes}
        output = "".join(sorted(letter for letter, count in counts.items() if count == 1))
    shape = tuple(sizes[letter] for letter in output)
    summed = [letter for letter in sizes if letter not in output]
    mapping = ", ".join(f"{letter}={size}" for letter, size in sizes.items())
    text = f"einsum {inputs}->{output}: {mapping}; kept {output or '(none)'} → {shape_text(shape)}"
    if summed:
        text += f"; summed over {''.join(summed)}"
    if not arrow:
        text += " (no ->: the letters that appear once, in alphabetical order)"
    dtype, _ = result_type(list(operands))
    return Outcome(kind, text, shape, dtype)


# -- indexing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexTensor:
    """An index that is a tensor (or a list of ints): its shape and whether it is a mask."""

    shape: Shape
    mask: bool = False
    true_count: int | None = None


def _index_items(index: Any) -> list[Any]:
    items = list(index) if isinstance(index, tuple) else [index]
    out: list[Any] = []
    for item in items:
        if isinstance(item, T):
            if item.dtype in ("bool", "uint8") and item.ndim > 0:
                out.append(IndexTensor(item.shape, True, item.true_count))
            elif item.dtype in INTEGERS and item.ndim == 0:
                out.append(0)  # a 0-d index tensor picks one element, as an int does
            elif item.dtype in INTEGERS or item.dtype == "bool":
                out.append(IndexTensor(item.shape))
            else:
                raise NoRule("index")
        elif isinstance(item, list):
            if not item or not all(isinstance(v, int) and not isinstance(v, bool) for v in item):
                raise NoRule("index")
            out.append(IndexTensor((len(item),)))
        elif isinstance(item, bool):
            raise NoRule("index")
        elif item is None or item is Ellipsis or isinstance(item, (int, slice)):
            out.append(item)
        else:
            raise NoRule("index")
    return out


def _consumes(item: Any) -> int:
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, IndexTensor) and item.mask:
        return len(item.shape)
    return 1


def _slice_text(s: slice) -> str:
    return ":".join("" if v is None else str(v) for v in (s.start, s.stop, s.step)).rstrip(":") or ":"


def index(x: T, index_value: Any, label: str) -> Outcome:
    """``x[...]``: basic indexing dim by dim, then the advanced indices' shape and where it lands."""
    items = _index_items(index_value)
    said: list[str] = []
    if sum(1 for item in items if item is Ellipsis) > 1:  # NumPy refuses; torch lets the first one count
        at = items.index(Ellipsis)
        items = [item for k, item in enumerate(items) if item is not Ellipsis or k == at]
        said.append("torch lets the first ... count and a further ... stand for no dim")
    used = sum(_consumes(item) for item in items)
    if used > x.ndim:
        return Outcome(
            "indexing",
            f"{label} {shape_text(x.shape)} has {x.ndim} dims but the index uses {used}: too many indices",
            error=True,
        )
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = [*items[:at], *([slice(None)] * (x.ndim - used)), *items[at + 1 :]]
    else:
        items = [*items, *([slice(None)] * (x.ndim - used))]
    dim = 0
    out: list[Any] = []  # sizes, and an "ADV" marker per advanced index, in place
    advanced: list[IndexTensor] = []
    positions: list[int] = []  # where each advanced index stands among the non-int items
    seen = 0
    for item in items:
        if isinstance(item, int):
            size = x.shape[dim]
            if not -size <= item < size:
                return Outcome(
                    "indexing",
                    f"index {item} is out of range for dim {dim} of size {size} (−{size} ≤ i < {size})",
                    error=True,
                )
            said.append(f"{item} drops dim {dim} ({size})")
            dim += 1
            continue
        if item is None:
            said.append("None adds a dim of 1")
            out.append(1)
        elif isinstance(item, slice):
            size = x.shape[dim]
            if item.step is not None and item.step <= 0:
                return Outcome(
                    "indexing", f"slice step {item.step}: torch needs a step greater than zero", error=True
                )
            length = len(range(*item.indices(size)))
            text = _slice_text(item)
            said.append(
                f"{text} keeps dim {dim} ({size})"
                if length == size
                else f"{text} keeps dim {dim}: {size} → {length}"
            )
            out.append(length)
            dim += 1
        else:
            if item.mask:
                covered = x.shape[dim : dim + len(item.shape)]
                for k, (m, n) in enumerate(zip(item.shape, covered, strict=True)):
                    if m != n:
                        return Outcome(
                            "indexing",
                            f"the mask's shape {shape_text(item.shape)} must match the dims it covers, "
                            f"{shape_text(covered)}: {m} ≠ {n} at dim {dim + k}",
                            error=True,
                        )
                if item.true_count is None:
                    raise NoRule("mask without values")
                over = f"dim {dim}" if len(item.shape) == 1 else f"dims {dim}–{dim + len(item.shape) - 1}"
                said.append(
                    f"a mask {shape_text(item.shape)} over {over} "
                    f"selects its {item.true_count} True positions → ({item.true_count},)"
                )
                advanced.append(IndexTensor((item.true_count,)))
                dim += len(item.shape)
            else:
                said.append(f"an index tensor {shape_text(item.shape)} at dim {dim} ({x.shape[dim]})")
                advanced.append(item)
                dim += 1
            positions.append(seen)
            out.append("ADV")
        seen += 1
    if not advanced:
        shape = tuple(int(n) for n in out)
        return Outcome("indexing", f"basic indexing: {'; '.join(said)} → {shape_text(shape)}", shape, x.dtype)
    b, how = broadcast([a.shape for a in advanced], [f"index {k}" for k in range(len(advanced))])
    if b is None:
        shapes = ", ".join(shape_text(a.shape) for a in advanced)
        return Outcome("indexing", f"the index tensors {shapes} must broadcast together: {how}", error=True)
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    rest = [n for n in out if n != "ADV"]
    first = out.index("ADV")
    in_place = tuple(int(n) for n in out[:first]) + b + tuple(int(n) for n in out[first:] if n != "ADV")
    in_front = b + tuple(int(n) for n in rest)
    together = (
        f"index tensors broadcast to B = {shape_text(b)}" if len(advanced) > 1 else f"B = {shape_text(b)}"
    )
    if len(advanced) == 1 or adjacent:
        shape = in_place
        where = "B takes their place" if len(advanced) > 1 else "B takes its place"
        if len(advanced) > 1 and in_front != in_place:
            where += f" (adjacent; separated by a slice they would move to the front: {shape_text(in_front)})"
    else:
        shape = in_front
        where = "separated by a slice, ... or None, B moves to the front"
        if in_place != in_front:
            where += f" (not to dim {first}, where the first index tensor stood: {shape_text(in_place)})"
    return Outcome(
        "indexing", f"{'; '.join(said)}; {together}; {where} → {shape_text(shape)}", shape, x.dtype
    )


# -- view, reshape and the rest of the shape changes ---------------------------------------


def _sizes(args: Sequence[Any]) -> list[int]:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = list(args[0])
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        raise NoRule("sizes")
    return [int(a) for a in args]


def infer_size(x: T, sizes: list[int], op: str) -> tuple[Shape | None, str]:
    """The shape ``sizes`` asks for, with its -1 worked out, or None and why not."""
    given = shape_text(tuple(sizes))
    if sizes.count(-1) > 1:
        return None, f"{op}{given}: only one dimension can be -1"
    if any(n < -1 for n in sizes):
        return None, f"{op}{given}: invalid size {min(sizes)}"
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes:
        if known == 0 or x.numel % known:
            return None, (
                f"{op}{given}: {x.numel} elements cannot be split into "
                f"{' × '.join(str(n) for n in sizes if n != -1)} × -1"
            )
        missing = x.numel // known
        shape = tuple(missing if n == -1 else n for n in sizes)
        return shape, f"-1 = {x.numel} / {known} = {missing}"
    if known != x.numel:
        return None, f"{op}{given} holds {known} elements; the input {shape_text(x.shape)} has {x.numel}"
    return tuple(sizes), f"{x.numel} elements either way"


def contiguous_strides(shape: Shape) -> Shape:
    out = []
    step = 1
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def view_strides(old: Shape, stride: Shape, new: Shape) -> Shape | None:
    """ATen's computeStride: the strides ``view`` gives ``new``, or None when no strides fit."""
    if math.prod(old) == 0:
        return contiguous_strides(new)
    if not old:
        return tuple(1 for _ in new)
    out = [0] * len(new)
    view_d = len(new) - 1
    chunk_base = stride[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old) - 1, -1, -1):
        tensor_numel *= old[tensor_d]
        if tensor_d == 0 or (old[tensor_d - 1] != 1 and stride[tensor_d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new[view_d] == 1):
                out[view_d] = view_numel * chunk_base
                view_numel *= new[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base = stride[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(out)


def memory_picture(shape: Shape, stride: Shape, shown: int = 9) -> str:
    """Where the first elements sit in memory, read in row-major order: ``0, 4, 8, 1, 5, 9, …``."""
    offsets = []
    index = [0] * len(shape)
    for _ in range(min(shown, math.prod(shape))):
        offsets.append(sum(i * s for i, s in zip(index, stride, strict=True)))
        for k in range(len(shape) - 1, -1, -1):  # the next index, the last dim fastest
            index[k] += 1
            if index[k] < shape[k]:
                break
            index[k] = 0
    more = ", …" if math.prod(shape) > shown else ""
    return ", ".join(map(str, offsets)) + more


def view(x: T, sizes: list[int], op: str, label: str) -> Outcome:
    """``view``/``reshape``: the -1 worked out; for ``view``, whether the strides allow it."""
    shape, how = infer_size(x, sizes, f".{op}")
    if shape is None:
        return Outcome(op, f"{label} {shape_text(x.shape)}: {how}", error=True)
    head = f"{label} {shape_text(x.shape)} → {shape_text(shape)}: {how}"
    if op == "reshape":
        copies = view_strides(x.shape, x.stride, shape) is None if x.stride else False
        tail = "; a copy, as the strides allow no view" if copies else "; a view of the same memory"
        return Outcome(op, head + tail, shape, x.dtype)
    strides = view_strides(x.shape, x.stride, shape) if x.stride else None
    if x.stride and strides is None:
        return Outcome(
            op,
            f"{head}, but {label} has strides {shape_text(x.stride)} (contiguous would be "
            f"{shape_text(contiguous_strides(x.shape))}): read in order, its elements sit at memory offsets "
            f"{memory_picture(x.shape, x.stride)}, not one run, and a new dim would span two separate runs "
            "of memory, so view cannot; .reshape copies, or .contiguous() first",
            error=True,
        )
    tail = f"; strides {shape_text(x.stride)} allow it" if x.stride else ""
    return Outcome(op, head + tail, shape, x.dtype)


def _dim(d: Any, ndim: int, what: str = "dim") -> int:
    if not isinstance(d, int) or isinstance(d, bool):
        raise NoRule(what)
    span = max(ndim, 1)
    if not -span <= d < span:
        raise IndexError(f"{what} {d} is out of range for a {ndim}-D tensor (−{span} ≤ {what} < {span})")
    return d % span


def _dims_or_error(kind: str, fn: Any) -> Outcome:
    try:
        out: Outcome = fn()
    except IndexError as exc:
        return Outcome(kind, str(exc), error=True)
    return out


def squeeze(x: T, dims: Any, label: str) -> Outcome:
    def go() -> Outcome:
        if dims is None:
            shape = tuple(n for n in x.shape if n != 1)
            return Outcome(
                "squeeze",
                f"squeeze() drops every dim of size 1: {shape_text(x.shape)} → {shape_text(shape)}",
                shape,
                x.dtype,
            )
        chosen = {_dim(d, x.ndim) for d in (dims if isinstance(dims, (tuple, list)) else [dims])}
        shape = tuple(n for k, n in enumerate(x.shape) if not (k in chosen and n == 1))
        kept = [k for k in sorted(chosen) if x.ndim and x.shape[k] != 1]
        note = f"; dim {', '.join(map(str, kept))} is not 1, so it stays" if kept else ""
        return Outcome(
            "squeeze",
            f"squeeze({dims}) drops dim {dims} if it is 1{note}: {shape_text(x.shape)} → {shape_text(shape)}",
            shape,
            x.dtype,
        )

    return _dims_or_error("squeeze", go)


def unsqueeze(x: T, d: Any, label: str) -> Outcome:
    def go() -> Outcome:
        k = _dim(d, x.ndim + 1)
        shape = (*x.shape[:k], 1, *x.shape[k:])
        return Outcome(
            "unsqueeze",
            f"unsqueeze({d}) inserts a dim of 1 at {k}: {shape_text(x.shape)} → {shape_text(shape)}",
            shape,
            x.dtype,
        )

    return _dims_or_error("unsqueeze", go)


def transpose(x: T, d0: Any, d1: Any, label: str) -> Outcome:
    def go() -> Outcome:
        a, b = _dim(d0, x.ndim), _dim(d1, x.ndim)
        shape = list(x.shape)
        if x.ndim:
            shape[a], shape[b] = shape[b], shape[a]
        strides = list(x.stride)
        if strides:
            strides[a], strides[b] = strides[b], strides[a]
        tail = (
            f"; strides {shape_text(x.stride)} → {shape_text(tuple(strides))}: a view, no longer contiguous"
            if strides and a != b
            else ""
        )
        return Outcome(
            "transpose",
            f"transpose swaps dims {a} and {b}: {shape_text(x.shape)} → {shape_text(tuple(shape))}{tail}",
            tuple(shape),
            x.dtype,
        )

    return _dims_or_error("transpose", go)


def permute(x: T, dims: list[int], label: str) -> Outcome:
    def go() -> Outcome:
        if len(dims) != x.ndim:
            return Outcome(
                "permute",
                f"permute needs {x.ndim} dims for {shape_text(x.shape)}, got {len(dims)}",
                error=True,
            )
        order = [_dim(d, x.ndim) for d in dims]
        if len(set(order)) != len(order):
            return Outcome(
                "permute", f"permute({', '.join(map(str, dims))}): a dim appears twice", error=True
            )
        shape = tuple(x.shape[k] for k in order)
        return Outcome(
            "permute",
            f"permute puts dims {tuple(order)} in that order: {shape_text(x.shape)} → {shape_text(shape)}",
            shape,
            x.dtype,
        )

    return _dims_or_error("permute", go)


def flatten(x: T, start: int, end: int, label: str) -> Outcome:
    def go() -> Outcome:
        a, b = _dim(start, x.ndim), _dim(end, x.ndim)
        if x.ndim == 0:
            return Outcome("flatten", "flatten of a 0-d tensor gives (1,)", (1,), x.dtype)
        if a > b:
            return Outcome("flatten", f"flatten: start_dim {a} comes after end_dim {b}", error=True)
        merged = math.prod(x.shape[a : b + 1])
        shape = (*x.shape[:a], merged, *x.shape[b + 1 :])
        return Outcome(
            "flatten",
            f"flatten merges dims {a}–{b} ({' × '.join(map(str, x.shape[a : b + 1])) or '1'} = {merged}): "
            f"→ {shape_text(shape)}",
            shape,
            x.dtype,
        )

    return _dims_or_error("flatten", go)


def unflatten(x: T, d: Any, sizes: list[int], label: str) -> Outcome:
    def go() -> Outcome:
        k = _dim(d, x.ndim)
        inner = T((x.shape[k],), x.dtype)
        shape, how = infer_size(inner, sizes, ".unflatten")
        if shape is None:
            return Outcome("unflatten", f"dim {k} ({x.shape[k]}): {how}", error=True)
        out = (*x.shape[:k], *shape, *x.shape[k + 1 :])
        return Outcome(
            "unflatten",
            f"unflatten splits dim {k} ({x.shape[k]}) into {shape_text(shape)} ({how}) → {shape_text(out)}",
            out,
            x.dtype,
        )

    return _dims_or_error("unflatten", go)


def expand(x: T, sizes: list[int], label: str) -> Outcome:
    if len(sizes) < x.ndim:
        return Outcome(
            "expand",
            f"expand{shape_text(tuple(sizes))}: fewer sizes than the {x.ndim} dims of {shape_text(x.shape)}",
            error=True,
        )
    lead = len(sizes) - x.ndim
    out = list(sizes[:lead])
    parts = [f"{n} new in front" for n in sizes[:lead]]
    for k, (n, want) in enumerate(zip(x.shape, sizes[lead:], strict=True)):
        if want == -1 or want == n:
            out.append(n)
        elif n == 1:
            out.append(want)
            parts.append(f"dim {k}: 1 → {want} (stride 0, no copy)")
        else:
            return Outcome(
                "expand", f"expand: dim {k} has size {n}, not 1, so it cannot become {want}", error=True
            )
    if any(n < 0 for n in out):
        raise NoRule("expand")
    shape = tuple(out)
    said = "; ".join(parts) if parts else "nothing to stretch"
    return Outcome("expand", f"expand stretches size-1 dims: {said} → {shape_text(shape)}", shape, x.dtype)


def repeat(x: T, sizes: list[int], label: str) -> Outcome:
    if len(sizes) < x.ndim:
        return Outcome(
            "repeat",
            f"repeat{shape_text(tuple(sizes))}: needs at least as many repeats as dims ({x.ndim})",
            error=True,
        )
    padded = (1,) * (len(sizes) - x.ndim) + x.shape
    shape = tuple(n * r for n, r in zip(padded, sizes, strict=True))
    parts = " · ".join(f"{n}×{r}" for n, r in zip(padded, sizes, strict=True))
    return Outcome(
        "repeat", f"repeat multiplies each dim (copying): {parts} → {shape_text(shape)}", shape, x.dtype
    )


# -- cat, stack, split, chunk --------------------------------------------------------------


def cat(tensors: Sequence[T], d: Any, op: str) -> Outcome:
    kind = op
    if not tensors:
        return Outcome(kind, f"{op} needs a non-empty list of tensors", error=True)
    shapes = [t.shape for t in tensors]
    listed = ", ".join(shape_text(s) for s in shapes)
    dtype, _ = result_type(list(tensors))
    if op == "stack":
        if any(s != shapes[0] for s in shapes):
            return Outcome(kind, f"stack needs equal shapes, got {listed}", error=True)
        try:
            k = _dim(d, len(shapes[0]) + 1)
        except IndexError as exc:
            return Outcome(kind, str(exc), error=True)
        shape = (*shapes[0][:k], len(tensors), *shapes[0][k:])
        return Outcome(
            kind,
            f"stack adds a new dim {k} of {len(tensors)} (one per tensor) to {shape_text(shapes[0])} → "
            f"{shape_text(shape)}",
            shape,
            dtype,
        )
    kept = [s for s in shapes if s != (0,)]  # legacy: 1-D empty tensors are skipped
    if not kept:
        return Outcome(kind, f"{op} of empty tensors → (0,)", (0,), dtype)
    ndim = len(kept[0])
    if ndim == 0:
        return Outcome(kind, f"{op}: zero-dimensional tensors cannot be concatenated", error=True)
    if any(len(s) != ndim for s in kept):
        return Outcome(kind, f"{op} needs tensors with the same number of dims, got {listed}", error=True)
    try:
        k = _dim(d, ndim)
    except IndexError as exc:
        return Outcome(kind, str(exc), error=True)
    for i, s in enumerate(kept):
        for j in range(ndim):
            if j != k and s[j] != kept[0][j]:
                return Outcome(
                    kind,
                    f"{op} along dim {k}: every other dim must agree, but dim {j} is {kept[0][j]} in the "
                    "first "
                    f"and {s[j]} in tensor {i} ({listed})",
                    error=True,
                )
    grown = sum(s[k] for s in kept)
    shape = (*kept[0][:k], grown, *kept[0][k + 1 :])
    sizes = " + ".join(str(s[k]) for s in kept)
    return Outcome(
        kind,
        f"{op} along dim {k}: the other dims agree; dim {k} grows to {sizes} = {grown} → {shape_text(shape)}",
        shape,
        dtype,
    )


def split(x: T, size_or_sections: Any, d: Any, op: str) -> Outcome:
    try:
        k = _dim(d, x.ndim)
    except IndexError as exc:
        return Outcome(op, str(exc), error=True)
    n = x.shape[k]
    if op == "chunk":
        chunks = size_or_sections
        if not isinstance(chunks, int) or chunks <= 0:
            raise NoRule(op)
        each = -(-n // chunks) if n else 0
        sizes = [min(each, n - s) for s in range(0, n, each)] if each else [0] * (1 if n == 0 else 0)
        how = f"chunk({chunks}) along dim {k} ({n}): pieces of ⌈{n}/{chunks}⌉ = {each}"
        if len(sizes) < chunks:
            how += f", so only {len(sizes)} pieces"
    elif op == "unbind":
        sizes = [1] * n
        shapes = tuple((*x.shape[:k], *x.shape[k + 1 :]) for _ in range(n))
        return Outcome(
            op,
            f"unbind removes dim {k}: {n} tensors of {shape_text(shapes[0]) if shapes else '()'}",
            shapes=shapes,
            dtype=x.dtype,
        )
    elif isinstance(size_or_sections, int) and not isinstance(size_or_sections, bool):
        each = size_or_sections
        if each <= 0:
            raise NoRule(op)
        sizes = [min(each, n - s) for s in range(0, n, each)] or [0]
        how = f"split({each}) along dim {k} ({n}): pieces of {each}" + (
            ", the last smaller" if n % each else ""
        )
    elif isinstance(size_or_sections, (list, tuple)):
        sizes = list(size_or_sections)
        if sum(sizes) != n:
            return Outcome(op, f"split sizes {sizes} add up to {sum(sizes)}, but dim {k} has {n}", error=True)
        how = f"split({sizes}) along dim {k}: {' + '.join(map(str, sizes))} = {n}"
    else:
        raise NoRule(op)
    shapes = tuple((*x.shape[:k], s, *x.shape[k + 1 :]) for s in sizes)
    return Outcome(op, f"{how} → {len(shapes)} tensors", shapes=shapes, dtype=x.dtype)


# -- reductions ----------------------------------------------------------------------------

INT_TO_LONG = frozenset({"sum", "prod", "cumsum", "cumprod", "count_nonzero"})
FLOAT_ONLY = frozenset({"mean", "std", "var", "norm"})
INDEX_OF = frozenset({"argmax", "argmin"})
TO_BOOL = frozenset({"any", "all"})


def reduce(x: T, op: str, d: Any, keepdim: bool, label: str) -> Outcome:
    """``sum``, ``mean``, ``amax``, ``argmax``, ``any`` ... with ``dim`` and ``keepdim``."""
    kind = "reduction"
    if op in FLOAT_ONLY and category(x.dtype) < 2:
        return Outcome(
            kind,
            f"{op} needs a floating point or complex input; {label} is {x.dtype} (cast first: .float())",
            error=True,
        )
    if op in INDEX_OF and x.dtype == "bool":
        return Outcome(
            kind, f"{op} does not take bool input; {label} is bool (cast first: .int())", error=True
        )
    if op in INT_TO_LONG and category(x.dtype) < 2:
        dtype, why = "int64", f"{op} of {x.dtype} accumulates in int64"
    elif op == "logsumexp" and category(x.dtype) < 2:
        dtype, why = DEFAULT_FLOAT, f"logsumexp of {x.dtype} computes in the default float, {DEFAULT_FLOAT}"
    elif op in INDEX_OF or op == "count_nonzero":
        dtype, why = "int64", "indices are int64"
    elif op in TO_BOOL:
        dtype = "uint8" if x.dtype == "uint8" else "bool"
        why = f"{op} gives {dtype}" + (" (uint8 stays uint8)" if dtype == "uint8" else "")
    else:
        dtype, why = x.dtype, f"keeps {x.dtype}"
    if d is None:
        if keepdim and op not in INDEX_OF:
            shape = tuple(1 for _ in x.shape)
            return Outcome(
                kind, f"{op} over every dim, keepdim=True → {shape_text(shape)}; {why}", shape, dtype
            )
        shape = tuple(1 for _ in x.shape) if keepdim else ()
        return Outcome(kind, f"{op} over every dim → {shape_text(shape)} (a 0-d tensor); {why}", shape, dtype)
    try:
        dims = sorted({_dim(k, x.ndim) for k in (d if isinstance(d, (tuple, list)) else [d])})
    except IndexError as exc:
        return Outcome(kind, str(exc), error=True)
    if x.ndim == 0:
        return Outcome(kind, f"{op} of a 0-d tensor → (); {why}", (), dtype)
    if keepdim:
        shape = tuple(1 if k in dims else n for k, n in enumerate(x.shape))
        how = f"dim {', '.join(map(str, dims))} becomes 1 (keepdim=True)"
    else:
        shape = tuple(n for k, n in enumerate(x.shape) if k not in dims)
        how = f"dim {', '.join(map(str, dims))} ({', '.join(str(x.shape[k]) for k in dims)}) is removed"
    return Outcome(
        kind, f"{op} over dim {', '.join(map(str, dims))}: {how} → {shape_text(shape)}; {why}", shape, dtype
    )


def max_with_dim(x: T, op: str, d: Any, keepdim: bool) -> Outcome:
    """``x.max(dim)``: a (values, indices) pair, both of the reduced shape."""
    inner = reduce(x, "amax", d, keepdim, "")
    if inner.error or inner.shape is None:
        return inner
    return Outcome(
        "reduction",
        f"{op}(dim) returns (values, indices): {inner.text.split(': ', 1)[1].split(';')[0]}; values "
        f"{x.dtype}, indices int64",
        shapes=(inner.shape, inner.shape),
        dtype=x.dtype,
    )


# -- casting -------------------------------------------------------------------------------


def cast(x: T, dtype: str, how: str) -> Outcome:
    text = f"{how} keeps the shape {shape_text(x.shape)}; dtype {x.dtype} → {dtype}"
    if category(dtype) < category(x.dtype):
        text += " (the fraction is cut toward zero)" if category(dtype) == 1 else ""
    return Outcome("casting", text, x.shape, dtype)


def item(x: T, label: str) -> Outcome:
    if x.numel != 1:
        return Outcome(
            "casting",
            f".item() needs exactly one element; {label} {shape_text(x.shape)} has {x.numel}",
            error=True,
        )
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


# -- one-input functions --------------------------------------------------------------------

# these compute in floating point: an integer input gives the default float dtype
FLOAT_MATH = frozenset(
    [
        "exp",
        "expm1",
        "log",
        "log10",
        "log1p",
        "log2",
        "sin",
        "cos",
        "tan",
        "sinh",
        "cosh",
        "tanh",
        "sigmoid",
        "sqrt",
        "rsqrt",
        "reciprocal",
        "softmax",
        "log_softmax",
        "gelu",
        "silu",
        "elu",
        "selu",
        "softplus",
        "logsigmoid",
    ]
)
KEEP_DTYPE = frozenset(
    [
        "abs",
        "neg",
        "relu",
        "relu6",
        "leaky_relu",
        "hardtanh",
        "clone",
        "detach",
        "contiguous",
        "sign",
        "square",
        "floor",
        "ceil",
        "round",
        "trunc",
        "flip",
        "fliplr",
        "flipud",
        "roll",
        "tril",
        "triu",
        "clamp",
        "clip",
    ]
)


def same_shape(x: T, op: str, d: Any = None) -> Outcome:
    kind = "elementwise"
    if d is not None:
        try:
            _dim(d, x.ndim)
        except IndexError as exc:
            return Outcome(kind, str(exc), error=True)
    if op in FLOAT_MATH and category(x.dtype) < 2:
        if op in ("softmax", "log_softmax", "gelu", "silu", "elu", "selu", "softplus", "logsigmoid"):
            return Outcome(
                kind, f"{op} needs a floating point input; got {x.dtype} (cast first: .float())", error=True
            )
        return Outcome(
            kind,
            f"{op} keeps the shape {shape_text(x.shape)}; an integer input computes in the default float, "
            f"{DEFAULT_FLOAT}",
            x.shape,
            DEFAULT_FLOAT,
        )
    where = f" along dim {d}" if d is not None else ""
    return Outcome(
        kind, f"{op}{where} keeps the shape {shape_text(x.shape)} and dtype {x.dtype}", x.shape, x.dtype
    )
