"""The model family's report: the inputs it was fed as the core's rows, the trace as its analysis."""

from __future__ import annotations

from torchshape.facts import Totals
from torchshape.families.model.spec import RANGE_WHY, ModelSpec, input_names
from torchshape.families.model.trace import Trace
from torchshape.probe import ProbeRun
from torchshape.report import Report, fed_report, real_pass

INFERENCE = (
    "eval mode under torch.no_grad(), as the peers run it (--grad: with autograd on): dropout is off, norms "
    "use their running statistics, and nn.MultiheadAttention and nn.TransformerEncoderLayer take "
    "their ordinary path, so their children run"
)
WITH_GRAD = (
    "eval mode with autograd on (--grad): what backward needs is kept, and the memory estimate "
    "counts it; dropout is off, norms use their running statistics"
)
ROWS = "a row per module call, in call order; identical consecutive calls are one row (× N calls)"

# recurrent layers on meta (``meta.recurrent_stand_ins``)
META_RECURRENT = (
    "✓* recurrent layers on meta are not run (torch steps them one time step at a time there): their "
    "shapes come from the rnn formulas, which torchshape ran on the CPU at small sizes of the same "
    "structure and found equal to torch's"
)


# The longest call line written out whole; past it the call names its inputs by the table above.
CALL_WIDTH = 100


def call(spec: ModelSpec) -> str:
    """``output = model(input[0], mask=input[1])``; with many inputs
    ``output = model(*inputs, **keywords)``, the inputs being the table's rows in order."""
    names = [
        name if one.name is None else f"{one.name}={name}"
        for name, one in zip(input_names(spec.inputs), spec.inputs, strict=True)
    ]
    whole = f"output = model({', '.join(names)})"
    if len(whole) <= CALL_WIDTH:
        return whole
    starred = ["*inputs"] if any(one.name is None for one in spec.inputs) else []
    starred += ["**keywords"] if any(one.name is not None for one in spec.inputs) else []
    return f"output = model({', '.join(starred)})"


def totals(trace: Trace, spec: ModelSpec | None = None) -> Totals:
    """The model's totals. The memory is the guard's own estimate where the guard made one (a
    whole trial on meta before a real run), else the same computation on this trace."""
    guarded = spec is not None and spec.peak_bytes > 0 and not spec.estimate_note
    return Totals(
        params=trace.params,
        macs=trace.macs,
        param_bytes=trace.param_bytes,
        input_bytes=trace.input_bytes,
        state_bytes=0,
        output_bytes=trace.output_bytes,
        peak_bytes_estimate=spec.peak_bytes if guarded and spec is not None else trace.memory_bytes,
    )


def build_report(spec: ModelSpec, probe: ProbeRun) -> Report:
    """The inputs torch accepted, and the trace with every formula beside torch's shape."""
    trace: Trace = probe.analysis
    fed = [
        (name, f"--input {one.text}", shape)
        for (name, shape), one in zip(probe.shapes.items(), spec.inputs, strict=True)
    ]
    notes = [WITH_GRAD if trace.grad else INFERENCE, ROWS]
    if any(o.from_formula for layer in trace.layers for o in layer.outputs):
        notes.append(META_RECURRENT)
    ran_spec = probe.spec if isinstance(probe.spec, ModelSpec) else spec
    drawn = [
        (name, one.drawn)
        for name, one in zip(input_names(ran_spec.inputs), ran_spec.inputs, strict=True)
        if one.drawn is not None
    ]
    if any(why != "given" for _, (_, _, why) in drawn):
        held = "; ".join(f"{name}: {low} ≤ v < {high} ({RANGE_WHY[why]})" for name, (low, high, why) in drawn)
        notes.append(f"integer inputs hold {held}; give LOW-HIGH to choose: --input 4,10:int64:0-100")
    notes += [f"the forward warned: {text}" for text in trace.warned]
    ran = (
        f"forward pass on meta ({probe.dtype}), torch {probe.torch_version}: shapes only, no values"
        if probe.device == "meta"
        else real_pass(probe)
    )
    return fed_report(spec, probe, fed, notes, call=call(spec), ran=ran, totals=totals(trace, ran_spec))
