"""Tracing the user's model: a forward pre-hook on every module notes the call in call order; a
forward hook fills in what it returned. The forward pass runs in eval mode with autograd on, so
that layers with a fused inference path (nn.TransformerEncoderLayer) still call their children.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from torchshape.families.diagnosis import Diagnosis, constructor, type_name
from torchshape.families.model.diagnose import (
    Unpacked,
    meta_advice,
    reads_values,
    tuple_way,
    unpacked_advice,
    unpacked_split,
)
from torchshape.families.model.known import Known, is_recurrent, known
from torchshape.families.model.names import name_inputs, name_outputs
from torchshape.families.model.records import (
    failure,
    fed_by,
    formula_macs,
    inclusive_macs,
    inside_suspended,
    nbytes,
    shape_of,
    suspicions,
    with_ops,
)
from torchshape.families.model.suspect import Suspicion
from torchshape.families.model.trace import LayerCall, Output, Trace

if TYPE_CHECKING:
    from torch import nn

    from torchshape.families.model.op_calls import OpCall


def trace_module(
    model: nn.Module,
    inputs: tuple[Any, ...],
    answered: dict[int, bool] | None = None,
    keywords: dict[str, Any] | None = None,
    *,
    grad: bool = False,
) -> Trace:
    """Run ``model(*inputs)`` with hooks on every module; every call, in call order.

    Under ``torch.no_grad()`` unless ``grad`` (autograd on, as for training: what backward needs is
    kept). Every operation's MACs and the tensors alive at once are followed below the modules
    (``ops.OpCounter``). When forward raises: the calls up to the one that raised (marked
    failed), and the diagnosis. ``answered``: id(module) -> whether its formulas held at small
    sizes, for the recurrent layers that a formula answered on meta (``meta.recurrent_stand_ins``).
    """
    import torch

    from torchshape.families.model.op_calls import OpRecorder, warm_up
    from torchshape.families.model.ops import OpCounter, PlainLinear

    keywords = keywords or {}
    fed = [*inputs, *keywords.values()]  # forward's inputs, positional then keywords
    materialize_lazy(model, inputs, keywords)
    warm_up(meta=_on_meta_device(model, inputs))

    paths = {id(module): path for path, module in model.named_modules()}  # each module once, first path
    records: list[dict[str, Any]] = []
    stack: list[int] = []
    finished: list[int] = []  # record indices, in the order their calls returned
    leaves = [0]  # bytes of every leaf layer's outputs, all calls
    counter = OpCounter()
    counter.owner = lambda: stack[-1] if stack else -1
    clock = itertools.count()
    recorder = OpRecorder(
        counter.owner,
        lambda: next(clock),
        lambda: bool(stack) and type(records[stack[-1]]["module"]).__module__.startswith("torch.nn.modules."),
    )
    shadow = partial(_shadow, given={id(t) for t in fed})

    def before(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        parent = stack[-1] if stack else -1
        stack.append(len(records))
        named = name_inputs(args, kwargs)
        formula_counts = is_recurrent(module)  # its fused kernels hide the products: the formula counts
        counter.suspended += formula_counts
        records.append(
            {
                "seq": next(clock),
                "module": module,
                "args": args,
                "kwargs": kwargs,
                "inputs": named,
                "outputs": None,
                "parent": parent,
                "suspends": formula_counts,
            }
        )

    def after(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        index = stack.pop()
        finished.append(index)
        counter.suspended -= records[index]["suspends"]
        named = name_outputs(module, out)
        if next(module.children(), None) is None:
            leaves[0] += nbytes(tensor for _, tensor in named)
        record = records[index]
        with counter.paused():
            # what the formulas say, read now; then the record keeps only the shapes, so that the
            # trace holds no tensor the model itself has let go (the memory is the model's)
            record["known"] = known(module, args, kwargs)
            record["outputs"] = [(name, shadow(tensor)) for name, tensor in named]
            record["inputs"] = [(name, shadow(tensor)) for name, tensor in record["inputs"]]
            record["args"], record["kwargs"] = shadow(args), shadow(kwargs)

    handles = []
    with _script_leaves(model, paths) as (root, hooked):
        for module in hooked:
            handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
            handles.append(module.register_forward_hook(after, with_kwargs=True))
        error: BaseException | None = None
        try:
            with _forward_mode(grad), counter, PlainLinear(counter), recorder:
                root(*inputs, **keywords)
        except Exception as exc:
            error = exc
        finally:
            for handle in handles:
                handle.remove()
    for record in records:  # a TorchScript module's row is the module itself, not its wrapper
        if isinstance(record["module"], _ScriptLeaf):
            record["module"] = record["module"].scripted
    failed_index = stack[-1] if error is not None and stack else -1
    failing = records[failed_index]["module"] if failed_index >= 0 else model
    diagnosis = (
        None
        if error is None
        else failure(failing, paths.get(id(failing), ""), records, failed_index, error, paths, finished)
    )
    unpacked = _unpacked(recorder.unpacked, fed)
    diagnosis = _reworded(diagnosis, recorder.failed, _on_meta_device(model, inputs), unpacked)
    found_all = [record.get("known") for record in records]
    inclusive = inclusive_macs(records, counter.by_call, found_all)
    formulas_macs = formula_macs(records, found_all, counter.uncounted_in)
    warnings = suspicions(records, inputs, paths)
    if diagnosis is None:
        warnings += [
            Suspicion(
                "", type_name(model), unpacked_split(one), f"if forward takes a tuple: {tuple_way(one)}", True
            )
            for one in unpacked
        ]
    macs = counter.macs + sum(  # the recurrent layers' fused kernels hide the products: their formulas count
        (found.macs if found is not None else None) or 0
        for index, found in enumerate(found_all)
        if records[index]["suspends"] and not inside_suspended(records, index)
    )
    calls = [
        _layer_call(
            record,
            found_all[index],
            paths,
            (answered or {}).get(id(record["module"])),
            (inclusive[index], formulas_macs[index]),
            failed=index == failed_index,
        )
        for index, record in enumerate(records)
    ]
    calls = with_ops(calls, records, recorder.calls)
    parameters = list(model.parameters())
    return Trace(
        layers=tuple(calls),
        params=sum(p.numel() for p in parameters),
        trainable=sum(p.numel() for p in parameters if p.requires_grad),
        param_bytes=nbytes(parameters),
        leaf_output_bytes=leaves[0],
        macs=macs,
        input_bytes=nbytes(t for t in fed if isinstance(t, torch.Tensor)),
        output_bytes=nbytes(t for _, t in records[0]["outputs"] or []) if records else 0,
        buffer_bytes=nbytes(model.buffers()),
        activation_peak_bytes=counter.peak,
        grad=grad,
        uncounted=tuple(sorted(counter.uncounted.items())),
        feeds=fed_by(records, fed),
        error=None if diagnosis is None else diagnosis.message,
        diagnosis=diagnosis,
        warnings=tuple(warnings),
        unpacked=tuple(unpacked),
    )


def _shadow(value: Any, given: set[int]) -> Any:
    """``value`` with every tensor but the model's inputs (ids in ``given``) as an empty meta tensor
    of its shape."""
    import torch
    from torch.nn.utils.rnn import PackedSequence

    if isinstance(value, torch.Tensor):
        if id(value) in given:
            return value
        return torch.empty(value.shape, dtype=value.dtype, device="meta")
    if isinstance(value, PackedSequence):
        return value._replace(data=_shadow(value.data, given))
    if isinstance(value, (tuple, list)) and not hasattr(value, "_fields"):
        return type(value)(_shadow(v, given) for v in value)
    if isinstance(value, dict):
        return {k: _shadow(v, given) for k, v in value.items()}
    return value


def _unpacked(seen: list[Unpacked], fed: list[Any]) -> list[Unpacked]:
    """The model's input tensors that forward unpacked as a tuple (the argument's structure), each
    once, named by its place among ``fed``."""
    places = {id(t): place for place, t in enumerate(fed)}
    unpacked: list[Unpacked] = []
    for one in seen:
        place = places.get(one.tensor)
        if place is not None and all(u.tensor != place for u in unpacked):
            unpacked.append(replace(one, tensor=place))
    return unpacked


def _reworded(
    diagnosis: Diagnosis | None, failed_op: OpCall | None, meta: bool, unpacked: list[Unpacked]
) -> Diagnosis | None:
    """The diagnosis of the layer that raised, with the operation the recorder saw fail, what a
    tensor on meta could not give, or the input unpacked as a tuple (the cause: no fix of it)."""
    if diagnosis is None:
        return None
    if failed_op is not None and failed_op.message == diagnosis.message:
        diagnosis = replace(diagnosis, operation=failed_op.call)
    what = reads_values(diagnosis.message) if meta else None
    if what is not None:
        diagnosis = replace(diagnosis, advice=meta_advice(what), fixes=(), reads_values=what)
    if unpacked:  # the cause, whatever layer raised after: no fix of it
        diagnosis = replace(diagnosis, fixes=(), advice=unpacked_advice(unpacked[0]), reads_values=None)
    return diagnosis


def _layer_call(
    record: dict[str, Any],
    found: Known | None,
    paths: dict[int, str],
    small_run: bool | None,
    macs: tuple[int | None, int | None],
    *,
    failed: bool,
) -> LayerCall:
    """One call's row, from its record, what the formulas said (``found``) and its MACs: counted,
    and by its family's formula."""
    module = record["module"]
    path = paths.get(id(module), "?")
    known_outputs = found.outputs if found is not None else ()
    formulas: dict[str, tuple[str | None, tuple[int, ...] | None]] = {
        o.name: (o.formula, o.expected) for o in known_outputs
    }
    outputs = [
        Output(name, shape_of(tensor), *formulas.get(name, (None, None)), small_run=small_run)
        for name, tensor in record["outputs"] or []
    ]
    return LayerCall(
        path=path,
        type=type_name(module),
        module=constructor(module),
        depth=0 if not path else path.count(".") + 1,
        inputs=tuple((name, shape_of(t)) for name, t in record["inputs"]),
        outputs=tuple(outputs),
        params=sum(p.numel() for p in module.parameters()),
        macs=macs[0],
        failed=failed,
        macs_formula=macs[1],
    )


