"""What ``--explain``, ``--lengths`` and ``--unroll`` claim for one configuration.

Pure rules, no torch, in the PyTorch docs' symbols: which indexing expressions
relate ``output`` to ``h_n`` (and which common guesses do not), how ``h_n`` is laid
out, the shapes of a packed batch, and the per-step shapes of a step-by-step loop.
``torchshape.families.rnn.explain_probe`` checks every claim on a real forward pass; the result
types below carry both the claim and what torch did.

    output[-1, :, :H_out] == h_n[-1]     unidirectional: the top layer's last step
    output[-1, :, :H_out] == h_n[-2]     bidirectional: the top layer's forward direction
    output[0, :, H_out:] == h_n[-1]      bidirectional: the backward direction ends at step 0
    h_n.view(num_layers, D, N, H_out)[layer, direction] is h_n[D·layer + direction]
    packed: output[lengths - 1, torch.arange(N), :H_out] == h_n[-D]   (not output[-1])
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torchshape.errors import UsageError
from torchshape.families.rnn.formulas import Dim, TensorFormula, symbols
from torchshape.families.rnn.spec import FLAGS, Nonlinearity, RNNSpec

# A step-by-step loop makes one call per time step; past this many it stops being
# an explanation and becomes a wait.
MAX_UNROLL_STEPS = 4096

# (rtol, atol) for "the same values". The relations compare copies of the same
# numbers, so they are usually exact; the step loop may round differently from
# the whole-sequence kernel. torch.testing's defaults per dtype; TF32 on CUDA
# (on by default for cuDNN) rounds float32 like a 10-bit mantissa.
TOLERANCE: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1.3e-6, 1e-5),
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
}
UNROLL_TOLERANCE: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1e-5, 1e-5),
    "float16": (1e-2, 1e-2),
    "bfloat16": (5e-2, 5e-2),
    "tf32": (1e-2, 1e-2),
}


def check_options(spec: RNNSpec, *, explain: bool = False, unroll: bool = False) -> None:
    """Refuse combinations that cannot be answered meaningfully, naming the flag."""
    if spec.kind.is_cell:
        from torchshape.families.rnn.cells import reject_sequence_analyses

        reject_sequence_analyses(spec.kind, explain=explain, unroll=unroll, seq_len=spec.seq_len)
    if not unroll:
        return
    if spec.device == "meta":
        raise UsageError(
            "--unroll",
            "needs values to compare, and meta tensors have none; use --device cpu (or cuda)",
        )
    if spec.lengths is not None:
        raise UsageError(
            "--unroll",
            f"not with {FLAGS['lengths']}: a step loop over a padded batch runs every sequence to L; "
            "drop one of the two",
        )
    if spec.seq_len > MAX_UNROLL_STEPS:
        raise UsageError(
            "--unroll",
            f"L = {spec.seq_len} steps would take {spec.seq_len} calls; "
            f"use --seq-len {MAX_UNROLL_STEPS} or less",
        )


# ---------------------------------------------------------------- relations


@dataclass(frozen=True)
class Relation:
    """``lhs == rhs``, both valid Python over output, h_n, c_n, the symbols, ``lengths`` and torch.

    ``expected`` is what the rules say for this configuration: True for a relation
    that holds, False for a common guess listed to show that it does not.
    """

    lhs: str
    rhs: str
    lhs_numeric: str  # the same with this run's numbers in place of the symbols
    rhs_numeric: str
    meaning: str
    expected: bool = True

    @property
    def expression(self) -> str:
        return f"{self.lhs} == {self.rhs}"

    @property
    def numeric(self) -> str:
        return f"{self.lhs_numeric} == {self.rhs_numeric}"


@dataclass(frozen=True)
class RelationCheck:
    """A relation and what the forward pass said about it."""

    relation: Relation
    holds: bool | None  # computed from the tensors; None where there are no values (meta)
    exact: bool | None = None  # bit for bit equal
    max_abs_diff: float | None = None
    numeric_agrees: bool | None = None  # the numeric form picked the very same values
    error: str | None = None  # torch refused it: the exception's type and first line

    @property
    def ok(self) -> bool:
        """A claimed relation held (a listed mistake may hold by coincidence of the values)."""
        if self.holds is None:
            return True
        return (self.holds or not self.relation.expected) and self.numeric_agrees is not False


class _Writer:
    """Writes one template twice: with the symbols, and with this run's numbers."""

    def __init__(self, spec: RNNSpec) -> None:
        self.spec = spec
        self.sym = symbols(spec)
        lengths = list(spec.lengths) if spec.lengths is not None else []
        self.names = {name: name for name in self.sym.as_dict()} | {"lengths": "lengths"}
        self.numbers = {name: str(value) for name, value in self.sym.as_dict().items()}
        self.numbers["lengths"] = f"torch.tensor({lengths})"
        for feature in ("H_out", "H_cell"):  # a decoder with both directions side by side
            self.names[f"2{feature}"] = f"2*{feature}"
            self.numbers[f"2{feature}"] = str(2 * self.sym[feature])

    def rel(self, lhs: str, rhs: str, meaning: str, expected: bool = True) -> Relation:
        return Relation(
            lhs=lhs.format(**self.names),
            rhs=rhs.format(**self.names),
            lhs_numeric=lhs.format(**self.numbers),
            rhs_numeric=rhs.format(**self.numbers),
            meaning=meaning,
            expected=expected,
        )

    def output_at(self, step: str, features: str) -> str:
        """``output`` at one time step, in this run's layout (batch_first, unbatched)."""
        if self.spec.unbatched:
            return f"output[{step}, {features}]"
        if self.spec.batch_first:
            return f"output[:, {step}, {features}]"
        return f"output[{step}, :, {features}]"

    def step(self, step: str) -> str:
        """``output`` at one time step, all features: ``output[-1]``, batch_first ``output[:, -1]``."""
        if self.spec.batch_first and not self.spec.unbatched:
            return f"output[:, {step}]"
        return f"output[{step}]"

    def output_at_lengths(self, features: str) -> str:
        """The padded output at each sequence's last real step."""
        if self.spec.batch_first:
            return f"output[torch.arange({{N}}), {{lengths}} - 1, {features}]"
        return f"output[{{lengths}} - 1, torch.arange({{N}}), {features}]"

    def state_shape(self, first: str, feature: str) -> str:
        """The template of a state's shape tuple: ``({first}, {N}, {feature})``, no N unbatched."""
        batch = "" if self.spec.unbatched else "{N}, "
        return f"({first}, {batch}{feature})"

    def view(self, tensor: str, feature: str) -> str:
        batch = "" if self.spec.unbatched else "{N}, "
        return f"{tensor}.view({{num_layers}}, {{D}}, {batch}{{{feature}}})"


