"""The torch side of ``torchshape model --layer PATH`` and ``torchshape.inspect_module``: one layer
as its family's full report, run on the layer's own weights and the input it was called with.

The model runs once with a hook on the layer at PATH; its first call's arguments become the
family's spec (``layer.read_layer``) and, through ``torchshape.given``, the weights and tensors of
the family's forward pass, so the shapes and --explain's relations are checked on the tensors
the user's model produced. On meta, where tensors hold no values, the family runs as it does alone.
"""

from __future__ import annotations

import contextlib
import difflib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from torchshape import families
from torchshape.contain import message
from torchshape.errors import UsageError
from torchshape.families.diagnosis import type_name
from torchshape.families.model.layer import read_layer
from torchshape.families.model.load import ModelFailed
from torchshape.families.model.spec import ModelSpec
from torchshape.given import given
from torchshape.quiet import quiet
from torchshape.report import Report

if TYPE_CHECKING:
    from torch import nn

# How many valid paths an unknown --layer suggests.
NEARBY = 6


@dataclass(frozen=True)
class Call:
    """The first call of one module: its arguments, detached from the model's graph."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def inspect_module(
    module: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    explain: bool,
    title: str,
    flag: str,
    name: str,
) -> Report:
    """The family report of ``module`` called with ``args``: its own settings, weights and input."""
    layer = read_layer(module, args, kwargs, flag=flag, name=name, explain=explain)
    if layer.inputs is None:  # attention, embedding, transformer: their family on its own weights
        with quiet():
            report = families.family(layer.family).inspect(layer.spec, explain=explain)
        shapes = ", ".join(str(tuple(a.shape)) for a in (*args, *kwargs.values()) if hasattr(a, "shape"))
        ran = (
            f"{report.ran}; with the layer's settings and the sizes of its first call, on torchshape's "
            f"own weights and inputs (the {layer.family} family does not load a layer's own yet)"
        )
        return replace(report, title=f"{title}: input {shapes}", ran=ran)
    family = families.family(layer.family)
    with quiet():
        if layer.spec.device == "meta":  # no values to load or feed: the family's own pass
            report = family.inspect(layer.spec, explain=explain)
            ran = f"{report.ran}; on meta, with the layer's settings and sizes (no weights or values)"
        else:
            state = {key: value.detach() for key, value in module.state_dict().items()}
            with given(state, {k: None if v is None else v.detach() for k, v in layer.inputs.items()}):
                report = family.inspect(layer.spec, explain=explain)
            ran = f"{report.ran}, on the layer's own weights and the input it was called with"
            zeros = [key for key, value in layer.inputs.items() if value is None]
            if zeros:
                ran += f" ({' and '.join(zeros)} zeros: it was called without hx)"
    return replace(report, title=f"{title}: {layer.seen}", ran=ran)


def inspect_layer(spec: ModelSpec, path: str, *, explain: bool) -> Report:
    """``torchshape model TARGET --layer PATH``: the family report of the module at PATH."""
    with quiet():
        module, call = _first_call(spec, path)
    name = path or "(model)"
    title = f"{name} ({type_name(module)}) of {spec.module_call}, first call"
    return inspect_module(
        module, call.args, call.kwargs, explain=explain, title=title, flag="--layer", name=name
    )


def _first_call(spec: ModelSpec, path: str) -> tuple[nn.Module, Call]:
    import torch

    from torchshape.families.model.meta import recurrent_stand_ins
    from torchshape.families.model.probe import built, prepared

    spec, found, device, dtype = prepared(spec)
    with torch.random.fork_rng(devices=[]):
        # the same model, weights and inputs as the trace without --layer
        model, inputs, keywords = built(spec, found, device, dtype)
        modules = dict(model.named_modules())
        if path not in modules:
            raise UsageError("--layer", f"{path!r} is not a module of {spec.name}; {_nearby(path, modules)}")
        layer = modules[path]
        calls: list[Call] = []

        def record(_: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if not calls:
                calls.append(Call(_detached(args), _detached(kwargs)))

        handle = layer.register_forward_pre_hook(record, with_kwargs=True)
        try:
            with recurrent_stand_ins(model) if device.type == "meta" else contextlib.nullcontext():
                model(*inputs, **keywords)
        except Exception as exc:
            if not calls:  # it failed before reaching the layer
                raise ModelFailed(f"the model failed before {path} was called: {message(exc)}") from exc
        finally:
            handle.remove()
    if not calls:
        raise UsageError(
            "--layer",
            f"{path} ({type_name(layer)}) was never called in forward with these inputs; "
            "torchshape model without --layer lists the layers that were",
        )
    return layer, calls[0]


def _detached(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_detached(v) for v in value)
    if isinstance(value, list):
        return [_detached(v) for v in value]
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def _nearby(path: str, modules: dict[str, Any]) -> str:
    """A few valid paths: the closest spellings first, then the model's children."""
    names = [name for name in modules if name]
    close = difflib.get_close_matches(path, names, n=NEARBY, cutoff=0.5)
    picks = close + [name for name in names if name not in close][: max(0, NEARBY - len(close))]
    return "its modules include " + ", ".join(picks[:NEARBY]) if picks else "it has no submodules"