class _ScriptLeaf:
    """Stands where a TorchScript module was, for the trace: TorchScript takes no hooks, so the
    wrapper takes them and the module runs as one leaf (its operations still counted)."""

    scripted: Any


@contextmanager
def _script_leaves(model: nn.Module, paths: dict[int, str]) -> Iterator[tuple[nn.Module, list[nn.Module]]]:
    """The module to call and the modules to hook: every TorchScript module (and the model, if
    it is one) swapped for a plain wrapper while inside, its children left unhooked; the modules
    that compute a parametrized weight (weight norm) left unhooked too."""
    from torch import jit, nn

    class Leaf(nn.Module, _ScriptLeaf):  # type: ignore[misc]
        def __init__(self, scripted: nn.Module) -> None:
            super().__init__()
            object.__setattr__(self, "scripted", scripted)  # not a child: named_modules stays the user's

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self.scripted(*args, **kwargs)

    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    hooked: list[nn.Module] = []
    root = model
    if isinstance(model, jit.ScriptModule):
        root = Leaf(model)
        paths[id(root)] = ""
        hooked.append(root)
    else:
        inside: list[str] = []
        for path, module in model.named_modules():
            if any(path.startswith(prefix + ".") for prefix in inside):
                continue
            if "parametrizations" in path.split("."):
                continue  # how a parametrized weight is computed: seen through, its layer's row stands
            if isinstance(module, jit.ScriptModule):
                inside.append(path)
                parent_path, _, name = path.rpartition(".")
                parent = model.get_submodule(parent_path)
                leaf = Leaf(module)
                paths[id(leaf)] = path
                swapped.append((parent, name, module))
                hooked.append(leaf)
                parent._modules[name] = leaf
            else:
                hooked.append(module)
    try:
        yield root, hooked
    finally:
        for parent, name, module in swapped:
            parent._modules[name] = module


