"""The shape rules of nn.Conv1d/2d/3d and nn.ConvTranspose1d/2d/3d, in the PyTorch docs' symbols.

Pure arithmetic, no torch: this is the file to read to learn the rules.

    N          batch size (absent for unbatched input)
    C_in       in_channels
    C_out      out_channels
    L, H, W    the spatial axes: 1-d (L), 2-d (H, W), 3-d (D, H, W); _in / _out

    input    (N, C_in, H_in, W_in)      unbatched: (C_in, H_in, W_in)
    output   (N, C_out, H_out, W_out)   unbatched: (C_out, H_out, W_out)

Each output size, per axis (``[0]`` indexes the per-axis settings; 1-d has no index):

    ConvNd           H_out = ⌊(H_in + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0] + 1⌋
    padding='same'   H_out = H_in (stride 1 only); torch pads dilation·(kernel_size − 1) in all,
                     ⌊half⌋ before and the rest after, so an even kernel pads one more after
    ConvTransposeNd  H_out = (H_in − 1)·stride[0] − 2·padding[0] + dilation[0]·(kernel_size[0] − 1)
                             + output_padding[0] + 1
"""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.conv.spec import ConvSpec, PaddingMode
from torchshape.families.spatial import (
    AXIS_NAMES,
    Coverage,
    Window,
    joint,
    sliding_coverage,
    transposed_coverage,
    transposed_out,
)


def sub(spec: ConvSpec, index: int) -> str:
    """How the docs index a per-axis setting: none for 1-d, ``[0]`` for 2-d and 3-d."""
    return "" if spec.dims == 1 else f"[{index}]"


def pads(spec: ConvSpec) -> tuple[tuple[int, int], ...]:
    """The padding before and after each axis, as torch applies it."""
    if spec.padding == "same":
        out = []
        for k, d in zip(spec.kernel_size, spec.dilation, strict=True):
            total = d * (k - 1)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    return tuple((p, p) for p in spec.int_padding)


def windows(spec: ConvSpec) -> tuple[Window, ...]:
    """The sliding window of each axis of a (not transposed) convolution."""
    padding = (0,) * spec.dims if spec.padding == "same" else spec.int_padding
    return tuple(
        Window(axis, spec.size[i], spec.kernel_size[i], spec.stride[i], padding[i], spec.dilation[i])
        for i, axis in enumerate(spec.axes)
    )


def out_size(spec: ConvSpec) -> tuple[int, ...]:
    """The output's spatial size (0 or less where torch refuses the input)."""
    if spec.transposed:
        return tuple(
            transposed_out(
                spec.size[i],
                spec.kernel_size[i],
                spec.stride[i],
                spec.int_padding[i],
                spec.dilation[i],
                spec.output_padding[i],
            )
            for i in range(spec.dims)
        )
    if spec.padding == "same":
        return spec.size
    return tuple(w.out for w in windows(spec))


def coverage(spec: ConvSpec) -> list[Coverage]:
    """Per axis: every input position no window reads (transposed: whose writes padding crops).

    Window i reads padded positions i·stride + j·dilation, j = 0 .. kernel_size − 1; with
    padding_mode other than 'zeros' the padding holds copies of input positions, read too.
    """
    outs = out_size(spec)
    found = []
    for i, axis in enumerate(spec.axes):
        k, s, d, size = spec.kernel_size[i], spec.stride[i], spec.dilation[i], spec.size[i]
        if spec.transposed:
            found.append(transposed_coverage(axis, size, k, s, spec.int_padding[i], d, outs[i]))
        else:
            before = pads(spec)[i][0]
            found.append(sliding_coverage(axis, size, before, k, s, d, outs[i], spec.padding_mode.value))
    return joint(found)


@dataclass(frozen=True)
class DimFormula:
    """One output axis: its rule in symbols, the rule with this run's numbers, the value."""

    axis: str  # H
    symbol: str  # H_out
    formula: str
    numeric: str
    value: int


def dim_formulas(spec: ConvSpec) -> list[DimFormula]:
    out = []
    values = out_size(spec)
    for i, axis in enumerate(spec.axes):
        s = sub(spec, i)
        k, st, d, size = spec.kernel_size[i], spec.stride[i], spec.dilation[i], spec.size[i]
        if spec.transposed:
            p, op = spec.int_padding[i], spec.output_padding[i]
            formula = (
                f"{axis}_out = ({axis}_in − 1)·stride{s} − 2·padding{s} + dilation{s}·(kernel_size{s} − 1)"
                f" + output_padding{s} + 1"
            )
            numeric = f"({size} − 1)·{st} − 2·{p} + {d}·({k} − 1) + {op} + 1 = {values[i]}"
        elif spec.padding == "same":
            before, after = pads(spec)[i]
            formula = f"{axis}_out = {axis}_in  (padding='same', stride 1)"
            numeric = (
                f"{size}, padded by dilation{s}·(kernel_size{s} − 1) = {d}·({k} − 1) = {before + after}: "
                f"{before} before, {after} after = {values[i]}"
            )
        else:
            window = windows(spec)[i]
            formula, numeric = window.formula(s), window.numeric()
        out.append(DimFormula(axis, f"{axis}_out", formula, numeric, values[i]))
    return out


