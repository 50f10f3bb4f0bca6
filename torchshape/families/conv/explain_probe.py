"""--explain on torch: every claim of ``explain`` checked by running torch.

Shape claims run on the meta device (torch's own shape rules, constant time, at the
user's sizes). Claims about values (positions never read, the receptive field) run on
the user's device with real numbers; on meta they are not evaluated (``holds`` None).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape import contain
from torchshape.explain import NO_VALUES
from torchshape.families.conv import explain
from torchshape.families.conv.explain import ConvAnalysis
from torchshape.families.conv.formulas import symbols, tensor_formulas
from torchshape.families.conv.spec import ConvSpec, PaddingMode
from torchshape.families.conv.torch_side import build_module
from torchshape.families.spatial import MAX_COVERED
from torchshape.families.torch_checks import overflow_text
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


def analyse(spec: ConvSpec, module: torch.nn.Module, x: torch.Tensor) -> ConvAnalysis:
    import torch

    # with forward(input, output_size=...), the same module built with the output_padding torch
    # derived from it: every check below calls its modules plainly
    spec = replace(spec, output_size=None)
    values = x.device.type != "meta"
    with quiet(), torch.inference_mode(False):
        fresh = _value_module(spec, module, x) if values else None
        unread = _check_unread(spec, explain.unread(spec), fresh, x)
        receptive = _check_receptive(spec, explain.receptive(spec), fresh, x)
        return ConvAnalysis(
            values=values,
            unread=unread,
            same=None if spec.transposed else _check_same(spec),
            receptive=receptive,
            output_padding=_check_output_padding_axes(spec, explain.output_padding(spec)),
            inverse=_check_inverse(spec),
        )


def _value_module(spec: ConvSpec, module: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """The same module with the same weights, outside inference mode, in float32 or float64."""
    import torch

    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    fresh = build_module(spec, x.device, dtype)
    with torch.no_grad():
        for mine, theirs in zip(fresh.parameters(), module.parameters(), strict=True):
            mine.copy_(theirs)
    return fresh


def _spatial_dim(spec: ConvSpec, i: int) -> int:
    return i + (1 if spec.unbatched else 2)


def _check_unread(
    spec: ConvSpec, claims: list[explain.Unread], fresh: torch.nn.Module | None, x: torch.Tensor
) -> list[explain.Unread]:
    """torch's gradient of the output's sum, every weight set to 1: a count of the taps that read
    each input position, so it is zero exactly where no window reads (no cancellation)."""
    import torch

    if fresh is None:
        return [replace(u, reason=NO_VALUES) for u in claims]
    if any(u.coverage.unread is None for u in claims):
        reason = f"not checked: more than {MAX_COVERED} positions on an axis"
        return [replace(u, reason=reason) for u in claims]
    counting = build_module(spec, x.device, next(fresh.parameters()).dtype)
    with torch.no_grad():
        for parameter in counting.parameters():
            parameter.fill_(1.0)
    one = x[:1] if not spec.unbatched else x
    one = torch.ones_like(one, dtype=next(counting.parameters()).dtype).requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(counting(one).sum(), one)
    if not bool(torch.isfinite(grad).all()):
        return [replace(u, reason=overflow_text(grad)) for u in claims]
    checked = []
    for i, u in enumerate(claims):
        dim = _spatial_dim(spec, i)
        others = [d for d in range(grad.dim()) if d != dim]
        read = grad.abs().amax(dim=others) != 0
        found = tuple(int(p) for p in torch.nonzero(~read).flatten().tolist())
        checked.append(replace(u, holds=found == u.coverage.unread, torch_unread=found))
    return checked


def _check_receptive(
    spec: ConvSpec, r: explain.Receptive, fresh: torch.nn.Module | None, x: torch.Tensor
) -> explain.Receptive:
    import torch

    if r.reason is not None:
        return r
    if fresh is None:
        return replace(r, reason=NO_VALUES)
    x = x.to(next(fresh.parameters()).dtype).detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = fresh(x)
        lead = (0,) if spec.unbatched else (0, 0)
        (grad,) = torch.autograd.grad(y[(*lead, *r.element)], x)
    reached = grad != 0
    expected = torch.zeros_like(reached)
    sample = expected if spec.unbatched else expected[0]
    index: list[Any] = [slice(0, r.channels)]
    index += [torch.tensor(p, dtype=torch.long, device=x.device) for p in r.positions]
    grid = torch.meshgrid(*index[1:], indexing="ij") if spec.dims > 1 else (index[1],)
    channel_view = sample[: r.channels]
    channel_view[(slice(None), *grid)] = True
    return replace(r, holds=torch.equal(reached, expected))


def _meta_input(spec: ConvSpec, size: tuple[int, ...] | None = None, channels: int | None = None) -> Any:
    import torch

    shape = list(tensor_formulas(spec)[0].shape(symbols(spec)))
    lead = 0 if spec.unbatched else 1
    if channels is not None:
        shape[lead] = channels
    if size is not None:
        shape[lead + 1 :] = size
    return torch.empty(shape, device="meta")


def _meta(spec: ConvSpec, **changes: Any) -> Any:
    import torch

    return build_module(replace(spec, **changes), torch.device("meta"), torch.float32)


def _check_same(spec: ConvSpec) -> explain.SamePadding:
    import torch

    rows = []
    for i, axis in enumerate(spec.axes):
        total = spec.dilation[i] * (spec.kernel_size[i] - 1)
        rows.append((axis, total, total // 2, total - total // 2))
    symmetric = tuple(t // 2 for _, t, _, _ in rows) if all(t % 2 == 0 for _, t, _, _ in rows) else None
    ones = (1,) * spec.dims
    same = _meta(spec, stride=ones, padding="same")
    kept_shape: tuple[int, ...] | None = None
    reason = None
    try:
        out = same(_meta_input(spec))
        kept_shape = tuple(out.shape[-spec.dims :])
    except RuntimeError as error:  # e.g. circular padding wider than the input
        reason = contain.message(error)
    refusal_stride = max(2, *spec.stride)
    refusal = None
    try:
        getattr(torch.nn, spec.module_name)(
            spec.in_channels,
            spec.out_channels,
            spec.kernel_size,
            stride=refusal_stride,
            padding="same",
            device="meta",
        )
    except ValueError as error:
        refusal = str(error)
    return explain.SamePadding(
        totals=tuple(rows),
        symmetric=symmetric,
        kept=None if kept_shape is None else kept_shape == spec.size,
        kept_shape=kept_shape,
        reason=reason,
        refusal_stride=refusal_stride,
        refusal=refusal,
    )


def _check_output_padding_axes(
    spec: ConvSpec, axes: list[explain.OutputPaddingAxis]
) -> list[explain.OutputPaddingAxis]:
    # output_size must be valid on every axis: the others at the smallest size they accept
    firsts = [o.by_output_size[0] if o.by_output_size else None for o in axes]
    return [_check_output_padding(spec, i, o, firsts) for i, o in enumerate(axes)]


def _check_output_padding(
    spec: ConvSpec, i: int, o: explain.OutputPaddingAxis, outs: list[int | None]
) -> explain.OutputPaddingAxis:
    x = _meta_input(spec)

    def with_axis(value: int) -> list[int]:
        return [value if j == i else (outs[j] or 0) for j in range(spec.dims)]

    padding_ok = True
    for expected in o.reachable:
        ops = tuple(expected - o.base if j == i else spec.output_padding[j] for j in range(spec.dims))
        got = _meta(spec, output_padding=ops)(x).shape[-spec.dims + i]
        padding_ok &= got == expected
    plain = _meta(spec, output_padding=(0,) * spec.dims)
    size_ok: bool | None = None
    refusal = None
    if all(n is not None for j, n in enumerate(outs) if j != i):
        size_ok = all(
            plain(x, output_size=with_axis(size)).shape[-spec.dims + i] == size for size in o.by_output_size
        )
        try:
            plain(x, output_size=with_axis(o.beyond))
        except ValueError as error:
            refusal = str(error)
    conv = _meta(
        spec,
        transposed=False,
        in_channels=spec.out_channels,
        out_channels=spec.in_channels,
        output_padding=(0,) * spec.dims,
    )
    channels = spec.out_channels
    # the other axes as the ConvTranspose gives them back
    conv_size = [tuple(_meta(spec)(x).shape)[-spec.dims + j] for j in range(spec.dims)]

    def conv_input(size: int) -> tuple[int, ...]:
        return tuple(size if j == i else conv_size[j] for j in range(spec.dims))

    conv_ok = all(
        conv(_meta_input(spec, conv_input(size), channels)).shape[-spec.dims + i] == spec.size[i]
        for size in o.conv_inputs
    )
    return replace(
        o, holds_padding=padding_ok, holds_output_size=size_ok, refusal=refusal, holds_conv=conv_ok
    )


def _check_inverse(spec: ConvSpec) -> explain.Inverse | None:
    settings = explain.inverse_settings(spec)
    if settings is None:
        return None
    changes, back_size = settings
    inverse_spec = replace(
        spec,
        transposed=not spec.transposed,
        in_channels=spec.out_channels,
        out_channels=spec.in_channels,
        output_padding=changes.get("output_padding", (0,) * spec.dims),  # type: ignore[arg-type]
        padding=changes["padding"],  # type: ignore[arg-type]
        padding_mode=PaddingMode.ZEROS if not spec.transposed else spec.padding_mode,
    )
    there = tensor_formulas(spec)[1].shape(symbols(spec))
    lead = there[: len(there) - spec.dims - 1]
    back = (*lead, spec.in_channels, *back_size)
    y = _meta(spec)(_meta_input(spec))
    import torch

    measured = tuple(build_module(inverse_spec, torch.device("meta"), torch.float32)(y).shape)
    return explain.Inverse(
        module_call=inverse_spec.module_call,
        there=there,
        back=back,
        measured=measured,
        holds=measured == back and tuple(y.shape) == there,
    )
