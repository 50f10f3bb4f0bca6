"""What the norm family claims beyond the shapes, as plain data. Pure, no torch.

- ``statistics``: the dimensions the statistics are taken over, checked on the output's
  values (mean ≈ 0 and variance ≈ 1 over exactly those dimensions, weight 1 and bias 0 being
  torch's init; RMSNorm: mean(y²) ≈ 1; eval mode with running stats: the running formula);
- ``--explain``'s classic mistakes, each shown on torch by ``probe``: its own error, or an
  inequality between two outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.explain import Claim, all_held
from torchshape.families.norm.formulas import Held, statistics
from torchshape.families.norm.spec import Kind, NormSpec


@dataclass(frozen=True)
class Analysis:
    """What the norm probe checked beyond the shapes."""

    statistics: Claim
    buffers: tuple[tuple[Held, tuple[int, ...] | None], ...]  # each formula beside named_buffers()'s
    extra_buffers: tuple[tuple[str, tuple[int, ...]], ...]  # buffers torch has and the formulas do not
    findings: tuple[Claim, ...] | None  # --explain's; None without it
    values: bool  # False on meta

    @property
    def buffers_ok(self) -> bool:
        return not self.extra_buffers and all(held.shape == actual for held, actual in self.buffers)

    @property
    def ok(self) -> bool:
        return self.statistics.holds is not False and self.buffers_ok and all_held(self.findings or ())


def statistics_claim(spec: NormSpec) -> Claim:
    """The statistics rule as a claim the probe checks on the output's values."""
    stats = statistics(spec)
    if stats.running:
        claim = "output = (input − running_mean) / √(running_var + eps) · weight + bias, per channel"
    elif spec.kind is Kind.RMS:
        claim = f"mean(output², dims {stats.dims}) ≈ 1 at every position (weight 1: torch's init)"
    elif stats.values == 1:
        claim = "one value per statistic: it is its own mean, so output is 0 (then bias)"
    elif spec.kind is Kind.GROUP:
        claim = "mean ≈ 0 and variance ≈ 1 within every x.view(N, num_groups, −1)[n, g] of the output"
    else:
        claim = (
            f"mean ≈ 0 and variance ≈ 1 over dims {stats.dims} of the output, for each of the {stats.count:,}"
        )
    affine = spec.affine or spec.elementwise_affine
    note = "weight is 1 and bias 0 (torch's init), so the output is the normalized input" if affine else ""
    if affine and spec.kind is Kind.RMS:
        note = "weight is 1 (torch's init), so the output is the normalized input"
    return Claim(
        topic="statistics",
        claim=claim,
        facts=(stats.formula, stats.numeric),
        note=note,
        expression="" if stats.running else f"torch.var_mean(output, dim={stats.dims}, correction=0)",
        data={"dims": list(stats.dims), "count": stats.count, "values_each": stats.values},
    )


def mistakes(spec: NormSpec) -> list[Claim]:
    """--explain: the classic mistakes of this kind, before torch shows them."""
    shape = spec.input_shape
    if spec.kind is Kind.LAYER:
        d = len(spec.normalized_shape)
        front = shape[:d]
        return [
            Claim(
                topic="normalized_shape from the front",
                facts=(
                    f"normalized_shape is the last {d} dim(s) of the input {shape}: {spec.normalized_shape}",
                ),
                claim=(
                    f"nn.LayerNorm({list(front)}) (the first {d} dim(s)) on an input {shape} "
                    "makes torch raise"
                ),
                mistake=True,
                data={"wrong_normalized_shape": list(front)},
            )
        ]
    if spec.kind is Kind.BATCH:
        c = spec.num_features
        return [
            Claim(
                topic="batch of one in training mode",
                facts=(
                    "in training mode BatchNorm takes each channel's statistics over N and the spatial axes",
                    "with N = 1 and no spatial axes there is one value per channel: no variance",
                ),
                claim=f"nn.BatchNorm1d({c}).train() on an input (1, {c}) makes torch raise",
                mistake=True,
            )
        ]
    if spec.kind is Kind.GROUP:
        g, c = spec.num_groups or 1, spec.num_features or 1
        wrong = (g, c + 1) if g > 1 else (c + 1, c)
        return [
            Claim(
                topic="channels not divisible by groups",
                facts=(f"num_groups must divide C: here {c} / {g} = {c // g} channels a group",),
                claim=f"nn.GroupNorm({wrong[0]}, {wrong[1]}) makes torch raise",
                mistake=True,
                data={"num_groups": wrong[0], "num_channels": wrong[1]},
            )
        ]
    if spec.kind is Kind.INSTANCE:
        c = spec.num_features
        name = f"nn.InstanceNorm{spec.dims}d({c})"
        return [
            Claim(
                topic="InstanceNorm's affine default",
                facts=("BatchNorm defaults to affine=True; InstanceNorm to affine=False",),
                claim=f"{name} has no parameters: list({name}.parameters()) == []",
                mistake=True,
            ),
            Claim(
                topic="InstanceNorm's running stats default",
                facts=(
                    "track_running_stats=False: no running_mean, no running_var, so eval mode uses "
                    "each input's own statistics, as training mode does",
                ),
                claim=(
                    f"{name}.eval()(x) differs from what the same layer with track_running_stats=True "
                    "gives in eval mode (x / √(1 + eps), its fresh running stats)"
                ),
                mistake=True,
            ),
        ]
    return [
        Claim(
            topic="eps",
            facts=(f"RMSNorm's eps is {'None: torch.finfo(dtype).eps' if spec.eps is None else spec.eps}",),
            claim="output = input / √(mean(input², last dims) + eps) · weight, no mean subtracted",
            expression="x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)",
        )
    ]
