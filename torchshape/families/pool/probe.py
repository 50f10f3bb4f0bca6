"""The torch side: build the pool, run one forward pass at the user's sizes, check --explain.

On ``--device meta`` the pool runs on meta at the user's sizes: torch's pooling meta
kernels compute the output shape in constant time, so nothing is scaled down, and
``--explain``'s claims, which need values, are left unevaluated.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape import guard
from torchshape.explain import Claim
from torchshape.families.pool.counts import MAX_PERTURBED
from torchshape.families.pool.explain import MAX_CHECKED_WINDOWS, Analysis, findings, unpools
from torchshape.families.pool.formulas import adaptive_windows, symbols, windows
from torchshape.families.pool.spec import Kind, PoolSpec
from torchshape.families.pool.torch_side import build_module, forward, make_inputs
from torchshape.families.spatial import MAX_COVERED, Coverage
from torchshape.families.torch_checks import overflow_text
from torchshape.forward import Check, ForwardPass, forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


@quiet()
def run(spec: PoolSpec, *, explain: bool = False, diagram: bool = False) -> ProbeRun:
    guard.check(spec)  # before torch is imported on the CPU: refuse what cannot fit
    with forward_pass(spec, build_module, make_inputs, forward) as done:
        found = done.checked(spec, findings(spec), check) if explain else None
        parameters = done.parameters
    analysis = Analysis(torch_parameters=len(parameters), findings=found, values=spec.device != "meta")
    run = done.run(spec, symbols(spec), analysis, parameters)
    if not diagram:
        return run
    from torchshape.families.pool.diagram import plan

    return replace(run, diagram=plan(spec, done.shapes.get("output") if done.error is None else None))


def _same(a: torch.Tensor, b: torch.Tensor, exact: bool) -> bool:
    import torch

    if a.shape != b.shape:
        return False
    tolerance = 0.0 if exact else 1e-5 if a.dtype in (torch.float32, torch.float64) else 2e-2
    # LPPool of an odd p gives NaN where a window's sum of xᵖ is negative: NaN equals NaN here
    return bool(torch.allclose(a.double(), b.double(), rtol=tolerance, atol=tolerance, equal_nan=True))


def check(spec: PoolSpec, done: ForwardPass, finding: Claim) -> Check:
    output = done.results["output"]
    if finding.topic != "unread" and _overflows(spec, output):  # unread runs on its own input
        return None, overflow_text(output)
    return CHECKS[finding.topic](spec, done.module, done.inputs["input"], done.results, finding)


def _adaptive(
    spec: PoolSpec, module: Any, x: torch.Tensor, results: dict[str, torch.Tensor], finding: Claim
) -> tuple[bool | None, str]:
    """Reduce over the windows one axis at a time (a box's max or mean is separable)."""
    import torch

    if sum(spec.output_size) > MAX_CHECKED_WINDOWS:
        return None, f"not evaluated: more than {MAX_CHECKED_WINDOWS} windows"
    maximum = spec.kind is Kind.ADAPTIVE_MAX
    manual = x.double()
    for k, (size, out) in enumerate(zip(spec.size, spec.output_size, strict=True)):
        dim = x.dim() - spec.dims + k
        parts = []
        for start, end in adaptive_windows(size, out):
            window = manual.narrow(dim, start, end - start)
            parts.append(window.amax(dim, keepdim=True) if maximum else window.mean(dim, keepdim=True))
        manual = torch.cat(parts, dim)
    output = results["output"]
    holds = _same(manual.to(output.dtype), output, exact=maximum)
    return holds, ("bit for bit" if maximum else "within tolerance") if holds else "DOES NOT HOLD"


def _ceil(
    spec: PoolSpec, module: Any, x: torch.Tensor, results: dict[str, torch.Tensor], finding: Claim
) -> tuple[bool | None, str]:
    floor_spec = replace(spec, ceil_mode=False, return_indices=False)
    try:
        floor_output = forward(build_module(floor_spec, x.device, x.dtype), {"input": x})["output"]
    except RuntimeError:  # without ceil_mode some axis has no output at all
        if finding.data["floor_out"] <= 0:
            return True, "holds: torch refuses the input without ceil_mode"
        return None, "not evaluated: without ceil_mode another axis has no output, so torch refuses it"
    output = results["output"]
    axis = x.dim() - spec.dims + [w.axis for w in windows(spec)].index(finding.data["axis"])
    if floor_output.shape[axis] != finding.data["floor_out"] or output.shape[axis] != finding.data["out"]:
        return False, f"DOES NOT HOLD: torch gives {floor_output.shape[axis]} without ceil_mode"
    prefix = output
    for dim in range(x.dim() - spec.dims, x.dim()):
        prefix = prefix.narrow(dim, 0, floor_output.shape[dim])
    holds = _same(prefix, floor_output, exact=spec.kind is Kind.MAX)
    return holds, "holds" if holds else "DOES NOT HOLD: the values differ"


def _overflows(spec: PoolSpec, t: torch.Tensor) -> bool:
    """An infinity, except the −inf of a MaxPool window that reads padding only. (NaN is no
    overflow: LPPool of an odd p gives it where a window's sum of xᵖ is negative, and the checks
    compare NaN with NaN.)"""
    import torch

    bad = torch.isposinf(t)
    if spec.kind is not Kind.MAX:
        bad |= torch.isneginf(t)
    return bool(bad.any())


def _unread(
    spec: PoolSpec, module: Any, x: torch.Tensor, results: dict[str, torch.Tensor], finding: Claim
) -> tuple[bool | None, str]:
    """Perturb every input position of the axis, one per batch row, and see which outputs move.

    The input is all ones and the perturbed position 1 + δ: a strict maximum for a max pool, a
    change in every mean, and for LPPool δ = 1/p keeps (1 + δ)ᵖ below e, so nothing overflows.
    """
    import torch

    if finding.data["positions"] is None:
        return None, f"not evaluated: more than {MAX_COVERED} positions on the axis"
    index = [w.axis for w in windows(spec)].index(finding.data["axis"])
    size = spec.size[index]
    plane = math.prod(spec.size)
    if size * plane > MAX_PERTURBED:
        return None, f"not evaluated: perturbing {size} positions of {plane} each is too much work"
    dtype = torch.float32 if x.device.type == "mps" else torch.float64
    pool = build_module(replace(spec, return_indices=False), x.device, dtype)
    delta = min(1.0, 1.0 / spec.norm_type) if spec.kind is Kind.LP else 1.0
    base = pool(torch.ones((1, 1, *spec.size), dtype=dtype, device=x.device))
    dim = 2 + index
    moved: list[bool] = []
    chunk = max(1, MAX_PERTURBED // max(1, 16 * plane))
    for first in range(0, size, chunk):
        rows = min(chunk, size - first)
        shape = [rows, 1] + [1] * spec.dims
        shape[dim] = size
        one_hot = torch.zeros(rows, size, dtype=dtype, device=x.device)
        one_hot[torch.arange(rows), torch.arange(first, first + rows)] = delta
        perturbed = 1.0 + one_hot.reshape(shape).expand(rows, 1, *spec.size)
        out = pool(perturbed)
        if _overflows(spec, out) or _overflows(spec, base):
            return None, overflow_text(out)
        moved += (out != base).flatten(1).any(1).tolist()
    found = [i for i, m in enumerate(moved) if not m]
    if found == finding.data["positions"]:
        return True, "holds: torch's output moves for every other position"
    shown = Coverage(finding.data["axis"], size, tuple(found)).text().removesuffix(" read by no window")
    return False, f"DOES NOT HOLD: torch's output stays put for {shown}"


def _indices(
    spec: PoolSpec, module: Any, x: torch.Tensor, results: dict[str, torch.Tensor], finding: Claim
) -> tuple[bool | None, str]:
    import torch

    output, indices = results["output"], results["indices"]
    flat = x.flatten(-spec.dims)
    # a MaxPool window that dilation keeps off every input position gives −inf and no real index
    reads = output != float("-inf")
    inside = indices.clamp(0, flat.shape[-1] - 1).flatten(-spec.dims)
    gathered = flat.gather(-1, inside).reshape(output.shape)
    holds = _same(gathered[reads], output[reads], exact=True)
    if holds and unpools(spec):
        unpool = getattr(torch.nn, f"MaxUnpool{spec.dims}d")(spec.kernel_size, spec.stride, spec.padding)
        placed = unpool(output, indices, output_size=x.shape[-spec.dims :])
        holds = placed.shape == x.shape and _same(
            placed.flatten(-spec.dims).gather(-1, indices.flatten(-spec.dims)).reshape(output.shape),
            output,
            exact=True,
        )
    return holds, "bit for bit" if holds else "DOES NOT HOLD"


CHECKS = {"adaptive windows": _adaptive, "ceil_mode": _ceil, "unread": _unread, "indices": _indices}
