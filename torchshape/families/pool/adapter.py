"""The pools inside a user's model (``contract.LayerAdapter``): max, avg, LP and adaptive pools,
1d/2d/3d, read into this family's spec at the size of the call."""

from __future__ import annotations

from typing import Any

from torch import nn

from torchshape.errors import UsageError
from torchshape.families import layers
from torchshape.families.diagnosis import Diagnosis, Earlier, kernel_too_large, nothing
from torchshape.families.layers import Known, KnownOutput, Layer, LayerCall
from torchshape.families.pool import formulas
from torchshape.families.pool.request import make_spec
from torchshape.families.pool.spec import Kind

_NAMES = {
    "MaxPool": Kind.MAX,
    "AvgPool": Kind.AVG,
    "LPPool": Kind.LP,
    "AdaptiveMaxPool": Kind.ADAPTIVE_MAX,
    "AdaptiveAvgPool": Kind.ADAPTIVE_AVG,
}
# nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, ...: each class's kind.
KINDS: dict[type, Kind] = {
    getattr(nn, f"{name}{dims}d"): kind for name, kind in _NAMES.items() for dims in (1, 2, 3)
}
CLASSES: tuple[type, ...] = tuple(KINDS)
SUPPORTED = "pool (max, avg, LP and adaptive pools, 1d/2d/3d)"
OWN_WEIGHTS = True


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The pool family's formulas at the observed input."""
    x = layers.first_tensor(args)
    spec = None if x is None else layers.spec_or_none(make_spec, _settings(module, x, "cpu", "float32"))
    if spec is None:
        return None
    sym = formulas.symbols(spec)
    found = [f for f in formulas.tensor_formulas(spec) if f.name != "input"]
    names = ["output[0]", "output[1]"] if spec.return_indices else ["output"]
    return Known(tuple(KnownOutput(n, f.formula, f.shape(sym)) for n, f in zip(names, found, strict=True)))


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call through ``make_spec``, on the layer's own input."""
    divisor = getattr(module, "divisor_override", None)  # AvgPool2d/3d only
    if divisor is not None:
        raise UsageError(
            call.flag, f"{call.name} has divisor_override={divisor}, which torchshape pool does not take yet"
        )
    spec = make_spec(**_settings(module, call.x, call.device, call.dtype))
    return layers.spatial_layer("pool", spec, call.x, spec.dims, "C")


def _settings(module: Any, x: Any, device: str, dtype: str) -> dict[str, Any]:
    """The module's constructor values and the size of its input, as ``make_spec`` takes them."""
    base = layers.read_class(module, KINDS)
    kind = KINDS[base].value
    dims = int(base.__name__[-2])
    raw: dict[str, Any] = {"kind": kind, "dims": dims, "channels": int(x.shape[-dims - 1])}
    raw |= layers.input_settings(x, dims, device, dtype)
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
        raw |= {"padding": module.padding, "count_include_pad": bool(module.count_include_pad)}
    if kind == "lp":
        raw["norm_type"] = float(module.norm_type)
    return raw


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
