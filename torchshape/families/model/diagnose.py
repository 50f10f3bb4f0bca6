"""When the model's forward raises: which layer, what it requires of its input, what arrived,
which earlier row produced it, and fixes that torch has checked.

A fix is checked by rebuilding that one layer with the changed argument and running it on the
tensor that actually arrived; it is marked verified only when torch accepts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from torchshape.shapes import shape_text

if TYPE_CHECKING:
    import torch
    from torch import nn

NO_FIX = "no fix torchshape can check"
CODE_INDENT = "      "  # a diagnosis line that is code, never broken in a file or pipe
MODEL_INPUT = "the model's input"
# a tensor that no earlier module returned and no --input has the shape of (position ids, masks)
MADE_IN_FORWARD = "forward's own code (no earlier module returned it, and no --input has its shape)"
# torch's words when a layer's weights and its input differ in dtype
_DTYPE_MISMATCH = re.compile(
    r"(Input type \(.*\) and (bias|weight) type \(.*\) should be the same"
    r"|expected (m1 and m2|mat1 and mat2|both vectors|input and weight|self and mat2) to have the same dtype"
    r"|expected scalar type \w+ but found \w+"
    r"|Expected tensor for argument #\d+ 'indices' to have one of the following scalar types"
    r"|should be the same dtype|must have the same dtype"
    r"|not implemented for '(Char|Byte|Short|Int|Long|Bool)')"
)


@dataclass(frozen=True)
class Unpacked:
    """A tensor the model's code unpacked into names, as if it were a tuple: Python split it along
    dim 0 (``x, y = pair`` given one tensor)."""

    tensor: int  # id() of the tensor unpacked; in a Trace, its place among the inputs
    shape: tuple[int, ...]
    names: int  # how many names it was unpacked into (at least, for ``x, *rest``)
    where: str  # file:line
    code: str  # the line: "x, y = pair"


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
            where = (
                self.source
                if self.source in (MODEL_INPUT, MADE_IN_FORWARD)
                else f"the output of {self.source}"
            )
            what = "it" if self.argument is None else f"its {self.argument}"
            lines.append(f"  {what} got {shape_text(self.got)}, from {where}")
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
        for fix in self.fixes:
            got = "the tensor" if self.got is None else shape_text(self.got)
            on = fix.on or f"the {got} that arrived"
            verdict = "✓ torch ran it on" if fix.verified else "✗ torch refused it too, on"
            lines.append(f"  fix: {fix.why or fix.change} {verdict} {on}")
            lines += [CODE_INDENT + line for line in (*fix.code, fix.module)]
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
            "argument": self.argument,
            "where": self.where,
            "last_module": self.last,
            "advice": self.advice,
            "operation": self.operation,
            "fixes": [
                {
                    "change": f.change,
                    "module": f.module,
                    "verified": f.verified,
                    "on": f.on,
                    "why": f.why,
                    "code": list(f.code),
                }
                for f in self.fixes
            ],
        }


def constructor(module: nn.Module) -> str:
    """The module's constructor as code, from its extra_repr: ``nn.LSTM(32, 64, batch_first=True)``."""
    from torch import jit, nn

    if isinstance(module, jit.ScriptModule):
        return f"torch.jit.script({getattr(module, 'original_name', 'module')})"
    kind = _user_class(module)
    prefix = "nn." if kind.__module__.startswith("torch.nn") else ""
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
    return f"{prefix}{kind.__name__}({settings})"


def type_name(module: nn.Module) -> str:
    """``nn.LSTM``, the user's class name, or ``ScriptModule(Name)`` for a TorchScript module."""
    from torch import jit

    if isinstance(module, jit.ScriptModule):
        return f"ScriptModule({getattr(module, 'original_name', '?')})"
    kind = _user_class(module)
    name = ("nn." if kind.__module__.startswith("torch.nn") else "") + kind.__name__
    if kind is not type(module):  # torch.nn.utils.parametrize made a class around the user's
        return f"{name} ({', '.join(module.parametrizations.keys())} parametrized)"
    return name


