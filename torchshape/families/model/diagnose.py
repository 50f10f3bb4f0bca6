"""When the model's forward raises: which layer, what it requires of its input, what arrived,
which earlier row produced it, and fixes that torch has checked.

A fix is checked by rebuilding that one layer with the changed argument and running it on the
tensor that actually arrived; it is marked verified only when torch accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torchshape.shapes import shape_text

if TYPE_CHECKING:
    import torch
    from torch import nn

NO_FIX = "no fix torchshape can check"
MODEL_INPUT = "the model's input"


@dataclass(frozen=True)
class Fix:
    change: str  # in_features=200
    module: str  # the rebuilt layer as code: nn.Linear(in_features=200, out_features=10, bias=True)
    verified: bool  # torch ran the rebuilt layer on the tensor that arrived


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

    @property
    def shown_layer(self) -> str:
        return self.layer or "(model)"

    def lines(self) -> list[str]:
        """The diagnosis in plain words."""
        lines = [f"✗ the model failed in {self.shown_layer}: {self.module}", f"  torch: {self.message}"]
        if self.expects is not None:
            lines.append(f"  {self.shown_layer} requires {self.expects}")
        if self.got is not None:
            where = self.source if self.source == MODEL_INPUT else f"the output of {self.source}"
            lines.append(f"  it got {shape_text(self.got)}, from {where}")
        if self.detail is not None:
            lines.append(f"  {self.detail}")
        if not self.fixes:
            lines.append(f"  {NO_FIX}")
        for fix in self.fixes:
            got = "the tensor" if self.got is None else shape_text(self.got)
            verdict = "✓ torch ran it on" if fix.verified else "✗ torch refused it too, on"
            lines.append(f"  fix: {fix.change} → {fix.module} {verdict} the {got} that arrived")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "module": self.module,
            "message": self.message,
            "expects": self.expects,
            "got": None if self.got is None else list(self.got),
            "source": self.source,
            "detail": self.detail,
            "fixes": [{"change": f.change, "module": f.module, "verified": f.verified} for f in self.fixes],
        }


def constructor(module: nn.Module) -> str:
    """The module's constructor as code, from its extra_repr: ``nn.LSTM(32, 64, batch_first=True)``."""
    kind = type(module)
    prefix = "nn." if kind.__module__.startswith("torch.nn") else ""
    return f"{prefix}{kind.__name__}({module.extra_repr()})"


def type_name(module: nn.Module) -> str:
    kind = type(module)
    return ("nn." if kind.__module__.startswith("torch.nn") else "") + kind.__name__


def first_tensor(args: tuple[Any, ...]) -> torch.Tensor | None:
    import torch

    for arg in args:
        if isinstance(arg, torch.Tensor):
            return arg
    return None


def _conv_channels(module: nn.Module, arrived: torch.Tensor) -> int | None:
    dims = len(module.kernel_size)
    if arrived.dim() == dims + 2:
        return int(arrived.shape[1])
    if arrived.dim() == dims + 1:
        return int(arrived.shape[0])
    return None


def expects(module: nn.Module) -> str | None:
    """What the layer requires of its input, as its formula: symbol = constructor argument = value."""
    from torch import nn

    if isinstance(module, (nn.RNNBase, nn.RNNCellBase)):
        return f"H_in = input_size = {module.input_size}"
    if isinstance(module, nn.Linear):
        return f"H_in = in_features = {module.in_features}"
    if isinstance(module, nn.modules.conv._ConvNd):
        return f"C_in = in_channels = {module.in_channels}"
    return None


def arguments(module: nn.Module) -> dict[str, Any] | None:
    """The constructor arguments that rebuild ``module``; None for layers torchshape cannot rebuild."""
    from torch import nn

    if isinstance(module, nn.RNNBase):
        found: dict[str, Any] = {
            "input_size": module.input_size,
            "hidden_size": module.hidden_size,
            "num_layers": module.num_layers,
            "bias": module.bias,
            "batch_first": module.batch_first,
            "dropout": module.dropout,
            "bidirectional": module.bidirectional,
        }
        if isinstance(module, nn.LSTM):
            found["proj_size"] = module.proj_size
        if isinstance(module, nn.RNN):
            found["nonlinearity"] = module.nonlinearity
        return found
    if isinstance(module, nn.RNNCellBase):
        found = {"input_size": module.input_size, "hidden_size": module.hidden_size, "bias": module.bias}
        if isinstance(module, nn.RNNCell):
            found["nonlinearity"] = module.nonlinearity
        return found
    if isinstance(module, nn.Linear):
        return {
            "in_features": module.in_features,
            "out_features": module.out_features,
            "bias": module.bias is not None,
        }
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return {
            "in_channels": module.in_channels,
            "out_channels": module.out_channels,
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
            "dilation": module.dilation,
            "groups": module.groups,
            "bias": module.bias is not None,
            "padding_mode": module.padding_mode,
        }
    return None


