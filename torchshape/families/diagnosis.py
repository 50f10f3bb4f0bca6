"""A layer's failure in a user's model, in words: the data a diagnosis holds, and the checks that
every family's adapter uses to propose a fix (``contract.LayerAdapter.diagnose``).

A fix is checked by rebuilding that one layer with the changed argument and running it on the
tensor that actually arrived; it is marked verified only when torch accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from torchshape.attributes import json_object
from torchshape.shapes import shape_text

if TYPE_CHECKING:
    import torch
    from torch import nn

NO_FIX = "no fix torchshape can check"
CODE_INDENT = "      "  # a diagnosis line that is code, never broken in a file or pipe
MODEL_INPUT = "the model's input"
# a tensor that no earlier module returned and no --input has the shape of (position ids, masks)
MADE_IN_FORWARD = "forward's own code (no earlier module returned it, and no --input has its shape)"
Earlier = list[tuple[str, list[tuple[int, ...]]]]  # (path, output shapes) of each finished call


def nothing(*_: Any) -> Any:
    """An adapter's answer where it has no diagnosis knowledge (what a layer expects, its
    constructor arguments, fixes to try): none."""
    return None


@dataclass(frozen=True)
class Fix:
    change: str  # in_features=200
    module: str  # the rebuilt layer as code: nn.Linear(in_features=200, out_features=10, bias=True)
    verified: bool  # torch ran the rebuilt layer on the tensor that arrived
    on: str | None = None  # what torch ran it on, when not just the tensor that arrived
    why: str | None = None  # the fix in words, where the change alone does not say it
    code: tuple[str, ...] = ()  # lines that go with it, before the layer: "h_0 = h_n.view(...).mean(dim=1)"


@dataclass(frozen=True)
class Diagnosis:
    layer: str  # path of the layer that raised ("" the model itself)
    type: str  # nn.Linear
    module: str  # its constructor as code
    message: str  # torch's message, first line
    expects: str | None  # what the layer requires: "in_features = 512"
    got: tuple[int, ...] | None  # the shape that arrived
    source: str | None  # the earlier row whose output has that shape, or MODEL_INPUT
    fixes: tuple[Fix, ...] = ()
    detail: str | None = None  # the C·H·W product, where one is worth naming
    argument: str | None = None  # what ``got`` is, when not the input: "h_0"
    where: str | None = None  # the line of the model's own code: "models/net.py:42 in forward: x.view(-1, 7)"
    last: str | None = None  # the last module call that finished: "fc (nn.Linear) → (2, 6)"
    # where no fix can be checked, what to do instead (meta tensors hold no values: --device cpu)
    advice: str | None = None
    # the operation of the model's own code that raised: "Tensor.view(-1, 7) of (2, 6)"
    operation: str | None = None
    # on meta: what the model did that needs values ("reads a mask's values"); None elsewhere
    reads_values: str | None = None

    @property
    def shown_layer(self) -> str:
        return self.layer or "(model)"

    def lines(self) -> list[str]:
        """The diagnosis in plain words."""
        lines = [f"✗ the model failed in {self.shown_layer}: {self.module}"]
        if self.operation is not None:
            lines.append(f"  in {self.operation}")
        lines.append(f"  torch: {self.message}")
        if self.expects is not None:
            lines.append(f"  {self.shown_layer} requires {self.expects}")
        if self.got is not None:
            lines.append(self._got_line(self.got))
        if self.detail is not None:
            lines.append(f"  {self.detail}")
        if self.where is not None:
            place, _, code = self.where.partition(": ")
            lines.append(f"  at {place}:")
            if code:
                lines.append(CODE_INDENT + code)
        if self.last is not None:
            lines.append(f"  the last module that ran: {self.last}")
        if self.advice is not None:
            lines.append(f"  {self.advice}")
        elif not self.fixes:
            lines.append(f"  {NO_FIX}")
        return lines + self._fix_lines()

    def _got_line(self, got: tuple[int, ...]) -> str:
        """What the failing call got, and from where."""
        source = self.source
        where = source if source in (MODEL_INPUT, MADE_IN_FORWARD) else f"the output of {source}"
        what = "it" if self.argument is None else f"its {self.argument}"
        return f"  {what} got {shape_text(got)}, from {where}"

    def _fix_lines(self) -> list[str]:
        """Each fix: what it changes, whether torch ran it, and its code."""
        got = "the tensor" if self.got is None else shape_text(self.got)
        lines = []
        for fix in self.fixes:
            on = fix.on or f"the {got} that arrived"
            verdict = "✓ torch ran it on" if fix.verified else "✗ torch refused it too, on"
            lines.append(f"  fix: {fix.why or fix.change} {verdict} {on}")
            lines += [CODE_INDENT + line for line in (*fix.code, fix.module)]
        return lines

    def as_dict(self) -> dict[str, Any]:
        return (
            json_object(self, "layer module message expects got source detail argument where")
            | {"last_module": self.last}
            | json_object(self, "advice operation")
            | {"fixes": [json_object(fix) for fix in self.fixes]}  # every field of each Fix
        )


def constructor(module: nn.Module) -> str:
    """The module's constructor as code, from its extra_repr: ``nn.LSTM(32, 64, batch_first=True)``."""
    from torch import jit, nn

    if isinstance(module, jit.ScriptModule):
        return f"torch.jit.script({getattr(module, 'original_name', 'module')})"
    settings = module.extra_repr()
    if isinstance(module, nn.MultiheadAttention) and not settings:  # it has no extra_repr
        parts = [str(module.embed_dim), str(module.num_heads)]
        if module.batch_first:
            parts.append("batch_first=True")
        if not module._qkv_same_embed_dim:
            parts += [f"kdim={module.kdim}", f"vdim={module.vdim}"]
        if module.bias_k is not None:
            parts.append("add_bias_kv=True")
        if module.add_zero_attn:
            parts.append("add_zero_attn=True")
        if module.in_proj_bias is None:
            parts.append("bias=False")
        settings = ", ".join(parts)
    return f"{_class_name(module)}({settings})"


