"""--explain: what the formulas claim about this convolution, as plain data (no torch).

``explain_probe`` checks every claim on torch and fills in ``holds``: True (torch agreed),
False (it did not) or None (not evaluated: it needs values, and meta has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torchshape.families.conv.formulas import coverage, out_size, pads
from torchshape.families.conv.spec import ConvSpec, PaddingMode
from torchshape.families.spatial import Coverage

# Lists of sizes longer than this are cut (a stride of 1000 reaches 1000 sizes).
MAX_LISTED = 8


@dataclass(frozen=True)
class Unread:
    """One axis: every input position that no window reads (stride past the kernel's span,
    dilation's gaps, floor rounding at the end, or, transposed, padding's crop)."""

    coverage: Coverage
    holds: bool | None = None  # torch's gradient is zero on exactly these positions of the axis
    torch_unread: tuple[int, ...] | None = None  # the positions torch's gradient left at zero
    reason: str | None = None  # why it was not evaluated

    @property
    def axis(self) -> str:
        return self.coverage.axis


@dataclass(frozen=True)
class SamePadding:
    """The padding that keeps the size (stride 1), and torch's refusal of 'same' with a stride."""

    totals: tuple[tuple[str, int, int, int], ...]  # axis, dilation·(kernel_size − 1), before, after
    symmetric: tuple[int, ...] | None  # the int padding that does the same, when every total is even
    kept: bool | None = None  # torch's padding='same' module gave the input's size back
    kept_shape: tuple[int, ...] | None = None
    refusal_stride: int = 2
    refusal: str | None = None  # torch's own message for padding='same' with that stride
    reason: str | None = None  # why 'same' was not run at stride 1: torch's own refusal of it here


@dataclass(frozen=True)
class Receptive:
    """The input positions one output element reads."""

    element: tuple[int, ...]  # its index on each spatial axis (batch 0, output channel 0)
    positions: tuple[tuple[int, ...], ...]  # per axis: the input indices it reads
    spans: tuple[int, ...]  # per axis: dilation·(kernel_size − 1) + 1
    channels: int  # input channels it reads: C_in/groups (0 to channels − 1)
    holds: bool | None = None  # the gradient of that element is non-zero exactly there
    reason: str | None = None


@dataclass(frozen=True)
class OutputPaddingAxis:
    axis: str
    base: int  # output size with output_padding 0
    reachable: tuple[int, ...]  # with output_padding 0 .. max(stride, dilation) − 1
    by_output_size: tuple[int, ...]  # forward(input, output_size=...) accepts base .. base + stride − 1
    conv_inputs: tuple[int, ...]  # sizes the matching Conv maps to this axis' input size
    beyond: int  # the first size output_size refuses
    holds_padding: bool | None = None
    holds_output_size: bool | None = None
    refusal: str | None = None  # torch's message for ``beyond``
    holds_conv: bool | None = None


@dataclass(frozen=True)
class Inverse:
    """The module that undoes this one shape-wise, run after it."""

    module_call: str
    there: tuple[int, ...]  # this module's output shape
    back: tuple[int, ...]  # the formula's shape after the inverse
    measured: tuple[int, ...] | None = None
    holds: bool | None = None


@dataclass(frozen=True)
class ConvAnalysis:
    values: bool  # False on meta: what needs values was not evaluated
    unread: list[Unread] = field(default_factory=list)
    same: SamePadding | None = None
    receptive: Receptive | None = None
    output_padding: list[OutputPaddingAxis] = field(default_factory=list)
    inverse: Inverse | None = None

    @property
    def ok(self) -> bool:
        """No check that ran found torch disagreeing."""
        checks: list[bool | None] = [u.holds for u in self.unread]
        if self.same is not None:
            checks += [self.same.kept, self.same.refusal is not None]
        if self.receptive is not None:
            checks.append(self.receptive.holds)
        for o in self.output_padding:
            checks += [o.holds_padding, o.holds_output_size, o.holds_conv]
            if o.holds_output_size is not None:
                checks.append(o.refusal is not None)
        if self.inverse is not None:
            checks.append(self.inverse.holds)
        return all(check is not False for check in checks)