def _on_meta_device(model: nn.Module, inputs: tuple[Any, ...]) -> bool:
    import torch

    first = next(iter(model.parameters()), None)
    if first is None:
        first = next((t for t in inputs if isinstance(t, torch.Tensor)), None)
    return first is not None and first.device.type == "meta"


def materialize_lazy(
    model: nn.Module, inputs: tuple[Any, ...], keywords: dict[str, Any] | None = None
) -> None:
    """A model with lazy layers (``nn.LazyLinear``, ``nn.LazyConv2d``, ...) learns their sizes on its
    first forward, as torch's docs ask ("call forward with a dummy batch"): it runs once here,
    silenced and without autograd, so that its parameters exist before they are counted and the
    traced forward sees the layers they become. A forward that fails leaves them lazy; the traced
    run then says why."""
    import torch
    from torch.nn.parameter import is_lazy

    from torchshape.contain import silenced
    from torchshape.quiet import quiet

    if not any(is_lazy(t) for t in (*model.parameters(), *model.buffers())):
        return
    with silenced(), quiet(), torch.no_grad(), suppress(Exception):
        model(*inputs, **(keywords or {}))


@contextmanager
def _forward_mode(grad: bool) -> Iterator[None]:
    """Autograd off (``torch.no_grad``), or on with ``grad``; either way without the fused inference path
    of nn.MultiheadAttention and nn.TransformerEncoderLayer, so that their children run (and are
    traced and counted) as they do in training."""
    import torch

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        # no_grad rather than inference mode: torch's composite operations (conv2d, linear,
        # einsum) still break down into the ones the counter knows, as with autograd on
        with torch.inference_mode(False), torch.set_grad_enabled(grad):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