FORWARD = ":{H_out}"
BACKWARD = "{H_out}:"


def relations(spec: RNNSpec) -> list[Relation]:
    """How output and h_n (c_n) relate for this configuration: the ones that hold, then common mistakes."""
    w = _Writer(spec)
    bidir = spec.bidirectional
    top_forward = "h_n[-2]" if bidir else "h_n[-1]"
    out: list[Relation] = [
        w.rel(
            w.output_at("-1", FORWARD),
            top_forward,
            "top layer, forward direction: output's last step is its final state",
        )
    ]
    if bidir:
        out.append(
            w.rel(
                w.output_at("0", BACKWARD),
                "h_n[-1]",
                "top layer, backward direction: it runs from the last step to the first, "
                "so its final state is output's step 0",
            )
        )
    if bidir or spec.num_layers > 1:
        out.append(
            w.rel(
                w.view("h_n", "H_out") + "[-1, 0]",
                w.output_at("-1", FORWARD),
                "the same through the view: [layer, direction], forward = 0",
            )
        )
    if bidir:
        out.append(
            w.rel(
                w.view("h_n", "H_out") + "[-1, 1]",
                w.output_at("0", BACKWARD),
                "the same through the view: backward = 1",
            )
        )
    if spec.proj_size:
        out.append(w.rel("h_n.shape[-1]", "{H_out}", "with proj_size, h (and output) use H_out = proj_size"))
        out.append(w.rel("c_n.shape[-1]", "{H_cell}", "c keeps H_cell = hidden_size: it is never projected"))
    # Common guesses, listed only where the rules say they fail for this configuration.
    if bidir and spec.seq_len > 1:
        out.append(
            w.rel(
                w.output_at("-1", BACKWARD),
                "h_n[-1]",
                f"mistake: {w.step('-1')}'s backward half is the backward direction's first step, "
                "not its last",
                expected=False,
            )
        )
    if spec.num_layers > 1:
        out.append(
            w.rel(
                w.output_at("-1", FORWARD),
                "h_n[0]",
                "mistake: h_n[0] is the first layer; output is the top layer",
                expected=False,
            )
        )
    if spec.proj_size:
        out.append(
            w.rel(
                "h_n.shape[-1]",
                "{H_cell}",
                "mistake: h does not keep hidden_size when proj_size is set",
                expected=False,
            )
        )
    return out


