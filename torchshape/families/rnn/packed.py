"""--lengths: a variable-length batch through pack_padded_sequence, the shapes of every tensor of
the packed call, and the shape checks --lengths and --unroll share. Pure rules, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.facts import Symbols, TensorFormula
from torchshape.families.rnn.formulas import sequence_dims, symbols
from torchshape.families.rnn.relations import RelationCheck
from torchshape.families.rnn.spec import RNNSpec


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

    @property
    def shown(self) -> tuple[int, ...]:
        """torch's shape where the forward pass ran at the user's sizes, else the formula's."""
        return self.measured if self.exact and self.measured is not None else self.expected


@dataclass(frozen=True)
class CodeRule:
    """The shape rule of a tensor the user's own code makes (``packed.data``, one step's ``h``)."""

    code: str  # how the user gets it, e.g. "packed.data"
    formula: TensorFormula

    def check(self, sym: Symbols, ran: Symbols, measured: tuple[int, ...] | None, exact: bool) -> ShapeCheck:
        """The rule at the user's sizes (``sym``) and at those the forward pass ran, beside torch's."""
        f = self.formula
        return ShapeCheck(f.name, self.code, f.formula, f.shape(sym), f.shape(ran), measured, exact)


def packed_symbols(spec: RNNSpec) -> Symbols:
    """The module's symbols, and the lengths' sum(lengths) and max(lengths)."""
    assert spec.lengths is not None
    sym = symbols(spec)
    lengths = (("sum(lengths)", sum(spec.lengths)), ("max(lengths)", max(spec.lengths)))
    return Symbols(sym.values, sym.derived + lengths)


def packed_rules(spec: RNNSpec) -> list[CodeRule]:
    """Every tensor of a packed call (``packed_symbols`` give their values)."""

    def rule(name: str, code: str, *dims: str, written: str | None = None) -> CodeRule:
        return CodeRule(code, TensorFormula(name, dims, written))

    rules = [
        rule("data", "packed.data", "sum(lengths)", "H_in"),
        rule("batch_sizes", "packed.batch_sizes", "max(lengths)", written="(max(lengths),)"),
        rule("output.data", "packed_output.data", "sum(lengths)", "D·H_out"),
        rule("output", "output", *sequence_dims(spec, "max(lengths)", "D·H_out")),
        rule("output (total_length=L)", "output, total_length=L", *sequence_dims(spec, "L", "D·H_out")),
        rule("h_n", "h_n", "D·num_layers", "N", "H_out"),
    ]
    if spec.kind.has_cell_state:
        rules.append(rule("c_n", "c_n", "D·num_layers", "N", "H_cell"))
    return rules


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


def packed_code(spec: RNNSpec) -> list[str]:
    """The lines a user writes for a packed batch."""
    bf = ", batch_first=True" if spec.batch_first else ""
    if spec.kind.has_cell_state:
        call = "packed_output, (h_n, c_n) = lstm(packed, (h_0, c_0))"
    else:
        call = f"packed_output, h_n = {spec.kind.value}(packed, h_0)"
    return [
        f"packed = pack_padded_sequence(input, lengths{bf}, enforce_sorted=False)",
        call,
        f"output, out_lengths = pad_packed_sequence(packed_output{bf})",
    ]
