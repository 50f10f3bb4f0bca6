"""--unroll: the step-by-step loop beside the whole sequence in one call, and the shape of every
tensor one step takes or returns. Pure rules, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.facts import TensorFormula
from torchshape.families.rnn.formulas import batched, sequence_dims, time_dim
from torchshape.families.rnn.packed import CodeRule, ShapeCheck
from torchshape.families.rnn.spec import Nonlinearity, RNNSpec

UNROLL_TOLERANCE: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1e-5, 1e-5),
    "float16": (1e-2, 1e-2),
    "bfloat16": (5e-2, 5e-2),
    "tf32": (1e-2, 1e-2),
}


def unroll_steps(spec: RNNSpec) -> list[CodeRule]:
    """The shape of every tensor one call of the step loop takes or returns."""
    if spec.kind.is_cell:
        return cell_unroll_steps(spec)
    step = "input[:, t:t+1]" if time_dim(spec) else "input[t:t+1]"
    layers = "1" if spec.bidirectional else "num_layers"  # bidirectional: one layer and direction a loop
    rules = [CodeRule(step, TensorFormula("input_t", sequence_dims(spec, "1", "H_in")))]
    if spec.bidirectional and spec.num_layers > 1:
        above = TensorFormula("input_t (layer ≥ 1)", sequence_dims(spec, "1", "D·H_out"))
        rules.append(CodeRule("layer ≥ 1 input", above))
    rules.append(CodeRule("out_t", TensorFormula("output_t", sequence_dims(spec, "1", "H_out"))))
    rules.append(CodeRule("h", TensorFormula("h", batched(spec, layers, "H_out"))))
    if spec.kind.has_cell_state:
        rules.append(CodeRule("c", TensorFormula("c", batched(spec, layers, "H_cell"))))
    return rules


def unroll_code(spec: RNNSpec) -> list[str]:
    """The step loop a user writes (unidirectional), or the one torchshape runs (bidirectional)."""
    if spec.kind.is_cell:
        return cell_unroll_code(spec)
    step = "input[:, t:t+1]" if time_dim(spec) else "input[t:t+1]"
    name = spec.kind.value
    state = "(h_0, c_0)" if spec.kind.has_cell_state else "h_0"
    if not spec.bidirectional:
        return [
            f"state, steps = {state}, []",
            "for t in range(L):",
            f"    out_t, state = {name}({step}, state)",
            "    steps.append(out_t)",
            f"output = torch.cat(steps, dim={time_dim(spec)})",
        ]
    return [
        "for each layer k, direction d: a one-layer, one-direction module",
        "  with this module's weight_*_l{k} (d = 0) or weight_*_l{k}_reverse (d = 1)",
        "  d = 0 steps t = 0 … L-1, d = 1 steps t = L-1 … 0, each from h_0[D·k + d]",
        "  layer k+1 steps over torch.cat((forward, backward), dim=-1) of layer k",
    ]


def cell_unroll_steps(spec: RNNSpec) -> list[CodeRule]:
    """A cell looped over L steps (``input[i]`` each), and the one-layer module it is compared with."""

    def rule(name: str, code: str, *exprs: str) -> CodeRule:
        return CodeRule(code, TensorFormula(name, batched(spec, *exprs)))

    rules = [
        rule("input", "input", "L", "H_in"),
        rule("input_t", "input[i]", "H_in"),
        rule("h", "hx", "H_cell"),
    ]
    if spec.kind.has_cell_state:
        rules.append(rule("c", "cx", "H_cell"))
    rules.append(rule("output", "torch.stack(output)", "L", "H_cell"))
    rules.append(rule("h_n", "h_n", "1", "H_cell"))
    if spec.kind.has_cell_state:
        rules.append(rule("c_n", "c_n", "1", "H_cell"))
    return rules


def cell_unroll_code(spec: RNNSpec) -> list[str]:
    """The PyTorch docs' nn.LSTMCell example over this run's input, and the one call it equals."""
    cell = spec.kind.value.replace("-", "_")
    layer = spec.kind.layer.value
    lstm = spec.kind.has_cell_state
    shape = "(L, H_in)" if spec.unbatched else "(L, N, H_in)"
    weights = "weight_hh" + (", bias_ih, bias_hh" if spec.bias else "")
    lines = [
        "hx, cx = h_0, c_0" if lstm else "hx = h_0",
        "output = []",
        f"for i in range(L):  # input: {shape}",
        f"    hx, cx = {cell}(input[i], (hx, cx))" if lstm else f"    hx = {cell}(input[i], hx)",
        "    output.append(hx)",
        "output = torch.stack(output, dim=0)",
        f"# {layer} = nn.{spec.kind.layer.module_name}(H_in, H_cell"
        + (", nonlinearity='relu'" if spec.nonlinearity is Nonlinearity.RELU else "")
        + (", bias=False" if not spec.bias else "")
        + "), sharing the cell's weights:",
        f"#   weight_ih_l0 = {cell}.weight_ih, likewise {weights}",
    ]
    if lstm:
        lines.append(f"layer_output, (h_n, c_n) = {layer}(input, (h_0.unsqueeze(0), c_0.unsqueeze(0)))")
        lines.append("# output == layer_output, hx == h_n[0], cx == c_n[0]")
    else:
        lines.append(f"layer_output, h_n = {layer}(input, h_0.unsqueeze(0))")
        lines.append("# output == layer_output, hx == h_n[0]")
    return lines


BIDIRECTIONAL_WHY = (
    "One loop over t = 0 … L-1 cannot reproduce the backward direction: it runs from step "
    "L-1 down to 0, so its state at step t depends on input[t:], which a forward loop has "
    "not seen yet; the bidirectional module called one step at a time computes something "
    "else. So torchshape loops each direction on its own, with one-layer, one-direction "
    "modules sharing this module's weights, the backward one over the reversed sequence."
)


@dataclass(frozen=True)
class UnrollResult:
    """The step-by-step loop beside the whole sequence in one call."""

    steps: int
    # "module": the module itself, one step per call; "directions": per layer and direction;
    # "cell": the cell looped over L steps vs the one-layer module sharing its weights
    method: str
    code: list[str]
    step_shapes: list[ShapeCheck]
    max_abs_diff: dict[str, float]  # output, h_n (c_n): loop vs one call
    per_step_max_abs_diff: list[float]
    tolerance: tuple[float, float]  # (rtol, atol) for "the same"
    within_tolerance: dict[str, bool]
    naive_max_abs_diff: dict[str, float] | None = None  # bidirectional: the module called step by step
    why: str | None = None

    @property
    def agree(self) -> bool:
        return all(self.within_tolerance.values())

    @property
    def ok(self) -> bool:
        return self.agree and all(s.verified for s in self.step_shapes)
