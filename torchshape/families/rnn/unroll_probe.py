"""The torch side of --unroll: the step-by-step loop run beside the whole sequence in one call,
every step's shapes and the largest difference, per tensor and per step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.families.rnn.formulas import symbols, time_dim
from torchshape.families.rnn.spec import RNNSpec
from torchshape.families.rnn.torch_side import (
    build_module,
    close,
    hidden,
    max_abs_diff,
    one_layer,
    split_state,
)
from torchshape.families.rnn.unroll import (
    BIDIRECTIONAL_WHY,
    UNROLL_TOLERANCE,
    UnrollResult,
    unroll_code,
    unroll_steps,
)

if TYPE_CHECKING:
    import torch


def _unroll_tolerance(spec: RNNSpec, device: torch.device) -> tuple[float, float]:
    import torch

    if spec.dtype.value == "float32" and device.type == "cuda" and torch.backends.cudnn.allow_tf32:
        return UNROLL_TOLERANCE["tf32"]
    return UNROLL_TOLERANCE[spec.dtype.value]


class _Shapes:
    """The shapes each step saw, per name; one shape each when every step agrees."""

    def __init__(self) -> None:
        self.seen: dict[str, set[tuple[int, ...]]] = {}

    def add(self, name: str, tensor: torch.Tensor) -> None:
        self.seen.setdefault(name, set()).add(tuple(tensor.shape))

    def one(self, name: str) -> tuple[int, ...] | None:
        shapes = self.seen.get(name, set())
        return next(iter(shapes)) if len(shapes) == 1 else None


def _step_loop(
    module: torch.nn.Module,
    x: torch.Tensor,
    state: Any,
    dim: int,
    shapes: _Shapes,
    input_t: str = "input_t",
    reverse: bool = False,
) -> tuple[torch.Tensor, Any]:
    """One call per step along time axis ``dim``, carrying the state; the steps' outputs put back in
    time order. ``input_t``: the name each step's input is counted under."""
    import torch

    steps = x.shape[dim]
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    outs: list[torch.Tensor] = [x] * steps
    for t in order:
        x_t = x.narrow(dim, t, 1)
        out_t, state = module(x_t, state)
        outs[t] = out_t
        shapes.add(input_t, x_t)
        shapes.add("output_t", out_t)
        for key, tensor in split_state(state).items():
            shapes.add("h" if key == "h_n" else "c", tensor)
    return torch.cat(outs, dim=dim), state


