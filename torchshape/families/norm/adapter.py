"""The normalization layers inside a user's model (``contract.LayerAdapter``): nn.BatchNorm1d/2d/3d,
nn.InstanceNorm1d/2d/3d, nn.GroupNorm, nn.LayerNorm, nn.RMSNorm (and the lazy and synchronized
batch norms), read into this family's spec at the size of the call."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from torch import nn

from torchshape.errors import UsageError
from torchshape.families.diagnosis import Diagnosis, Earlier, Fix, check
from torchshape.families.layers import Known, KnownOutput, Layer, LayerCall, first_tensor, output_known, shape
from torchshape.families.norm import formulas
from torchshape.families.norm.request import make_spec
from torchshape.families.norm.spec import Kind, NormSpec
from torchshape.families.spatial import axes

_BY_DIMS = {"BatchNorm": Kind.BATCH, "InstanceNorm": Kind.INSTANCE}
# Each class's kind and, for the N-d ones, N (None: read from the input or not spatial).
KINDS: dict[type, tuple[Kind, int | None]] = {
    getattr(nn, f"{lazy}{name}{dims}d"): (kind, dims)
    for lazy in ("", "Lazy")
    for name, kind in _BY_DIMS.items()
    for dims in (1, 2, 3)
}
KINDS |= {nn.SyncBatchNorm: (Kind.BATCH, None), nn.GroupNorm: (Kind.GROUP, None)}
KINDS[nn.LayerNorm] = (Kind.LAYER, None)
if hasattr(nn, "RMSNorm"):  # torch 2.4 and later
    KINDS[nn.RMSNorm] = (Kind.RMS, None)
CLASSES: tuple[type, ...] = tuple(KINDS)
SUPPORTED = "norm (nn.BatchNorm1d/2d/3d, nn.InstanceNorm1d/2d/3d, nn.GroupNorm, nn.LayerNorm, nn.RMSNorm)"
OWN_WEIGHTS = True


def _kind(module: Any) -> tuple[Kind, int | None]:
    """The kind of the nearest class of ``module`` in ``KINDS`` (whatever its forward: a diagnosis
    reads a subclass that changed it too)."""
    return next(KINDS[cls] for cls in type(module).__mro__ if cls in KINDS)


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The norm family's formula at the observed input; a call its spec does not describe (a C
    that an InstanceNorm without weights ignores, more dimensions than --size takes): the shape
    every normalization keeps, its input's."""
    x = first_tensor(args)
    if x is None:
        return None
    spec = _spec(module, x, "cpu", "float32")
    if spec is None or spec.input_shape != shape(x):
        return Known((KnownOutput("output", "same as input", shape(x)),))
    return output_known(formulas, spec)


def _spec(module: Any, x: Any, device: str, dtype: str) -> NormSpec | None:
    try:
        return make_spec(**_settings(module, x, device, dtype))
    except UsageError:
        return None


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call through ``make_spec``, on the layer's own weights and input."""
    if len(call.args) > 1 or call.kwargs:
        raise UsageError(
            call.flag, f"{call.name} was called with more than its input, which a normalization takes alone"
        )
    if _weight_without_bias(module):
        raise UsageError(
            call.flag, f"{call.name} has a weight and bias=False, which torchshape norm does not take yet"
        )
    x = call.x
    spec = _spec(module, x, call.device, call.dtype)
    if spec is None or spec.input_shape != shape(x):
        raise UsageError(
            call.flag,
            f"{call.name} ({type(module).__name__}) was called with an input {shape(x)}, which torchshape "
            f"norm does not describe: {expects(module)}",
        )
    batch = "unbatched" if spec.unbatched else f"N = {spec.batch}"
    normalized = (
        f"C = {spec.num_features}" if spec.kind.channels else f"normalized_shape = {spec.normalized_shape}"
    )
    return Layer("norm", spec, f"input {shape(x)}: {batch}, {normalized}", {"input": x})


def _weight_without_bias(module: Any) -> bool:
    """A weight and no bias (torch's ``bias=False``), which the family's module always has."""
    has_weight = getattr(module, "weight", None) is not None
    return has_weight and getattr(module, "bias", None) is None and not isinstance(module, nn.RMSNorm)


def _settings(module: Any, x: Any, device: str, dtype: str) -> dict[str, Any]:
    """The module's constructor values and the size of its input, as ``make_spec`` takes them."""
    kind, dims = _kind(module)
    sizes = shape(x)
    raw: dict[str, Any] = {"kind": kind.value, "eps": module.eps, "train": bool(module.training)}
    raw |= {"device": device, "dtype": dtype}
    if kind.last_dims:
        normalized = tuple(int(n) for n in module.normalized_shape)
        lead = sizes[: len(sizes) - len(normalized)]
        raw |= {"normalized_shape": normalized, "elementwise_affine": bool(module.elementwise_affine)}
    elif kind is Kind.GROUP:
        raw |= {"num_groups": int(module.num_groups), "num_features": int(module.num_channels)}
        raw["affine"], lead = bool(module.affine), sizes[:1]
    else:
        dims = dims or max(len(sizes) - 2, 1)  # SyncBatchNorm: any (N, C, *)
        unbatched = kind is Kind.INSTANCE and len(sizes) == dims + 1
        lead = () if unbatched else sizes[:1]
        raw |= {"dims": dims, "num_features": int(module.num_features), "affine": bool(module.affine)}
        raw["track_running_stats"] = bool(module.track_running_stats)
    if kind.channels:
        raw["size"] = sizes[len(lead) + 1 :]
    else:
        raw["size"] = lead[1:]
    return raw | ({"batch": lead[0]} if lead else {"unbatched": True})