def symbols(spec: ConvSpec) -> Symbols:
    pairs = [] if spec.unbatched else [("N", spec.batch)]
    pairs += [("C_in", spec.in_channels), ("C_out", spec.out_channels)]
    pairs += [(f"{axis}_in", spec.size[i]) for i, axis in enumerate(spec.axes)]
    pairs += [(f"{axis}_out", value) for axis, value in zip(spec.axes, out_size(spec), strict=True)]
    return Symbols(tuple(pairs))


def tensor_formulas(spec: ConvSpec) -> list[TensorFormula]:
    batch = () if spec.unbatched else ("N",)
    return [
        TensorFormula("input", (*batch, "C_in", *(f"{a}_in" for a in spec.axes)), fed=True),
        TensorFormula("output", (*batch, "C_out", *(f"{a}_out" for a in spec.axes))),
    ]


def legend(spec: ConvSpec) -> list[LegendEntry]:
    """Every symbol of the table and of the formulas under it, with its value and its flag."""
    sym = symbols(spec)
    entries = [] if spec.unbatched else [LegendEntry("N", spec.batch, "batch size (--batch)")]
    entries += [
        LegendEntry("C_in", spec.in_channels, "in_channels (--in-channels)"),
        LegendEntry("C_out", spec.out_channels, "out_channels (--out-channels)"),
    ]
    for i, axis in enumerate(spec.axes):
        word = AXIS_NAMES[axis]
        entries.append(LegendEntry(f"{axis}_in", spec.size[i], f"input {word} (--size, axis {i})"))
    for axis in spec.axes:
        entries.append(LegendEntry(f"{axis}_out", sym[f"{axis}_out"], f"output {AXIS_NAMES[axis]}, below"))
    settings = ["kernel_size", "stride"]
    if spec.padding != "same":
        settings.append("padding")
    settings.append("dilation")
    if spec.transposed:
        settings.append("output_padding")
    for name in settings:
        values = spec.int_padding if name == "padding" else getattr(spec, name)
        flag = "--" + name.replace("_", "-")
        meaning = (
            "padding='valid': none" if name == "padding" and spec.padding == "valid" else f"{name} ({flag})"
        )
        if name == "output_padding" and spec.output_size is not None:
            meaning = "torch's, from --output-size: output_size − the size without it"

        entries += [LegendEntry(f"{name}{sub(spec, i)}", v, meaning) for i, v in enumerate(values)]
    entries.append(LegendEntry("groups", spec.groups, "groups (--groups)"))
    return entries


def notes(spec: ConvSpec) -> list[str]:
    """Where a known mistake is invited by this configuration."""
    out: list[str] = []
    if spec.unbatched:
        out.append(f"Unbatched input is {len(spec.axes) + 1}-D: N is dropped from input and output.")
    if spec.padding == "same":
        uneven = [(spec.axes[i], b, a) for i, (b, a) in enumerate(pads(spec)) if b != a]
        if uneven:
            where = ", ".join(f"{axis}: {b} before, {a} after" for axis, b, a in uneven)
            out.append(
                "padding='same' with an even dilation·(kernel_size − 1) pads asymmetrically "
                f"({where}); no int padding gives the same result, and torch copies the input to pad it."
            )
        out.append("padding='same' works only with stride 1: torch refuses it for strided convolutions.")
    if spec.padding_mode is not PaddingMode.ZEROS:
        rule = {
            PaddingMode.REFLECT: "reflect needs padding < the input's size on every axis",
            PaddingMode.REPLICATE: "replicate repeats the edge value",
            PaddingMode.CIRCULAR: "circular needs padding ≤ the input's size on every axis",
        }[spec.padding_mode]
        out.append(
            f"padding_mode='{spec.padding_mode.value}' pads with input values instead of zeros: the "
            f"shapes are the same as with zeros, the values at the edges are not; {rule}. "
            "ConvTranspose accepts only 'zeros'."
        )
    if spec.groups > 1:
        weight = (
            "(C_in, C_out/groups, *kernel_size)" if spec.transposed else "(C_out, C_in/groups, *kernel_size)"
        )
        out.append(
            f"groups={spec.groups}: each output channel sees C_in/groups = {spec.in_channels // spec.groups} "
            f"input channels, so weight is {weight}; C_in and C_out must both divide by groups."
        )
    if any(d > 1 for d in spec.dilation):
        out.append(
            "dilation spreads the kernel over dilation·(kernel_size − 1) + 1 input positions; it is "
            "subtracted in the output size (some calculators add (K − 1)·(D − 1) instead, which is wrong)."
        )
    lost = [f"{c.axis}: {c.count} of {c.size}" for c in coverage(spec) if c.count]
    if lost:
        out.append(
            "Some input positions are read by no window (the stride steps past the kernel, dilation "
            f"skips, or the floor drops the end): {', '.join(lost)}; --explain lists them."
        )
    if spec.transposed and any(s > 1 for s in spec.stride):
        out.append(
            "A strided Conv maps several input sizes to one output size, so its ConvTranspose cannot "
            "know which to give back: output_padding (or forward(input, output_size=...)) picks one; "
            "--explain lists them."
        )
    return out
