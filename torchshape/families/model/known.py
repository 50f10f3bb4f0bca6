"""The formula for a module object: every output torch names, its formula and the shape it gives.

A layer a family claims (its ``adapter.py``, found through ``families.claim``) gets that family's
formulas, its spec built from the module's own constructor values and the input it was called
with; Linear, Flatten, Unflatten and the shape-preserving layers, which no family describes, are
written here. Any other layer gets None: "no formula", never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import nn

from torchshape import families
from torchshape.families.layers import Known, KnownOutput, claimed_class, first_tensor
from torchshape.families.layers import shape as _shape

__all__ = ["ADAPTERS", "SHAPE_PRESERVING", "Known", "KnownOutput", "is_recurrent", "known", "rule_for"]

# Layers that return a tensor of their input's shape.
SHAPE_PRESERVING: tuple[type[nn.Module], ...] = (
    nn.Identity,
    nn.LocalResponseNorm,
    nn.modules.dropout._DropoutNd,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.Softplus,
    nn.Softsign,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Softmin,
    nn.Tanhshrink,
    nn.Threshold,
)


def linear(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Linear: (*, in_features) → (*, out_features); in·out MACs per row."""
    x = first_tensor(args)
    if x is None or x.dim() == 0:
        return None
    shape = (*_shape(x)[:-1], int(module.out_features))
    rows = math.prod(_shape(x)[:-1])
    return Known(
        (KnownOutput("output", "(*, out_features)", shape),),
        macs=rows * module.in_features * module.out_features,
    )


def flatten(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Flatten: the dimensions start_dim..end_dim become their product."""
    x = first_tensor(args)
    if x is None or x.dim() == 0:
        return None
    shape = _shape(x)
    start, end = module.start_dim % len(shape), module.end_dim % len(shape)
    if start > end:
        return None
    out = (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])
    return Known((KnownOutput("output", f"(*, ∏ dims {module.start_dim}..{module.end_dim}, *)", out),))


def unflatten(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """nn.Unflatten: dimension ``dim`` becomes ``unflattened_size`` (one -1 is inferred)."""
    x = first_tensor(args)
    if x is None or not isinstance(module.dim, int) or x.dim() == 0:
        return None
    shape = _shape(x)
    dim = module.dim % len(shape)
    sizes = [int(s) for s in module.unflattened_size]
    if sizes.count(-1) == 1:
        known_part = math.prod(s for s in sizes if s != -1)
        sizes[sizes.index(-1)] = shape[dim] // known_part if known_part else 0
    out = (*shape[:dim], *sizes, *shape[dim + 1 :])
    return Known(
        (KnownOutput("output", f"(*, {tuple(module.unflattened_size)}, *) at dim {module.dim}", out),)
    )


def same_shape(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """Dropout, activations, Identity: the output has the input's shape."""
    x = first_tensor(args)
    if x is None:
        return None
    return Known((KnownOutput("output", "same as input", _shape(x)),))


Rule = Callable[[nn.Module, tuple[Any, ...], dict[str, Any]], "Known | None"]

# The layers no family describes: a torch.nn class and the rule that reads its call.
ADAPTERS: dict[type[nn.Module], Rule] = {nn.Linear: linear, nn.Flatten: flatten, nn.Unflatten: unflatten}


def rule_for(module: nn.Module) -> Rule | None:
    """The formula rule of ``module``'s class: the family that claims it (``families.ADAPTERS``) or
    ``ADAPTERS``, matched through the class hierarchy (most derived first), so a subclass that
    keeps its class's forward (torchvision's Conv3DSimple, a parametrized or weight-normed layer)
    takes its family's formula; shape-preserving layers of torch.nn and their subclasses that keep
    forward: same shape."""
    table: dict[type, Rule] = {cls: a.known for a in families.adapters() for cls in a.CLASSES} | ADAPTERS
    base = claimed_class(module, table)
    if base is not None:
        return table[base]
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn.") and issubclass(cls, SHAPE_PRESERVING):
            return (
                same_shape
                if getattr(type(module), "forward", None) is getattr(cls, "forward", None)
                else None
            )
    return None


def known(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Known | None:
    """What the formulas say about calling ``module`` with ``args``; None: no formula."""
    rule = rule_for(module)
    if rule is None:
        return None
    try:
        return rule(module, args, kwargs)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None  # a configuration the family's spec does not describe: no formula, not a guess


def is_recurrent(module: nn.Module) -> bool:
    return isinstance(module, nn.RNNBase | nn.RNNCellBase)
