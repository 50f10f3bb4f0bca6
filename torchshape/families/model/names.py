"""What a module call took and returned, named as PyTorch names it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn


def name_values(prefix: str, value: Any) -> list[tuple[str, Any]]:
    """Every tensor inside ``value`` with its name: ``output[0]``, ``output.data``, ``output['logits']``."""
    import torch
    from torch.nn.utils.rnn import PackedSequence

    if isinstance(value, PackedSequence):
        return [(f"{prefix}.data", value.data), (f"{prefix}.batch_sizes", value.batch_sizes)]
    if isinstance(value, torch.Tensor):
        return [(prefix, value)]
    if isinstance(value, (tuple, list)):
        return [pair for i, item in enumerate(value) for pair in name_values(f"{prefix}[{i}]", item)]
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in name_values(f"{prefix}[{key!r}]", item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a plain @dataclass output
        return [
            pair
            for field in dataclasses.fields(value)
            for pair in name_values(f"{prefix}.{field.name}", getattr(value, field.name, None))
        ]
    return []


def name_outputs(module: nn.Module, out: Any) -> list[tuple[str, Any]]:
    """What a call returned, in PyTorch's names: recurrent layers ``output, h_n, c_n``, cells
    ``h_1, c_1``, MultiheadAttention ``attn_output, attn_output_weights``; else ``output[i]``."""
    from torch import nn

    if isinstance(module, nn.RNNBase) and isinstance(out, tuple) and len(out) == 2:
        state = out[1]
        names = name_values("output", out[0])
        if isinstance(state, tuple):
            return names + name_values("h_n", state[0]) + name_values("c_n", state[1])
        return names + name_values("h_n", state)
    if isinstance(module, nn.LSTMCell) and isinstance(out, tuple) and len(out) == 2:
        return name_values("h_1", out[0]) + name_values("c_1", out[1])
    if isinstance(module, nn.RNNCellBase):
        return name_values("h_1", out)
    if isinstance(module, nn.MultiheadAttention) and isinstance(out, tuple) and len(out) == 2:
        return name_values("attn_output", out[0]) + name_values("attn_output_weights", out[1])
    return name_values("output", out)


def name_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
    named = name_values("input", args[0]) if len(args) == 1 else name_values("input", args)
    for key, value in kwargs.items():
        named += name_values(key, value)
    return named