def packed_relations(spec: RNNSpec) -> list[Relation]:
    """How the padded output of a packed batch relates to h_n: at each sequence's last real step."""
    assert spec.lengths is not None
    w = _Writer(spec)
    top_forward = "h_n[-2]" if spec.bidirectional else "h_n[-1]"
    out = [
        w.rel(
            w.output_at_lengths(FORWARD),
            top_forward,
            "top layer, forward direction: each sequence's last real step (lengths - 1) is its final state",
        )
    ]
    if spec.bidirectional:
        out.append(
            w.rel(
                w.output_at("0", BACKWARD),
                "h_n[-1]",
                "backward direction: it starts at each sequence's last real step and ends at step 0",
            )
        )
    if min(spec.lengths) < max(spec.lengths):
        out.append(
            w.rel(
                w.output_at("-1", FORWARD),
                top_forward,
                f"mistake: {w.step('-1')} is padding (zeros) for every sequence shorter than max(lengths)",
                expected=False,
            )
        )
    return out


# ---------------------------------------------------------------- hand-off


@dataclass(frozen=True)
class Assignment:
    """One line of the hand-off code, ``name = expr``, with the symbols and with numbers."""

    name: str
    expr: str
    expr_numeric: str


@dataclass(frozen=True)
class Decoder:
    """A unidirectional decoder of the encoder's kind; the probe builds it on the run's device and dtype.

    It takes the encoder's own ``input`` as its input sequence (any (L, N, H_in) would do).
    """

    name: str
    hidden_size: int
    num_layers: int
    proj_size: int  # 0: none
    code: str
    code_numeric: str


@dataclass(frozen=True)
class Handoff:
    """The encoder's final state handed to a decoder as its h_0 (and c_0): the code and its checks."""

    assignments: tuple[Assignment, ...]
    decoders: tuple[Decoder, ...]
    relations: tuple[Relation, ...]

    @property
    def code(self) -> list[str]:
        return [f"{a.name} = {a.expr}" for a in self.assignments] + [d.code for d in self.decoders]

    @property
    def code_numeric(self) -> list[str]:
        return [f"{a.name} = {a.expr_numeric}" for a in self.assignments] + [
            d.code_numeric for d in self.decoders
        ]


def decoder_spec(spec: RNNSpec, decoder: Decoder) -> RNNSpec:
    """The configuration of one hand-off decoder: the encoder's kind and input, one direction."""
    return replace(
        spec,
        hidden_size=decoder.hidden_size,
        num_layers=decoder.num_layers,
        proj_size=decoder.proj_size,
        bidirectional=False,
        dropout=0.0,
        lengths=None,
    )


def handoff_decoders(spec: RNNSpec) -> list[RNNSpec]:
    """What ``--explain`` builds and runs beside the module (the guard counts them too)."""
    plan = handoff(spec)
    return [] if plan is None else [decoder_spec(spec, d) for d in plan.decoders]


