"""The python script's checks of --explain, --lengths and --unroll (relations, the hand-off, the
packed batch, the step loop), and what every part of it writes: shape asserts, constructor calls.
"""

from __future__ import annotations

from dataclasses import replace

from torchshape.families.rnn.explain import Analysis
from torchshape.families.rnn.formulas import time_dim
from torchshape.families.rnn.handoff import HandoffResult
from torchshape.families.rnn.packed import PackedResult, packed_code
from torchshape.families.rnn.relations import TOLERANCE, RelationCheck
from torchshape.families.rnn.spec import RNNSpec
from torchshape.families.rnn.unroll import UnrollResult
from torchshape.report import Report


def constructor(call: str) -> str:
    """``nn.LSTM(50, 30)`` → built where torchshape built it, so it draws the same numbers."""
    assert call.endswith(")")
    return f"{call[:-1]}, device=device, dtype=dtype).eval()"


LINE_LENGTH = 110  # wrapped as ruff format (and black) would, so a pasted script stays tidy


def assignment(name: str, call: str) -> list[str]:
    """``name = nn.X(args).eval()``, on one line if it fits, else with the arguments indented."""
    line = f"{name} = {constructor(call)}"
    if len(line) <= LINE_LENGTH:
        return [line]
    head, args = call[:-1].split("(", 1)
    args += ", device=device, dtype=dtype"
    if len(args) + 4 <= LINE_LENGTH:
        return [f"{name} = {head}(", f"    {args}", ").eval()"]
    return [f"{name} = {head}(", *(f"    {arg}," for arg in args.split(", ")), ").eval()"]


def shape_args(shape: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in shape)


def shape_tuple(shape: tuple[int, ...]) -> str:
    return f"({shape_args(shape)}{',' if len(shape) == 1 else ''})"


def assert_shape(expression: str, shape: tuple[int, ...], indent: str = "") -> str:
    return f"{indent}assert {expression}.shape == {shape_tuple(shape)}, {expression}.shape"


RELATION_HELPER = (
    "def relation_holds(lhs, rhs):",
    '    """lhs == rhs as torchshape checks it: sizes exactly, tensors within the dtype\'s tolerance."""',
    "    if not isinstance(lhs, torch.Tensor):",
    "        return lhs == rhs",
    "    return lhs.shape == rhs.shape and torch.allclose(lhs, rhs, rtol=RTOL, atol=ATOL)",
)


def analysis_lines(report: Report, analysis: Analysis, module: str) -> list[str]:
    spec = report.spec
    sym = report.symbols
    names = list(sym.as_dict())
    if analysis.unroll is not None and "L" not in names:
        names.insert(0, "L")  # a cell looped over L steps
    rtol, atol = TOLERANCE[spec.dtype.value]
    lines = [
        "",
        "# The symbols of torchshape's table, for the expressions below.",
        f"{', '.join(names)} = {', '.join(str(sym[n]) for n in names)}",
    ]
    relations = analysis.relations or []
    packed_relations = analysis.packed.relations if analysis.packed is not None else []
    handoff_relations = analysis.handoff.relations if analysis.handoff is not None else []
    if relations or packed_relations or handoff_relations:
        lines += ["", f"RTOL, ATOL = {rtol!r}, {atol!r}  # torch.testing's defaults for {spec.dtype.value}"]
        lines += ["", *RELATION_HELPER]
    if any(_refused(check) is not None for check in handoff_relations):
        lines += ["", *RAISES_HELPER]
    if spec.lengths is not None:
        lines.append(f"lengths = torch.tensor({list(spec.lengths)})")
    if analysis.relations is not None:
        lines += ["", "# --explain: how output relates to h_n, each relation as torchshape checked it"]
        lines += _relation_asserts(analysis.relations, "relations: ")
    if analysis.handoff is not None:  # before --lengths, whose packed call assigns h_n again
        lines += _handoff_lines(analysis.handoff)
    if analysis.unroll is not None:
        lines += _unroll_lines(spec, analysis.unroll, module)
    if analysis.packed is not None:
        lines += _packed_lines(spec, analysis.packed)
    return lines


