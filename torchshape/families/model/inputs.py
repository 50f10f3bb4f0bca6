"""The model's inputs: drawn for each --input (integer ranges from the model's embedding tables),
checked against forward's signature, and given to it in order.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.errors import UsageError
from torchshape.families.model.spec import DEFAULT_INTEGER_HIGH, InputSpec, ModelSpec
from torchshape.families.model.trace import Trace

if TYPE_CHECKING:
    import torch
    from torch import nn


def forward_order(spec: ModelSpec) -> list[int]:
    """The --input flags (by their place) in the order forward takes them: positional, then keywords."""
    return sorted(range(len(spec.inputs)), key=lambda i: spec.inputs[i].name is not None)


def _fed(spec: ModelSpec, trace: Trace) -> dict[int, int]:
    """--input place -> the num_embeddings of the table the trace saw it feed (``Trace.feeds``)."""
    order = forward_order(spec)
    return {order[place]: size for place, size in trace.feeds if place < len(order)}


def table_sizes(model: nn.Module) -> list[int]:
    """The num_embeddings of every embedding in the model."""
    from torch import nn

    return [int(m.num_embeddings) for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))]


def integer_range(one: InputSpec, tables: list[int]) -> tuple[int, int, str]:
    """LOW ≤ v < HIGH for an integer input, and why (a key of ``RANGE_WHY``): as given; the
    num_embeddings of the table it feeds (found by a trial run); else the smallest table's, or
    DEFAULT_INTEGER_HIGH without embeddings."""
    low = 0 if one.low is None else one.low
    if one.high is not None:
        return low, one.high, "given"
    if one.feeds is not None:
        return low, one.feeds, "feeds"
    if tables:
        return low, min(tables), "smallest"
    return low, DEFAULT_INTEGER_HIGH, "none"


def drawn(spec: ModelSpec, model: nn.Module, trace: Trace) -> tuple[InputSpec, ...]:
    """Each integer --input with the range it was drawn from and why; the trace tells where an
    input drawn below the smallest table fed that very table (or fed none)."""
    tables = table_sizes(model)
    fed = _fed(spec, trace)
    made = []
    for i, one in enumerate(spec.inputs):
        if not one.integer:
            made.append(one)
            continue
        low, high, why = integer_range(one, tables)
        if why == "smallest" and trace.diagnosis is None:
            why = "feeds" if fed.get(i) == high else "fed none" if i not in fed else why
        made.append(replace(one, drawn=(low, high, why)))
    return tuple(made)


def make_input(one: InputSpec, model: nn.Module, device: torch.device, flag: str = "--input") -> torch.Tensor:
    """A tensor for one --input: normal floats; integers within ``integer_range``."""
    import torch

    dtype = getattr(torch, one.dtype)
    if one.integer:
        low, high, _ = integer_range(one, table_sizes(model))
        if high <= low:  # an embedding of 0 rows: no index can be drawn
            raise UsageError(flag, f"{one.text}: no integer v with {low} ≤ v < {high} (the table it feeds)")
        if device.type == "meta":
            return _with_values(torch.randint(low, high, _small(one.shape), dtype=dtype), one.shape)
        return torch.randint(low, high, one.shape, dtype=dtype, device=device)
    if one.dtype == "bool":
        if device.type == "meta":
            return _with_values(torch.rand(_small(one.shape)) < 0.5, one.shape)
        return torch.empty(one.shape, dtype=torch.bool, device=device).bernoulli_(0.5)
    return torch.randn(one.shape, dtype=dtype, device=device)


def with_feeds(spec: ModelSpec, trace: Trace) -> tuple[InputSpec, ...]:
    """The --input flags, each integer one without a range given the table it feeds (BERT's
    input_ids: the word embeddings' 30522, not the token types' 2)."""
    feeds = _fed(spec, trace)
    return tuple(
        replace(one, feeds=feeds.get(i)) if one.integer and one.high is None else one
        for i, one in enumerate(spec.inputs)
    )


def check_arguments(spec: ModelSpec, model: nn.Module) -> None:
    """Refuse --input flags that forward's signature does not take (a usage error, not the
    model's): too many or too few positional inputs, or a keyword it has no parameter for."""
    import inspect

    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):  # a builtin or a C++ forward: torch will say
        return
    positional = [object() for one in spec.inputs if one.name is None]
    keywords = {one.name: object() for one in spec.inputs if one.name is not None}
    try:
        signature.bind(*positional, **keywords)
    except TypeError as exc:
        raise UsageError(
            "--input",
            f"{type(model).__name__}.forward{signature}: {exc}; give one --input per positional "
            "argument of forward, in order (NAME=SHAPE for a keyword)",
        ) from None


def _small(shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` if its values are few enough to keep on the CPU beside a meta input, else empty."""
    from torchshape.families.model.meta import SMALL_VALUES

    return shape if math.prod(shape) <= SMALL_VALUES else (0,)


def _with_values(values: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """An integer or bool input on meta that carries its values on the CPU when they are few (a
    mask, lengths): torch and the model's code may read them (``meta.lengths_on_cpu``)."""
    import torch

    from torchshape.families.model.meta import keep_values

    made = torch.empty(shape, dtype=values.dtype, device="meta")
    if tuple(values.shape) == shape:
        keep_values(made, values)
    return made


def make_inputs(
    spec: ModelSpec, model: nn.Module, device: torch.device
) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    """The positional inputs of forward, and its keyword inputs."""
    made = [make_input(one, model, device) for one in spec.inputs]
    positional = tuple(t for t, one in zip(made, spec.inputs, strict=True) if one.name is None)
    keywords = {one.name: t for t, one in zip(made, spec.inputs, strict=True) if one.name is not None}
    return positional, keywords


def in_order(spec: ModelSpec, inputs: tuple[Any, ...], keywords: dict[str, Any]) -> list[Any]:
    """The tensors in the order of the --input flags."""
    positional = iter(inputs)
    return [next(positional) if one.name is None else keywords[one.name] for one in spec.inputs]