def handoff(spec: RNNSpec) -> Handoff | None:
    """How h_n (and c_n) of a bidirectional or stacked encoder become a decoder's initial state.

    None where h_n already fits a decoder as it is (one layer, one direction), and for cells.
    """
    if spec.kind.is_cell or not (spec.bidirectional or spec.num_layers > 1):
        return None
    w = _Writer(spec)
    sym = w.sym
    lstm = spec.kind.has_cell_state
    proj = spec.proj_size > 0
    assignments: list[Assignment] = []
    decoders: list[Decoder] = []

    def assign(name: str, template: str) -> None:
        assignments.append(Assignment(name, template.format(**w.names), template.format(**w.numbers)))

    def decoder(name: str, width: int, layers: str) -> None:
        """nn.<KIND>(H_in, hidden, layers): hidden width·H_out, or with proj_size width·H_cell and
        proj_size width·H_out (a decoder LSTM's c is H_cell wide, its h H_out wide)."""
        w2 = "{2" if width == 2 else "{"
        hidden = f"{w2}H_cell}}" if proj else f"{w2}H_out}}"
        extra = f", proj_size={w2}H_out}}" if proj else ""
        extra += ", batch_first=True" if spec.batch_first else ""
        template = f"{name} = nn.{spec.kind.module_name}({{H_in}}, {hidden}, {layers}{extra})"
        layers_value = sym.num_layers if layers == "{num_layers}" else int(layers)
        decoders.append(
            Decoder(
                name=name,
                hidden_size=width * sym.H_cell,
                num_layers=layers_value,
                proj_size=width * sym.H_out if proj else 0,
                code=template.format(**w.names),
                code_numeric=template.format(**w.numbers),
            )
        )

    def state(h: str, c: str) -> str:
        return f"({h}, {c})" if lstm else h

    def final_h(call: str) -> str:
        """The decoder's own h_n, out of what the call returns."""
        return f"{call}[1][0].shape" if lstm else f"{call}[1].shape"

    rels: list[Relation] = []
    mistakes: list[Relation] = []
    states = "(h_0, c_0)" if lstm else "h_0"
    if spec.bidirectional:
        assign("h_v", w.view("h_n", "H_out"))
        assign("h_cat", "torch.cat((h_v[:, 0], h_v[:, 1]), dim=-1)")
        assign("h_mean", "h_v.mean(dim=1)")
        if lstm:
            assign("c_v", w.view("c_n", "H_cell"))
            assign("c_cat", "torch.cat((c_v[:, 0], c_v[:, 1]), dim=-1)")
            assign("c_mean", "c_v.mean(dim=1)")
        decoder("decoder", 2, "{num_layers}")
        decoder("decoder_h", 1, "{num_layers}")
        wide = w.state_shape("{num_layers}", "{2H_out}")
        rels.append(
            w.rel(
                "h_cat.shape",
                wide,
                "per layer, the two directions side by side: the h_0 of a decoder whose h is 2·H_out wide",
            )
        )
        rels.append(
            w.rel("h_cat[..., :{H_out}]", "h_n[0::2]", "each layer's forward half is its row h_n[2·layer]")
        )
        rels.append(
            w.rel(
                "h_cat[..., {H_out}:]", "h_n[1::2]", "each layer's backward half is its row h_n[2·layer + 1]"
            )
        )
        if lstm:
            rels.append(
                w.rel(
                    "c_cat.shape",
                    w.state_shape("{num_layers}", "{2H_cell}"),
                    "c_n the same way: H_cell wide, so (num_layers, N, 2·H_cell)"
                    if not spec.unbatched
                    else "c_n the same way: H_cell wide, so (num_layers, 2·H_cell)",
                )
            )
            rels.append(w.rel("c_cat[..., :{H_cell}]", "c_n[0::2]", "forward half: c_n[2·layer]"))
            rels.append(w.rel("c_cat[..., {H_cell}:]", "c_n[1::2]", "backward half: c_n[2·layer + 1]"))
        accepts = "torch runs a unidirectional decoder with num_layers layers from it"
        if proj:
            accepts += ": hidden_size 2·H_cell for c, proj_size 2·H_out for h"
        rels.append(w.rel(final_h(f"decoder(input, {state('h_cat', 'c_cat')})"), wide, accepts))
        rels.append(
            w.rel(
                "h_mean",
                "(h_n[0::2] + h_n[1::2]) / 2",
                "or the mean over the directions (or .sum(dim=1)), H_out wide",
            )
        )
        if lstm:
            rels.append(w.rel("c_mean", "(c_n[0::2] + c_n[1::2]) / 2", "c_n the same way, H_cell wide"))
        narrow = w.state_shape("{num_layers}", "{H_out}")
        rels.append(
            w.rel(
                final_h(f"decoder_h(input, {state('h_mean', 'c_mean')})"),
                narrow,
                "a decoder of the encoder's own sizes, one direction, runs from it",
            )
        )
        if spec.num_layers > 1:
            rels.append(w.rel("h_v[-1]", "h_n[-2:]", "the top layer only, both directions"))
        forward, backward = w.output_at("-1", FORWARD), w.output_at("0", BACKWARD)
        rels.append(
            w.rel(
                "h_cat[-1]",
                f"torch.cat(({forward}, {backward}), dim=-1)",
                "the top layer's directions side by side (for a linear layer or attention), "
                "the same as output's forward last step and backward step 0",
            )
        )
        if spec.unbatched:
            rels.append(
                w.rel(
                    "h_n.view({num_layers}, {2H_out})",
                    "h_cat",
                    "unbatched: no N between a layer's two rows, so this plain view is the same",
                )
            )
        elif sym.N > 1:
            mistakes.append(
                w.rel(
                    "h_n.view({num_layers}, {N}, {2H_out})",
                    "h_cat",
                    "mistake: it runs, but row n pairs the states of neighbouring sequences, "
                    "not sequence n's forward and backward",
                    expected=False,
                )
            )
        mistakes.append(
            w.rel(
                final_h(f"decoder_h(input, {state('h_n', 'c_n')})"),
                narrow,
                f"mistake: h_n has D·num_layers rows; a one-direction decoder with num_layers "
                f"layers wants num_layers rows in its {states}",
                expected=False,
            )
        )
    else:
        decoder("decoder", 1, "{num_layers}")
        decoder("decoder_1", 1, "1")
        rels.append(
            w.rel(
                final_h(f"decoder(input, {state('h_n', 'c_n')})"),
                w.state_shape("{num_layers}", "{H_out}"),
                "h_n fits as it is: torch runs a decoder of the encoder's sizes and layers from it",
            )
        )
        rels.append(
            w.rel(
                final_h(f"decoder_1(input, {state('h_n[-1:]', 'c_n[-1:]')})"),
                w.state_shape("1", "{H_out}"),
                "the top layer only, keeping the layer axis (h_n[-1:]), for a one-layer decoder",
            )
        )
        mistakes.append(
            w.rel(
                final_h(f"decoder_1(input, {state('h_n', 'c_n')})"),
                w.state_shape("1", "{H_out}"),
                "mistake: every layer's final state for a one-layer decoder",
                expected=False,
            )
        )
        mistakes.append(
            w.rel(
                final_h(f"decoder_1(input, {state('h_n[-1]', 'c_n[-1]')})"),
                w.state_shape("1", "{H_out}"),
                f"mistake: h_n[-1] drops the layer axis that {states} needs",
                expected=False,
            )
        )
    return Handoff(tuple(assignments), tuple(decoders), tuple(rels + mistakes))