def _user_class(module: nn.Module) -> type:
    """The module's class; for a parametrized module (weight norm, spectral norm, orthogonal),
    the class it was before torch.nn.utils.parametrize wrapped it."""
    from torch.nn.utils import parametrize

    kind = type(module)
    if parametrize.is_parametrized(module) and kind.__name__.startswith("Parametrized") and kind.__bases__:
        return kind.__bases__[0]
    return kind


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
    if isinstance(module, nn.modules.pooling._MaxPoolNd):
        return {
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
            "dilation": module.dilation,
            "return_indices": module.return_indices,
            "ceil_mode": module.ceil_mode,
        }
    if isinstance(module, nn.modules.pooling._AvgPoolNd) and hasattr(module, "count_include_pad"):
        found = {
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
            "ceil_mode": module.ceil_mode,
            "count_include_pad": module.count_include_pad,
        }
        if not isinstance(module, nn.AvgPool1d):
            found["divisor_override"] = module.divisor_override
        return found
    if isinstance(module, nn.Embedding):
        return {
            "num_embeddings": module.num_embeddings,
            "embedding_dim": module.embedding_dim,
            "padding_idx": module.padding_idx,
            "max_norm": module.max_norm,
            "norm_type": module.norm_type,
            "scale_grad_by_freq": module.scale_grad_by_freq,
            "sparse": module.sparse,
        }
    if isinstance(module, nn.EmbeddingBag):
        return {
            "num_embeddings": module.num_embeddings,
            "embedding_dim": module.embedding_dim,
            "max_norm": module.max_norm,
            "norm_type": module.norm_type,
            "scale_grad_by_freq": module.scale_grad_by_freq,
            "mode": module.mode,
            "sparse": module.sparse,
            "include_last_offset": module.include_last_offset,
            "padding_idx": module.padding_idx,
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


def run_rebuilt(module: nn.Module, changes: dict[str, Any], *args: Any) -> tuple[nn.Module, Any]:
    """``module`` built again with ``changes`` (in its own dtype, on the device of what arrived)
    and what it returns for ``args``; torch's refusal propagates."""
    import torch

    arrived = first_tensor(args)
    assert arrived is not None
    weights = next(module.parameters(), None)
    dtype = weights.dtype if weights is not None else arrived.dtype
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        rebuilt = rebuild(module, changes).to(device=arrived.device, dtype=dtype).eval()
        return rebuilt, rebuilt(*args)


def check(module: nn.Module, changes: dict[str, Any], arrived: torch.Tensor, flatten: bool = False) -> Fix:
    """Rebuild ``module`` with ``changes`` and run it on ``arrived``: the fix, verified or not."""
    try:
        rebuilt, _ = run_rebuilt(module, changes, arrived.flatten(1) if flatten else arrived)
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
    kwargs: dict[str, Any] | None = None,
    last: str | None = None,
    given: list[tuple[int, ...]] | None = None,
) -> Diagnosis:
    """``earlier``: (path, output shapes) of every finished call before the failing one, in call
    order; ``earlier_inputs``: path -> (type, input shapes) of those calls; ``last``: the last
    call that finished, as text; ``given``: the shapes of the model's inputs (a shape no earlier
    module returned and no input has was made by forward's own code)."""
    found = _diagnose(module, path, args, error, earlier, earlier_inputs, kwargs, last)
    if found.source == MODEL_INPUT and given is not None and found.got not in given:
        found = replace(found, source=MADE_IN_FORWARD)
    return found


def _diagnose(
    module: nn.Module,
    path: str,
    args: tuple[Any, ...],
    error: BaseException,
    earlier: list[tuple[str, list[tuple[int, ...]]]],
    earlier_inputs: dict[str, tuple[str, list[tuple[int, ...]]]],
    kwargs: dict[str, Any] | None,
    last: str | None,
) -> Diagnosis:
    from torchshape.families.model.load import first_line

    kwargs = kwargs or {}
    base = Diagnosis(
        layer=path,
        type=type_name(module),
        module=constructor(module),
        message=first_line(error),
        expects=expects(module),
        got=None,
        source=None,
        where=user_line(error),
    )
    if list(module.children()):
        # a container's own code raised (a view, a cat): what arrived at it says little; the
        # line of its code and the last module that ran say where
        return replace(base, expects=None, last=last)
    arrived = first_tensor(args)
    if arrived is None:
        return base
    got = tuple(int(d) for d in arrived.shape)
    base = replace(base, got=got, source=source_of(got, earlier))
    if _DTYPE_MISMATCH.search(base.message):
        return _dtype(base, module, arrived)
    for kind in (_hidden_state, _index_range, _kernel_too_large):
        found = kind(base, module, args, kwargs, earlier)
        if found is not None:
            return found
    return _input_width(base, module, arrived, earlier_inputs)


