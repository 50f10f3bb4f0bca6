"""The torch side: build the user's model, feed it, and record every module call with hooks
(``tracing``), then read the records (``records``).

A forward pre-hook on every module notes the call in call order; a forward hook fills in what
it returned. The forward pass runs in eval mode with autograd on, so that layers with a fused
inference path (nn.TransformerEncoderLayer) still call their children.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.contain import silenced
from torchshape.errors import UsageError
from torchshape.families.model.diagnose import shown_file, unpacked_usage
from torchshape.families.model.inputs import (
    check_arguments,
    drawn,
    forward_order,
    in_order,
    make_inputs,
    table_sizes,
    with_feeds,
)
from torchshape.families.model.load import ModelFailed, build_model, import_target
from torchshape.families.model.records import nbytes
from torchshape.families.model.spec import InputSpec, ModelSpec, Symbols, input_names
from torchshape.families.model.trace import Trace
from torchshape.families.model.tracing import materialize_lazy, trace_module
from torchshape.measure import Measure
from torchshape.options import SEED
from torchshape.probe import ProbeRun, resolve_device
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch
    from torch import nn


def _fed_on_meta(spec: ModelSpec, found: Any, dtype: torch.dtype, model: nn.Module) -> ModelSpec:
    """On meta no guard trial runs first; where an integer input may feed one of tables of
    different sizes, a silenced trial on meta finds the table each feeds, so that each is drawn
    within its own (as off meta)."""
    import torch

    if len(set(table_sizes(model))) < 2 or not any(
        one.integer and one.high is None and one.feeds is None for one in spec.inputs
    ):
        return spec
    try:
        with silenced(), quiet(), torch.random.fork_rng(devices=[]):
            trial, inputs, keywords = built(spec, found, torch.device("meta"), dtype)
            trace = _on_meta(trial, inputs, keywords, grad=spec.grad)
    except Exception:  # the real run says what went wrong
        return spec
    return replace(spec, inputs=with_feeds(spec, trace))


def run(spec: ModelSpec) -> ProbeRun:
    """The trace of the model at ``spec``. What the model and torch warn during it (beside the
    notices torchshape silences) goes into the report once each, not to stderr."""
    import warnings

    from torchshape.quiet import install

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # each warning once per place in the code
        install()
        probe = _run(spec)
    said = tuple(
        dict.fromkeys(  # each once, in the order they came
            f"{w.category.__name__} at {shown_file(w.filename)}:{w.lineno}: {w.message}" for w in caught
        )
    )
    if not said:
        return probe
    return replace(probe, analysis=replace(probe.analysis, warned=said))


def _run(spec: ModelSpec) -> ProbeRun:
    import torch

    from torchshape import guard

    spec, found, device, dtype = prepared(spec)
    # the trace's modes load libraries on import (torch.utils.flop_counter: triton too, where a
    # CUDA build has it, about 80 MB of code): loaded before the measure starts, not counted as
    # the run's memory; quiet: numpy-less, torch warns on that import
    with quiet():
        from torchshape.families.model import ops  # noqa: F401

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
            result = guard.interruptible(
                spec, lambda: trace_module(model, inputs, keywords=keywords, grad=spec.grad)
            )
            result = replace(result, measured_peak_bytes=measure.measured())
    if result.diagnosis is not None and result.unpacked:
        raise UsageError("--input", _unpacked_usage(spec, model, result))
    spec = replace(spec, inputs=drawn(spec, model, result))
    return _probe_run(spec, str(device), spec.dtype.value, model, in_order(spec, inputs, keywords), result)


def _probe_run(
    spec: ModelSpec, device: str, dtype: str, model: nn.Module, tensors: list[Any], trace: Trace
) -> ProbeRun:
    """What the trace ran: ``tensors`` are the inputs in the order of ``spec.inputs``."""
    import torch

    return ProbeRun(
        device=device,
        dtype=dtype,
        torch_version=torch.__version__,
        spec=spec,
        sizes=Symbols(),
        shapes=dict(zip(input_names(spec.inputs), [tuple(t.shape) for t in tensors], strict=True)),
        error=None,
        reduced=False,
        analysis=trace,
        parameters={name: tuple(p.shape) for name, p in model.named_parameters()},
    )


def _unpacked_usage(spec: ModelSpec, model: nn.Module, trace: Trace) -> str:
    """The usage error of an --input tensor that forward unpacked as a tuple before it raised."""
    assert trace.diagnosis is not None
    one = trace.unpacked[0]
    order = forward_order(spec)
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
    check_arguments(spec, model)
    inputs, keywords = make_inputs(spec, model, device)
    materialize_lazy(model, inputs, keywords)
    return model, inputs, keywords


def _on_meta(
    model: nn.Module, inputs: tuple[Any, ...], keywords: dict[str, Any], *, grad: bool = False
) -> Trace:
    """The trace on meta, recurrent layers answered by their formulas (``meta``)."""
    from torchshape.families.model.meta import lengths_on_cpu, recurrent_stand_ins

    with recurrent_stand_ins(model) as answered, lengths_on_cpu():
        return trace_module(model, inputs, answered.verified, keywords, grad=grad)


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
    tensors = (*inputs, *keywords.values())
    elements = sum(p.numel() for p in model.parameters()) + sum(t.numel() for t in tensors)
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
            inputs=with_feeds(spec, trace),
        )
    known_bytes = nbytes([*model.parameters(), *model.buffers()])
    known_bytes += nbytes(t for t in tensors if isinstance(t, torch.Tensor))
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
    device: str | torch.device | None,
    depth: int | None,
    keywords: dict[str, Any] | None = None,
) -> Any:
    """The Report of ``model(*inputs, **keywords)`` for a live module object (``torchshape.trace``)."""
    import torch

    from torchshape.families.model.report import build_report
    from torchshape.families.model.spec import ModelSpec

    keywords = dict(keywords or {})
    if device is not None:
        where = torch.device(device)  # checked by the caller (``api_checks.check_device``)
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
    probe = _probe_run(
        spec, str(first.device), str(first.dtype).removeprefix("torch."), model, tensors, result
    )
    report = build_report(spec, probe)
    if result.diagnosis is not None:
        raise ModelFailed(f"{result.failure}: {result.diagnosis.message}", report=report)
    return report
