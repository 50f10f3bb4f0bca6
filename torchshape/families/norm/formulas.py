"""The shape rules of the normalization layers and the dimensions their statistics are taken
over, in the PyTorch docs' symbols. Pure arithmetic, no torch.

    N            batch size (absent for unbatched input)
    C            channels: num_features (GroupNorm: num_channels)
    L; H, W; D   the spatial sizes after (N, C)
    *[i]         a LayerNorm or RMSNorm input's dimensions between N and normalized_shape
    normalized_shape[i]   its last dimensions, normalized together

    BatchNormNd, InstanceNormNd, GroupNorm   input (N, C, *)  output (N, C, *)
    LayerNorm, RMSNorm                        input (N, *, normalized_shape)  output the same

Statistics (mean and biased variance; RMSNorm: the mean of x² only), one per:

    BatchNorm      channel, over N and every spatial axis      dims (0, 2, ...)
    InstanceNorm   sample and channel, over the spatial axes   dims (2, ...)
    GroupNorm      sample and group of C / num_groups channels, over those channels and the
                   spatial axes: x.view(N, num_groups, −1), dim 2
    LayerNorm      every position, over the last len(normalized_shape) dims
    RMSNorm        as LayerNorm; y = x / √(mean(x²) + eps), no mean subtracted

In eval mode with track_running_stats, BatchNorm and InstanceNorm use running_mean and
running_var instead of the input's statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.norm.spec import Kind, NormSpec
from torchshape.families.spatial import AXIS_NAMES, axes


def spatial_symbols(spec: NormSpec) -> tuple[str, ...]:
    """The symbol of every dimension ``--size`` gives."""
    if spec.kind.last_dims:
        return tuple(f"*[{i}]" for i in range(len(spec.size)))
    return axes(len(spec.size)) if spec.size else ()


def input_symbols(spec: NormSpec) -> tuple[str, ...]:
    lead = () if spec.unbatched else ("N",)
    if spec.kind.channels:
        return (*lead, "C", *spatial_symbols(spec))
    normalized = tuple(f"normalized_shape[{i}]" for i in range(len(spec.normalized_shape)))
    return (*lead, *spatial_symbols(spec), *normalized)


def symbols(spec: NormSpec) -> Symbols:
    return Symbols(tuple(zip(input_symbols(spec), spec.input_shape, strict=True)))


def tensor_formulas(spec: NormSpec) -> list[TensorFormula]:
    """input and output: a normalization keeps the shape."""
    dims = input_symbols(spec)
    return [TensorFormula("input", dims, fed=True), TensorFormula("output", dims)]


# ---------------------------------------------------------------- parameters and buffers


@dataclass(frozen=True)
class Held:
    """One parameter or buffer: its name, formula and shape at the user's sizes."""

    name: str
    formula: str
    shape: tuple[int, ...]
    dtype: str = ""  # "int64" for num_batches_tracked; else the module's dtype


def parameters(spec: NormSpec) -> list[Held]:
    """What ``named_parameters()`` holds, in its order."""
    if spec.kind.channels:
        if not spec.affine:
            return []
        return [
            Held("weight", "(C)", (spec.num_features or 0,)),
            Held("bias", "(C)", (spec.num_features or 0,)),
        ]
    if not spec.elementwise_affine:
        return []
    shape = spec.normalized_shape
    rows = [Held("weight", "(normalized_shape)", shape)]
    if spec.kind is Kind.LAYER:
        rows.append(Held("bias", "(normalized_shape)", shape))
    return rows


def buffers(spec: NormSpec) -> list[Held]:
    """What ``named_buffers()`` holds, in its order: the running statistics."""
    if not spec.track_running_stats:
        return []
    c = (spec.num_features or 0,)
    return [
        Held("running_mean", "(C)", c),
        Held("running_var", "(C)", c),
        Held("num_batches_tracked", "()", (), "int64"),
    ]


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Statistics:
    """Which dimensions the statistics are taken over: in words, with this run's numbers."""

    formula: str  # in the docs' symbols
    numeric: str  # with this run's numbers
    dims: tuple[int, ...]  # the input's dimensions reduced (GroupNorm: of x.view(N, G, −1))
    count: int  # statistics computed (one mean and one variance each)
    values: int  # input values behind each
    running: bool  # eval mode with running stats: nothing is computed from the input


