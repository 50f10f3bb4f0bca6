"""The torch side: build the user's model, feed it, and record every module call with hooks.

A forward pre-hook on every module notes the call in call order; a forward hook fills in what
it returned. The forward pass runs in eval mode with autograd on, so that layers with a fused
inference path (nn.TransformerEncoderLayer) still call their children.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.contain import silenced
from torchshape.errors import UsageError
from torchshape.families.diagnosis import Diagnosis, constructor, spatial_dims, type_name
from torchshape.families.model.diagnose import (
    Unpacked,
    diagnose,
    meta_advice,
    reads_values,
    tuple_way,
    unpacked_advice,
    unpacked_split,
    unpacked_usage,
)
from torchshape.families.model.known import is_recurrent, known
from torchshape.families.model.load import ModelFailed, build_model, import_target
from torchshape.families.model.names import name_inputs, name_outputs
from torchshape.families.model.spec import DEFAULT_INTEGER_HIGH, InputSpec, ModelSpec, Symbols, input_names
from torchshape.families.model.suspect import Suspicion, sequence_first
from torchshape.families.model.trace import LayerCall, Output, Trace
from torchshape.measure import Measure
from torchshape.options import SEED
from torchshape.probe import ProbeRun, resolve_device
from torchshape.quiet import quiet
from torchshape.shapes import shape_text as _shape_text

if TYPE_CHECKING:
    import torch
    from torch import nn


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


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
    from torch.nn.utils.rnn import PackedSequence

    from torchshape.families.model.ops import OpCounter, OpRecorder, PlainLinear, warm_up

    warm_up(meta=_on_meta_device(model, inputs))

    paths: dict[int, str] = {}
    for path, module in model.named_modules():
        paths.setdefault(id(module), path)
    records: list[dict[str, Any]] = []
    stack: list[int] = []
    finished: list[int] = []  # record indices, in the order their calls returned
    largest = [0]
    leaves = [0]  # bytes of every leaf layer's outputs, all calls
    counter = OpCounter()
    counter.owner = lambda: stack[-1] if stack else -1
    clock = itertools.count()
    recorder = OpRecorder(
        counter.owner,
        lambda: next(clock),
        lambda: bool(stack) and type(records[stack[-1]]["module"]).__module__.startswith("torch.nn.modules."),
    )
    given = {id(t) for t in (*inputs, *(keywords or {}).values())}

    def shadow(value: Any) -> Any:
        """``value`` with every tensor but the model's inputs as an empty meta tensor of its shape."""
        if isinstance(value, torch.Tensor):
            if id(value) in given:
                return value
            return torch.empty(value.shape, dtype=value.dtype, device="meta")
        if isinstance(value, PackedSequence):
            return value._replace(data=shadow(value.data))
        if isinstance(value, (tuple, list)) and not hasattr(value, "_fields"):
            return type(value)(shadow(v) for v in value)
        if isinstance(value, dict):
            return {k: shadow(v) for k, v in value.items()}
        return value

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
        for _, tensor in named:
            largest[0] = max(largest[0], tensor.numel() * tensor.element_size())
            if next(module.children(), None) is None:
                leaves[0] += tensor.numel() * tensor.element_size()
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
                root(*inputs, **(keywords or {}))
        except Exception as exc:
            error = exc
        finally:
            for handle in handles:
                handle.remove()
    for record in records:  # a TorchScript module's row is the module itself, not its wrapper
        if isinstance(record["module"], _ScriptLeaf):
            record["module"] = record["module"].scripted
    diagnosis = None
    failed_index = -1
    if error is not None:
        failed_index = stack[-1] if stack else -1
        failing = records[failed_index]["module"] if stack else model
        where = paths.get(id(failing), "")
        diagnosis = _diagnose(failing, where, records, failed_index, error, paths, finished)
        if recorder.failed is not None and recorder.failed.message == diagnosis.message:
            op = recorder.failed
            diagnosis = replace(diagnosis, operation=op.call)
        what = reads_values(diagnosis.message) if _on_meta_device(model, inputs) else None
        if what is not None:
            diagnosis = replace(diagnosis, advice=meta_advice(what), fixes=(), reads_values=what)
    places = {id(t): place for place, t in enumerate((*inputs, *(keywords or {}).values()))}
    unpacked: list[Unpacked] = []
    for one in recorder.unpacked:  # an input tensor unpacked as a tuple: the argument's structure
        place = places.get(one.tensor)
        if place is not None and all(u.tensor != place for u in unpacked):
            unpacked.append(replace(one, tensor=place))
    if diagnosis is not None and unpacked:  # the cause, whatever layer raised after: no fix of it
        diagnosis = replace(diagnosis, fixes=(), advice=unpacked_advice(unpacked[0]), reads_values=None)

    found_all = [record.get("known") for record in records]
    inclusive = _inclusive_macs(records, counter.by_call, found_all)
    formulas_macs = _formula_macs(records, found_all, counter.uncounted_in)
    calls = []
    macs = counter.macs
    warnings = _suspicions(records, inputs, paths)
    if diagnosis is None:
        warnings += [
            Suspicion(
                "", type_name(model), unpacked_split(one), f"if forward takes a tuple: {tuple_way(one)}", True
            )
            for one in unpacked
        ]
    for index, record in enumerate(records):
        module = record["module"]
        path = paths.get(id(module), "?")
        found = found_all[index]
        formulas = {o.name: o for o in found.outputs} if found is not None else {}
        outputs = []
        for name, tensor in record["outputs"] or []:
            formula = formulas.get(name)
            outputs.append(
                Output(
                    name,
                    _shape(tensor),
                    None if formula is None else formula.formula,
                    None if formula is None else formula.expected,
                    small_run=(answered or {}).get(id(module)),
                )
            )
        if record["suspends"] and not _inside_suspended(records, index):
            macs += (found.macs if found is not None else None) or 0
        calls.append(
            LayerCall(
                path=path,
                type=type_name(module),
                module=constructor(module),
                depth=0 if not path else path.count(".") + 1,
                inputs=tuple((name, _shape(t)) for name, t in record["inputs"]),
                outputs=tuple(outputs),
                params=sum(p.numel() for p in module.parameters()),
                macs=inclusive[index],
                failed=index == failed_index,
                macs_formula=formulas_macs[index],
            )
        )
    calls = _with_ops(calls, records, recorder.calls)
    feeds = _feeds(records, [*inputs, *(keywords or {}).values()])
    parameters = list(model.parameters())
    return Trace(
        layers=tuple(calls),
        params=sum(p.numel() for p in parameters),
        trainable=sum(p.numel() for p in parameters if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in parameters),
        largest_activation_bytes=largest[0],
        leaf_output_bytes=leaves[0],
        macs=macs,
        input_bytes=sum(
            t.numel() * t.element_size()
            for t in (*inputs, *(keywords or {}).values())
            if isinstance(t, torch.Tensor)
        ),
        output_bytes=sum(t.numel() * t.element_size() for _, t in records[0]["outputs"] or [])
        if records
        else 0,
        buffer_bytes=sum(b.numel() * b.element_size() for b in model.buffers()),
        activation_peak_bytes=counter.peak,
        grad=grad,
        uncounted=tuple(sorted(counter.uncounted.items())),
        feeds=feeds,
        recurrent=any(is_recurrent(m) for m in model.modules()),
        error=None if diagnosis is None else diagnosis.message,
        diagnosis=diagnosis,
        warnings=tuple(warnings),
        unpacked=tuple(unpacked),
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


def _with_ops(calls: list[LayerCall], records: list[dict[str, Any]], ops: list[Any]) -> list[LayerCall]:
    """The module calls and the operations of the model's own code, in call order; an operation
    one level under the module call that ran it."""
    rows = [(record["seq"], call) for record, call in zip(records, calls, strict=True)]
    for op in ops:
        owner = calls[op.owner] if 0 <= op.owner < len(calls) else None
        outputs = [
            Output("output" if len(op.outputs) == 1 else f"output[{i}]", shape)
            for i, shape in enumerate(op.outputs)
        ]
        rows.append(
            (
                op.seq,
                LayerCall(
                    path=owner.path if owner is not None else "",
                    type=op.name,
                    module=op.name,
                    depth=(owner.depth if owner is not None else 0) + 1,
                    inputs=tuple(("input", shape) for shape in op.inputs),
                    outputs=tuple(outputs),
                    params=0,
                    macs=None,
                    failed=op.failed,
                    op=True,
                    where=op.where,
                    rule=op.rule,
                ),
            )
        )
    return [call for _, call in sorted(rows, key=lambda pair: pair[0])]


def _feeds(records: list[dict[str, Any]], given: list[Any]) -> tuple[tuple[int, int], ...]:
    """(place, num_embeddings): each input an embedding read as it came, with the smallest table."""
    from torch import nn

    tables: dict[int, int] = {}
    for record in records:
        module, args = record["module"], record["args"]
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and args:
            for place, tensor in enumerate(given):
                if args[0] is tensor:
                    size = int(module.num_embeddings)
                    tables[place] = min(size, tables.get(place, size))
    return tuple(sorted(tables.items()))


def _inside_suspended(records: list[dict[str, Any]], index: int) -> bool:
    """A call inside a recurrent layer whose formula already counts it (an LSTM's own cells)."""
    parent = records[index]["parent"]
    while parent >= 0:
        if records[parent]["suspends"]:
            return True
        parent = records[parent]["parent"]
    return False


def _inclusive_macs(records: list[dict[str, Any]], own: dict[int, int], found: list[Any]) -> list[int | None]:
    """The MACs of each call with everything it called: its operations', and a recurrent layer's
    formula. None for a call that did not finish."""
    totals = [own.get(index, 0) for index in range(len(records))]
    for index, record in enumerate(records):
        if record["suspends"] and found[index] is not None and found[index].macs is not None:
            totals[index] = found[index].macs
    for index in range(len(records) - 1, -1, -1):
        parent = records[index]["parent"]
        if parent >= 0 and not records[parent]["suspends"]:
            totals[parent] += totals[index]
    return [None if record["outputs"] is None else totals[i] for i, record in enumerate(records)]


def _formula_macs(records: list[dict[str, Any]], found: list[Any], uncounted: set[int]) -> list[int | None]:
    """The MACs each call's family formula gives, to check against the operations it ran; None
    where there is nothing to check: no formula, a recurrent layer (its formula is the count), a
    call that did not finish, or one that ran an operation without a MAC formula."""
    incomplete = set(uncounted)
    for index in range(len(records) - 1, -1, -1):  # children come after their parent
        parent = records[index]["parent"]
        if index in incomplete and parent >= 0:
            incomplete.add(parent)
    macs: list[int | None] = []
    for index, record in enumerate(records):
        formula = found[index].macs if found[index] is not None else None
        skip = (
            record["suspends"]
            or _inside_suspended(records, index)
            or record["outputs"] is None
            or index in incomplete
        )
        macs.append(None if skip else formula)
    return macs


def _suspicions(
    records: list[dict[str, Any]], inputs: tuple[Any, ...], paths: dict[int, str]
) -> list[Suspicion]:
    """Calls that torch accepted but that usually mean a mistake (see ``suspect``); one per module.

    The batch size is the N of the first layer whose batch dimension is defined (a batched
    convolution, pool or batch norm, a batch_first recurrent layer or attention), else dim 0 of
    the model's first input. A recurrent layer fed the model's input itself is not suspected:
    that layout is the one the user typed."""
    import torch

    batch, source = _batch_size(records, paths)
    first = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) and inputs[0].dim() > 0 else None
    if batch is None and first is not None:
        batch, source = int(first.shape[0]), f"dim 0 of the model's input {_shape_text(_shape(first))}"
    found: list[Suspicion] = []
    seen: set[int] = set()
    for record in records:
        module = record["module"]
        if id(module) in seen or record["outputs"] is None or not record["args"]:
            continue
        if any(record["args"][0] is given for given in inputs):
            continue
        suspicion = sequence_first(module, paths.get(id(module), "?"), record["args"], batch, source)
        if suspicion is not None:
            seen.add(id(module))
            found.append(suspicion)
    return found


