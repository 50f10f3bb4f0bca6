"""--explain's relations between output and h_n (and c_n): ``lhs == rhs`` in valid Python, written
once with the PyTorch docs' symbols and once with this run's numbers. Pure rules, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape.explain import Claim
from torchshape.families.rnn.formulas import symbols
from torchshape.families.rnn.spec import RNNSpec

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


@dataclass(frozen=True, kw_only=True)
class RelationCheck(Claim):
    """A relation and what the forward pass said about it: a claim whose expression is
    ``lhs == rhs`` and whose evidence is torch's refusal of it, if torch refused."""

    relation: Relation
    exact: bool | None = None  # bit for bit equal
    max_abs_diff: float | None = None
    numeric_agrees: bool | None = None  # the numeric form picked the very same values

    @property
    def ok(self) -> bool:
        """A claimed relation held (a listed mistake may hold by coincidence of the values)."""
        if self.holds is None:
            return True
        return (self.holds or not self.relation.expected) and self.numeric_agrees is not False


def checked(relation: Relation, holds: bool | None, *, error: str = "", **found: Any) -> RelationCheck:
    """``relation`` as torch answered it: ``holds`` computed from the tensors (None where there are
    no values: meta), ``error`` torch's refusal (the exception's type and first line)."""
    return RelationCheck(
        topic="relation",
        claim=relation.meaning,
        holds=holds,
        evidence=error,
        expression=relation.expression,
        relation=relation,
        **found,
    )


class Writer:
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

    def write(self, template: str) -> tuple[str, str]:
        """``template`` with the symbols, and with this run's numbers."""
        return template.format(**self.names), template.format(**self.numbers)

    def rel(self, lhs: str, rhs: str, meaning: str, expected: bool = True) -> Relation:
        (lhs_symbols, lhs_numeric), (rhs_symbols, rhs_numeric) = self.write(lhs), self.write(rhs)
        return Relation(lhs_symbols, rhs_symbols, lhs_numeric, rhs_numeric, meaning, expected)

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
    w = Writer(spec)
    bidir, proj = spec.bidirectional, spec.proj_size > 0
    top_forward = "h_n[-2]" if bidir else "h_n[-1]"
    last_forward, first_backward = w.output_at("-1", FORWARD), w.output_at("0", BACKWARD)
    view = w.view("h_n", "H_out")
    # (where it applies, lhs, rhs, meaning)
    holding = [
        (
            True,
            last_forward,
            top_forward,
            "top layer, forward direction: output's last step is its final state",
        ),
        (
            bidir,
            first_backward,
            "h_n[-1]",
            "top layer, backward direction: it runs from the last step to the first, "
            "so its final state is output's step 0",
        ),
        (
            bidir or spec.num_layers > 1,
            f"{view}[-1, 0]",
            last_forward,
            "the same through the view: [layer, direction], forward = 0",
        ),
        (bidir, f"{view}[-1, 1]", first_backward, "the same through the view: backward = 1"),
        (proj, "h_n.shape[-1]", "{H_out}", "with proj_size, h (and output) use H_out = proj_size"),
        (proj, "c_n.shape[-1]", "{H_cell}", "c keeps H_cell = hidden_size: it is never projected"),
    ]
    # Common guesses, listed only where the rules say they fail for this configuration.
    mistakes = [
        (
            bidir and spec.seq_len > 1,
            w.output_at("-1", BACKWARD),
            "h_n[-1]",
            f"mistake: {w.step('-1')}'s backward half is the backward direction's first step, not its last",
        ),
        (
            spec.num_layers > 1,
            last_forward,
            "h_n[0]",
            "mistake: h_n[0] is the first layer; output is the top layer",
        ),
        (proj, "h_n.shape[-1]", "{H_cell}", "mistake: h does not keep hidden_size when proj_size is set"),
    ]
    return [w.rel(lhs, rhs, meaning) for applies, lhs, rhs, meaning in holding if applies] + [
        w.rel(lhs, rhs, meaning, expected=False) for applies, lhs, rhs, meaning in mistakes if applies
    ]


def packed_relations(spec: RNNSpec) -> list[Relation]:
    """How the padded output of a packed batch relates to h_n: at each sequence's last real step."""
    assert spec.lengths is not None
    w = Writer(spec)
    top_forward = "h_n[-2]" if spec.bidirectional else "h_n[-1]"
    out = [
        w.rel(
            w.output_at_lengths(FORWARD),
            top_forward,
            "top layer, forward direction: each sequence's last real step (lengths - 1) is its final state",
        )
    ]
    if spec.bidirectional:
        backward = "backward direction: it starts at each sequence's last real step and ends at step 0"
        out.append(w.rel(w.output_at("0", BACKWARD), "h_n[-1]", backward))
    if min(spec.lengths) < max(spec.lengths):
        padding = f"mistake: {w.step('-1')} is padding (zeros) for every sequence shorter than max(lengths)"
        out.append(w.rel(w.output_at("-1", FORWARD), top_forward, padding, expected=False))
    return out
