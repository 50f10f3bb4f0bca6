"""--explain's hand-off: how h_n (and c_n) of a bidirectional or stacked encoder become a decoder's
initial state, as code and as relations the probe checks. Pure rules, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torchshape.families.rnn.relations import BACKWARD, FORWARD, Relation, RelationCheck, Writer
from torchshape.families.rnn.spec import RNNSpec


@dataclass(frozen=True)
class Line:
    """One line of the hand-off code, ``name = ...``, with the symbols and with numbers."""

    name: str
    code: str
    code_numeric: str


@dataclass(frozen=True)
class Decoder(Line):
    """A unidirectional decoder of the encoder's kind; the probe builds it on the run's device and dtype.

    It takes the encoder's own ``input`` as its input sequence (any (L, N, H_in) would do).
    """

    hidden_size: int
    num_layers: int
    proj_size: int  # 0: none


@dataclass(frozen=True)
class Handoff:
    """The encoder's final state handed to a decoder as its h_0 (and c_0): the code and its checks."""

    assignments: tuple[Line, ...]
    decoders: tuple[Decoder, ...]
    relations: tuple[Relation, ...]

    @property
    def code(self) -> list[str]:
        return [line.code for line in (*self.assignments, *self.decoders)]

    @property
    def code_numeric(self) -> list[str]:
        return [line.code_numeric for line in (*self.assignments, *self.decoders)]


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
    plan = _Plan(spec)
    if spec.bidirectional:
        _concatenated(plan)
        _averaged(plan)
        _top_layer(plan)
    else:
        _stacked(plan)
    return Handoff(tuple(plan.assignments), tuple(plan.decoders), tuple(plan.relations + plan.mistakes))


class _Plan:
    """A hand-off being written: its code (assignments, decoders), its relations and its mistakes."""

    def __init__(self, spec: RNNSpec) -> None:
        self.spec = spec
        self.w = Writer(spec)
        self.lstm = spec.kind.has_cell_state
        self.states = "(h_0, c_0)" if self.lstm else "h_0"
        self.assignments: list[Line] = []
        self.decoders: list[Decoder] = []
        self.relations: list[Relation] = []
        self.mistakes: list[Relation] = []

    def assign(self, name: str, template: str) -> None:
        self.assignments.append(Line(name, *self.w.write(f"{name} = {template}")))

    def decoder(self, name: str, width: int, layers: str) -> None:
        """nn.<KIND>(H_in, hidden, layers): hidden width·H_out, or with proj_size width·H_cell and
        proj_size width·H_out (a decoder LSTM's c is H_cell wide, its h H_out wide)."""
        spec, sym, proj = self.spec, self.w.sym, self.spec.proj_size > 0
        w2 = "{2" if width == 2 else "{"
        hidden = f"{w2}H_cell}}" if proj else f"{w2}H_out}}"
        extra = f", proj_size={w2}H_out}}" if proj else ""
        extra += ", batch_first=True" if spec.batch_first else ""
        template = f"{name} = nn.{spec.kind.module_name}({{H_in}}, {hidden}, {layers}{extra})"
        self.decoders.append(
            Decoder(
                name,
                *self.w.write(template),
                hidden_size=width * sym["H_cell"],
                num_layers=sym["num_layers"] if layers == "{num_layers}" else int(layers),
                proj_size=width * sym["H_out"] if proj else 0,
            )
        )

    def state(self, h: str, c: str) -> str:
        return f"({h}, {c})" if self.lstm else h

    def final_h(self, call: str) -> str:
        """The decoder's own h_n, out of what ``call`` returns."""
        return f"{call}[1][0].shape" if self.lstm else f"{call}[1].shape"

    def rel(self, lhs: str, rhs: str, meaning: str) -> None:
        self.relations.append(self.w.rel(lhs, rhs, meaning))

    def mistake(self, lhs: str, rhs: str, meaning: str) -> None:
        self.mistakes.append(self.w.rel(lhs, rhs, meaning, expected=False))


