"""The pools inside a user's model (``contract.LayerAdapter``): max, avg, LP and adaptive pools,
1d/2d/3d, read into this family's spec at the size of the call."""

from __future__ import annotations

from typing import Any

from torch import nn

from torchshape.errors import UsageError
from torchshape.families.diagnosis import Diagnosis, Earlier, kernel_too_large, nothing
from torchshape.families.layers import (
    Known,
    KnownOutput,
    Layer,
    LayerCall,
    claimed_class,
    first_tensor,
    per_axis,
    spatial_seen,
)
from torchshape.families.pool import formulas
from torchshape.families.pool.request import make_spec
from torchshape.families.pool.spec import Kind, PoolSpec
from torchshape.options import DType

KINDS = {
    nn.MaxPool1d: Kind.MAX,
    nn.MaxPool2d: Kind.MAX,
    nn.MaxPool3d: Kind.MAX,
    nn.AvgPool1d: Kind.AVG,
    nn.AvgPool2d: Kind.AVG,
    nn.AvgPool3d: Kind.AVG,
    nn.LPPool1d: Kind.LP,
    nn.LPPool2d: Kind.LP,
    nn.LPPool3d: Kind.LP,
    nn.AdaptiveMaxPool1d: Kind.ADAPTIVE_MAX,
    nn.AdaptiveMaxPool2d: Kind.ADAPTIVE_MAX,
    nn.AdaptiveMaxPool3d: Kind.ADAPTIVE_MAX,
    nn.AdaptiveAvgPool1d: Kind.ADAPTIVE_AVG,
    nn.AdaptiveAvgPool2d: Kind.ADAPTIVE_AVG,
    nn.AdaptiveAvgPool3d: Kind.ADAPTIVE_AVG,
}
CLASSES: tuple[type, ...] = tuple(KINDS)
SUPPORTED = "pool (max, avg, LP and adaptive pools, 1d/2d/3d)"
OWN_WEIGHTS = True


def _base(module: Any) -> type:
    base = claimed_class(module, KINDS)
    if base is None:
        raise TypeError(f"{type(module).__name__} is not one of the layers this rule reads")
    return base


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The pool family's formulas at the observed input."""
    x = first_tensor(args)
    if x is None:
        return None
    pool: Any = module
    base = _base(module)
    kind = KINDS[base]
    dims = int(base.__name__[-2])
    unbatched = x.dim() == dims + 1
    size = tuple(int(s) for s in x.shape[-dims:])
    if kind.adaptive:
        wanted = (
            pool.output_size if isinstance(pool.output_size, (tuple, list)) else (pool.output_size,) * dims
        )
        output_size = tuple(size[i] if v is None else int(v) for i, v in enumerate(wanted))
        kernel: tuple[int, ...] = ()
        stride = padding = dilation = kernel
    else:
        kernel = per_axis(pool.kernel_size, dims)
        stride = per_axis(pool.stride if pool.stride is not None else pool.kernel_size, dims)
        padding = per_axis(getattr(pool, "padding", 0), dims)
        dilation = per_axis(getattr(pool, "dilation", 1), dims)
        output_size = ()
    return_indices = bool(getattr(pool, "return_indices", False))
    spec = PoolSpec(
        kind=kind,
        dims=dims,
        channels=int(x.shape[-dims - 1]),
        size=size,
        batch=1 if unbatched else int(x.shape[0]),
        unbatched=unbatched,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=bool(getattr(pool, "ceil_mode", False)),
        count_include_pad=bool(getattr(pool, "count_include_pad", True)),
        return_indices=return_indices,
        norm_type=float(getattr(pool, "norm_type", 2.0)),
        output_size=output_size,
        device="cpu",
        dtype=DType.FLOAT32,
    )
    sym = formulas.symbols(spec)
    found = [f for f in formulas.tensor_formulas(spec) if f.name != "input"]
    names = ["output[0]", "output[1]"] if return_indices else ["output"]
    return Known(tuple(KnownOutput(n, f.formula, f.shape(sym)) for n, f in zip(names, found, strict=True)))


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call through ``make_spec``, on the layer's own input."""
    base, x = _base(module), call.x
    kind = KINDS[base].value
    dims = int(base.__name__[-2])
    unbatched = x.dim() == dims + 1
    size = tuple(int(s) for s in x.shape[-dims:])
    raw: dict[str, Any] = {
        "kind": kind,
        "dims": dims,
        "channels": int(x.shape[-dims - 1]),
        "size": size,
        "device": call.device,
        "dtype": call.dtype,
    }
    raw |= {"unbatched": True} if unbatched else {"batch": int(x.shape[0])}
    if kind.startswith("adaptive"):
        wanted = module.output_size
        wanted = tuple(wanted) if isinstance(wanted, (tuple, list)) else (wanted,) * dims
        raw["output_size"] = tuple(None if v is None else int(v) for v in wanted)
    else:
        raw |= {"kernel_size": module.kernel_size, "stride": module.stride, "ceil_mode": module.ceil_mode}
    if kind in ("max", "adaptive-max"):
        raw["return_indices"] = bool(module.return_indices)
    if kind == "max":
        raw |= {"padding": module.padding, "dilation": module.dilation}
    if kind == "avg":
        divisor = getattr(module, "divisor_override", None)  # AvgPool2d/3d only
        if divisor is not None:
            raise UsageError(
                call.flag,
                f"{call.name} has divisor_override={divisor}, which torchshape pool does not take yet",
            )
        raw |= {"padding": module.padding, "count_include_pad": bool(module.count_include_pad)}
    if kind == "lp":
        raw["norm_type"] = float(module.norm_type)
    return Layer("pool", make_spec(**raw), spatial_seen(x, dims, unbatched, "C"), {"input": x})


expects = proposals = nothing  # the window check says what it expects


def arguments(module: Any) -> dict[str, Any] | None:
    """The constructor arguments that rebuild a max or avg pool."""
    if isinstance(module, nn.modules.pooling._MaxPoolNd):
        return {
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
            "dilation": module.dilation,
            "return_indices": module.return_indices,
            "ceil_mode": module.ceil_mode,
        }
    if isinstance(module, nn.modules.pooling._AvgPoolNd) and hasattr(module, "count_include_pad"):
        found = {
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
            "ceil_mode": module.ceil_mode,
            "count_include_pad": module.count_include_pad,
        }
        if not isinstance(module, nn.AvgPool1d):
            found["divisor_override"] = module.divisor_override
        return found
    return None


def diagnose(
    base: Diagnosis, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], earlier: Earlier
) -> Diagnosis | None:
    """A window larger than the padded input: the pool's output would be empty."""
    if not isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
        return None
    return kernel_too_large(base, module, args, arguments(module), conv=False)