def _directions(
    spec: RNNSpec, module: torch.nn.Module, inputs: dict[str, torch.Tensor], shapes: _Shapes
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Each layer's two directions as separate loops over one-direction modules sharing the weights."""
    import torch

    layer_input = inputs["input"]
    finals: dict[str, list[torch.Tensor]] = {"h_n": [], "c_n": []}
    for k in range(spec.num_layers):
        outputs = []
        for d in range(2):
            sub = one_layer(spec, module, k, layer_input.shape[-1], direction=d)
            state = hidden(inputs, slice(2 * k + d, 2 * k + d + 1))
            input_t = "input_t" if k == 0 else "input_t (layer ≥ 1)"
            out, state = _step_loop(sub, layer_input, state, time_dim(spec), shapes, input_t, reverse=d == 1)
            outputs.append(out)
            for key, tensor in split_state(state).items():
                finals[key].append(tensor)
        layer_input = torch.cat(outputs, dim=-1)
    return layer_input, {key: torch.cat(parts, dim=0) for key, parts in finals.items() if parts}


def unroll(
    spec: RNNSpec, module: torch.nn.Module, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> UnrollResult:
    """The step loop beside the one call whose results the table shows."""
    if spec.kind.is_cell:
        return _cell_unroll(spec, module, inputs)
    x, dim = inputs["input"], time_dim(spec)
    shapes = _Shapes()
    naive = None
    if spec.bidirectional:
        output, finals = _directions(spec, module, inputs, shapes)
        naive_output, naive_state = _step_loop(module, x, hidden(inputs), dim, _Shapes())
        naive_loop = {"output": naive_output, **split_state(naive_state)}
        naive = {key: max_abs_diff(tensor, results[key]) for key, tensor in naive_loop.items()}
    else:
        output, state = _step_loop(module, x, hidden(inputs), dim, shapes)
        finals = split_state(state)
    loop = {"output": output, **finals}
    method = "directions" if spec.bidirectional else "module"
    return _compare(spec, loop, results, shapes, method, naive)


def _compare(
    spec: RNNSpec,
    loop: dict[str, torch.Tensor],
    one_call: dict[str, torch.Tensor],
    shapes: _Shapes,
    method: str,
    naive: dict[str, float] | None = None,
) -> UnrollResult:
    """The loop's output and final states beside the one call's, and every step shape beside its rule."""
    output, expected = loop["output"], one_call["output"]
    tolerance = _unroll_tolerance(spec, output.device)
    diff = {key: max_abs_diff(tensor, one_call[key]) for key, tensor in loop.items()}
    within = {key: close(tensor, one_call[key], tolerance) for key, tensor in loop.items()}
    dim = time_dim(spec)
    per_step = [
        max_abs_diff(output.narrow(dim, t, 1), expected.narrow(dim, t, 1)) for t in range(spec.seq_len)
    ]
    sym = symbols(spec)
    step_shapes = [rule.check(sym, sym, shapes.one(rule.formula.name), True) for rule in unroll_steps(spec)]
    return UnrollResult(
        steps=spec.seq_len,
        method=method,
        code=unroll_code(spec),
        step_shapes=step_shapes,
        max_abs_diff=diff,
        per_step_max_abs_diff=per_step,
        tolerance=tolerance,
        within_tolerance=within,
        naive_max_abs_diff=naive,
        why=BIDIRECTIONAL_WHY if spec.bidirectional else None,
    )


def cell_layer(spec: RNNSpec, cell: torch.nn.Module) -> torch.nn.Module:
    """The one-layer nn.LSTM / nn.GRU / nn.RNN with the cell's weights: weight_ih_l0 = cell.weight_ih, ..."""
    weight = cell.weight_ih
    layer = build_module(layer_spec(spec), weight.device, weight.dtype)
    layer.load_state_dict({f"{name}_l0": tensor for name, tensor in cell.state_dict().items()})
    return layer


def layer_spec(spec: RNNSpec) -> RNNSpec:
    """The whole-sequence layer a cell steps through: same sizes, bias and nonlinearity, one layer."""
    return replace(spec, kind=spec.kind.layer)


def _cell_unroll(spec: RNNSpec, cell: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> UnrollResult:
    """The cell called L times carrying (h, c), beside the one-layer module over the whole sequence.

    The sequence's first step is the table's input, so step 0 is the step the table shows.
    """
    import torch

    from torchshape import guard

    guard.check(layer_spec(spec))  # the sequence and the layer's output live beside the cell's tensors
    x_0, h_0, c_0 = inputs["input"], inputs["h_0"], inputs.get("c_0")
    rest = torch.randn((spec.seq_len - 1, *x_0.shape), device=x_0.device, dtype=x_0.dtype)
    x = torch.cat([x_0.unsqueeze(0), rest])
    shapes = _Shapes()
    shapes.add("input", x)
    hx, cx = h_0, c_0
    steps = []
    for i in range(spec.seq_len):
        shapes.add("input_t", x[i])
        if cx is not None:
            hx, cx = cell(x[i], (hx, cx))
            shapes.add("c", cx)
        else:
            hx = cell(x[i], hx)
        shapes.add("h", hx)
        steps.append(hx)
    output = torch.stack(steps, dim=0)
    shapes.add("output", output)
    layer = cell_layer(spec, cell)
    one_layer_state = {name: t.unsqueeze(0) for name, t in inputs.items() if name != "input"}
    layer_output, state = layer(x, hidden(one_layer_state))
    one_call = {"output": layer_output, **split_state(state)}
    for key, tensor in split_state(state).items():
        shapes.add(key, tensor)
    loop = {"output": output, "h_n": hx.unsqueeze(0)} | ({"c_n": cx.unsqueeze(0)} if cx is not None else {})
    return _compare(spec, loop, one_call, shapes, "cell")