def _input_width(
    base: Diagnosis,
    module: nn.Module,
    arrived: torch.Tensor,
    earlier_inputs: dict[str, tuple[str, list[tuple[int, ...]]]],
) -> Diagnosis:
    """The input's feature size against input_size, in_features or in_channels."""
    from torch import nn

    fixes: list[Fix] = []
    detail = None
    if arguments(module) is None:
        return base
    for change, changes in proposals(module, arrived):
        fix = check(module, changes, arrived)
        fixes.append(Fix(change, fix.module, fix.verified))
    if isinstance(module, nn.Linear) and base.got is not None:
        detail, flat = _product(base.got, base.source, earlier_inputs)
        if flat is not None and flat != module.in_features and arrived.dim() >= 3:
            fix = check(module, {"in_features": flat}, arrived, flatten=True)
            fixes.append(Fix(f"flatten(1) first, in_features={flat}", fix.module, fix.verified))
    return replace(base, fixes=tuple(fixes), detail=detail)


def _hidden_state(
    base: Diagnosis,
    module: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    earlier: list[tuple[str, list[tuple[int, ...]]]],
) -> Diagnosis | None:
    """A recurrent layer given an initial state of the wrong shape: most often a bidirectional
    encoder's h_n handed to a one-direction decoder. The fixes are the hand-off as code."""
    import torch
    from torch import nn

    if not isinstance(module, nn.RNNBase):
        return None
    x = args[0]
    state = args[1] if len(args) > 1 else kwargs.get("hx")
    if state is None or not isinstance(x, torch.Tensor) or x.dim() not in (2, 3):
        return None
    lstm = isinstance(module, nn.LSTM)
    h = state[0] if lstm else state
    c = state[1] if lstm else None
    directions = 2 if module.bidirectional else 1
    rows = directions * module.num_layers
    h_out = module.proj_size if lstm and module.proj_size > 0 else module.hidden_size
    batched = x.dim() == 3
    n = int(x.shape[0 if module.batch_first else 1]) if batched else None
    want_h = (rows, n, h_out) if n is not None else (rows, h_out)
    want_c = (rows, n, module.hidden_size) if n is not None else (rows, module.hidden_size)
    got_h = tuple(int(d) for d in h.shape)
    got_c = None if c is None else tuple(int(d) for d in c.shape)
    if got_h == want_h and (c is None or got_c == want_c):
        return None
    shape = "(D·num_layers, N, {})" if batched else "(D·num_layers, {})"
    numbers = (
        f"({directions}·{module.num_layers}, {n}, {{}})"
        if batched
        else f"({directions}·{module.num_layers}, {{}})"
    )
    need = f"h_0 = {shape.format('H_out')} = {numbers.format(h_out)} = {shape_text(want_h)}"
    if lstm:
        need += f", c_0 = {shape.format('H_cell')} = {shape_text(want_c)}"
    fixes: list[Fix] = []
    detail = None
    if batched and directions == 1 and len(got_h) == 3 and got_h[0] % 2 == 0 and got_h[1] == n:
        layers, width = got_h[0] // 2, got_h[2]
        detail = (
            f"{shape_text(got_h)} is what a bidirectional encoder of {layers} layer"
            f"{'s' if layers > 1 else ''} returns as h_n: 2·num_layers = {got_h[0]} rows, "
            "forward and backward of each layer (h_n[2·layer], h_n[2·layer + 1])"
        )
        if layers >= module.num_layers:
            top = "" if layers == module.num_layers else f"[-{module.num_layers}:]"

            def hand_off(tensor: torch.Tensor, how: str) -> torch.Tensor:
                parts = tensor.view(layers, 2, tensor.shape[1], tensor.shape[2])
                joined = parts.mean(dim=1) if how == "mean" else torch.cat((parts[:, 0], parts[:, 1]), dim=-1)
                return joined[layers - module.num_layers :]

            def run_with(changes: dict[str, Any] | None, how: str) -> bool:
                """The layer itself (None), or built again with ``changes``, on the input and
                the state handed off ``how``: does torch run it?"""
                given = (hand_off(h, how), hand_off(c, how)) if c is not None else hand_off(h, how)
                try:
                    if changes is None:
                        with torch.no_grad():
                            module(x, given)
                    else:
                        run_rebuilt(module, changes, x, given)
                except Exception:
                    return False
                return True

            on = "the input and the state that arrived"
            h_view = f"h_n.view({layers}, 2, {n}, {width})"
            c_view = None if got_c is None else f"c_n.view({layers}, 2, {n}, {got_c[2]})"
            if width == h_out and (c is None or got_c == (got_h[0], n, module.hidden_size)):
                code = [f"h_0 = {h_view}.mean(dim=1){top}"]
                if c_view is not None:
                    code.append(f"c_0 = {c_view}.mean(dim=1){top}")
                fixes.append(
                    Fix(
                        code[0],
                        constructor(module),
                        run_with(None, "mean"),
                        on,
                        why="the mean of the two directions",
                        code=tuple(code),
                    )
                )
            found = arguments(module)
            if found is not None and not (lstm and module.proj_size > 0):
                try:
                    wider = rebuild(module, {"hidden_size": 2 * width})
                except Exception:
                    wider = None
                if wider is not None:
                    code = [f"h_v = {h_view}", f"h_0 = torch.cat((h_v[:, 0], h_v[:, 1]), dim=-1){top}"]
                    if c_view is not None:
                        code += [f"c_v = {c_view}", f"c_0 = torch.cat((c_v[:, 0], c_v[:, 1]), dim=-1){top}"]
                    fixes.append(
                        Fix(
                            f"hidden_size={2 * width}",
                            constructor(wider),
                            run_with({"hidden_size": 2 * width}, "cat"),
                            on,
                            why=f"the two directions side by side, hidden_size={2 * width} (the layers "
                            f"after it then take {2 * width} features)",
                            code=tuple(code),
                        )
                    )
    return replace(
        base,
        expects=need,
        got=got_h,
        argument="h_0",
        source=source_of(got_h, earlier),
        fixes=tuple(fixes),
        detail=detail,
    )