def _batch_size(records: list[dict[str, Any]], paths: dict[int, str]) -> tuple[int | None, str]:
    """N where a layer defines it: dim 0 of a batched convolution, pool or batch norm, of a
    batch_first recurrent layer or attention."""
    import torch
    from torch import nn

    for record in records:
        module, args = record["module"], record["args"]
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor) or record["outputs"] is None:
            continue
        batched = False
        if isinstance(
            module, (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)
        ):
            batched = x.dim() == spatial_dims(module) + 2
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            batched = True
        elif isinstance(module, (nn.RNNBase, nn.MultiheadAttention)):
            batched = bool(module.batch_first) and x.dim() == 3
        if batched:
            path = paths.get(id(module), "?") or "(model)"
            return int(x.shape[0]), f"N = {int(x.shape[0])} that {path} ({type_name(module)}) saw"
    return None, ""


def _diagnose(
    failing: nn.Module,
    where: str,
    records: list[dict[str, Any]],
    failed_index: int,
    error: BaseException,
    paths: dict[int, str],
    finished: list[int],
) -> Diagnosis:
    """The diagnosis of the call that raised, from the calls that finished before it."""
    earlier = []
    earlier_inputs = {}
    for record in records[: max(failed_index, 0)]:
        if record["outputs"] is None:
            continue
        path = paths.get(id(record["module"]), "?")
        earlier.append((path, [_shape(t) for _, t in record["outputs"]]))
        earlier_inputs[path or "(model)"] = (
            type_name(record["module"]),
            [_shape(t) for _, t in record["inputs"]],
        )
    args = records[failed_index]["args"] if failed_index >= 0 else ()
    kwargs = records[failed_index]["kwargs"] if failed_index >= 0 else {}
    last = None
    if finished:
        record = records[finished[-1]]
        module = record["module"]
        outputs = ", ".join(_shape_text(_shape(t)) for _, t in record["outputs"] or [])
        last = f"{paths.get(id(module), '?') or '(model)'} ({type_name(module)}) → {outputs}"
    given = [_shape(t) for _, t in records[0]["inputs"]] if records else None
    return diagnose(
        failing, where, args, error, earlier, earlier_inputs, kwargs=kwargs, last=last, given=given
    )


