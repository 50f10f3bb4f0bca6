"""``torchshape.summary``: torchinfo's ``summary`` call, answered by a traced forward pass.

torchinfo's arguments become the inputs and keywords of ``trace_live``; its result attributes
(``total_params``, ``total_mult_adds``, ...) are read from the trace (``Summary``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from torchshape.errors import UsageError
from torchshape.families.model.inputs import table_sizes
from torchshape.families.model.spec import DEFAULT_INTEGER_HIGH
from torchshape.families.model.trace import Trace
from torchshape.report import Report, Summary

if TYPE_CHECKING:
    import torch
    from torch import nn

# torchinfo's ColumnSettings and RowSettings, and its modes: accepted by name, checked here.
COLUMNS = (
    "input_size",
    "output_size",
    "num_params",
    "params_percent",
    "kernel_size",
    "groups",
    "mult_adds",
    "trainable",
)
ROW_SETTINGS = ("ascii_only", "depth", "var_names", "hide_recursive_layers")
MODES = ("same", "train", "eval")


def check(
    *,
    input_size: Any,
    input_data: Any,
    col_names: Iterable[str] | None,
    col_width: int,
    depth: int,
    mode: str,
    row_settings: Iterable[str] | None,
    verbose: int | None,
) -> None:
    """Every argument torchinfo checks, checked the same way; each message names the argument."""
    if input_size is None and input_data is None:
        raise UsageError(
            "input_size", "give input_size or input_data: torchshape reads every shape from a forward pass"
        )
    if input_size is not None and input_data is not None:
        raise UsageError("input_size", "give one of input_size and input_data, not both")
    for argument, given, allowed, what in (
        ("col_names", col_names, COLUMNS, "torchinfo's columns"),
        ("row_settings", row_settings, ROW_SETTINGS, "torchinfo's"),
    ):
        for name in given or ():
            if name not in allowed:
                raise UsageError(
                    argument, f"none of {what}: {', '.join(allowed)}", shown=f"{argument} {name!r}"
                )
    if col_width <= 0:
        raise UsageError("col_width", "must be greater than 0", shown=f"col_width={col_width}")
    if depth < 0:
        raise UsageError("depth", "must be 0 or more", shown=f"depth={depth}")
    if mode not in MODES:
        raise UsageError("mode", f"none of {', '.join(MODES)}", shown=f"mode={mode!r}")
    if verbose not in (None, 0, 1, 2):
        choices = "none of 0 (quiet), 1 (print), 2 (print every parameter)"
        raise UsageError("verbose", choices, shown=f"verbose={verbose}")


def sizes(input_size: Any) -> list[tuple[int, ...]]:
    """torchinfo's forms: one size ``(2, 3, 8, 8)`` or ``[2, 3]``, or several ``[(2, 3), (2, 5)]``."""
    shown = f"input_size={input_size!r}"
    if not isinstance(input_size, (list, tuple)) or not input_size:
        raise UsageError("input_size", "no size: give a tuple such as (2, 3, 32, 32)", shown=shown)
    if all(isinstance(d, int) for d in input_size):
        found = [tuple(input_size)]
    elif all(isinstance(s, (list, tuple)) and all(isinstance(d, int) for d in s) for s in input_size):
        found = [tuple(s) for s in input_size]
    else:
        raise UsageError("input_size", "give one size or a list of sizes", shown=shown)
    if any(d <= 0 for size in found for d in size):
        raise UsageError("input_size", "a dimension is below 1", shown=shown)
    return found


def made_inputs(
    model: nn.Module,
    input_size: Any,
    batch_dim: int | None,
    dtypes: Sequence[Any] | None,
    device: torch.device,
) -> list[torch.Tensor]:
    """One tensor per size, as torchinfo makes them: uniform [0, 1) floats, ``batch_dim`` a new
    dimension of 1; integer dtypes hold indices below the smallest ``num_embeddings`` (torchinfo's
    are all 0)."""
    import torch

    found = sizes(input_size)
    # torchinfo takes dtypes and tensor types alike (torch.long, torch.LongTensor)
    kinds = [d if isinstance(d, torch.dtype) else torch.empty(0).type(d).dtype for d in dtypes or ()]
    kinds = kinds or [torch.float32] * len(found)
    if len(kinds) != len(found):
        raise UsageError("dtypes", f"{len(kinds)} dtype(s) for {len(found)} input size(s)")
    tables = table_sizes(model)
    tensors = []
    for size, dtype in zip(found, kinds, strict=True):
        if dtype.is_floating_point or dtype.is_complex:
            tensor = torch.rand(size, device=device).to(dtype)
        elif dtype == torch.bool:
            tensor = torch.rand(size, device=device) < 0.5
        else:
            high = min(tables) if tables else DEFAULT_INTEGER_HIGH
            tensor = torch.randint(0, high, size, dtype=dtype, device=device)
        if batch_dim is not None:
            tensor = tensor.unsqueeze(batch_dim)
        tensors.append(tensor)
    return tensors


def split_data(input_data: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """torchinfo's input_data: a tensor, a list of forward's arguments, or a dict of keywords."""
    if isinstance(input_data, Mapping):
        return (), dict(input_data)
    if isinstance(input_data, (list, tuple)):
        return tuple(input_data), {}
    return (input_data,), {}


def leaf_output_bytes(model: nn.Module, trace: Trace, element_size: int) -> int:
    """torchinfo's "Forward/backward pass size": the outputs of every call of a leaf layer with
    parameters, twice (the gradients)."""
    leaves = {path for path, module in model.named_modules() if next(module.children(), None) is None}
    total = 0
    for layer in trace.layers:
        if layer.path in leaves and layer.params > 0 and layer.depth > 0:
            total += sum(math.prod(output.shape) * element_size * 2 for output in layer.outputs)
    return total


def as_summary(report: Report, model: nn.Module) -> Summary:
    """``report`` with the trace's totals under torchinfo's names."""
    import torch

    trace: Trace = report.probe.analysis
    element_size = torch.empty((), dtype=getattr(torch, report.probe.dtype)).element_size()
    same = {field.name: getattr(report, field.name) for field in fields(Report)}
    return Summary(
        **same,
        total_params=trace.params,
        trainable_params=trace.trainable,
        total_mult_adds=trace.macs,
        total_input=trace.input_bytes,
        total_output_bytes=leaf_output_bytes(model, trace, element_size),
        total_param_bytes=trace.param_bytes,
    )