def _dtype(base: Diagnosis, module: nn.Module, arrived: torch.Tensor) -> Diagnosis:
    """The input's dtype is not the one the layer computes in: the shape is not the cause."""
    import torch
    from torch import nn

    got = str(arrived.dtype).removeprefix("torch.")
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        want = "integer indices (int64 or int32)"
        shape = ",".join(str(d) for d in base.got or ())
        change = f"--input {shape}:int64" if base.source == MODEL_INPUT else "indices.long() before it"
    else:
        weight = next(iter(module.parameters()), None)
        dtype = str(weight.dtype if weight is not None else torch.get_default_dtype()).removeprefix("torch.")
        want = f"an input of its weights' dtype, {dtype}"
        shape = ",".join(str(d) for d in base.got or ())
        change = (
            f"--input {shape}:{dtype}" if base.source == MODEL_INPUT else f"x.to(torch.{dtype}) before it"
        )
    return replace(
        base,
        expects=want,
        detail=f"the shape is not the cause: the {shape_text(base.got or ())} that arrived holds {got}",
        advice=f"fix: the dtype: {change}",
        fixes=(),
    )


def _index_range(
    base: Diagnosis,
    module: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    earlier: list[tuple[str, list[tuple[int, ...]]]],
) -> Diagnosis | None:
    """An embedding given an index outside 0 ≤ index < num_embeddings."""
    from torch import nn

    if not isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return None
    indices = args[0]
    if (
        indices.is_floating_point()
        or indices.is_complex()
        or indices.device.type == "meta"
        or indices.numel() == 0
    ):
        return None
    low, high = int(indices.min()), int(indices.max())
    count = module.num_embeddings
    if low >= 0 and high < count:
        return None
    outside = int(((indices < 0) | (indices >= count)).sum())
    detail = (
        f"the indices that arrived run from {low} to {high}: {outside} of {indices.numel()} are outside "
        f"0 ≤ index < {count}"
    )
    fixes: list[Fix] = []
    if low >= 0:
        fix = check(module, {"num_embeddings": high + 1}, indices)
        fixes.append(Fix(f"num_embeddings={high + 1}", fix.module, fix.verified))
    return replace(
        base,
        expects=f"0 ≤ index < num_embeddings = {count}",
        fixes=tuple(fixes),
        detail=detail,
    )


def _kernel_too_large(
    base: Diagnosis,
    module: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    earlier: list[tuple[str, list[tuple[int, ...]]]],
) -> Diagnosis | None:
    """A convolution or pool whose window does not fit in the padded input on some axis."""
    from torch import nn

    conv = isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d))
    pool = isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd))
    if not (conv or pool) or arguments(module) is None:
        return None
    arrived = first_tensor(args)
    dims = spatial_dims(module)
    if arrived is None:
        return None
    if arrived.dim() not in (dims + 1, dims + 2):
        return None
    size = [int(d) for d in arrived.shape[-dims:]]
    kernel = _axes(module.kernel_size, dims)
    padding_value = getattr(module, "padding", 0)
    if isinstance(padding_value, str):
        if padding_value == "same":
            return None
        padding_value = 0
    padding = _axes(padding_value, dims)
    dilation = _axes(getattr(module, "dilation", 1), dims)
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
        fix = check(module, {name: value[0] if same else value}, arrived)
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