@dataclass(frozen=True)
class HandoffResult:
    """The hand-off code and every relation of it, as the forward pass's values answered."""

    plan: Handoff
    relations: list[RelationCheck]

    @property
    def code(self) -> list[str]:
        return self.plan.code

    @property
    def code_numeric(self) -> list[str]:
        return self.plan.code_numeric

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.relations)


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Which index of h_n (or c_n) holds each layer and direction."""

    tensor: str  # h_n or c_n
    view: str  # h_n.view(num_layers, D, N, H_out)
    view_numeric: str
    directions: tuple[str, ...]
    grid: tuple[tuple[int, ...], ...]  # grid[layer][direction] = index along h_n's first dimension


def layouts(spec: RNNSpec) -> list[Layout]:
    """h_n (and c_n) as ``view(num_layers, D, N, ·)[layer, direction]``: index D·layer + direction."""
    w = _Writer(spec)
    sym = w.sym
    directions = ("forward", "backward") if spec.bidirectional else ("forward",)
    grid = tuple(tuple(sym.D * layer + d for d in range(sym.D)) for layer in range(sym.num_layers))
    tensors = [("h_n", "H_out")] + ([("c_n", "H_cell")] if spec.kind.has_cell_state else [])
    out = []
    for name, feature in tensors:
        template = w.view(name, feature)
        out.append(
            Layout(
                tensor=name,
                view=template.format(**w.names),
                view_numeric=template.format(**w.numbers),
                directions=directions,
                grid=grid,
            )
        )
    return out


def feature_sizes(spec: RNNSpec) -> dict[str, list[str]]:
    """Which tensors end in H_out and which in H_cell (they differ only with proj_size)."""
    from torchshape.families.rnn.formulas import tensor_formulas

    out: dict[str, list[str]] = {"H_out": [], "H_cell": []}
    for f in tensor_formulas(spec):
        last = f.dims[-1].symbols[-1]
        if last in out:
            out[last].append(f.name)
    return out


# ---------------------------------------------------------------- shapes


@dataclass(frozen=True)
class ShapeCheck:
    """One shape torchshape predicts for an extra tensor, and the one torch produced."""

    name: str
    code: str  # how the user gets it, e.g. "packed.data"
    formula: str
    expected: tuple[int, ...]  # the formula at the user's sizes
    probe_expected: tuple[int, ...]  # the formula at the sizes the forward pass ran
    measured: tuple[int, ...] | None  # what torch produced there
    exact: bool  # the forward pass ran at the user's sizes

    @property
    def verified(self) -> bool:
        return self.measured == self.probe_expected


def _dims(*exprs: str) -> tuple[Dim, ...]:
    out = []
    for expr in exprs:
        out.append(Dim(expr, () if expr == "1" else tuple(expr.split("·"))))
    return tuple(out)


def _sequence_dims(spec: RNNSpec, time: str, feature: str) -> tuple[Dim, ...]:
    if spec.unbatched:
        return _dims(time, feature)
    if spec.batch_first:
        return _dims("N", time, feature)
    return _dims(time, "N", feature)


def _state_dims(spec: RNNSpec, first: str, feature: str) -> tuple[Dim, ...]:
    if spec.unbatched:
        return _dims(first, feature)
    return _dims(first, "N", feature)


@dataclass(frozen=True)
class PackedRule:
    """The shape rule of one tensor of a packed call."""

    name: str
    code: str
    formula: str


def packed_shapes(spec: RNNSpec) -> list[tuple[PackedRule, tuple[int, ...]]]:
    """Every tensor of a packed call, with its formula and its value for ``spec``'s lengths."""
    assert spec.lengths is not None
    sym = symbols(spec)
    total, longest = sum(spec.lengths), max(spec.lengths)
    padded = (sym.N, longest) if spec.batch_first else (longest, sym.N)
    padded_total = (sym.N, sym.L) if spec.batch_first else (sym.L, sym.N)
    time_first = "N, " if spec.batch_first else ""
    time_last = "" if spec.batch_first else ", N"
    rows = [
        (PackedRule("data", "packed.data", "(sum(lengths), H_in)"), (total, sym.H_in)),
        (PackedRule("batch_sizes", "packed.batch_sizes", "(max(lengths),)"), (longest,)),
        (
            PackedRule("output.data", "packed_output.data", "(sum(lengths), D·H_out)"),
            (total, sym.D * sym.H_out),
        ),
        (
            PackedRule("output", "output", f"({time_first}max(lengths){time_last}, D·H_out)"),
            (*padded, sym.D * sym.H_out),
        ),
        (
            PackedRule(
                "output (total_length=L)",
                "output, total_length=L",
                f"({time_first}L{time_last}, D·H_out)",
            ),
            (*padded_total, sym.D * sym.H_out),
        ),
        (PackedRule("h_n", "h_n", "(D·num_layers, N, H_out)"), (sym.D * sym.num_layers, sym.N, sym.H_out)),
    ]
    if spec.kind.has_cell_state:
        rows.append(
            (
                PackedRule("c_n", "c_n", "(D·num_layers, N, H_cell)"),
                (sym.D * sym.num_layers, sym.N, sym.H_cell),
            )
        )
    return rows


