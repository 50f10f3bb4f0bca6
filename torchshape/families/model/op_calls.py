"""The shape-changing operations the model's own code calls (``--ops``): each one's shapes in and
out, its other arguments, and the file and line that called it."""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from torchshape.families.model.diagnose import Unpacked
from torchshape.families.model.ops import OpCounter

# The operations a trace shows as rows (--ops): the ones that change shapes, called from the
# model's own code (not from inside a torch.nn layer, whose row stands for them).
SHAPE_OPS = frozenset(
    {
        "view", "reshape", "flatten", "unflatten", "view_as", "reshape_as",
        "permute", "transpose", "t", "movedim", "swapaxes", "mT",
        "cat", "concat", "concatenate", "stack", "hstack", "vstack",
        "split", "chunk", "unbind", "tensor_split",
        "matmul", "bmm", "mm", "einsum", "baddbmm", "addmm", "__matmul__",
        "squeeze", "unsqueeze", "expand", "expand_as", "repeat", "repeat_interleave", "tile",
        "__getitem__", "narrow", "select", "index_select", "gather", "masked_select", "take_along_dim",
        "linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "scaled_dot_product_attention", "multi_head_attention_forward", "pad",
        "interpolate", "upsample", "embedding", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
        "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
        "adaptive_max_pool2d", "adaptive_max_pool3d", "one_hot", "broadcast_to", "diagonal", "tril", "triu",
    }
)  # fmt: skip
_FUNCTIONAL = ("torch.nn.functional", "torch._C._nn")
_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
_LAYERS_DIR = os.path.join(_TORCH_DIR, "nn", "modules") + os.sep


@dataclass
class OpCall:
    """One shape-changing operation the model's own code called."""

    name: str  # as written: Tensor.view, torch.cat, F.scaled_dot_product_attention
    inputs: tuple[tuple[int, ...], ...]
    outputs: tuple[tuple[int, ...], ...]
    where: str  # file:line of the model's code that called it
    owner: int  # the record of the module call that ran it (-1: none)
    settings: str = ""  # what decides the shape beside the inputs: "dim=-1", "(20, 2, -1)"
    failed: bool = False
    message: str = ""  # torch's message, when it raised
    seq: int = 0  # its place in call order, among the module calls

    @property
    def rule(self) -> str:
        """``cat(dim=-1): (2, 7) + (2, 5) → (2, 12)``."""
        short = self.name.rpartition(".")[2]
        shown = " + ".join(str(s) for s in self.inputs) or "()"
        out = "raised" if self.failed else ", ".join(str(s) for s in self.outputs) or "—"
        return f"{short}{f'({self.settings})' if self.settings else ''}: {shown} → {out}"

    @property
    def call(self) -> str:
        """``Tensor.view(-1, 7) of (2, 6)``."""
        shown = " and ".join(str(s) for s in self.inputs)
        return f"{self.name}({self.settings})" + (f" of {shown}" if shown else "")


def _shapes(value: Any) -> list[tuple[int, ...]]:
    if isinstance(value, torch.Tensor):
        return [tuple(int(d) for d in value.shape)]
    if isinstance(value, (tuple, list)):
        return [s for item in value for s in _shapes(item)]
    return []