def _tables(model: nn.Module) -> list[int]:
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


def _drawn(spec: ModelSpec, model: nn.Module, trace: Trace) -> tuple[InputSpec, ...]:
    """Each integer --input with the range it was drawn from and why; the trace tells where an
    input drawn below the smallest table fed that very table (or fed none)."""
    tables = _tables(model)
    order = [i for i, one in enumerate(spec.inputs) if one.name is None]
    order += [i for i, one in enumerate(spec.inputs) if one.name is not None]
    fed = {order[place]: size for place, size in trace.feeds if place < len(order)}
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


def _fed_on_meta(spec: ModelSpec, found: Any, dtype: torch.dtype, model: nn.Module) -> ModelSpec:
    """On meta no guard trial runs first; where an integer input may feed one of tables of
    different sizes, a silenced trial on meta finds the table each feeds, so that each is drawn
    within its own (as off meta)."""
    import torch

    if len(set(_tables(model))) < 2 or not any(
        one.integer and one.high is None and one.feeds is None for one in spec.inputs
    ):
        return spec
    try:
        with silenced(), quiet(), torch.random.fork_rng(devices=[]):
            trial, inputs, keywords = built(spec, found, torch.device("meta"), dtype)
            trace = _on_meta(trial, inputs, keywords, grad=spec.grad)
    except Exception:  # the real run says what went wrong
        return spec
    return replace(spec, inputs=_with_feeds(spec, trace))


