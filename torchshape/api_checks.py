"""The Python API's own arguments checked before any work, each error naming the argument
(``model=None: expected an nn.Module``, ``device='cuda': no CUDA device``), never an
AttributeError or IndexError from deep inside torch.

The family settings passed by name are checked by each family's ``make_spec``; this checks
what the API functions take besides: a spec object, switches, a live module and its inputs.
"""

from __future__ import annotations

import re
from typing import Any

from torchshape.errors import EnvironmentProblem, UsageError

_LONGEST_SHOWN = 60


def shown(name: str, value: Any) -> str:
    """``name=value`` as an error starts: the value's repr, cut short when long."""
    shape = getattr(value, "shape", None)
    try:
        if type(value).__name__ in ("Tensor", "Parameter") and shape is not None:
            text = f"tensor of shape {tuple(shape)}"
        else:
            text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    from torchshape.contain import printable

    text = printable(text)
    if len(text) > _LONGEST_SHOWN:
        text = text[: _LONGEST_SHOWN - 3] + "..."
    return f"{name}={text}"


def fail(name: str, value: Any, message: str) -> UsageError:
    return UsageError(name, message, shown=shown(name, value))


def check_switch(name: str, value: Any) -> None:
    """``explain``, ``diagram``, ``unroll``: True or False."""
    if not isinstance(value, bool):
        raise fail(name, value, f"expected True or False, got {type(value).__name__}")


def check_module(name: str, value: Any) -> None:
    from torch import nn

    if not isinstance(value, nn.Module):
        raise fail(name, value, f"expected an nn.Module, got {type(value).__name__}")


def check_tensor(name: str, value: Any) -> None:
    """A tensor (a PackedSequence is left to the family, which says what to pass instead)."""
    import torch
    from torch.nn.utils.rnn import PackedSequence

    if not isinstance(value, (torch.Tensor, PackedSequence)):
        raise fail(name, value, f"expected a torch.Tensor, got {type(value).__name__}")


_DEVICE = re.compile(r"^(cpu|meta|mps|cuda(:\d+)?)$")


def check_device(name: str, value: Any) -> None:
    """None, or a device this machine has: cpu, meta, mps, cuda or cuda:N (a str or torch.device)."""
    import torch

    if value is None:
        return
    if not isinstance(value, (str, torch.device)):
        raise fail(
            name, value, f"expected a device name such as 'cpu' or 'cuda:0', got {type(value).__name__}"
        )
    text = str(value)
    if not _DEVICE.match(text):
        raise fail(name, value, "is not cpu, cuda, cuda:N, mps or meta")
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EnvironmentProblem(f"{shown(name, value)}: no CUDA device is available on this machine")
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise EnvironmentProblem(
                f"{shown(name, value)}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    elif text == "mps" and not torch.backends.mps.is_available():
        raise EnvironmentProblem(f"{shown(name, value)}: the Apple MPS backend is not available here")


def check_depth(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail("depth", value, f"expected a whole number or None, got {type(value).__name__}")
    if value < 0:
        raise fail("depth", value, "must be 0 or more (0: the model itself)")


def check_hx(module: Any, hx: Any) -> None:
    """``hx`` of ``inspect_module``: None, a tensor, or for an LSTM (and LSTMCell) a pair of tensors."""
    import torch
    from torch import nn

    if hx is None:
        return
    kind = type(module).__name__
    if isinstance(module, (nn.LSTM, nn.LSTMCell)):
        pair = isinstance(hx, (tuple, list)) and len(hx) == 2
        if not pair or not all(isinstance(t, torch.Tensor) for t in hx):
            raise fail("hx", hx, f"nn.{kind} takes (h_0, c_0), a pair of tensors, or None")
    elif not isinstance(hx, torch.Tensor):
        raise fail("hx", hx, f"nn.{kind} takes h_0, one tensor, or None")