def proposals(module: nn.Module, arrived: torch.Tensor) -> list[tuple[str, dict[str, Any]]]:
    """The changed constructor arguments to try: (the change as text, the arguments changed)."""
    from torch import nn

    if arrived.dim() == 0:
        return []
    last = int(arrived.shape[-1])
    if isinstance(module, (nn.RNNBase, nn.RNNCellBase)) and last != module.input_size:
        return [(f"input_size={last}", {"input_size": last})]
    if isinstance(module, nn.Linear) and last != module.in_features:
        return [(f"in_features={last}", {"in_features": last})]
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        channels = _conv_channels(module, arrived)
        if channels is not None and channels != module.in_channels:
            return [(f"in_channels={channels}", {"in_channels": channels})]
    return []


def rebuild(module: nn.Module, changes: dict[str, Any]) -> nn.Module:
    found = arguments(module)
    assert found is not None
    return type(module)(**{**found, **changes})


def check(module: nn.Module, changes: dict[str, Any], arrived: torch.Tensor, flatten: bool = False) -> Fix:
    """Rebuild ``module`` with ``changes`` and run it on ``arrived``: the fix, verified or not."""
    import torch

    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            rebuilt = rebuild(module, changes).to(device=arrived.device, dtype=arrived.dtype).eval()
            rebuilt(arrived.flatten(1) if flatten else arrived)
    except Exception:
        try:
            text = constructor(rebuild(module, changes))
        except Exception:
            text = f"{type(module).__name__}(...)"
        return Fix("", text, False)
    return Fix("", constructor(rebuilt), True)


def source_of(shape: tuple[int, ...], earlier: list[tuple[str, list[tuple[int, ...]]]]) -> str:
    """The nearest earlier row (path, output shapes) whose output has ``shape``; else the model's input."""
    for path, outputs in reversed(earlier):
        if shape in outputs:
            return path or "(model)"
    return MODEL_INPUT


def diagnose(
    module: nn.Module,
    path: str,
    args: tuple[Any, ...],
    error: BaseException,
    earlier: list[tuple[str, list[tuple[int, ...]]]],
    earlier_inputs: dict[str, tuple[str, list[tuple[int, ...]]]],
) -> Diagnosis:
    """``earlier``: (path, output shapes) of every finished call before the failing one, in call
    order; ``earlier_inputs``: path -> (type, input shapes) of those calls."""
    from torch import nn

    from torchshape.families.model.load import first_line

    # a container's own code raised (a view, a cat): what arrived at it says little
    arrived = first_tensor(args) if not list(module.children()) else None
    got = None if arrived is None else tuple(int(d) for d in arrived.shape)
    source = None if got is None else source_of(got, earlier)
    fixes: list[Fix] = []
    detail = None
    if arrived is not None and arguments(module) is not None:
        for change, changes in proposals(module, arrived):
            fix = check(module, changes, arrived)
            fixes.append(Fix(change, fix.module, fix.verified))
        if isinstance(module, nn.Linear) and got is not None:
            detail, flat = _product(got, source, earlier_inputs)
            if flat is not None and flat != module.in_features and arrived.dim() >= 3:
                fix = check(module, {"in_features": flat}, arrived, flatten=True)
                fixes.append(Fix(f"flatten(1) first, in_features={flat}", fix.module, fix.verified))
    return Diagnosis(
        layer=path,
        type=type_name(module),
        module=constructor(module),
        message=first_line(error),
        expects=expects(module),
        got=got,
        source=source,
        fixes=tuple(fixes),
        detail=detail,
    )


def _product(
    got: tuple[int, ...], source: str | None, earlier_inputs: dict[str, tuple[str, list[tuple[int, ...]]]]
) -> tuple[str | None, int | None]:
    """Name the C·H·W product: of the arrived tensor when it is 3-D or more, or of what a
    Flatten flattened when the arrived 2-D tensor came from one."""
    names = {1: ["C"], 2: ["C", "L"], 3: ["C", "H", "W"], 4: ["C", "D", "H", "W"]}
    dims: tuple[int, ...] | None = None
    where = ""
    if len(got) >= 3:
        dims, where = got[1:], f"the {shape_text(got)} that arrived"
    elif source is not None and source in earlier_inputs:
        kind, inputs = earlier_inputs[source]
        if kind == "nn.Flatten" and inputs and len(inputs[0]) >= 3:
            dims, where = inputs[0][1:], f"{source} flattened {shape_text(inputs[0])}"
    if dims is None:
        return None, None
    total = 1
    for d in dims:
        total *= d
    symbols = names.get(len(dims), [f"d{i}" for i in range(len(dims))])
    return f"{where}: {'·'.join(symbols)} = {'·'.join(str(d) for d in dims)} = {total} features", total