def _settings(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The call's other arguments, briefly: sizes, dims, slices."""
    parts = []
    for value in (*args, *(f"{k}={v!r}" for k, v in kwargs.items() if not isinstance(v, torch.Tensor))):
        if isinstance(value, torch.Tensor) or (
            isinstance(value, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in value)
        ):
            continue
        parts.append(value if isinstance(value, str) and "=" in value else _brief(value))
    return ", ".join(parts)


def _brief(value: Any) -> str:
    if isinstance(value, slice):
        return (
            ":".join("" if v is None else str(v) for v in (value.start, value.stop, value.step)).rstrip(":")
            or ":"
        )
    if isinstance(value, tuple):
        return "[" + ", ".join(_brief(v) for v in value) + "]"
    if value is Ellipsis:
        return "..."
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(func: Any) -> str:
    name = getattr(func, "__name__", "op")
    module = getattr(func, "__module__", None) or ""
    if module in _FUNCTIONAL:
        return f"F.{name}"
    if module.startswith("torch"):
        return f"torch.{name}"
    return f"Tensor.{name}"


def _caller() -> Any:
    """The frame of the model's code that called the operation; None when a torch.nn layer or
    torchshape itself called it (their rows and work stand for it)."""
    frame: Any = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(_LAYERS_DIR) or name.startswith(_OWN_DIR):
            return None
        if not name.startswith(_TORCH_DIR):
            return frame
        frame = frame.f_back
    return None


def _where(frame: Any) -> str:
    """file:line of a frame, the file relative to the working directory where it is inside it."""
    name = frame.f_code.co_filename
    try:
        shown = os.path.relpath(name)
    except ValueError:
        shown = name
    return f"{name if shown.startswith('..') else shown}:{frame.f_lineno}"


def _unpacking(frame: Any) -> int | None:
    """How many names the instruction running in ``frame`` unpacks a value into (``x, y = pair``:
    2; ``x, *rest = pair``: at least 1), or None when it is no unpacking (a ``for`` loop, a call)."""
    import dis

    for instruction in dis.get_instructions(frame.f_code):
        if instruction.offset == frame.f_lasti:
            if instruction.opname == "UNPACK_SEQUENCE":
                return int(instruction.arg or 0)
            if instruction.opname == "UNPACK_EX":
                return int(instruction.arg or 0) & 0xFF
            return None
    return None


class OpRecorder(TorchFunctionMode):  # type: ignore[misc]
    """Every shape-changing operation the model's own code calls, with its file and line."""

    def __init__(
        self, owner: Callable[[], int], clock: Callable[[], int], inside_layer: Callable[[], bool]
    ) -> None:
        super().__init__()
        self.owner = owner
        self.clock = clock
        # the innermost module call is a torch.nn layer: its own operations, no row (and no walk
        # up the stack, whose frame objects would keep that layer's tensors alive)
        self.inside_layer = inside_layer
        self.calls: list[OpCall] = []
        self.failed: OpCall | None = None
        self.unpacked: list[Unpacked] = []  # tensors the model's code unpacked as if tuples

    def __torch_function__(
        self, func: Any, _types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") not in SHAPE_OPS or self.inside_layer():
            return func(*args, **kwargs)
        frame = _caller()
        if frame is None:
            return func(*args, **kwargs)
        where = _where(frame)
        if func.__name__ == "unbind" and args and isinstance(args[0], torch.Tensor):
            names = _unpacking(frame)
            if names is not None:
                line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
                self.unpacked.append(Unpacked(id(args[0]), _shapes(args[0])[0], names, where, line))
        del frame  # a frame kept here would keep the model's tensors alive
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if args and isinstance(args[0], (tuple, list)):  # cat, stack: a sequence of tensors
            tensors = [a for a in args[0] if isinstance(a, torch.Tensor)] + tensors
        call = OpCall(
            name=_name(func),
            inputs=tuple(s for t in tensors for s in _shapes(t)),
            outputs=(),
            where=where,
            owner=self.owner(),
            settings=_settings(args[1:] if args else (), kwargs),
            seq=self.clock(),
        )
        self.calls.append(call)
        try:
            out = func(*args, **kwargs)
        except Exception as exc:
            call.failed = True
            text = str(exc).strip()
            call.message = text.splitlines()[0] if text else type(exc).__name__
            self.failed = call
            raise
        call.outputs = tuple(_shapes(out))
        return out


_WARM: set[bool] = set()  # warmed for a forward off meta (False), on meta (True: both)


def warm_up(meta: bool) -> None:
    """Run one tiny operation under both modes, once per process: whatever torch sets up on a
    mode's first use is not done inside the model's forward, where an import leaves frames
    behind that keep the model's tensors alive (no cyclic GC runs in the command). ``meta``:
    the forward runs on meta, whose first operations load torch's meta kernels (and its
    compiler with them: about 80 MB, paid only by a trace on meta)."""
    if meta in _WARM or True in _WARM:
        return
    with OpCounter(), OpRecorder(lambda: -1, lambda: 0, lambda: True):
        torch.zeros(1).view(1)
        if not meta:
            _WARM.add(False)
            return
        # the first operations on meta load torch's meta kernels (and its compiler with them),
        # and the first call of a decomposition keeps the stack that called it
        with torch.device("meta"):
            warm = torch.nn.Sequential(
                torch.nn.Conv2d(1, 1, 1), torch.nn.BatchNorm2d(1), torch.nn.ReLU(), torch.nn.MaxPool2d(1)
            ).eval()
            x = warm(torch.empty(1, 1, 1, 1)).flatten(1)
            torch.nn.functional.layer_norm(torch.nn.functional.linear(x, torch.empty(1, 1)), (1,))
    _WARM.add(True)