def make_input(one: InputSpec, model: nn.Module, device: torch.device, flag: str = "--input") -> torch.Tensor:
    """A tensor for one --input: normal floats; integers within ``integer_range``."""
    import torch

    dtype = getattr(torch, one.dtype)
    if one.integer:
        low, high, _ = integer_range(one, _tables(model))
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


def run(spec: ModelSpec) -> ProbeRun:
    """The trace of the model at ``spec``. What the model and torch warn during it (beside the
    notices torchshape silences) goes into the report once each, not to stderr."""
    import warnings

    from torchshape.quiet import install

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # each warning once per place in the code
        install()
        probe = _run(spec)
    said: list[str] = []
    for warning in caught:
        text = (
            f"{warning.category.__name__} at {_place(warning.filename)}:{warning.lineno}: {warning.message}"
        )
        if text not in said:
            said.append(text)
    if not said:
        return probe
    return replace(probe, analysis=replace(probe.analysis, warned=tuple(said)))


def _place(filename: str) -> str:
    import os

    try:
        shown = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if shown.startswith("..") else shown


def _run(spec: ModelSpec) -> ProbeRun:
    import torch

    from torchshape import guard

    spec, found, device, dtype = prepared(spec)
    with torch.random.fork_rng(devices=[]):
        measure = Measure(device)
        model, inputs, keywords = built(spec, found, device, dtype)
        if device.type == "meta":
            fed = _fed_on_meta(spec, found, dtype, model)
            if fed is not spec:  # integer inputs drawn again, each within the table it feeds
                spec = fed
                model, inputs, keywords = built(spec, found, device, dtype)
            result = _on_meta(model, inputs, keywords, grad=spec.grad)
        else:
            result = guard.interruptible(spec, _traced, model, inputs, keywords, spec.grad)
            result = replace(result, measured_peak_bytes=measure.measured())
    if result.diagnosis is not None and result.unpacked:
        raise UsageError("--input", _unpacked_usage(spec, model, result))
    spec = replace(spec, inputs=_drawn(spec, model, result))
    return ProbeRun(
        device=str(device),
        dtype=spec.dtype.value,
        torch_version=torch.__version__,
        spec=spec,
        sizes=Symbols(),
        shapes=dict(
            zip(
                input_names(spec.inputs),
                [tuple(t.shape) for t in _in_order(spec, inputs, keywords)],
                strict=True,
            )
        ),
        error=None,
        reduced=False,
        analysis=result,
        parameters={name: tuple(p.shape) for name, p in model.named_parameters()},
    )