RAISES_HELPER = (
    "def raises(error, relation):",
    '    """True when evaluating relation() raises error, as it did when torchshape ran it."""',
    "    try:",
    "        relation()",
    "    except error:",
    "        return True",
    "    return False",
)

# What explain_probe catches as torch refusing a relation; a listed mistake raised one of these.
REFUSALS = ("IndexError", "RuntimeError", "TypeError", "ValueError")


def _refused(check: RelationCheck) -> str | None:
    """The exception class (Python source) a listed mistake raised when torchshape evaluated it."""
    if check.relation.expected or not check.evidence:
        return None
    name = check.evidence.split(":", 1)[0]
    return name if name in REFUSALS else f"({', '.join(REFUSALS)})"


def _relation_asserts(checks: list[RelationCheck], said: str) -> list[str]:
    """Each relation the report claimed holds; each listed mistake that torch saw fail, fails; then
    the script prints ``said`` and how many there were of each.

    A mistake torch refused (``error``) must raise the same kind of exception again.
    """
    lines = []
    for check in checks:
        rel = check.relation
        lines.append(f"# {rel.meaning}")
        message = repr(rel.expression)
        refused = _refused(check)
        ran = repr(f"{rel.expression} ran; torch refused it for torchshape")
        if rel.expected:
            lines.append(f"assert relation_holds({rel.lhs}, {rel.rhs}), {message}")
        elif refused is not None:
            lines.append(f"# torch refused it: {check.evidence}")
            lines.append(f"assert raises({refused}, lambda: relation_holds({rel.lhs}, {rel.rhs})), {ran}")
        elif check.holds is False:
            lines.append(f"assert not relation_holds({rel.lhs}, {rel.rhs}), {message}")
        else:  # on meta nothing was evaluated; a mistake may also hold by coincidence of values
            lines.append(f"# not asserted: torchshape did not see it fail ({rel.expression})")
    return [*lines, f'print("{said}{_relation_summary(checks)}")']


def _relation_summary(checks: list[RelationCheck]) -> str:
    held = sum(1 for c in checks if c.relation.expected)
    failed = sum(1 for c in checks if _refused(c) is None and not c.relation.expected and c.holds is False)
    refused = sum(1 for c in checks if _refused(c) is not None)
    return (
        f"{held} hold"
        + (f", {failed} listed mistake(s) do not" if failed else "")
        + (f", {refused} listed mistake(s) torch refuses" if refused else "")
    )


def _handoff_lines(handoff: HandoffResult) -> list[str]:
    """The hand-off code as the report shows it, the decoders built like the module, then its relations."""
    lines = [
        "",
        "# --explain: h_n (and c_n) handed to a decoder as its initial state, as torchshape ran it.",
        "# The decoders read the encoder's input as their own; only the shapes they return are",
        "# checked, so their weights (drawn here, after the module's) need not be torchshape's.",
    ]
    lines += [line.code for line in handoff.plan.assignments]
    for decoder in handoff.plan.decoders:
        lines += assignment(*decoder.code.split(" = ", 1))
    return lines + _relation_asserts(handoff.relations, "hand-off: ")


def _packed_lines(spec: RNNSpec, packed: PackedResult) -> list[str]:
    """pack_padded_sequence, the module, pad_packed_sequence: every shape, then the relations."""
    bf = ", batch_first=True" if spec.batch_first else ""
    code = packed_code(spec)
    lines = [
        "",
        "# --lengths: the same batch packed, each sequence to its real length",
        "from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence",
        "",
        "with torch.no_grad():",
        *(f"    {line}" for line in code),
        f"    output_total, _ = pad_packed_sequence(packed_output{bf}, total_length=L)",
        "",
    ]
    expressions = {"output (total_length=L)": "output_total"}
    for row in packed.shapes:
        lines.append(assert_shape(expressions.get(row.name, row.code), row.expected))
    lines.append(f"assert packed.batch_sizes.tolist() == {list(packed.batch_sizes)}, packed.batch_sizes")
    lines += ["", "# the padded output vs h_n, as torchshape checked them"]
    return lines + _relation_asserts(packed.relations, "packed: every shape matches, relations: ")