# ---------------------------------------------------------------- a failed call


def expects(module: Any) -> str | None:
    """What the layer requires of its input: its layout and the constructor value it checks."""
    kind, dims = _kind(module)
    if kind.last_dims:
        normalized = tuple(module.normalized_shape)
        last = ", ".join(str(n) for n in normalized)
        return f"(*, {last}): the last dims = normalized_shape = {normalized}"
    if kind is Kind.GROUP:
        return (
            f"(N, C, *) with C = num_channels = {module.num_channels}, divisible by num_groups = "
            f"{module.num_groups}"
        )
    layout = "*" if dims is None else ", ".join(axes(dims))
    batched = f"(N, C, {layout})" + (" or (N, C)" if kind is Kind.BATCH and dims == 1 else "")
    unbatched = f" or (C, {layout})" if kind is Kind.INSTANCE else ""
    return f"{batched}{unbatched} with C = num_features = {module.num_features}"


def arguments(module: Any) -> dict[str, Any] | None:
    """The constructor arguments that rebuild ``module`` (not a lazy one, which has no size yet)."""
    if isinstance(module, nn.modules.lazy.LazyModuleMixin):
        return None
    kind, _ = _kind(module)
    found: dict[str, Any]
    if kind.last_dims:
        found = {"normalized_shape": tuple(module.normalized_shape), "eps": module.eps}
        found["elementwise_affine"] = module.elementwise_affine
    elif kind is Kind.GROUP:
        found = {"num_groups": module.num_groups, "num_channels": module.num_channels, "eps": module.eps}
        found["affine"] = module.affine
    else:
        found = {"num_features": module.num_features, "eps": module.eps, "momentum": module.momentum}
        found |= {"affine": module.affine, "track_running_stats": module.track_running_stats}
    return found | ({"bias": False} if _weight_without_bias(module) else {})


def proposals(module: Any, arrived: Any) -> list[tuple[str, dict[str, Any]]]:
    """The input's channels against num_features (num_channels), or its last dimensions against
    normalized_shape: the fix to try."""
    kind, dims = _kind(module)
    sizes = shape(arrived)
    if kind.last_dims:
        count = len(module.normalized_shape)
        last = sizes[-count:]
        if len(sizes) < count or last == tuple(module.normalized_shape):
            return []
        value: Any = last[0] if count == 1 else last
        return [(f"normalized_shape={value}", {"normalized_shape": value})]
    at = 0 if kind is Kind.INSTANCE and dims is not None and len(sizes) == dims + 1 else 1
    if len(sizes) <= at:
        return []
    channels = sizes[at]
    if kind is not Kind.GROUP:
        changed = channels != module.num_features
        return [(f"num_features={channels}", {"num_features": channels})] if changed else []
    if channels == module.num_channels:
        return []
    groups = math.gcd(channels, module.num_groups)
    if groups == module.num_groups:
        return [(f"num_channels={channels}", {"num_channels": channels})]
    return [
        (f"num_groups={groups}, num_channels={channels}", {"num_groups": groups, "num_channels": channels})
    ]


def diagnose(
    base: Diagnosis, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], earlier: Earlier
) -> Diagnosis | None:
    """normalized_shape written from the front of the input (its first dims after N) instead of its
    back: the classic LayerNorm mistake, named; any other call: the input-width check's fixes."""
    kind, _ = _kind(module)
    arrived = first_tensor(args)
    if not kind.last_dims or arrived is None:
        return None
    normalized, sizes = tuple(module.normalized_shape), shape(arrived)
    count = len(normalized)
    front = next((at for at in (1, 0) if sizes[at : at + count] == normalized), None)
    if front is None or sizes[-count:] == normalized:
        return None
    fixes = []
    for change, changes in proposals(module, arrived):
        fix = check(module, arguments(module), changes, arrived)
        fixes.append(Fix(change, fix.module, fix.verified))
    where = "its first dims" if front == 0 else "its first dims after N"
    detail = (
        f"normalized_shape = {normalized} is the input's front, {where}: {type(module).__name__} "
        f"normalizes the last len(normalized_shape) = {count} dims, here {sizes[-count:]}"
    )
    return replace(base, fixes=tuple(fixes), detail=detail)
