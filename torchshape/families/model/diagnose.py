"""When the model's forward raises: which layer, what it requires of its input, what arrived,
which earlier row produced it, and fixes that torch has checked.

A fix is checked by rebuilding that one layer with the changed argument and running it on the
tensor that actually arrived; it is marked verified only when torch accepts it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from torchshape import families
from torchshape.contain import message
from torchshape.families.diagnosis import (
    MADE_IN_FORWARD,
    MODEL_INPUT,
    Diagnosis,
    Earlier,
    Fix,
    check,
    constructor,
    first_tensor,
    source_of,
    type_name,
)
from torchshape.shapes import shape_text

if TYPE_CHECKING:
    import torch
    from torch import nn

    from torchshape.families.contract import LayerAdapter

# path -> (type, input shapes) of each finished call
Inputs = dict[str, tuple[str, list[tuple[int, ...]]]]
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


def _adapter(module: nn.Module) -> LayerAdapter | None:
    """The adapter of the family that claims ``module``'s class (whatever its forward)."""
    return families.claim(module, any_forward=True)


def expects(module: nn.Module) -> str | None:
    """What the layer requires of its input, as its formula: symbol = constructor argument = value."""
    from torch import nn

    if isinstance(module, nn.Linear):
        return f"H_in = in_features = {module.in_features}"
    adapter = _adapter(module)
    return None if adapter is None else adapter.expects(module)


def arguments(module: nn.Module) -> dict[str, Any] | None:
    """The constructor arguments that rebuild ``module``; None for layers torchshape cannot rebuild."""
    from torch import nn

    if isinstance(module, nn.Linear):
        bias = module.bias is not None
        return {"in_features": module.in_features, "out_features": module.out_features, "bias": bias}
    adapter = _adapter(module)
    return None if adapter is None else adapter.arguments(module)


def proposals(module: nn.Module, arrived: torch.Tensor) -> list[tuple[str, dict[str, Any]]]:
    """The changed constructor arguments to try: (the change as text, the arguments changed)."""
    from torch import nn

    if arrived.dim() == 0:
        return []
    if isinstance(module, nn.Linear):
        last = int(arrived.shape[-1])
        return [(f"in_features={last}", {"in_features": last})] if last != module.in_features else []
    adapter = _adapter(module)
    return (None if adapter is None else adapter.proposals(module, arrived)) or []


def diagnose(
    module: nn.Module,
    path: str,
    args: tuple[Any, ...],
    error: BaseException,
    earlier: Earlier,
    earlier_inputs: Inputs,
    kwargs: dict[str, Any] | None = None,
    last: str | None = None,
    given: list[tuple[int, ...]] | None = None,
) -> Diagnosis:
    """``earlier``: (path, output shapes) of every finished call before the failing one, in call
    order; ``earlier_inputs``: path -> (type, input shapes) of those calls; ``last``: the last
    call that finished, as text; ``given``: the shapes of the model's inputs (a shape no earlier
    module returned and no input has was made by forward's own code)."""
    base = Diagnosis(
        layer=path,
        type=type_name(module),
        module=constructor(module),
        message=message(error),
        expects=expects(module),
        got=None,
        source=None,
        where=user_line(error),
    )
    found = _diagnose(base, module, args, kwargs or {}, earlier, earlier_inputs, last)
    if found.source == MODEL_INPUT and given is not None and found.got not in given:
        found = replace(found, source=MADE_IN_FORWARD)
    return found


def _diagnose(
    base: Diagnosis,
    module: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    earlier: Earlier,
    inputs: Inputs,
    last: str | None,
) -> Diagnosis:
    """The diagnosis of a failed call, from ``base`` (its layer, message and what it expects)."""
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
    adapter = _adapter(module)
    found = None if adapter is None else adapter.diagnose(base, module, args, kwargs, earlier)
    if found is not None:  # the family's own: a recurrent state, an index, a window too large
        return found
    return _input_width(base, module, arrived, inputs)


def _input_width(
    base: Diagnosis,
    module: nn.Module,
    arrived: torch.Tensor,
    earlier_inputs: Inputs,
) -> Diagnosis:
    """The input's feature size against input_size, in_features or in_channels."""
    from torch import nn

    fixes: list[Fix] = []
    detail = None
    if arguments(module) is None:
        return base
    for change, changes in proposals(module, arrived):
        fix = check(module, arguments(module), changes, arrived)
        fixes.append(Fix(change, fix.module, fix.verified))
    if isinstance(module, nn.Linear) and base.got is not None:
        detail, flat = _product(base.got, base.source, earlier_inputs)
        if flat is not None and flat != module.in_features and arrived.dim() >= 3:
            fix = check(module, arguments(module), {"in_features": flat}, arrived, flatten=True)
            fixes.append(Fix(f"flatten(1) first, in_features={flat}", fix.module, fix.verified))
    return replace(base, fixes=tuple(fixes), detail=detail)


def _dtype(base: Diagnosis, module: nn.Module, arrived: torch.Tensor) -> Diagnosis:
    """The input's dtype is not the one the layer computes in: the shape is not the cause."""
    import torch
    from torch import nn

    got = str(arrived.dtype).removeprefix("torch.")
    shape = ",".join(str(d) for d in base.got or ())
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        want = "integer indices (int64 or int32)"
        change = f"--input {shape}:int64" if base.source == MODEL_INPUT else "indices.long() before it"
    else:
        weight = next(iter(module.parameters()), None)
        dtype = str(weight.dtype if weight is not None else torch.get_default_dtype()).removeprefix("torch.")
        want = f"an input of its weights' dtype, {dtype}"
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
    code = (frame.line or "").strip()
    return f"{shown_file(frame.filename)}:{frame.lineno} in {frame.name}" + (f": {code}" if code else "")


def shown_file(filename: str) -> str:
    """A file as a message names it: relative to the current directory when inside it, else whole."""
    import os

    name = os.path.abspath(filename)
    try:
        shown = os.path.relpath(name)
    except ValueError:  # another drive
        return name
    return name if shown.startswith("..") else shown


def _product(
    got: tuple[int, ...], source: str | None, earlier_inputs: Inputs
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
    total = math.prod(dims)
    symbols = names.get(len(dims), [f"d{i}" for i in range(len(dims))])
    return f"{where}: {'·'.join(symbols)} = {'·'.join(str(d) for d in dims)} = {total} features", total