def _unpacked_usage(spec: ModelSpec, model: nn.Module, trace: Trace) -> str:
    """The usage error of an --input tensor that forward unpacked as a tuple before it raised."""
    assert trace.diagnosis is not None
    one = trace.unpacked[0]
    order = [i for i, given in enumerate(spec.inputs) if given.name is None]
    order += [i for i, given in enumerate(spec.inputs) if given.name is not None]
    given = spec.inputs[order[one.tensor]].text if one.tensor < len(order) else "it"
    message = trace.diagnosis.message.rstrip(".")
    failure = (
        None  # the unpacking itself raised: too many or too few values
        if "values to unpack" in message
        else f"forward raised in {trace.diagnosis.shown_layer} ({trace.diagnosis.type}): {message}"
    )
    return unpacked_usage(one, given, f"{type(model).__name__}.forward", failure)


def prepared(spec: ModelSpec) -> tuple[ModelSpec, Any, torch.device, torch.dtype]:
    """The target imported, its device and dtype; off meta, the guard first: before anything is
    allocated, the model is traced on meta and refused if it cannot fit (``spec`` then carries
    the estimate)."""
    import torch

    from torchshape import guard

    device = resolve_device(spec.device)
    dtype = getattr(torch, spec.dtype.value)
    found = import_target(spec)
    if device.type != "meta":
        with silenced():  # the guard's trace on meta: the model's prints come from the real run only
            spec = estimate(spec, found, dtype)
        guard.check(spec)
    return spec, found, device, dtype