def _axes(value: Any, dims: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * dims


# What torch says when code reads the values of a meta tensor, and what that code did.
_READS_VALUES = (
    ("Tensor.item() cannot be called on meta tensors", "reads a tensor's value (.item(), bool(), int(), if)"),
    ("Cannot copy out of meta tensor", "copies a tensor's values out (.tolist(), .cpu(), .numpy())"),
    ("torch.nonzero()", "asks where a tensor is nonzero (torch.nonzero, a boolean mask index)"),
    ("cannot repeat_interleave a meta tensor", "repeats by a tensor's values (repeat_interleave)"),
    ("'lengths' argument should be a 1D CPU int64 tensor", "packs sequences by lengths computed in forward"),
)
_NO_META_KERNEL = re.compile(r"(aten::\w+): attempted to run this operator with Meta tensors")


def reads_values(message: str) -> str | None:
    """What the model's code did, where ``message`` is torch's refusal to read a meta tensor's
    values (which meta tensors do not have); None for any other error."""
    for text, what in _READS_VALUES:
        if text in message:
            return what
    found = _NO_META_KERNEL.search(message)
    if found:
        return f"calls {found[1]}, whose output's shape depends on the values"
    return None


def meta_advice(what: str) -> str:
    """The way out when a model reads values on meta."""
    return (
        f"fix: the model {what}, and meta tensors hold no values: run it with --device cpu "
        "(torchshape refuses first what would not fit in memory)"
    )


def unpacked_split(unpacked: Unpacked) -> str:
    """What Python did with an input tensor that forward unpacked as if it were a tuple."""
    pieces = unpacked.shape[0] if unpacked.shape else 0
    each = shape_text(unpacked.shape[1:])
    wanted = "" if pieces == unpacked.names else f" where {unpacked.names} were wanted"
    return (
        f"forward unpacks its input {shape_text(unpacked.shape)} as if it were a tuple, at "
        f"{unpacked.where} ({unpacked.code}): Python split it along dim 0 into {pieces} tensors "
        f"of {each}{wanted}"
    )


def tuple_way(unpacked: Unpacked) -> str:
    """How to give forward a tuple: a wrapper whose forward takes the names the model unpacks."""
    names, equals, _ = unpacked.code.partition("=")
    names = names.strip().strip("()[]").strip()
    if equals and names and all(n.strip().lstrip("*").isidentifier() for n in names.split(",") if n.strip()):
        shown = ", ".join(n.strip().lstrip("*") for n in names.split(",") if n.strip())
        wrapper = f"a module whose forward({shown}) calls the model with ({shown})"
    else:
        wrapper = "a module whose forward takes the tensors and calls the model with them as a tuple"
    return f"torchshape gives forward one tensor per --input: wrap the model in {wrapper}, one --input each"


def unpacked_advice(unpacked: Unpacked) -> str:
    """The diagnosis's way out when forward raised after unpacking an input tensor: the cause is
    the argument's structure (a tuple), not the layer that raised; no fix of that layer."""
    return f"the cause: {unpacked_split(unpacked)}; {tuple_way(unpacked)}"


def unpacked_usage(unpacked: Unpacked, given: str, forward: str, failure: str | None) -> str:
    """The usage error when forward unpacked an --input tensor as a tuple and then raised."""
    pieces = unpacked.shape[0] if unpacked.shape else 0
    wanted = "" if pieces == unpacked.names else f" where {unpacked.names} were wanted"
    then = "" if failure is None else f", and then {failure}"
    return (
        f"{given} is one tensor, and {forward} unpacks it as if it were a tuple, at {unpacked.where} "
        f"({unpacked.code}): Python split {shape_text(unpacked.shape)} along dim 0 into {pieces} "
        f"tensors of {shape_text(unpacked.shape[1:])}{wanted}{then}; {tuple_way(unpacked)}"
    )


def user_line(error: BaseException) -> str | None:
    """The last line of the model's own code in the traceback: outside torch and torchshape."""
    import os
    import traceback

    import torch

    import torchshape

    skip = tuple(
        os.path.dirname(os.path.abspath(package.__file__ or "")) + os.sep for package in (torch, torchshape)
    )
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not os.path.abspath(frame.filename).startswith(skip) and not frame.filename.startswith("<")
    ]
    if not frames:
        return None
    frame = frames[-1]
    name = os.path.abspath(frame.filename)
    try:
        shown = os.path.relpath(name)
    except ValueError:  # another drive
        shown = name
    if shown.startswith(".."):
        shown = name
    code = (frame.line or "").strip()
    return f"{shown}:{frame.lineno} in {frame.name}" + (f": {code}" if code else "")


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
