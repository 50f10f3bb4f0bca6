"""What a family's layer adapter answers about one call of one module of the user's model.

A family claims the torch.nn classes it describes in its ``adapter.py`` (``contract.LayerAdapter``,
listed in ``families.ADAPTERS``); the model family asks the registry who claims a module
(``families.claim``) and knows no family by name. No torch here: a module is matched by its class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torchshape.errors import UsageError


@dataclass(frozen=True)
class KnownOutput:
    name: str  # as the trace names the output: output, h_n, c_n, h_1, output[0], ...
    formula: str
    expected: tuple[int, ...]


@dataclass(frozen=True)
class Known:
    """What the formulas say about one call of one module."""

    outputs: tuple[KnownOutput, ...]
    macs: int | None = None  # multiply-accumulates of the call, where the family's formulas give them


@dataclass(frozen=True)
class Layer:
    """One layer's family spec, what its call saw, and the tensors it was fed."""

    family: str
    spec: Any  # the family's checked spec, from the module's settings and the observed input
    seen: str = ""  # what the call saw, in the family's symbols: "L = 10, N = 4"
    inputs: dict[str, Any] | None = None  # input names -> the tensors the layer got (None: torch's zeros)


@dataclass(frozen=True)
class LayerCall:
    """The first call of a layer as ``--layer`` reads it: its input, where its weights live, and
    what messages call it."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    x: Any  # the input tensor
    device: str
    dtype: str
    flag: str  # --layer, or inspect_module's argument
    name: str  # the layer's path
    explain: bool


def claimed_class(module: Any, classes: Any) -> type | None:
    """The class of ``classes`` that ``module`` is, or subclasses without a forward of its own
    (a subclass that changes forward may change what it returns: no formula, never a guess)."""
    for cls in type(module).__mro__:
        if cls in classes:
            return cls if getattr(type(module), "forward", None) is getattr(cls, "forward", None) else None
    return None


def output_known(family_formulas: Any, spec: Any) -> Known:
    """A family's formula of its ``output`` tensor (``formulas.tensor_formulas``), at ``spec``'s sizes."""
    sym = family_formulas.symbols(spec)
    (output,) = [f for f in family_formulas.tensor_formulas(spec) if f.name == "output"]
    return Known((KnownOutput("output", output.formula, output.shape(sym)),))


def read_class(module: Any, classes: Any) -> type:
    """``claimed_class``, for a module a rule has claimed already: a TypeError where it is none."""
    base = claimed_class(module, classes)
    if base is None:
        raise TypeError(f"{type(module).__name__} is not one of the layers this rule reads")
    return base


def input_settings(x: Any, dims: int, device: str, dtype: str) -> dict[str, Any]:
    """The settings that a ``dims``-d input ``x`` gives a spatial family's ``make_spec``: its
    spatial size, N (or unbatched, where ``x`` has no N), the device and the dtype."""
    raw: dict[str, Any] = {"size": tuple(int(s) for s in x.shape[-dims:]), "device": device, "dtype": dtype}
    return raw | ({"unbatched": True} if x.dim() == dims + 1 else {"batch": int(x.shape[0])})


def first_tensor(args: tuple[Any, ...]) -> Any:
    """The first positional argument where it is a tensor; None otherwise."""
    import torch

    return args[0] if args and isinstance(args[0], torch.Tensor) else None


def shape(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def spatial_seen(x: Any, dims: int, unbatched: bool, channels: str) -> str:
    sizes = shape(x)
    batch = "unbatched" if unbatched else f"N = {sizes[0]}"
    return f"input {sizes}: {batch}, {channels} = {sizes[-dims - 1]}"


def spatial_layer(family: str, spec: Any, x: Any, dims: int, channels: str) -> Layer:
    """--layer on a convolution or a pool: its spec, run on the input ``x`` of its first call."""
    return Layer(family, spec, spatial_seen(x, dims, spec.unbatched, channels), {"input": x})


def spec_or_none(make_spec: Callable[..., Any], raw: dict[str, Any]) -> Any:
    """The family's spec of a call inside a model; None where its command does not take the call
    (then no formula is shown, never a guess)."""
    try:
        return make_spec(**raw)
    except UsageError:
        return None