def type_name(module: nn.Module) -> str:
    """``nn.LSTM``, the user's class name, or ``ScriptModule(Name)`` for a TorchScript module."""
    from torch import jit

    if isinstance(module, jit.ScriptModule):
        return f"ScriptModule({getattr(module, 'original_name', '?')})"
    name = _class_name(module)
    if _user_class(module) is not type(module):  # torch.nn.utils.parametrize made a class around the user's
        return f"{name} ({', '.join(module.parametrizations.keys())} parametrized)"
    return name


def _class_name(module: nn.Module) -> str:
    """``nn.LSTM`` for torch's own classes, the bare name for the user's."""
    kind = _user_class(module)
    return ("nn." if kind.__module__.startswith("torch.nn") else "") + kind.__name__


def _user_class(module: nn.Module) -> type:
    """The module's class; for a parametrized module (weight norm, spectral norm, orthogonal),
    the class it was before torch.nn.utils.parametrize wrapped it."""
    from torch.nn.utils import parametrize

    kind = type(module)
    if parametrize.is_parametrized(module) and kind.__name__.startswith("Parametrized") and kind.__bases__:
        return kind.__bases__[0]
    return kind


def first_tensor(args: tuple[Any, ...]) -> torch.Tensor | None:
    """The first of ``args`` that is a tensor, wherever it stands."""
    import torch

    return next((arg for arg in args if isinstance(arg, torch.Tensor)), None)


def rebuild(module: nn.Module, arguments: dict[str, Any] | None, changes: dict[str, Any]) -> nn.Module:
    """``module``'s class built from its constructor ``arguments`` (its adapter's) with ``changes``."""
    assert arguments is not None
    return type(module)(**{**arguments, **changes})