def batch_sizes(lengths: tuple[int, ...]) -> tuple[int, ...]:
    """How many sequences are still running at each step: what PackedSequence.batch_sizes holds."""
    return tuple(sum(1 for n in lengths if n > t) for t in range(max(lengths)))


def probe_lengths(spec: RNNSpec, ran: RNNSpec) -> tuple[int, ...]:
    """Lengths for the probe sizes on meta: the user's where N and L were kept, else scaled to fit."""
    assert spec.lengths is not None
    if ran.batch == spec.batch and ran.seq_len == spec.seq_len:
        return spec.lengths
    # every probe sequence stands for a spread of the user's, its length scaled from L to the probe's L
    picked = [spec.lengths[i * len(spec.lengths) // ran.batch] for i in range(ran.batch)]
    return tuple(max(1, min(ran.seq_len, round(n * ran.seq_len / spec.seq_len))) for n in picked)


@dataclass(frozen=True)
class PackedResult:
    """A variable-length batch through pack_padded_sequence, as torch ran it."""

    lengths: tuple[int, ...]
    sum_lengths: int
    max_length: int
    batch_sizes: tuple[int, ...]  # the rule, at the user's lengths
    measured_batch_sizes: tuple[int, ...] | None  # torch's, at the lengths that ran
    ran_lengths: tuple[int, ...]  # the lengths the forward pass used (probe lengths on meta)
    sorted_indices: tuple[int, ...] | None
    shapes: list[ShapeCheck]
    relations: list[RelationCheck]

    @property
    def batch_sizes_verified(self) -> bool:
        return self.measured_batch_sizes == batch_sizes(self.ran_lengths)

    @property
    def ok(self) -> bool:
        return (
            self.batch_sizes_verified
            and all(s.verified for s in self.shapes)
            and all(r.ok for r in self.relations)
        )


PACKED_CODE = (
    "packed = pack_padded_sequence(input, lengths, {bf}enforce_sorted=False)",
    "packed_output, h_n = {module}(packed, h_0)",
    "output, out_lengths = pad_packed_sequence(packed_output{bf2})",
)


def packed_code(spec: RNNSpec) -> list[str]:
    """The lines a user writes for a packed batch."""
    bf = "batch_first=True, " if spec.batch_first else ""
    bf2 = ", batch_first=True" if spec.batch_first else ""
    lines = [line.format(bf=bf, bf2=bf2, module=spec.kind.value) for line in PACKED_CODE]
    if spec.kind.has_cell_state:
        lines[1] = "packed_output, (h_n, c_n) = lstm(packed, (h_0, c_0))"
    return lines


# ---------------------------------------------------------------- unroll


@dataclass(frozen=True)
class StepRule:
    name: str
    code: str
    formula: TensorFormula


def unroll_steps(spec: RNNSpec) -> list[StepRule]:
    """The shape of every tensor one call of the step loop takes or returns."""
    if spec.kind.is_cell:
        return cell_unroll_steps(spec)
    step = "input[:, t:t+1]" if spec.batch_first and not spec.unbatched else "input[t:t+1]"
    rules: list[StepRule] = []
    if not spec.bidirectional:
        rules.append(StepRule("input_t", step, TensorFormula("input_t", _sequence_dims(spec, "1", "H_in"))))
        rules.append(
            StepRule("output_t", "out_t", TensorFormula("output_t", _sequence_dims(spec, "1", "H_out")))
        )
        rules.append(StepRule("h", "h", TensorFormula("h", _state_dims(spec, "num_layers", "H_out"))))
        if spec.kind.has_cell_state:
            rules.append(StepRule("c", "c", TensorFormula("c", _state_dims(spec, "num_layers", "H_cell"))))
        return rules
    rules.append(StepRule("input_t", step, TensorFormula("input_t", _sequence_dims(spec, "1", "H_in"))))
    if spec.num_layers > 1:
        rules.append(
            StepRule(
                "input_t (layer ≥ 1)",
                "layer ≥ 1 input",
                TensorFormula("input_t (layer ≥ 1)", _sequence_dims(spec, "1", "D·H_out")),
            )
        )
    rules.append(StepRule("output_t", "out_t", TensorFormula("output_t", _sequence_dims(spec, "1", "H_out"))))
    rules.append(StepRule("h", "h", TensorFormula("h", _state_dims(spec, "1", "H_out"))))
    if spec.kind.has_cell_state:
        rules.append(StepRule("c", "c", TensorFormula("c", _state_dims(spec, "1", "H_cell"))))
    return rules


def unroll_code(spec: RNNSpec) -> list[str]:
    """The step loop a user writes (unidirectional), or the one torchshape runs (bidirectional)."""
    if spec.kind.is_cell:
        return cell_unroll_code(spec)
    step = "input[:, t:t+1]" if spec.batch_first and not spec.unbatched else "input[t:t+1]"
    time_dim = 1 if spec.batch_first and not spec.unbatched else 0
    name = spec.kind.value
    state = "(h_0, c_0)" if spec.kind.has_cell_state else "h_0"
    if not spec.bidirectional:
        return [
            f"state, steps = {state}, []",
            "for t in range(L):",
            f"    out_t, state = {name}({step}, state)",
            "    steps.append(out_t)",
            f"output = torch.cat(steps, dim={time_dim})",
        ]
    return [
        "for each layer k, direction d: a one-layer, one-direction module",
        "  with this module's weight_*_l{k} (d = 0) or weight_*_l{k}_reverse (d = 1)",
        "  d = 0 steps t = 0 … L-1, d = 1 steps t = L-1 … 0, each from h_0[D·k + d]",
        "  layer k+1 steps over torch.cat((forward, backward), dim=-1) of layer k",
    ]


def _cell_dims(spec: RNNSpec, *exprs: str) -> tuple[Dim, ...]:
    """A cell's layout: the given leading dimensions, then N (unless unbatched), then the feature."""
    *leading, feature = exprs
    return _dims(*leading, *([] if spec.unbatched else ["N"]), feature)


def cell_unroll_steps(spec: RNNSpec) -> list[StepRule]:
    """A cell looped over L steps (``input[i]`` each), and the one-layer module it is compared with."""

    def rule(name: str, code: str, *exprs: str) -> StepRule:
        return StepRule(name, code, TensorFormula(name, _cell_dims(spec, *exprs)))

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


# ---------------------------------------------------------------- all of it


@dataclass(frozen=True)
class Analysis:
    """What --explain, --lengths and --unroll found; None for a part not asked for."""

    relations: list[RelationCheck] | None = None
    layouts: list[Layout] | None = None
    feature_sizes: dict[str, list[str]] | None = None
    packed: PackedResult | None = None
    unroll: UnrollResult | None = None
    values: bool = True  # False on meta: no values, so no relation was evaluated
    handoff: HandoffResult | None = None  # --explain, bidirectional or stacked: h_n to a decoder

    @property
    def ok(self) -> bool:
        return (
            all(r.ok for r in self.relations or [])
            and (self.packed is None or self.packed.ok)
            and (self.unroll is None or self.unroll.ok)
            and (self.handoff is None or self.handoff.ok)
        )


NO_VALUES = "meta tensors carry no values, so no relation is evaluated (holds: null); use --device cpu"
