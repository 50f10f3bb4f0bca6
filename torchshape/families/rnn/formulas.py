"""The shape rules of nn.RNN, nn.GRU and nn.LSTM, in the PyTorch docs' symbols.

Pure arithmetic, no torch: this is the file to read to learn the rules.

    L          sequence length
    N          batch size (absent for unbatched input)
    H_in       input_size
    H_cell     hidden_size
    H_out      proj_size if proj_size > 0 else hidden_size
    D          2 if bidirectional else 1
    num_layers number of stacked layers

    input        (L, N, H_in)              batch_first: (N, L, H_in)      unbatched: (L, H_in)
    h_0, h_n     (D·num_layers, N, H_out)  batch_first does not apply     unbatched: (D·num_layers, H_out)
    c_0, c_n     (D·num_layers, N, H_cell) LSTM only; c keeps H_cell even with proj_size
    output       (L, N, D·H_out)           batch_first: (N, L, D·H_out)   unbatched: (L, D·H_out)

One step of a cell (nn.LSTMCell, nn.GRUCell, nn.RNNCell): one layer, one direction,
no L, no projection:

    input        (N, H_in)                 unbatched: (H_in)
    h_0, h_1     (N, H_cell)               unbatched: (H_cell)
    c_0, c_1     (N, H_cell)               LSTMCell only; it returns the tuple (h_1, c_1)
"""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.facts import LegendEntry
from torchshape.families.rnn.spec import RNNSpec

SYMBOL_ORDER = ("L", "N", "H_in", "H_cell", "H_out", "D", "num_layers")


@dataclass(frozen=True)
class Symbols:
    """The value of every symbol for one configuration."""

    L: int
    N: int
    H_in: int
    H_cell: int
    H_out: int
    D: int
    num_layers: int
    names: tuple[str, ...] = SYMBOL_ORDER  # the symbols that apply (a cell: N, H_in, H_cell)

    def __getitem__(self, name: str) -> int:
        value: int = getattr(self, name)
        return value

    def as_dict(self) -> dict[str, int]:
        return {name: self[name] for name in self.names}


@dataclass(frozen=True)
class Dim:
    """One dimension of a shape: its expression in symbols, and the symbols it uses."""

    expr: str
    symbols: tuple[str, ...]

    def value(self, sym: Symbols) -> int:
        product = 1
        for name in self.symbols:
            product *= sym[name]
        return product


def _dim(*symbols: str) -> Dim:
    return Dim("·".join(symbols), symbols)


@dataclass(frozen=True)
class TensorFormula:
    """The shape rule of one tensor the module takes or returns."""

    name: str  # input, h_0, c_0, output, h_n, c_n
    dims: tuple[Dim, ...]

    @property
    def formula(self) -> str:
        return "(" + ", ".join(d.expr for d in self.dims) + ")"

    def shape(self, sym: Symbols) -> tuple[int, ...]:
        return tuple(d.value(sym) for d in self.dims)


def symbols(spec: RNNSpec) -> Symbols:
    return Symbols(
        L=spec.seq_len,
        N=spec.batch,
        H_in=spec.input_size,
        H_cell=spec.hidden_size,
        H_out=spec.proj_size if spec.proj_size > 0 else spec.hidden_size,
        D=2 if spec.bidirectional else 1,
        num_layers=spec.num_layers,
        names=CELL_SYMBOLS if spec.kind.is_cell else SYMBOL_ORDER,
    )


def _sequence(spec: RNNSpec, feature: Dim) -> tuple[Dim, ...]:
    """Layout of input and output: sequence-first unless batch_first; no N when unbatched."""
    if spec.unbatched:
        return (_dim("L"), feature)
    if spec.batch_first:
        return (_dim("N"), _dim("L"), feature)
    return (_dim("L"), _dim("N"), feature)


def _state(spec: RNNSpec, feature: Dim) -> tuple[Dim, ...]:
    """Layout of h and c: always (D·num_layers, N, ·); batch_first never applies."""
    if spec.unbatched:
        return (_dim("D", "num_layers"), feature)
    return (_dim("D", "num_layers"), _dim("N"), feature)


def tensor_formulas(spec: RNNSpec) -> list[TensorFormula]:
    """Every tensor of ``output, h_n = module(input, h_0)`` (LSTM: with c_0, c_n), in call order."""
    if spec.kind.is_cell:
        return cell_tensor_formulas(spec)
    lstm = spec.kind.has_cell_state
    rows = [TensorFormula("input", _sequence(spec, _dim("H_in")))]
    rows.append(TensorFormula("h_0", _state(spec, _dim("H_out"))))
    if lstm:
        rows.append(TensorFormula("c_0", _state(spec, _dim("H_cell"))))
    rows.append(TensorFormula("output", _sequence(spec, _dim("D", "H_out"))))
    rows.append(TensorFormula("h_n", _state(spec, _dim("H_out"))))
    if lstm:
        rows.append(TensorFormula("c_n", _state(spec, _dim("H_cell"))))
    return rows


