"""The rules of the products: matmul (and mm, bmm, mv, dot), linear, conv, pool and einsum. No torch."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from torchshape.families.expr.formulas import NoRule, Outcome, Shape, T, broadcast, result_type, shape_text
from torchshape.families.spatial import Window, axes


def _promoted(kind: str, text: str, shape: Shape, operands: Sequence[Any]) -> Outcome:
    """The rule's shape, of the dtype ``torch.result_type`` gives its operands."""
    return Outcome(kind, text, shape, result_type(list(operands))[0])


# -- matmul --------------------------------------------------------------------------------


def _refused(a: T, b: T, A: str, B: str, op: str) -> Outcome | None:
    """The refusal of operands that no broadcasting can help: 0-d, of two dtypes, or of the wrong
    number of dims for ``mm``, ``bmm``, ``mv`` or ``dot``; None where there is none."""
    if a.ndim == 0 or b.ndim == 0:
        return Outcome("matmul", f"{op}: both arguments need at least 1 dimension ({A}, {B})", error=True)
    if a.dtype != b.dtype:
        return Outcome("matmul", f"{op} does not promote: {A} is {a.dtype}, {B} is {b.dtype}", error=True)
    want = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1), "dot": (1, 1)}.get(op)
    if want is not None and (a.ndim, b.ndim) != want:
        why = f"{op} takes {want[0]}-D and {want[1]}-D tensors and does not broadcast; got {A}, {B}"
        return Outcome("matmul", why, error=True)
    return None


def matmul(a: T, b: T, la: str, lb: str, op: str = "matmul") -> Outcome:
    """``a @ b``, ``torch.matmul``, ``mm``, ``bmm``, ``mv``, ``dot``."""
    kind = "matmul"
    A, B = f"{la} {shape_text(a.shape)}", f"{lb} {shape_text(b.shape)}"
    refused = _refused(a, b, A, B, op)
    if refused:
        return refused
    dtype, _ = result_type([a, b])
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
        why = f"bmm: batch sizes {batch_a[0]} and {batch_b[0]} differ (bmm does not broadcast)"
        return Outcome(kind, why, error=True)
    batch, how = broadcast([batch_a, batch_b], [la, lb])
    if batch is None:
        return Outcome(
            kind, f"{A} @ {B}: batch dims {shape_text(batch_a)} and {shape_text(batch_b)} {how}", error=True
        )
    # the 1 added to a 1-D operand is removed from the result
    shape: Shape = (*batch, *([n] if a.ndim > 1 else []), *([p] if b.ndim > 1 else []))
    text = f"({n}, {k1}) @ ({k2}, {p}) contracts {k1} → ({n}, {p})"
    if batch:
        text += (
            f"; batch dims {shape_text(batch_a)} and {shape_text(batch_b)} broadcast to {shape_text(batch)}"
        )
    text = "; ".join([text, *notes])
    return Outcome(kind, f"{text}; result {shape_text(shape)}", shape, dtype)


def linear(x: T, w: T, b: T | None) -> Outcome:
    """``F.linear(x, weight, bias)``: (*, in_features) with weight (out_features, in_features)
    → (*, out_features)."""
    kind = "F.linear"
    if w.ndim != 2 or x.ndim == 0:
        raise NoRule(kind)
    out_f, in_f = w.shape
    if x.shape[-1] != in_f:
        why = (
            f"F.linear: input (*, in_features) = {shape_text(x.shape)}, weight (out_features, in_features) = "
            f"{shape_text(w.shape)}: in_features {x.shape[-1]} ≠ {in_f} (the weight is used "
            "transposed: x @ W.T)"
        )
        return Outcome(kind, why, error=True)
    if b is not None and b.shape not in ((out_f,), ()):
        raise NoRule(kind)
    shape = (*x.shape[:-1], out_f)
    text = (
        f"F.linear: (*, in_features) {shape_text(x.shape)} @ weight.T {shape_text((in_f, out_f))} "
        f"contracts in_features = {in_f} → (*, out_features) = {shape_text(shape)}"
    )
    return _promoted(kind, text, shape, [x, w])


def per_axis(value: Any, dims: int, kind: str) -> tuple[int, ...]:
    """A window setting as torch takes it, one int per axis: ``3`` or ``(3, 3)``; a bool, which
    torch refuses there, or anything else has no rule."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * dims
    if isinstance(value, (tuple, list)) and len(value) == dims and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise NoRule(kind)


def conv(x: T, w: T, dims: int, stride: Any, padding: Any, dilation: Any, groups: int, lx: str) -> Outcome:
    """``F.conv1d/2d/3d``: ⌊(in + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1⌋ per axis."""
    kind = f"F.conv{dims}d"
    if w.ndim != dims + 2 or x.ndim not in (dims + 1, dims + 2) or isinstance(padding, str):
        raise NoRule(kind)
    batched = x.ndim == dims + 2
    c_in = x.shape[1] if batched else x.shape[0]
    c_out, c_per_group, *kernel = w.shape

    s, p, d = (per_axis(value, dims, kind) for value in (stride, padding, dilation))
    if c_in != c_per_group * groups:
        return Outcome(
            kind,
            f"{kind}: weight (C_out, C_in/groups, *kernel_size) = {shape_text(w.shape)} expects "
            f"C_in = {c_per_group}·{groups} = {c_per_group * groups} channels; {lx} has {c_in}",
            error=True,
        )
    windows = [
        Window(axis, n, k, si, pi, di)
        for axis, n, k, si, pi, di in zip(axes(dims), x.shape[-dims:], kernel, s, p, d, strict=True)
    ]
    out = [w.out for w in windows]
    parts = [f"{w.axis}_out = {w.numeric()}" for w in windows]
    if min(out) <= 0:
        return Outcome(kind, f"{kind}: output size {'; '.join(parts)}: too small an input", error=True)
    head = (x.shape[0], c_out) if batched else (c_out,)
    shape = (*head, *out)
    sizes = "; ".join(parts)
    text = f"{kind}: (N, C_in, *in) → (N, C_out, *out), C_out = {c_out}; {sizes} → {shape_text(shape)}"
    return _promoted(kind, text, shape, [x, w])


def pool(
    x: T, op: str, dims: int, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> Outcome:
    """``F.max_pool2d``/``F.avg_pool2d``: the sliding-window size of ``torchshape pool``, channels kept."""
    kind = f"F.{op}"
    if x.ndim not in (dims + 1, dims + 2):
        raise NoRule(kind)

    k = per_axis(kernel, dims, kind)
    s = per_axis(stride if stride not in (None, [], ()) else kernel, dims, kind)
    p, d = per_axis(padding, dims, kind), per_axis(dilation, dims, kind)
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
            said = f"{term!r} names {len(term)} dims but the operand {shape_text(op.shape)} has {op.ndim}"
            return Outcome(kind, f"einsum: {said}", error=True)
        for letter, size in zip(term, op.shape, strict=True):
            if letter in sizes and sizes[letter] != size and 1 not in (size, sizes[letter]):
                why = f"einsum: {letter} is {sizes[letter]} in one operand and {size} in another"
                return Outcome(kind, why, error=True)
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
    return _promoted(kind, text, shape, operands)