def _concatenated(p: _Plan) -> None:
    """Bidirectional: each layer's two directions side by side, for a decoder twice as wide."""
    w = p.w
    for state, feature in [("h", "H_out"), ("c", "H_cell")] if p.lstm else [("h", "H_out")]:
        p.assign(f"{state}_v", w.view(f"{state}_n", feature))
        p.assign(f"{state}_cat", f"torch.cat(({state}_v[:, 0], {state}_v[:, 1]), dim=-1)")
        p.assign(f"{state}_mean", f"{state}_v.mean(dim=1)")
    p.decoder("decoder", 2, "{num_layers}")
    p.decoder("decoder_h", 1, "{num_layers}")
    wide = w.state_shape("{num_layers}", "{2H_out}")
    p.rel(
        "h_cat.shape",
        wide,
        "per layer, the two directions side by side: the h_0 of a decoder whose h is 2·H_out wide",
    )
    p.rel("h_cat[..., :{H_out}]", "h_n[0::2]", "each layer's forward half is its row h_n[2·layer]")
    p.rel("h_cat[..., {H_out}:]", "h_n[1::2]", "each layer's backward half is its row h_n[2·layer + 1]")
    if p.lstm:
        batch = "" if p.spec.unbatched else "N, "
        cell = w.state_shape("{num_layers}", "{2H_cell}")
        p.rel("c_cat.shape", cell, f"c_n the same way: H_cell wide, so (num_layers, {batch}2·H_cell)")
        p.rel("c_cat[..., :{H_cell}]", "c_n[0::2]", "forward half: c_n[2·layer]")
        p.rel("c_cat[..., {H_cell}:]", "c_n[1::2]", "backward half: c_n[2·layer + 1]")
    accepts = "torch runs a unidirectional decoder with num_layers layers from it"
    if p.spec.proj_size > 0:
        accepts += ": hidden_size 2·H_cell for c, proj_size 2·H_out for h"
    p.rel(p.final_h(f"decoder(input, {p.state('h_cat', 'c_cat')})"), wide, accepts)


def _averaged(p: _Plan) -> None:
    """Bidirectional: the mean over the directions, for a decoder of the encoder's own sizes."""
    p.rel(
        "h_mean",
        "(h_n[0::2] + h_n[1::2]) / 2",
        "or the mean over the directions (or .sum(dim=1)), H_out wide",
    )
    if p.lstm:
        p.rel("c_mean", "(c_n[0::2] + c_n[1::2]) / 2", "c_n the same way, H_cell wide")
    narrow = p.w.state_shape("{num_layers}", "{H_out}")
    call = p.final_h(f"decoder_h(input, {p.state('h_mean', 'c_mean')})")
    p.rel(call, narrow, "a decoder of the encoder's own sizes, one direction, runs from it")


def _top_layer(p: _Plan) -> None:
    """Bidirectional: the top layer's directions, and the two common mistakes."""
    w, spec = p.w, p.spec
    if spec.num_layers > 1:
        p.rel("h_v[-1]", "h_n[-2:]", "the top layer only, both directions")
    forward, backward = w.output_at("-1", FORWARD), w.output_at("0", BACKWARD)
    p.rel(
        "h_cat[-1]",
        f"torch.cat(({forward}, {backward}), dim=-1)",
        "the top layer's directions side by side (for a linear layer or attention), "
        "the same as output's forward last step and backward step 0",
    )
    if spec.unbatched:
        meaning = "unbatched: no N between a layer's two rows, so this plain view is the same"
        p.rel("h_n.view({num_layers}, {2H_out})", "h_cat", meaning)
    elif w.sym["N"] > 1:
        p.mistake(
            "h_n.view({num_layers}, {N}, {2H_out})",
            "h_cat",
            "mistake: it runs, but row n pairs the states of neighbouring sequences, "
            "not sequence n's forward and backward",
        )
    p.mistake(
        p.final_h(f"decoder_h(input, {p.state('h_n', 'c_n')})"),
        w.state_shape("{num_layers}", "{H_out}"),
        f"mistake: h_n has D·num_layers rows; a one-direction decoder with num_layers "
        f"layers wants num_layers rows in its {p.states}",
    )


def _stacked(p: _Plan) -> None:
    """One direction, several layers: h_n fits as it is; its top layer fits a one-layer decoder."""
    p.decoder("decoder", 1, "{num_layers}")
    p.decoder("decoder_1", 1, "1")
    one = p.w.state_shape("1", "{H_out}")
    p.rel(
        p.final_h(f"decoder(input, {p.state('h_n', 'c_n')})"),
        p.w.state_shape("{num_layers}", "{H_out}"),
        "h_n fits as it is: torch runs a decoder of the encoder's sizes and layers from it",
    )
    p.rel(
        p.final_h(f"decoder_1(input, {p.state('h_n[-1:]', 'c_n[-1:]')})"),
        one,
        "the top layer only, keeping the layer axis (h_n[-1:]), for a one-layer decoder",
    )
    p.mistake(
        p.final_h(f"decoder_1(input, {p.state('h_n', 'c_n')})"),
        one,
        "mistake: every layer's final state for a one-layer decoder",
    )
    p.mistake(
        p.final_h(f"decoder_1(input, {p.state('h_n[-1]', 'c_n[-1]')})"),
        one,
        f"mistake: h_n[-1] drops the layer axis that {p.states} needs",
    )


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
