"""The convolutions inside a user's model (``contract.LayerAdapter``): nn.Conv1d/2d/3d and
nn.ConvTranspose1d/2d/3d, read into this family's spec at the size of the call."""

from __future__ import annotations

from typing import Any

from torch import nn

from torchshape.attributes import attributes
from torchshape.errors import UsageError
from torchshape.families import layers
from torchshape.families.conv import counts, formulas
from torchshape.families.conv.request import make_spec
from torchshape.families.diagnosis import Diagnosis, Earlier, kernel_too_large
from torchshape.families.layers import Known, KnownOutput, Layer, LayerCall

DIMS = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3, nn.ConvTranspose1d: 1, nn.ConvTranspose2d: 2}
DIMS[nn.ConvTranspose3d] = 3
CLASSES: tuple[type, ...] = tuple(DIMS)
SUPPORTED = "conv (nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d)"
OWN_WEIGHTS = True


def _dims(module: Any) -> int:
    return DIMS[layers.read_class(module, DIMS)]


def known(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """The conv family's formulas at the observed input."""
    x = layers.first_tensor(args)
    if x is None or len(args) > 1 or kwargs:  # ConvTranspose's output_size picks among sizes
        return None
    spec = layers.spec_or_none(make_spec, _settings(module, x, _dims(module), "cpu", "float32"))
    if spec is None:
        return None
    sym = formulas.symbols(spec)
    output = formulas.tensor_formulas(spec)[1]
    return Known((KnownOutput("output", output.formula, output.shape(sym)),), macs=counts.macs(spec))


def layer(module: Any, call: LayerCall) -> Layer | None:
    """--layer: the call through ``make_spec``, on the layer's own weights and input."""
    if len(call.args) > 1 or call.kwargs:
        raise UsageError(
            call.flag,
            f"{call.name} was called with output_size; torchshape conv gives the size that "
            "stride, padding and output_padding give, and does not take that call",
        )
    dims, x = _dims(module), call.x
    spec = make_spec(**_settings(module, x, dims, call.device, call.dtype))
    return layers.spatial_layer("conv", spec, x, dims, "C_in")


def _settings(module: Any, x: Any, dims: int, device: str, dtype: str) -> dict[str, Any]:
    """The module's constructor values and the size of its input, as ``make_spec`` takes them."""
    transposed = bool(module.transposed)
    padding = module.padding
    raw: dict[str, Any] = {
        "dims": dims,
        "in_channels": int(module.in_channels),
        "out_channels": int(module.out_channels),
        "kernel_size": tuple(module.kernel_size),
        "stride": tuple(module.stride),
        "padding": padding if isinstance(padding, str) else tuple(padding),
        "dilation": tuple(module.dilation),
        "groups": int(module.groups),
        "output_padding": tuple(module.output_padding) if transposed else None,
        "padding_mode": str(module.padding_mode),
        "bias": module.bias is not None,
        "transposed": transposed,
    }
    return raw | layers.input_settings(x, dims, device, dtype)


def expects(module: Any) -> str | None:
    """What the layer requires of its input (the diagnosis of a failed call)."""
    return f"C_in = in_channels = {module.in_channels}"


def arguments(module: Any) -> dict[str, Any] | None:
    """The constructor arguments that rebuild ``module`` (not a transposed one)."""
    if not isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return None
    found = attributes(module, "in_channels out_channels kernel_size stride padding dilation groups")
    return found | {"bias": module.bias is not None, "padding_mode": module.padding_mode}


def proposals(module: Any, arrived: Any) -> list[tuple[str, dict[str, Any]]]:
    """The input's channels against in_channels: the fix to try."""
    if not isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return []
    dims = len(module.kernel_size)
    at = {dims + 2: 1, dims + 1: 0}.get(arrived.dim())
    channels = None if at is None else int(arrived.shape[at])
    if channels is not None and channels != module.in_channels:
        return [(f"in_channels={channels}", {"in_channels": channels})]
    return []


def diagnose(
    base: Diagnosis, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], earlier: Earlier
) -> Diagnosis | None:
    """A window larger than the padded input."""
    if not isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return None
    return kernel_too_large(base, module, args, arguments(module), conv=True)