def legend(spec: RNNSpec) -> list[LegendEntry]:
    """What each symbol is in this run, and why it has that value."""
    if spec.kind.is_cell:
        return cell_legend(spec)
    sym = symbols(spec)
    entries = [LegendEntry("L", sym.L, "sequence length (--seq-len)")]
    if not spec.unbatched:
        entries.append(LegendEntry("N", sym.N, "batch size (--batch)"))
    entries.append(LegendEntry("H_in", sym.H_in, "input_size (--input-size)"))
    entries.append(LegendEntry("H_cell", sym.H_cell, "hidden_size (--hidden-size)"))
    if spec.proj_size:
        entries.append(LegendEntry("H_out", sym.H_out, "proj_size, because --proj-size"))
    else:
        entries.append(LegendEntry("H_out", sym.H_out, "= H_cell, no --proj-size"))
    if spec.bidirectional:
        entries.append(LegendEntry("D", sym.D, "two directions, because --bidir"))
    else:
        entries.append(LegendEntry("D", sym.D, "one direction, no --bidir"))
    entries.append(LegendEntry("num_layers", sym.num_layers, "stacked layers (--layers)"))
    return entries


def state_view(spec: RNNSpec, tensor: str, feature: str) -> str:
    """h_n (or c_n) split into its layers and directions: ``h_n.view(num_layers, D, N, H_out)``.

    Unbatched h_n has no N, and neither has its view.
    """
    batch = "" if spec.unbatched else "N, "
    return f"{tensor}.view(num_layers, D, {batch}{feature})"


def notes(spec: RNNSpec) -> list[str]:
    """Short warnings where this configuration invites a known mistake."""
    if spec.kind.is_cell:
        return cell_notes(spec)
    out: list[str] = []
    states = "h_0/h_n/c_0/c_n" if spec.kind.has_cell_state else "h_0/h_n"
    if spec.batch_first and not spec.unbatched:
        out.append(f"batch_first applies to input and output only: {states} stay (D·num_layers, N, ·).")
    if spec.unbatched:
        out.append("Unbatched input is 2-D: N is dropped from every tensor, h_n included.")
        if spec.batch_first:
            out.append("batch_first has no effect on unbatched input: it is read as (L, H_in).")
    if spec.proj_size:
        out.append("With proj_size, h and output use H_out = proj_size; c keeps H_cell = hidden_size.")
    if spec.dropout and spec.num_layers == 1:
        out.append("dropout acts between stacked layers only: with one layer it does nothing.")
    if spec.bidirectional:
        out.append(
            "output holds both directions side by side (D·H_out); h_n is ordered layer by layer, "
            f"forward then backward: {state_view(spec, 'h_n', 'H_out')}."
        )
    if spec.num_layers > 1 or spec.bidirectional:
        out.append(
            "output is the top layer at every step; h_n is every layer (and direction) at its last step."
        )
    return out


# One step of a cell. The symbols that apply are N, H_in and H_cell: a cell has no
# sequence (L), one direction (D = 1), one layer, and no projection (H_out = H_cell).
CELL_SYMBOLS = ("N", "H_in", "H_cell")


def _cell_state(spec: RNNSpec) -> tuple[Dim, ...]:
    return (_dim("H_cell"),) if spec.unbatched else (_dim("N"), _dim("H_cell"))


def cell_tensor_formulas(spec: RNNSpec) -> list[TensorFormula]:
    """Every tensor of ``h_1 = cell(input, h_0)`` (LSTMCell: ``h_1, c_1 = cell(input, (h_0, c_0))``)."""
    lstm = spec.kind.has_cell_state
    feature = (_dim("H_in"),) if spec.unbatched else (_dim("N"), _dim("H_in"))
    rows = [TensorFormula("input", feature), TensorFormula("h_0", _cell_state(spec))]
    if lstm:
        rows.append(TensorFormula("c_0", _cell_state(spec)))
    rows.append(TensorFormula("h_1", _cell_state(spec)))
    if lstm:
        rows.append(TensorFormula("c_1", _cell_state(spec)))
    return rows


def cell_legend(spec: RNNSpec) -> list[LegendEntry]:
    """The symbols a cell uses: N (unless unbatched), H_in, H_cell."""
    entries = []
    if not spec.unbatched:
        entries.append(LegendEntry("N", spec.batch, "batch size (--batch)"))
    entries.append(LegendEntry("H_in", spec.input_size, "input_size (--input-size)"))
    entries.append(LegendEntry("H_cell", spec.hidden_size, "hidden_size (--hidden-size)"))
    return entries


def cell_notes(spec: RNNSpec) -> list[str]:
    """What a cell does differently from the layer of the same name."""
    layer = spec.kind.layer.value
    if spec.kind.has_cell_state:
        carried = "(h_1, c_1) as the next (h_0, c_0)"
        returned = "the tuple (h_1, c_1), not (output, (h_n, c_n))"
    else:
        carried, returned = "h_1 as the next h_0", "h_1 alone, not (output, h_n)"
    out = [
        f"A cell runs one time step: for a sequence, call it once per step and pass {carried}; "
        f"--kind {layer} runs the whole sequence in one call.",
        f"nn.{spec.kind.module_name} returns {returned}: h_1 is this step's output.",
    ]
    if spec.unbatched:
        states = "h_0, c_0, h_1 and c_1 are" if spec.kind.has_cell_state else "h_0 and h_1 are"
        out.append(f"Unbatched input is 1-D, (H_in): {states} (H_cell), with no N.")
    return out
