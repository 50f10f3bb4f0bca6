"""The torch side: build the layer, run one forward pass at the user's sizes, check the statistics
on the output's values, read the parameters and buffers, and show --explain's mistakes on torch.

On ``--device meta`` the module runs on meta at the user's sizes (shapes only): the statistics,
which need values, are left unevaluated. The mistakes that torch refuses by shape are shown on
meta tensors of the user's shape, on any device; the others on small inputs of their own.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape import contain, guard
from torchshape.explain import NO_VALUES, Claim
from torchshape.families.norm.explain import Analysis, mistakes, statistics_claim
from torchshape.families.norm.formulas import buffers, statistics, symbols
from torchshape.families.norm.spec import Kind, NormSpec
from torchshape.families.norm.torch_side import build_module, forward, make_inputs
from torchshape.forward import forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch

# The RMSNorm check recomputes this many positions by hand.
CHECKED_POSITIONS = 4096


@quiet()
def run(spec: NormSpec, *, explain: bool = False) -> ProbeRun:
    guard.check(spec)  # before torch is imported on the CPU: refuse what cannot fit
    values = spec.device != "meta"
    with forward_pass(spec, build_module, make_inputs, forward) as done:
        stats = statistics_claim(spec)
        if not values:
            stats = replace(stats, evidence=NO_VALUES)
        elif done.error is None:
            stats = guard.interruptible(
                spec, _statistics, spec, done.module, done.inputs["input"], done.results
            )
        found: tuple[Claim, ...] | None = None
        if explain:
            found = tuple(_mistake(spec, c, done.inputs["input"], done.error) for c in mistakes(spec))
        parameters = {name: tuple(p.shape) for name, p in done.module.named_parameters()}
        torch_buffers = {name: tuple(b.shape) for name, b in done.module.named_buffers()}
    known = buffers(spec)
    analysis = Analysis(
        statistics=stats,
        buffers=tuple((held, torch_buffers.get(held.name)) for held in known),
        extra_buffers=tuple((n, s) for n, s in torch_buffers.items() if n not in {h.name for h in known}),
        findings=found,
        values=values,
    )
    return done.run(spec, symbols(spec), analysis, parameters)


def _tolerance(dtype: torch.dtype) -> float:
    import torch

    return {torch.float64: 1e-9, torch.float32: 2e-4}.get(dtype, 3e-2)


def _eps(spec: NormSpec, dtype: torch.dtype) -> float:
    import torch

    return spec.eps if spec.eps is not None else float(torch.finfo(dtype).eps)


def _statistics(spec: NormSpec, module: Any, x: torch.Tensor, results: dict[str, torch.Tensor]) -> Claim:
    """Check the statistics claim on torch's output (weight 1, bias 0: torch's init)."""
    import torch

    claim = statistics_claim(spec)
    out = results["output"]
    tol = _tolerance(out.dtype)
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    if (weight is not None and not bool((weight == 1).all())) or (
        bias is not None and not bool((bias == 0).all())
    ):
        return replace(claim, holds=None, evidence="not evaluated: weight is not 1 or bias not 0")
    stats = statistics(spec)
    wide = torch.float64 if out.dtype == torch.float64 else torch.float32
    eps = _eps(spec, x.dtype)
    if stats.running:
        shape = [1] * x.dim()
        shape[0 if spec.unbatched else 1] = -1
        mean = module.running_mean.to(wide).view(shape)
        var = module.running_var.to(wide).view(shape)
        expected = x.to(wide) - mean  # in place from here: one input-sized tensor
        expected.div_(torch.sqrt(var + eps)).sub_(out).abs_()
        diff = float(expected.max()) if out.numel() else 0.0
        holds = diff <= tol * 10
        return replace(claim, holds=holds, evidence=f"max |difference| {diff:.3g}")
    if spec.kind is Kind.GROUP:
        n = 1 if spec.unbatched else spec.batch
        x, out = x.reshape(n, spec.num_groups or 1, -1), out.reshape(n, spec.num_groups or 1, -1)
    dims = stats.dims
    if stats.values == 1 and spec.kind is not Kind.RMS:
        largest = float(out.abs().max()) if out.numel() else 0.0
        return replace(claim, holds=largest <= tol, evidence=f"max |output| {largest:.3g}")
    if spec.kind is Kind.RMS:
        square = x.to(wide).pow(2).mean(dim=dims)
        expected = square / (square + eps)
        got = out.to(wide).pow(2).mean(dim=dims)
        diff = float((got - expected).abs().max())
        return replace(
            claim,
            holds=diff <= tol * 10,
            evidence=f"mean(output²) from {float(got.min()):.6g} to {float(got.max()):.6g}; "
            f"mean(x²) / (mean(x²) + eps) within {diff:.3g}",
        )
    in_var = torch.var_mean(x.to(wide), dim=dims, correction=0)[0]
    var, mean = torch.var_mean(out.to(wide), dim=dims, correction=0)
    expected = in_var / (in_var + eps)  # the variance a normalization by √(var + eps) leaves
    worst_mean = float(mean.abs().max())
    worst_var = float((var - expected).abs().max())
    holds = worst_mean <= tol * 10 and worst_var <= tol * 10
    return replace(
        claim,
        holds=holds,
        evidence=f"max |mean| {worst_mean:.3g}; variance from {float(var.min()):.6g} "
        f"to {float(var.max()):.6g} "
        f"(var(x) / (var(x) + eps) within {worst_var:.3g})",
    )


def _raised(make: Any) -> tuple[bool | None, str]:
    """Whether ``make()`` made torch raise, and its own words."""
    try:
        make()
    except (RuntimeError, ValueError) as exc:
        return True, f"torch raised {type(exc).__name__}: {contain.message(exc)}"
    return False, "DOES NOT HOLD: torch accepted it"


def _mistake(spec: NormSpec, claim: Claim, x: torch.Tensor, error: str | None) -> Claim:
    import torch
    from torch import nn

    meta = torch.device("meta")
    shape = spec.input_shape
    if claim.topic == "normalized_shape from the front":
        front = tuple(shape[: len(spec.normalized_shape)])
        if front == spec.normalized_shape:
            return replace(
                claim, evidence=f"not shown at these sizes: the first dims are the last ones, {front}"
            )
        holds, said = _raised(lambda: nn.LayerNorm(list(front), device=meta)(torch.empty(shape, device=meta)))
        return replace(claim, holds=holds, evidence=said)
    if claim.topic == "batch of one in training mode":
        c = spec.num_features or 1
        holds, said = _raised(lambda: nn.BatchNorm1d(c, device=meta).train()(torch.empty(1, c, device=meta)))
        return replace(claim, holds=holds, evidence=said)
    if claim.topic == "channels not divisible by groups":
        holds, said = _raised(lambda: nn.GroupNorm(claim.data["num_groups"], claim.data["num_channels"]))
        return replace(claim, holds=holds, evidence=said)
    c = spec.num_features or 1
    module_class: Any = getattr(nn, f"InstanceNorm{spec.dims}d", None)
    if claim.topic == "InstanceNorm's affine default":
        layer = module_class(c, device=meta)
        held = list(layer.parameters()) == [] and list(layer.buffers()) == []
        return replace(
            claim,
            holds=held,
            evidence=f"parameters {list(layer.parameters())}, buffers {list(layer.buffers())}",
        )
    if claim.topic == "InstanceNorm's running stats default":
        if x.device.type == "meta":
            return replace(claim, evidence=NO_VALUES)
        small = torch.randn(2, c, *([5] * (spec.dims or 1)), device=x.device, dtype=x.dtype)
        plain = module_class(c, device=x.device, dtype=x.dtype).eval()(small)
        tracked = module_class(c, track_running_stats=True, device=x.device, dtype=x.dtype).eval()(small)
        diff = float((plain.double() - tracked.double()).abs().max())
        return replace(
            claim,
            holds=diff > _tolerance(x.dtype),
            evidence=f"on an input {tuple(small.shape)}: max |difference| {diff:.3g}",
        )
    # RMSNorm's formula, recomputed by hand on the first positions
    if x.device.type == "meta" or error is not None:
        return replace(
            claim, evidence=NO_VALUES if x.device.type == "meta" else "not evaluated: torch refused"
        )
    width = math.prod(spec.normalized_shape)
    rows = x.reshape(-1, width)[:CHECKED_POSITIONS]
    wide = torch.float64 if x.dtype == torch.float64 else torch.float32
    expected = rows.to(wide) * torch.rsqrt(rows.to(wide).pow(2).mean(-1, keepdim=True) + _eps(spec, x.dtype))
    module = nn.RMSNorm(list(spec.normalized_shape), eps=spec.eps, device=x.device, dtype=x.dtype)
    got = module(rows.reshape(-1, *spec.normalized_shape)).reshape(-1, width).to(wide)
    diff = float((got - expected).abs().max()) if got.numel() else 0.0
    return replace(
        claim,
        holds=diff <= _tolerance(x.dtype) * 10,
        evidence=f"{rows.shape[0]:,} positions recomputed: max |difference| {diff:.3g} "
        f"(eps {_eps(spec, x.dtype):.3g})",
    )
