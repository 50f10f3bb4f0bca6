"""The torch side: build the user's model, feed it, and record every module call with hooks.

A forward pre-hook on every module notes the call in call order; a forward hook fills in what
it returned. The forward pass runs in eval mode with autograd on, so that layers with a fused
inference path (nn.TransformerEncoderLayer) still call their children.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.contain import silenced
from torchshape.errors import UsageError
from torchshape.families.model.diagnose import Diagnosis, constructor, diagnose, spatial_dims, type_name
from torchshape.families.model.known import is_recurrent, known
from torchshape.families.model.load import ModelFailed, build_model, import_target
from torchshape.families.model.names import name_inputs, name_outputs
from torchshape.families.model.spec import DEFAULT_INTEGER_HIGH, InputSpec, ModelSpec, Symbols, input_names
from torchshape.families.model.suspect import Suspicion, sequence_first
from torchshape.families.model.trace import LayerCall, Output, Trace
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
) -> Trace:
    """Run ``model(*inputs)`` with hooks on every module; every call, in call order.

    When forward raises: the calls up to the one that raised (marked failed), and the diagnosis.
    ``answered``: id(module) -> whether its formulas held at small sizes, for the recurrent
    layers that a formula answered on meta (``meta.recurrent_stand_ins``).
    """
    import torch

    paths: dict[int, str] = {}
    for path, module in model.named_modules():
        paths.setdefault(id(module), path)
    records: list[dict[str, Any]] = []
    stack: list[int] = []
    finished: list[int] = []  # record indices, in the order their calls returned
    largest = [0]
    leaves = [0]  # bytes of every leaf layer's outputs, all calls

    def before(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        stack.append(len(records))
        named = name_inputs(args, kwargs)
        records.append({"module": module, "args": args, "kwargs": kwargs, "inputs": named, "outputs": None})

    def after(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        index = stack.pop()
        finished.append(index)
        named = name_outputs(module, out)
        records[index]["outputs"] = named
        for _, tensor in named:
            largest[0] = max(largest[0], tensor.numel() * tensor.element_size())
            if next(module.children(), None) is None:
                leaves[0] += tensor.numel() * tensor.element_size()

    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after, with_kwargs=True))
    error: BaseException | None = None
    try:
        model(*inputs, **(keywords or {}))
    except Exception as exc:
        error = exc
    finally:
        for handle in handles:
            handle.remove()
    diagnosis = None
    failed_index = -1
    if error is not None:
        failed_index = stack[-1] if stack else -1
        failing = records[failed_index]["module"] if stack else model
        where = paths.get(id(failing), "")
        diagnosis = _diagnose(failing, where, records, failed_index, error, paths, finished)

    calls = []
    macs = 0
    warnings = _suspicions(records, inputs, paths)
    for index, record in enumerate(records):
        module = record["module"]
        path = paths.get(id(module), "?")
        found = known(module, record["args"], record["kwargs"]) if record["outputs"] is not None else None
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
        call_macs = None if found is None else found.macs
        macs += call_macs or 0
        calls.append(
            LayerCall(
                path=path,
                type=type_name(module),
                module=constructor(module),
                depth=0 if not path else path.count(".") + 1,
                inputs=tuple((name, _shape(t)) for name, t in record["inputs"]),
                outputs=tuple(outputs),
                params=sum(p.numel() for p in module.parameters()),
                macs=call_macs,
                failed=index == failed_index,
            )
        )
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
        recurrent=any(is_recurrent(m) for m in model.modules()),
        error=None if diagnosis is None else diagnosis.message,
        diagnosis=diagnosis,
        warnings=tuple(warnings),
    )


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
    return diagnose(failing, where, args, error, earlier, earlier_inputs, kwargs=kwargs, last=last)


def make_input(one: InputSpec, model: nn.Module, device: torch.device, flag: str = "--input") -> torch.Tensor:
    """A tensor for one --input: normal floats; integers 0 ≤ v < the smallest num_embeddings."""
    import torch
    from torch import nn

    dtype = getattr(torch, one.dtype)
    if one.integer:
        tables = [m.num_embeddings for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))]
        low = 0 if one.low is None else one.low
        high = one.high if one.high is not None else (min(tables) if tables else DEFAULT_INTEGER_HIGH)
        if high <= low:  # an embedding of 0 rows: no index can be drawn
            raise UsageError(
                flag, f"{one.text}: no integer v with {low} ≤ v < {high} (the smallest num_embeddings)"
            )
        if device.type == "meta":
            return torch.empty(one.shape, dtype=dtype, device=device)
        return torch.randint(low, high, one.shape, dtype=dtype, device=device)
    if one.dtype == "bool":
        return torch.empty(one.shape, dtype=torch.bool, device=device).bernoulli_(0.5)
    return torch.randn(one.shape, dtype=dtype, device=device)


def run(spec: ModelSpec) -> ProbeRun:
    with quiet():
        return _run(spec)


def _run(spec: ModelSpec) -> ProbeRun:
    import torch

    from torchshape import guard

    spec, found, device, dtype = prepared(spec)
    with torch.random.fork_rng(devices=[]):
        model, inputs, keywords = built(spec, found, device, dtype)
        if device.type == "meta":
            result = _on_meta(model, inputs, keywords)
        else:
            result = guard.interruptible(spec, _with_autograd, model, inputs, keywords)
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
    inputs, keywords = make_inputs(spec, model, device)
    return model, inputs, keywords


def _on_meta(model: nn.Module, inputs: tuple[Any, ...], keywords: dict[str, Any]) -> Trace:
    """The trace on meta, recurrent layers answered by their formulas (``meta``)."""
    from torchshape.families.model.meta import recurrent_stand_ins

    with recurrent_stand_ins(model) as answered:
        return trace_module(model, inputs, answered.verified, keywords)


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


def _with_autograd(model: nn.Module, inputs: tuple[Any, ...], keywords: dict[str, Any]) -> Trace:
    """The trace with autograd on (``guard.interruptible`` runs in inference mode), so that layers
    with a fused inference path still call their children."""
    import torch

    with torch.inference_mode(False), torch.enable_grad():
        return trace_module(model, inputs, keywords=keywords)


def estimate(spec: ModelSpec, found: Any, dtype: torch.dtype) -> ModelSpec:
    """``spec`` with what a trace on meta measured: the bytes of the parameters, the inputs and
    every leaf layer's outputs, the MACs, and the elements to fill. Unchanged when the model
    cannot run on meta (its code reads values, say): then torch's own allocation errors stand."""
    import torch
    from torch import nn

    if isinstance(found, nn.Module):  # a module object: built at import, and moving it would change it
        return spec
    try:
        with torch.random.fork_rng(devices=[]), quiet():
            model, inputs, keywords = built(spec, found, torch.device("meta"), dtype)
            trace = _on_meta(model, inputs, keywords)
    except Exception:  # the real run says what went wrong, with its diagnosis
        return spec
    if trace.diagnosis is not None:
        return spec
    return replace(
        spec,
        peak_bytes=trace.param_bytes + trace.input_bytes + trace.leaf_output_bytes,
        macs=trace.macs,
        elements=sum(p.numel() for p in model.parameters())
        + sum(t.numel() for t in (*inputs, *keywords.values())),
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