def _product(names: tuple[str, ...], sizes: tuple[int, ...]) -> tuple[str, str, int]:
    """``N·H·W``, ``4·8·9``, 288; ``1`` for none."""
    total = math.prod(sizes)
    if not names:
        return "1", "1", 1
    numbers = "·".join(str(n) for n in sizes)
    return "·".join(names), numbers if len(sizes) == 1 else f"{numbers} = {total:,}", total


def statistics(spec: NormSpec) -> Statistics:
    sym = input_symbols(spec)
    shape = spec.input_shape
    lead = 0 if spec.unbatched else 1
    if spec.running_stats_used:
        c = spec.num_features or 0
        return Statistics(
            "eval mode with track_running_stats: output = (x − running_mean) / √(running_var + eps), "
            "per channel; the input's own statistics are not used",
            f"C = {c} running means and variances (running_mean, running_var)",
            (),
            c,
            0,
            True,
        )
    if spec.kind is Kind.BATCH:
        dims = (0, *range(2, len(shape)))
        how = "per channel C, over N and every spatial axis"
    elif spec.kind is Kind.INSTANCE:
        dims = tuple(range(lead + 1, len(shape)))
        how = "per sample and channel, over the spatial axes"
    elif spec.kind is Kind.GROUP:
        g = spec.num_groups or 1
        c = spec.num_features or 0
        rest = math.prod(spec.size)
        per = (c // g) * rest
        spatial = "·".join(spatial_symbols(spec))
        return Statistics(
            f"per sample and group of C / num_groups channels: x.view(N, num_groups, −1), dim 2 "
            f"→ N·num_groups statistics of (C / num_groups){'·' + spatial if spatial else ''} values",
            f"x.view({spec.batch}, {g}, {per}): {spec.batch}·{g} = {spec.batch * g:,} statistics of "
            f"({c} / {g}){'·' + '·'.join(str(n) for n in spec.size) if spec.size else ''} "
            f"= {per:,} values each",
            (2,),
            spec.batch * g,
            per,
            False,
        )
    else:
        d = len(spec.normalized_shape)
        dims = tuple(range(len(shape) - d, len(shape)))
        how = f"per position, over the last len(normalized_shape) = {d} dim{'s' if d > 1 else ''}"
    kept = tuple(i for i in range(len(shape)) if i not in dims)
    over_names, over_numbers, values = _product(tuple(sym[i] for i in dims), tuple(shape[i] for i in dims))
    kept_names, kept_numbers, count = _product(tuple(sym[i] for i in kept), tuple(shape[i] for i in kept))
    what = "√(mean(x²) + eps)" if spec.kind is Kind.RMS else "mean and variance"
    return Statistics(
        f"{what} {how}: dims {dims} → {kept_names} statistics of {over_names} values",
        f"dims {dims}: {kept_numbers} statistics of {over_numbers} values each",
        dims,
        count,
        values,
        False,
    )


# ---------------------------------------------------------------- legend and notes


def legend(spec: NormSpec) -> list[LegendEntry]:
    entries = []
    sizes = dict(symbols(spec).values)
    for name in input_symbols(spec):
        if name == "N":
            meaning = "batch size (--batch)"
        elif name == "C":
            meaning = "channels (--num-features)"
        elif name.startswith("normalized_shape"):
            meaning = "normalized together (--normalized-shape)"
        elif name.startswith("*"):
            meaning = "a leading dimension (--size)"
        else:
            meaning = f"input {AXIS_NAMES[name]} (--size)"
        entries.append(LegendEntry(name, sizes[name], meaning))
    return entries


def notes(spec: NormSpec) -> list[str]:
    out: list[str] = []
    if spec.kind is Kind.INSTANCE and not spec.affine and not spec.track_running_stats:
        out.append(
            "InstanceNorm's defaults, unlike BatchNorm's: affine=False (no weight, no bias) and "
            "track_running_stats=False (eval mode uses each input's own statistics)."
        )
    if spec.kind is Kind.BATCH and spec.train and spec.track_running_stats:
        out.append(
            "Training mode: each forward pass uses the batch's statistics and updates running_mean "
            "and running_var (momentum 0.1); call .eval() to use them instead."
        )
    if spec.kind is Kind.RMS and spec.eps is None:
        out.append("eps=None: RMSNorm adds torch.finfo(dtype).eps, not 1e-05.")
    if spec.kind is Kind.LAYER:
        out.append("normalized_shape names the input's last dimensions, not its first.")
    return out