def built(
    spec: ModelSpec, found: Any, device: torch.device, dtype: torch.dtype
) -> tuple[nn.Module, tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    """The model built on ``device`` in eval mode, seeded, and its inputs."""
    import torch

    torch.manual_seed(SEED)
    with torch.device(device):
        model = build_model(spec, found)
    model = model.to(device=device, dtype=dtype).eval()
    _check_arguments(spec, model)
    inputs, keywords = make_inputs(spec, model, device)
    return model, inputs, keywords


def _with_feeds(spec: ModelSpec, trace: Trace) -> tuple[InputSpec, ...]:
    """The --input flags, each integer one without a range given the table it feeds (BERT's
    input_ids: the word embeddings' 30522, not the token types' 2)."""
    order = [i for i, one in enumerate(spec.inputs) if one.name is None]
    order += [i for i, one in enumerate(spec.inputs) if one.name is not None]
    feeds = {order[place]: size for place, size in trace.feeds if place < len(order)}
    return tuple(
        replace(one, feeds=feeds.get(i)) if one.integer and one.high is None else one
        for i, one in enumerate(spec.inputs)
    )


def _check_arguments(spec: ModelSpec, model: nn.Module) -> None:
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


def _on_meta(
    model: nn.Module, inputs: tuple[Any, ...], keywords: dict[str, Any], *, grad: bool = False
) -> Trace:
    """The trace on meta, recurrent layers answered by their formulas (``meta``)."""
    from torchshape.families.model.meta import lengths_on_cpu, recurrent_stand_ins

    with recurrent_stand_ins(model) as answered, lengths_on_cpu():
        return trace_module(model, inputs, answered.verified, keywords, grad=grad)


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


def _in_order(spec: ModelSpec, inputs: tuple[Any, ...], keywords: dict[str, Any]) -> list[Any]:
    """The tensors in the order of the --input flags."""
    positional = iter(inputs)
    return [next(positional) if one.name is None else keywords[one.name] for one in spec.inputs]


def _traced(model: nn.Module, inputs: tuple[Any, ...], keywords: dict[str, Any], grad: bool) -> Trace:
    return trace_module(model, inputs, keywords=keywords, grad=grad)


def estimate(spec: ModelSpec, found: Any, dtype: torch.dtype) -> ModelSpec:
    """``spec`` with the trial on meta's figures (``_estimate``). On the command line, the trial
    runs in a forked child (``measure.in_child``): torch's meta kernels and what their first use
    imports (sympy, torch's compiler: about 80 MB of resident memory) leave with it, and the
    process that then runs the model holds only what the model needs."""
    from torchshape.measure import in_child

    fields = ("peak_bytes", "macs", "elements", "inputs", "estimate_note")

    def trial() -> dict[str, Any]:
        made = _estimate(spec, found, dtype)
        return {name: getattr(made, name) for name in fields}

    answer = in_child(trial)
    if answer is None:  # not the command line's process, or the child could not answer
        return _estimate(spec, found, dtype)
    return replace(spec, **answer)


def _estimate(spec: ModelSpec, found: Any, dtype: torch.dtype) -> ModelSpec:
    """``spec`` with what a trace on meta measured: the peak bytes (``Trace.memory_bytes``, the
    report's own figure), the MACs, and the elements to fill. When the trial stops early (the
    model reads an input's values, which meta tensors lack), what is known still counts: the
    parameters, buffers and inputs of the meta build and the activations up to where it stopped,
    a lower bound (``estimate_note`` says so). Unchanged only when the model cannot even be
    built on meta, or is a module object already built."""
    import torch
    from torch import nn

    if isinstance(found, nn.Module):  # a module object: built at import, and moving it would change it
        return spec
    try:
        with torch.random.fork_rng(devices=[]), quiet():
            model, inputs, keywords = built(spec, found, torch.device("meta"), dtype)
    except UsageError:  # --input flags that forward does not take
        raise
    except Exception:  # the real run says what went wrong, with its diagnosis
        return spec
    elements = sum(p.numel() for p in model.parameters()) + sum(
        t.numel() for t in (*inputs, *keywords.values())
    )
    trace: Trace | None
    try:
        with quiet():
            trace = _on_meta(model, inputs, keywords, grad=spec.grad)
    except Exception:
        trace = None
    if trace is not None and trace.diagnosis is None:
        return replace(
            spec,
            peak_bytes=trace.memory_bytes,
            macs=trace.macs,
            elements=elements,
            inputs=_with_feeds(spec, trace),
        )
    tensors = (*inputs, *keywords.values())
    known_bytes = (
        sum(p.numel() * p.element_size() for p in model.parameters())
        + sum(b.numel() * b.element_size() for b in model.buffers())
        + sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))
    )
    where = "" if trace is None or trace.diagnosis is None else f" at {trace.diagnosis.shown_layer}"
    return replace(
        spec,
        peak_bytes=known_bytes + (0 if trace is None else trace.activation_peak_bytes),
        macs=0 if trace is None else trace.macs,
        elements=elements,
        estimate_note=(
            f"at least (the trial on meta stopped{where}: the parameters, buffers and inputs, "
            "and the activations before it)"
        ),
    )