def unread(spec: ConvSpec) -> list[Unread]:
    """Per axis: every input position that no window reads (transposed: whose writes padding crops)."""
    return [Unread(c) for c in coverage(spec)]


def receptive(spec: ConvSpec) -> Receptive:
    """The input positions that the middle output element reads, per axis."""
    outs = out_size(spec)
    element = tuple(o // 2 for o in outs)
    positions = []
    for i in range(spec.dims):
        k, s, d, size, o = spec.kernel_size[i], spec.stride[i], spec.dilation[i], spec.size[i], element[i]
        if spec.transposed:
            p = spec.int_padding[i]
            found = [(o + p - j * d) // s for j in range(k) if (o + p - j * d) % s == 0]
        else:
            before = pads(spec)[i][0]
            found = [o * s + j * d - before for j in range(k)]
        positions.append(tuple(sorted(x for x in found if 0 <= x < size)))
    spans = tuple(d * (k - 1) + 1 for k, d in zip(spec.kernel_size, spec.dilation, strict=True))
    channels = spec.in_channels // spec.groups
    reason = None
    if spec.padding_mode is not PaddingMode.ZEROS:
        reason = f"not checked: padding_mode '{spec.padding_mode.value}' also feeds it copies of edge values"
    return Receptive(element, tuple(positions), spans, channels, reason=reason)


def output_padding(spec: ConvSpec) -> list[OutputPaddingAxis]:
    """Per axis of a ConvTranspose: the sizes it can give, and the Conv sizes they undo."""
    if not spec.transposed:
        return []
    out = []
    for i, axis in enumerate(spec.axes):
        k, s, d, p, size = (
            spec.kernel_size[i],
            spec.stride[i],
            spec.dilation[i],
            spec.int_padding[i],
            spec.size[i],
        )
        base = (size - 1) * s - 2 * p + d * (k - 1) + 1
        span = d * (k - 1) + 1
        positive = [base + extra for extra in range(s) if base + extra >= 1][:MAX_LISTED]
        out.append(
            OutputPaddingAxis(
                axis=axis,
                base=base,
                reachable=tuple(n for n in (base + op for op in range(max(s, d))) if n >= 1)[:MAX_LISTED],
                by_output_size=tuple(positive),
                # sizes the Conv accepts (padded input at least the kernel's span) that map to ``size``
                conv_inputs=tuple(n for n in positive if n + 2 * p >= span),
                beyond=base + s,
            )
        )
    return out


def inverse_settings(spec: ConvSpec) -> tuple[dict[str, tuple[int, ...] | int], tuple[int, ...]] | None:
    """The undoing module's settings (besides channels and kernel) and the size it gives back.

    A ConvTranspose is undone by the Conv with the same kernel, stride, padding and dilation;
    a Conv by the ConvTranspose whose output_padding restores the rows the floor dropped.
    None where no int padding does it (an uneven 'same').
    """
    if spec.transposed:
        back = tuple(spec.size[i] + spec.output_padding[i] // spec.stride[i] for i in range(spec.dims))
        return {"padding": spec.int_padding, "groups": spec.groups}, back
    if spec.padding == "same":
        if any(b != a for b, a in pads(spec)):
            return None
        padding = tuple(b for b, _ in pads(spec))
    else:
        padding = spec.int_padding
    outs = out_size(spec)
    op = []
    for i in range(spec.dims):
        base = (
            (outs[i] - 1) * spec.stride[i] - 2 * padding[i] + spec.dilation[i] * (spec.kernel_size[i] - 1) + 1
        )
        op.append(spec.size[i] - base)
    return {"padding": padding, "output_padding": tuple(op), "groups": spec.groups}, spec.size
