"""The shape rules of the pools, in the PyTorch docs' symbols. Pure arithmetic, no torch.

    N          batch size (absent for unbatched input)
    C          channels (a pool keeps them)
    L          1-d: the length;  H, W: 2-d height and width;  D, H, W: 3-d depth, height, width
    X_in       the input's size on axis X;  X_out the output's

    input    (N, C, L_in)   (N, C, H_in, W_in)     (N, C, D_in, H_in, W_in)
    output   (N, C, L_out)  (N, C, H_out, W_out)   (N, C, D_out, H_out, W_out)
    indices  as output (max and adaptive-max with return_indices)

Per axis (``[i]`` indexes a 2-d or 3-d setting; a 1-d pool's settings have no index):

    MaxPool        X_out = ⌊(X_in + 2·padding − dilation·(kernel_size − 1) − 1) / stride + 1⌋
    AvgPool        X_out = ⌊(X_in + 2·padding − kernel_size) / stride + 1⌋
    LPPool         X_out = ⌊(X_in − kernel_size) / stride + 1⌋
    ceil_mode      ⌈…⌉ instead of ⌊…⌋, but a last window that would start in the right
                   padding is dropped: if (X_out − 1)·stride ≥ X_in + padding, X_out − 1
    Adaptive*Pool  X_out = output_size; window i spans ⌊i·X_in/X_out⌋ to ⌈(i+1)·X_in/X_out⌉

The sliding window itself (``Window``) is ``torchshape.families.spatial``'s, shared with
the convolutions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.pool.spec import Kind, PoolSpec
from torchshape.families.spatial import AXIS_NAMES, Window, axes


def sub(spec: PoolSpec, i: int) -> str:
    """How the docs index a per-axis setting: none in 1-d, ``[0]``, ``[1]``, ... in 2-d and 3-d."""
    return "" if spec.dims == 1 else f"[{i}]"


def windows(spec: PoolSpec) -> list[Window]:
    """The sliding window on each axis (none for an adaptive pool)."""
    if spec.kind.adaptive:
        return []
    return [
        Window(
            axis=axis,
            size=spec.size[i],
            kernel=spec.kernel_size[i],
            stride=spec.stride[i],
            padding=spec.padding[i],
            dilation=spec.dilation[i],
            ceil_mode=spec.ceil_mode,
        )
        for i, axis in enumerate(axes(spec.dims))
    ]


def output_size(spec: PoolSpec) -> tuple[int, ...]:
    """X_out for every axis (0 or less: torch refuses the input)."""
    if spec.kind.adaptive:
        return spec.output_size
    return tuple(window.out for window in windows(spec))


def symbols(spec: PoolSpec) -> Symbols:
    values: list[tuple[str, int]] = [] if spec.unbatched else [("N", spec.batch)]
    values.append(("C", spec.channels))
    names = axes(spec.dims)
    values += [(f"{axis}_in", size) for axis, size in zip(names, spec.size, strict=True)]
    values += [(f"{axis}_out", size) for axis, size in zip(names, output_size(spec), strict=True)]
    return Symbols(tuple(values))


def tensor_formulas(spec: PoolSpec) -> list[TensorFormula]:
    """input, output and with return_indices the indices, in call order."""
    lead = () if spec.unbatched else ("N",)
    names = axes(spec.dims)
    rows = [
        TensorFormula("input", (*lead, "C", *(f"{a}_in" for a in names)), fed=True),
        TensorFormula("output", (*lead, "C", *(f"{a}_out" for a in names))),
    ]
    if spec.return_indices:
        rows.append(TensorFormula("indices", rows[1].dims))
    return rows


@dataclass(frozen=True)
class DimRule:
    """One spatial output dimension: its rule in symbols, with this run's numbers, and its value."""

    axis: str
    formula: str
    numeric: str
    value: int
    dropped_by_ceil: bool = False


def _docs_form(spec: PoolSpec, text: str, window: Window, index: str, numbers: bool) -> str:
    """``Window``'s rule in the docs' form for this kind: AvgPool has no dilation, LPPool no padding.

    With dilation 1, −dilation·(kernel_size − 1) − 1 is −kernel_size, as the AvgPool docs write it.
    """
    if spec.has("dilation"):
        return text
    k = window.kernel
    if numbers:
        text = text.replace(f" − 1·({k} − 1) − 1", f" − {k}")
        if not spec.has("padding"):
            text = text.replace(" + 2·0", "")
        return text
    text = text.replace(f" − dilation{index}·(kernel_size{index} − 1) − 1", f" − kernel_size{index}")
    if not spec.has("padding"):
        text = text.replace(f" + 2·padding{index}", "")
    return text