def _unroll_lines(spec: RNNSpec, unroll: UnrollResult, module: str) -> list[str]:
    rtol, atol = unroll.tolerance
    steps = {row.name: row.expected for row in unroll.step_shapes}
    write_loop = {"module": _module_loop, "directions": _directions_loop, "cell": _cell_loop}[unroll.method]
    lines = ["", f"# --unroll: {UNROLL_TITLES[unroll.method]}", *write_loop(spec, steps, module)]
    if unroll.method == "cell":
        compared = [("output", "layer_output"), ("hx", "h_n[0]"), ("cx", "c_n[0]")]
    else:
        compared = [("loop_output", "output"), ("loop_h_n", "h_n"), ("loop_c_n", "c_n")]
    if not spec.kind.has_cell_state:
        compared.pop()
    lines += ["", f"UNROLL_RTOL, UNROLL_ATOL = {rtol!r}, {atol!r}  # the loop may round differently"]
    for loop, one_call in compared:
        lines.append(
            f"assert {loop}.shape == {one_call}.shape and torch.allclose({loop}, {one_call}, "
            f"rtol=UNROLL_RTOL, atol=UNROLL_ATOL), ({loop} - {one_call}).abs().max()"
        )
    lines.append(
        'print(f"unroll: the step loop matches one call within rtol {UNROLL_RTOL}, atol {UNROLL_ATOL}")'
    )
    return lines


UNROLL_TITLES = {
    "module": "the module called once per time step, carrying the state, vs one call",
    "directions": "each layer and direction looped on its own, with one-direction modules "
    "sharing the weights, vs one call",
    "cell": "the cell looped over L steps, carrying the state, vs the one-layer module sharing its weights",
}


def _step_asserts(steps: dict[str, tuple[int, ...]], indent: str) -> list[str]:
    """One step's out_t and state, h or (h, c), against the shapes of --unroll's rules."""
    state = {"state[0]": "h", "state[1]": "c"} if "c" in steps else {"state": "h"}
    return [assert_shape("out_t", steps["output_t"], indent)] + [
        assert_shape(expression, steps[name], indent) for expression, name in state.items()
    ]


def _module_loop(spec: RNNSpec, steps: dict[str, tuple[int, ...]], module: str) -> list[str]:
    """The loop the report shows: the module itself, one step per call."""
    lstm = spec.kind.has_cell_state
    state = "(h_0, c_0)" if lstm else "h_0"
    lines = [
        "with torch.no_grad():",
        f"    state, loop_steps = {state}, []",
        "    for t in range(L):",
        f"        input_t = input.narrow({time_dim(spec)}, t, 1)",
        f"        out_t, state = {module}(input_t, state)",
        "        loop_steps.append(out_t)",
        assert_shape("input_t", steps["input_t"], "        "),
        *_step_asserts(steps, "        "),
    ]
    lines.append(f"    loop_output = torch.cat(loop_steps, dim={time_dim(spec)})")
    lines.append("loop_h_n, loop_c_n = state" if lstm else "loop_h_n = state")
    return lines