def run_rebuilt(
    module: nn.Module, arguments: dict[str, Any] | None, changes: dict[str, Any], *args: Any
) -> tuple[nn.Module, Any]:
    """``module`` built again with ``changes`` (in its own dtype, on the device of what arrived)
    and what it returns for ``args``; torch's refusal propagates."""
    import torch

    arrived = first_tensor(args)
    assert arrived is not None
    weights = next(module.parameters(), None)
    dtype = weights.dtype if weights is not None else arrived.dtype
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        rebuilt = rebuild(module, arguments, changes).to(device=arrived.device, dtype=dtype).eval()
        return rebuilt, rebuilt(*args)


def check(
    module: nn.Module,
    arguments: dict[str, Any] | None,
    changes: dict[str, Any],
    arrived: torch.Tensor,
    flatten: bool = False,
) -> Fix:
    """Rebuild ``module`` with ``changes`` and run it on ``arrived``: the fix, verified or not."""
    try:
        rebuilt, _ = run_rebuilt(module, arguments, changes, arrived.flatten(1) if flatten else arrived)
    except Exception:
        try:
            text = constructor(rebuild(module, arguments, changes))
        except Exception:
            text = f"{type(module).__name__}(...)"
        return Fix("", text, False)
    return Fix("", constructor(rebuilt), True)


def source_of(shape: tuple[int, ...], earlier: Earlier) -> str:
    """The nearest earlier row (path, output shapes) whose output has ``shape``; else the model's input."""
    for path, outputs in reversed(earlier):
        if shape in outputs:
            return path or "(model)"
    return MODEL_INPUT


def kernel_too_large(
    base: Diagnosis, module: nn.Module, args: tuple[Any, ...], arguments: dict[str, Any] | None, *, conv: bool
) -> Diagnosis | None:
    """A convolution or pool whose window does not fit in the padded input on some axis."""
    arrived = first_tensor(args)
    dims = spatial_dims(module)
    if arguments is None or arrived is None or arrived.dim() not in (dims + 1, dims + 2):
        return None
    size = [int(d) for d in arrived.shape[-dims:]]
    kernel = axes(module.kernel_size, dims)
    padding_value = getattr(module, "padding", 0)
    if padding_value == "same":
        return None
    padding = axes(0 if isinstance(padding_value, str) else padding_value, dims)  # "valid": none
    dilation = axes(getattr(module, "dilation", 1), dims)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    short = [i for i in range(dims) if size[i] + 2 * padding[i] < span[i]]
    if not short:
        return None
    names = {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}[dims]
    needs = [
        f"{names[i]}_in + 2·padding ≥ dilation·(kernel_size − 1) + 1 = "
        f"{dilation[i]}·({kernel[i]} − 1) + 1 = {span[i]}"
        for i in short
    ]
    have = [
        f"{names[i]}_in + 2·padding = {size[i]} + 2·{padding[i]} = {size[i] + 2 * padding[i]}" for i in short
    ]
    fixes: list[Fix] = []
    wider = tuple(max(padding[i], -(-(span[i] - size[i]) // 2)) for i in range(dims))
    fitting = tuple(min(kernel[i], (size[i] + 2 * padding[i] - 1) // dilation[i] + 1) for i in range(dims))
    for name, value in (("padding", wider), ("kernel_size", fitting)):
        same = len(set(value)) == 1
        text = str(value[0]) if same else str(value)
        fix = check(module, arguments, {name: value[0] if same else value}, arrived)
        fixes.append(Fix(f"{name}={text}", fix.module, fix.verified))
    return replace(
        base,
        expects="; ".join(needs),
        fixes=tuple(fixes),
        detail="; ".join(have)
        + ": the window is larger than the padded input"
        + ("" if conv else ", so the pool's output would be empty"),
    )


def spatial_dims(module: nn.Module) -> int:
    """1, 2 or 3: the spatial dimensions of a Conv*d or *Pool*d, from its class name."""
    for base in type(module).__mro__:
        name = base.__name__
        if name[-2:] in ("1d", "2d", "3d"):
            return int(name[-2])
    return 1


def axes(value: Any, dims: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * dims
