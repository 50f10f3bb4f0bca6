"""The rules of view, reshape and the other shape changes: squeeze, unsqueeze, transpose, permute,
flatten, unflatten, expand, repeat; strides and whether a view is possible. No torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec

from torchshape.families.expr.formulas import NoRule, Outcome, Shape, T, shape_text

P = ParamSpec("P")

# -- view, reshape and the rest of the shape changes ---------------------------------------


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


def wrap_dim(d: Any, ndim: int, what: str = "dim") -> int:
    if not isinstance(d, int) or isinstance(d, bool):
        raise NoRule(what)
    span = max(ndim, 1)
    if not -span <= d < span:
        raise IndexError(f"{what} {d} is out of range for a {ndim}-D tensor (−{span} ≤ {what} < {span})")
    return d % span


def _dims_checked(rule: Callable[P, Outcome]) -> Callable[P, Outcome]:
    """``rule``, where a dim out of range (``wrap_dim``'s IndexError) is torch's refusal."""

    @wraps(rule)
    def checked(*args: P.args, **kwargs: P.kwargs) -> Outcome:
        try:
            return rule(*args, **kwargs)
        except IndexError as exc:
            return Outcome(rule.__name__, str(exc), error=True)

    return checked


def _moved(op: str, what: str, x: T, shape: Shape, tail: str = "") -> Outcome:
    """``op``'s outcome, said as ``what: (x's shape) → (shape)`` and ``tail``; x's dtype."""
    return Outcome(op, f"{what}: {shape_text(x.shape)} → {shape_text(shape)}{tail}", shape, x.dtype)


@_dims_checked
def squeeze(x: T, dims: Any) -> Outcome:
    if dims is None:
        shape = tuple(n for n in x.shape if n != 1)
        return _moved("squeeze", "squeeze() drops every dim of size 1", x, shape)
    chosen = {wrap_dim(d, x.ndim) for d in (dims if isinstance(dims, (tuple, list)) else [dims])}
    shape = tuple(n for k, n in enumerate(x.shape) if not (k in chosen and n == 1))
    kept = [k for k in sorted(chosen) if x.ndim and x.shape[k] != 1]
    note = f"; dim {', '.join(map(str, kept))} is not 1, so it stays" if kept else ""
    return _moved("squeeze", f"squeeze({dims}) drops dim {dims} if it is 1{note}", x, shape)


@_dims_checked
def unsqueeze(x: T, d: Any) -> Outcome:
    k = wrap_dim(d, x.ndim + 1)
    shape = (*x.shape[:k], 1, *x.shape[k:])
    return _moved("unsqueeze", f"unsqueeze({d}) inserts a dim of 1 at {k}", x, shape)


@_dims_checked
def transpose(x: T, d0: Any, d1: Any) -> Outcome:
    a, b = wrap_dim(d0, x.ndim), wrap_dim(d1, x.ndim)
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
    return _moved("transpose", f"transpose swaps dims {a} and {b}", x, tuple(shape), tail)


@_dims_checked
def permute(x: T, dims: list[int]) -> Outcome:
    if len(dims) != x.ndim:
        why = f"permute needs {x.ndim} dims for {shape_text(x.shape)}, got {len(dims)}"
        return Outcome("permute", why, error=True)
    order = [wrap_dim(d, x.ndim) for d in dims]
    if len(set(order)) != len(order):
        return Outcome("permute", f"permute({', '.join(map(str, dims))}): a dim appears twice", error=True)
    shape = tuple(x.shape[k] for k in order)
    return _moved("permute", f"permute puts dims {tuple(order)} in that order", x, shape)


@_dims_checked
def flatten(x: T, start: int, end: int) -> Outcome:
    a, b = wrap_dim(start, x.ndim), wrap_dim(end, x.ndim)
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


@_dims_checked
def unflatten(x: T, d: Any, sizes: list[int]) -> Outcome:
    k = wrap_dim(d, x.ndim)
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


def expand(x: T, sizes: list[int]) -> Outcome:
    if len(sizes) < x.ndim:
        why = f"fewer sizes than the {x.ndim} dims of {shape_text(x.shape)}"
        return Outcome("expand", f"expand{shape_text(tuple(sizes))}: {why}", error=True)
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


def repeat(x: T, sizes: list[int]) -> Outcome:
    if len(sizes) < x.ndim:
        why = f"needs at least as many repeats as dims ({x.ndim})"
        return Outcome("repeat", f"repeat{shape_text(tuple(sizes))}: {why}", error=True)
    padded = (1,) * (len(sizes) - x.ndim) + x.shape
    shape = tuple(n * r for n, r in zip(padded, sizes, strict=True))
    parts = " · ".join(f"{n}×{r}" for n, r in zip(padded, sizes, strict=True))
    return Outcome(
        "repeat", f"repeat multiplies each dim (copying): {parts} → {shape_text(shape)}", shape, x.dtype
    )