def trace_live(
    model: nn.Module,
    inputs: tuple[Any, ...],
    *,
    device: str | None,
    depth: int | None,
    keywords: dict[str, Any] | None = None,
) -> Any:
    """The Report of ``model(*inputs, **keywords)`` for a live module object (``torchshape.trace``)."""
    import torch

    from torchshape.families.model.report import build_report
    from torchshape.families.model.spec import InputSpec, ModelSpec, parse_device

    keywords = dict(keywords or {})
    if device is not None:
        where = torch.device(parse_device(device))
        model = model.to(where)
        inputs = tuple(t.to(where) if isinstance(t, torch.Tensor) else t for t in inputs)
        keywords = {k: t.to(where) if isinstance(t, torch.Tensor) else t for k, t in keywords.items()}
    given: list[tuple[str | None, torch.Tensor]] = [(None, t) for t in inputs if isinstance(t, torch.Tensor)]
    given += [(k, t) for k, t in keywords.items() if isinstance(t, torch.Tensor)]
    tensors = [t for _, t in given]
    first = next((p for p in model.parameters()), tensors[0] if tensors else torch.empty(0))
    name = type(model).__name__

    def text(key: str | None, t: torch.Tensor) -> str:
        shape = ",".join(str(d) for d in t.shape) + ":" + str(t.dtype).removeprefix("torch.")
        return shape if key is None else f"{key}={shape}"

    spec = ModelSpec(
        target=name,
        path=None,
        module=None,
        name=name,
        inputs=tuple(
            InputSpec(tuple(t.shape), str(t.dtype).removeprefix("torch."), text=text(key, t), name=key)
            for key, t in given
        ),
        args=(),
        depth=depth,
        device=str(first.device),
    )
    with quiet():
        result = trace_module(model, inputs, keywords=keywords)
    probe = ProbeRun(
        device=str(first.device),
        dtype=str(first.dtype).removeprefix("torch."),
        torch_version=torch.__version__,
        spec=spec,
        sizes=Symbols(),
        shapes=dict(zip(input_names(spec.inputs), [tuple(t.shape) for t in tensors], strict=True)),
        error=None,
        reduced=False,
        analysis=result,
        parameters={n: tuple(p.shape) for n, p in model.named_parameters()},
    )
    report = build_report(spec, probe)
    if result.diagnosis is not None:
        raise ModelFailed(f"{result.failure}: {result.diagnosis.message}", report=report)
    return report