def _directions_loop(spec: RNNSpec, steps: dict[str, tuple[int, ...]], module: str) -> list[str]:
    """Each layer k and direction d as a one-layer, one-direction module with weights *_l{k}[_reverse]."""
    lstm = spec.kind.has_cell_state
    sub = replace(spec, num_layers=1, bidirectional=False, dropout=0.0, lengths=None)
    head = f"nn.{spec.kind.module_name}({spec.input_size}, "
    call = sub.module_call
    assert call.startswith(head)
    sub_call = constructor(f"nn.{spec.kind.module_name}(input_size, " + call[len(head) :])
    upper = steps.get("input_t (layer ≥ 1)", steps["input_t"])
    dim = time_dim(spec)
    lines = [
        "def one_direction(k, d, input_size):",
        '    """Layer k, direction d (1: backward) on its own, sharing the module\'s weights."""',
        f"    sub = {sub_call}",
        '    suffix = "_reverse" if d else ""',
        "    sub.load_state_dict(",
        f'        {{name: getattr({module}, name.replace("_l0", f"_l{{k}}") + suffix) '
        "for name, _ in sub.named_parameters()}",
        "    )",
        "    return sub",
        "",
        "with torch.no_grad():",
        "    layer_input, finals = input, []",
        "    for k in range(num_layers):",
        "        outputs = []",
        "        for d in range(D):",
        "            sub = one_direction(k, d, H_in if k == 0 else D * H_out)",
        "            rows = slice(D * k + d, D * k + d + 1)",
        f"            state = {'(h_0[rows], c_0[rows])' if lstm else 'h_0[rows]'}",
        "            loop_steps = [None] * L",
        "            for t in reversed(range(L)) if d else range(L):  # backward: from step L-1 to 0",
        f"                input_t = layer_input.narrow({dim}, t, 1)",
        f"                assert input_t.shape == ({shape_tuple(steps['input_t'])} if k == 0 "
        f"else {shape_tuple(upper)}), input_t.shape",
        "                out_t, state = sub(input_t, state)",
        "                loop_steps[t] = out_t",
        *_step_asserts(steps, "                "),
    ]
    lines += [
        f"            outputs.append(torch.cat(loop_steps, dim={dim}))",
        "            finals.append(state)",
        "        layer_input = torch.cat(outputs, dim=-1)",
        "    loop_output = layer_input",
    ]
    if lstm:
        lines += [
            "    loop_h_n = torch.cat([h for h, _ in finals])",
            "    loop_c_n = torch.cat([c for _, c in finals])",
        ]
    else:
        lines.append("    loop_h_n = torch.cat(finals)")
    return lines


def _cell_loop(spec: RNNSpec, steps: dict[str, tuple[int, ...]], cell: str) -> list[str]:
    """The PyTorch docs' nn.LSTMCell example over L steps, then the one-layer module sharing the weights."""
    lstm = spec.kind.has_cell_state
    layer = spec.kind.layer.value
    layer_call = replace(spec, kind=spec.kind.layer, num_layers=1).module_call
    lines = [
        "# the sequence: the table's input as step 0, then L - 1 more",
        "rest = torch.randn(L - 1, *input.shape, device=device, dtype=dtype)",
        "sequence = torch.cat([input.unsqueeze(0), rest])",
        "with torch.no_grad():",
        "    hx, cx = h_0, c_0" if lstm else "    hx = h_0",
        "    output = []",
        "    for i in range(L):",
        f"        hx, cx = {cell}(sequence[i], (hx, cx))"
        if lstm
        else f"        hx = {cell}(sequence[i], hx)",
        "        output.append(hx)",
        assert_shape("sequence[i]", steps["input_t"], "        "),
        assert_shape("hx", steps["h"], "        "),
    ]
    if lstm:
        lines.append(assert_shape("cx", steps["c"], "        "))
    lines += [
        "    output = torch.stack(output, dim=0)",
        "",
        f"    # one call of the one-layer module, with weight_ih_l0 = {cell}.weight_ih and so on",
        f"    {layer} = {constructor(layer_call)}",
        f'    {layer}.load_state_dict({{f"{{name}}_l0": p for name, p in {cell}.state_dict().items()}})',
    ]
    returned, state = (
        ("(h_n, c_n)", "(h_0.unsqueeze(0), c_0.unsqueeze(0))") if lstm else ("h_n", "h_0.unsqueeze(0)")
    )
    lines.append(f"    layer_output, {returned} = {layer}(sequence, {state})")
    checked = {"sequence": "input", "output": "output", "layer_output": "output", "h_n": "h_n", "c_n": "c_n"}
    return lines + [
        assert_shape(expression, steps[name]) for expression, name in checked.items() if name in steps
    ]
