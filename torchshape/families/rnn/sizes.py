"""Parameters, compute and memory of one forward pass, in the PyTorch docs' symbols.

Pure arithmetic, no torch. G is the number of gates per cell (LSTM 4, GRU 3, RNN 1);
the other symbols are those of ``torchshape.families.rnn.formulas``.

Parameters, per layer k and direction (suffix ``_reverse`` for the backward one), in
the order ``module.named_parameters()`` lists them:

    weight_ih_l{k}  (G·H_cell, H_in) for k = 0, (G·H_cell, D·H_out) above
    weight_hh_l{k}  (G·H_cell, H_out)
    bias_ih_l{k}    (G·H_cell)        not with bias=False
    bias_hh_l{k}    (G·H_cell)        not with bias=False
    weight_hr_l{k}  (H_out, H_cell)   LSTM with proj_size only (H_out = proj_size)

Every parameter starts as U(−1/√H_cell, 1/√H_cell).

A cell (nn.LSTMCell, nn.GRUCell, nn.RNNCell) has weight_ih (G·H_cell, H_in),
weight_hh (G·H_cell, H_cell) and the two biases, with no suffix.

MACs (multiply-accumulates) count the matrix products of one forward pass over the
real time steps, per layer and direction: L·N (L when unbatched; sum(lengths) for a
packed batch, never the padded rectangle; N for a cell's one step):
input-to-hidden G·H_cell·H_in (layer 0) or G·H_cell·D·H_out, hidden-to-hidden
G·H_cell·H_out, and with proj_size the projection H_out·H_cell. Bias additions and
the gates' element-wise operations are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from torchshape.facts import Symbols
from torchshape.families.rnn.formulas import symbols, tensor_formulas
from torchshape.families.rnn.spec import RNNSpec


@dataclass(frozen=True)
class ParameterFormula:
    """The shape rule of one parameter of the module."""

    name: str  # as module.named_parameters() names it, e.g. weight_ih_l1_reverse
    layer: int
    reverse: bool
    dims: tuple[str, ...]  # each a product of a gate factor and symbols: 4·H_cell, D·H_out

    @property
    def formula(self) -> str:
        return dims_formula(self.dims)

    def shape(self, sym: Symbols) -> tuple[int, ...]:
        return tuple(sym[d] for d in self.dims)


@lru_cache(maxsize=64)  # a few distinct dims serve every layer
def dims_formula(dims: tuple[str, ...]) -> str:
    """A parameter's shape in symbols: ``(4·H_cell, D·H_out)``."""
    return "(" + ", ".join(dims) + ")"


@lru_cache(maxsize=8)  # the guard, the totals and the report each ask for the same spec
def parameter_formulas(spec: RNNSpec) -> tuple[ParameterFormula, ...]:
    """Every parameter of the module, in ``named_parameters()`` order."""
    gate_rows = "H_cell" if spec.kind.gates == 1 else f"{spec.kind.gates}·H_cell"
    if spec.kind.is_cell:
        # nn.*Cell: one layer, one direction, no suffix; its hidden state is H_cell wide.
        cell_shapes: list[tuple[str, tuple[str, ...]]] = [
            ("weight_ih", (gate_rows, "H_in")),
            ("weight_hh", (gate_rows, "H_cell")),
        ]
        if spec.bias:
            cell_shapes += [("bias_ih", (gate_rows,)), ("bias_hh", (gate_rows,))]
        return tuple(ParameterFormula(name, 0, False, dims) for name, dims in cell_shapes)

    def layer_shapes(layer_input: str) -> list[tuple[str, tuple[str, ...]]]:
        shapes: list[tuple[str, tuple[str, ...]]] = [
            ("weight_ih", (gate_rows, layer_input)),
            ("weight_hh", (gate_rows, "H_out")),
        ]
        if spec.bias:
            shapes += [("bias_ih", (gate_rows,)), ("bias_hh", (gate_rows,))]
        if spec.proj_size:
            shapes.append(("weight_hr", ("H_out", "H_cell")))
        return shapes

    # layer 0 reads the input (H_in); every layer above reads the one below (D·H_out)
    first, above = layer_shapes("H_in"), layer_shapes("D·H_out")
    rows: list[ParameterFormula] = []
    for k in range(spec.num_layers):
        for reverse in (False, True) if spec.bidirectional else (False,):
            suffix = f"_l{k}" + ("_reverse" if reverse else "")
            rows.extend(
                ParameterFormula(stem + suffix, k, reverse, dims) for stem, dims in (above if k else first)
            )
    return tuple(rows)


@lru_cache(maxsize=8)
def parameters_at_size(spec: RNNSpec) -> tuple[tuple[ParameterFormula, tuple[int, ...]], ...]:
    """Every parameter formula with its shape at ``spec``'s sizes.

    Layers above the first repeat the same few formulas, so each distinct formula is
    worked out once: a thousand layers cost little more than one.
    """
    sym = symbols(spec)
    known: dict[int, tuple[int, ...]] = {}  # by id: every layer above the first shares its dims
    pairs = []
    for p in parameter_formulas(spec):
        shape = known.get(id(p.dims))
        if shape is None:
            shape = known[id(p.dims)] = p.shape(sym)
        pairs.append((p, shape))
    return tuple(pairs)


def parameter_count(spec: RNNSpec) -> int:
    """How many numbers the module's parameters hold."""
    return sum(math.prod(shape) for _, shape in parameters_at_size(spec))


def init_bound(spec: RNNSpec) -> float:
    """b of the default initialization U(−b, b) of every parameter: 1/√H_cell."""
    return 1.0 / math.sqrt(spec.hidden_size)


def steps(spec: RNNSpec) -> int:
    """Real time steps of one layer and direction: L·N, L when unbatched, sum(lengths) when packed.

    A cell runs one step: N (1 when unbatched); its L is only how often ``--unroll`` loops it.
    """
    if spec.kind.is_cell:
        return 1 if spec.unbatched else spec.batch
    if spec.lengths is not None:
        return sum(spec.lengths)
    return spec.seq_len if spec.unbatched else spec.seq_len * spec.batch


@dataclass(frozen=True)
class Macs:
    """Multiply-accumulates of the matrix products of one forward pass, by product."""

    input_to_hidden: int
    hidden_to_hidden: int
    projection: int

    @property
    def total(self) -> int:
        return self.input_to_hidden + self.hidden_to_hidden + self.projection


def macs(spec: RNNSpec) -> Macs:
    """x·W_ihᵀ, h·W_hhᵀ and (proj_size) h·W_hrᵀ at every real step, layer and direction."""
    sym = symbols(spec)
    G = spec.kind.gates
    per_direction = steps(spec) * sym["D"]
    first = G * sym["H_cell"] * sym["H_in"]
    above = G * sym["H_cell"] * sym["D·H_out"] * (sym["num_layers"] - 1)
    hidden = G * sym["H_cell"] * sym["H_out"] * sym["num_layers"]
    projection = sym["H_out"] * sym["H_cell"] * sym["num_layers"] if spec.proj_size else 0
    return Macs(
        input_to_hidden=per_direction * (first + above),
        hidden_to_hidden=per_direction * hidden,
        projection=per_direction * projection,
    )


def tensor_numels(spec: RNNSpec) -> dict[str, int]:
    """Elements of input, h_0, c_0, output, h_n, c_n at the user's sizes."""
    sym = symbols(spec)
    return {f.name: math.prod(f.shape(sym)) for f in tensor_formulas(spec)}
