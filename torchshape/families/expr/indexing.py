"""The rules of indexing (ints, slices, None, ..., index tensors, boolean masks) and of cat, stack,
split and chunk. No torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torchshape.families.expr.formulas import (
    INTEGERS,
    NoRule,
    Outcome,
    Shape,
    T,
    broadcast,
    result_type,
    shape_text,
)
from torchshape.families.expr.reshape import wrap_dim

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


def _sliced(item: slice, size: int, dim: int, said: list[str]) -> int | Outcome:
    """The length a slice keeps of a dim of ``size``, said; or the refusal of a step below one."""
    if item.step is not None and item.step <= 0:
        return Outcome(
            "indexing", f"slice step {item.step}: torch needs a step greater than zero", error=True
        )
    length = len(range(*item.indices(size)))
    text = _slice_text(item)
    said.append(
        f"{text} keeps dim {dim} ({size})" if length == size else f"{text} keeps dim {dim}: {size} → {length}"
    )
    return length


def _first_ellipsis(items: list[Any], said: list[str]) -> list[Any]:
    """``items`` with a further ``...`` dropped: NumPy refuses, torch lets the first one count."""
    if sum(1 for item in items if item is Ellipsis) > 1:
        at = items.index(Ellipsis)
        items = [item for k, item in enumerate(items) if item is not Ellipsis or k == at]
        said.append("torch lets the first ... count and a further ... stand for no dim")
    return items


def _mask_mismatch(x: T, item: IndexTensor, dim: int) -> Outcome | None:
    """The refusal of a boolean mask whose shape differs from the dims it covers, if it does."""
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
    return None


def _placed(x: T, said: list[str], out: list[Any], advanced: list[IndexTensor]) -> Outcome:
    """The shape of the items' sizes; with advanced indices, where their broadcast shape lands."""
    if not advanced:
        shape = tuple(int(n) for n in out)
        return Outcome("indexing", f"basic indexing: {'; '.join(said)} → {shape_text(shape)}", shape, x.dtype)
    b, how = broadcast([a.shape for a in advanced], [f"index {k}" for k in range(len(advanced))])
    if b is None:
        shapes = ", ".join(shape_text(a.shape) for a in advanced)
        return Outcome("indexing", f"the index tensors {shapes} must broadcast together: {how}", error=True)
    positions = [k for k, n in enumerate(out) if n == "ADV"]  # among the items that are not ints
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


def index(x: T, index_value: Any, label: str) -> Outcome:
    """``x[...]``: basic indexing dim by dim, then the advanced indices' shape and where it lands."""
    said: list[str] = []
    items = _first_ellipsis(_index_items(index_value), said)
    used = sum(_consumes(item) for item in items)
    if used > x.ndim:
        why = f"{label} {shape_text(x.shape)} has {x.ndim} dims but the index uses {used}: too many indices"
        return Outcome("indexing", why, error=True)
    at = items.index(Ellipsis) if Ellipsis in items else len(items)  # the dims not indexed: full slices
    items = [*items[:at], *([slice(None)] * (x.ndim - used)), *items[at + 1 :]]
    dim = 0
    out: list[Any] = []  # a size per item but ints, and an "ADV" marker per advanced index, in place
    advanced: list[IndexTensor] = []
    for item in items:
        if isinstance(item, int):
            size = x.shape[dim]
            if not -size <= item < size:
                why = f"index {item} is out of range for dim {dim} of size {size} (−{size} ≤ i < {size})"
                return Outcome("indexing", why, error=True)
            said.append(f"{item} drops dim {dim} ({size})")
            dim += 1
            continue
        if item is None:
            said.append("None adds a dim of 1")
            out.append(1)
        elif isinstance(item, slice):
            length = _sliced(item, x.shape[dim], dim, said)
            if isinstance(length, Outcome):
                return length
            out.append(length)
            dim += 1
        else:
            if item.mask:
                wrong = _mask_mismatch(x, item, dim)
                if wrong:
                    return wrong
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
            out.append("ADV")
    return _placed(x, said, out, advanced)


# -- cat, stack, split, chunk --------------------------------------------------------------


def _stack(shapes: list[Shape], d: Any, listed: str, dtype: str) -> Outcome:
    if any(s != shapes[0] for s in shapes):
        return Outcome("stack", f"stack needs equal shapes, got {listed}", error=True)
    try:
        k = wrap_dim(d, len(shapes[0]) + 1)
    except IndexError as exc:
        return Outcome("stack", str(exc), error=True)
    shape = (*shapes[0][:k], len(shapes), *shapes[0][k:])
    return Outcome(
        "stack",
        f"stack adds a new dim {k} of {len(shapes)} (one per tensor) to {shape_text(shapes[0])} → "
        f"{shape_text(shape)}",
        shape,
        dtype,
    )


def cat(tensors: Sequence[T], d: Any, op: str) -> Outcome:
    kind = op  # cat or stack
    if not tensors:
        return Outcome(kind, f"{op} needs a non-empty list of tensors", error=True)
    shapes = [t.shape for t in tensors]
    listed = ", ".join(shape_text(s) for s in shapes)
    dtype, _ = result_type(list(tensors))
    if op == "stack":
        return _stack(shapes, d, listed, dtype)
    kept = [s for s in shapes if s != (0,)]  # legacy: 1-D empty tensors are skipped
    if not kept:
        return Outcome(kind, f"{op} of empty tensors → (0,)", (0,), dtype)
    ndim = len(kept[0])
    if ndim == 0:
        return Outcome(kind, f"{op}: zero-dimensional tensors cannot be concatenated", error=True)
    if any(len(s) != ndim for s in kept):
        return Outcome(kind, f"{op} needs tensors with the same number of dims, got {listed}", error=True)
    try:
        k = wrap_dim(d, ndim)
    except IndexError as exc:
        return Outcome(kind, str(exc), error=True)
    for i, s in enumerate(kept):
        for j in range(ndim):
            if j != k and s[j] != kept[0][j]:
                why = (
                    f"{op} along dim {k}: every other dim must agree, but dim {j} is {kept[0][j]} in the "
                    f"first and {s[j]} in tensor {i} ({listed})"
                )
                return Outcome(kind, why, error=True)
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
        k = wrap_dim(d, x.ndim)
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