def dim_rules(spec: PoolSpec) -> list[DimRule]:
    """Every spatial output dimension's rule, in the order of the axes."""
    names = axes(spec.dims)
    if spec.kind.adaptive:
        return [
            DimRule(axis, f"{axis}_out = {axis}_in (output_size{sub(spec, i)} is None)", f"{size}", size)
            if given is None
            else DimRule(axis, f"{axis}_out = output_size{sub(spec, i)}", f"{size}", size)
            for i, (axis, size, given) in enumerate(
                zip(names, spec.output_size, spec.output_size_given, strict=True)
            )
        ]
    rules = []
    for i, window in enumerate(windows(spec)):
        index = sub(spec, i)
        rules.append(
            DimRule(
                axis=window.axis,
                formula=_docs_form(spec, window.formula(index), window, index, numbers=False),
                numeric=_docs_form(spec, window.numeric(), window, index, numbers=True),
                value=window.out,
                dropped_by_ceil=window.dropped_by_ceil,
            )
        )
    return rules


# ---------------------------------------------------------------- adaptive windows


def adaptive_window(i: int, size: int, out: int) -> tuple[int, int]:
    """Output position i of an adaptive pool reads input positions [⌊i·in/out⌋, ⌈(i+1)·in/out⌉)."""
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    return [adaptive_window(i, size, out) for i in range(out)]


def windows_overlap(spans: list[tuple[int, int]]) -> bool:
    return any(end > nxt for (_, end), (nxt, _) in itertools.pairwise(spans))


# ---------------------------------------------------------------- legend and notes


def legend(spec: PoolSpec) -> list[LegendEntry]:
    """What each symbol is in this run, and where its value comes from."""
    sym = symbols(spec)
    entries = []
    if not spec.unbatched:
        entries.append(LegendEntry("N", sym["N"], "batch size (--batch)"))
    entries.append(LegendEntry("C", sym["C"], "channels (--channels); a pool keeps them"))
    for i, axis in enumerate(axes(spec.dims)):
        where = f"--size, value {i + 1}" if spec.dims > 1 else "--size"
        entries.append(LegendEntry(f"{axis}_in", sym[f"{axis}_in"], f"input {AXIS_NAMES[axis]} ({where})"))
    given = spec.output_size_given if spec.kind.adaptive else ()
    for i, rule in enumerate(dim_rules(spec)):
        why = "= output_size (--output-size)" if spec.kind.adaptive else "output size, rule below"
        if given and given[i] is None:
            why = f"= {rule.axis}_in (--output-size None)"
        entries.append(LegendEntry(f"{rule.axis}_out", rule.value, why))
    return entries


def notes(spec: PoolSpec) -> list[str]:
    """Short warnings where this configuration invites a known mistake."""
    out: list[str] = []
    if spec.unbatched:
        out.append(f"Unbatched input is {spec.dims + 1}-D: there is no N, in the input or the output.")
    rules = dim_rules(spec)
    dropped = [rule.axis for rule in rules if rule.dropped_by_ceil]
    if dropped:
        out.append(
            f"ceil_mode on {', '.join(dropped)}: rounding up would add a last window that starts in "
            "the right padding, and torch drops such a window, so X_out is one less than ⌈…⌉."
        )
    if spec.kind.adaptive:
        out.append(
            "An adaptive pool takes output_size, not a kernel: window i spans ⌊i·X_in/X_out⌋ to "
            "⌈(i+1)·X_in/X_out⌉, so windows differ in size and may overlap (--explain lists them)."
        )
        if any(o > s for o, s in zip(spec.output_size, spec.size, strict=True)):
            out.append(
                "output_size is larger than the input on some axis: torch allows it and repeats inputs."
            )
    if spec.return_indices:
        out.append(
            "indices index each (N, C) plane of the input flattened: "
            "input.flatten(-dims).gather(-1, indices.flatten(-dims)) is output (--explain checks it)."
        )
    if spec.kind is Kind.LP:
        out.append(
            "LPPool has no padding: it is (sum over the window of xᵖ)^(1/p), "
            "computed by torch as an average pool of xᵖ times the window's size."
        )
    return out
