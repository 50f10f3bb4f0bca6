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

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.rnn.spec import RNNSpec

SYMBOL_ORDER = ("L", "N", "H_in", "H_cell", "H_out", "D", "num_layers")


def symbols(spec: RNNSpec) -> Symbols:
    """Every symbol's value; those that apply first (a cell: N, H_in, H_cell), the others after
    them, for the loop of --unroll and the sizes a cell shares with its layer."""
    value = {
        "L": spec.seq_len,
        "N": spec.batch,
        "H_in": spec.input_size,
        "H_cell": spec.hidden_size,
        "H_out": spec.proj_size if spec.proj_size > 0 else spec.hidden_size,
        "D": 2 if spec.bidirectional else 1,
        "num_layers": spec.num_layers,
    }
    names = CELL_SYMBOLS if spec.kind.is_cell else SYMBOL_ORDER
    return Symbols(
        tuple((name, value[name]) for name in names),
        tuple((name, value[name]) for name in SYMBOL_ORDER if name not in names),
    )


def time_dim(spec: RNNSpec) -> int:
    """The time axis of input and output: 1 with batch_first (when batched), else 0."""
    return 1 if spec.batch_first and not spec.unbatched else 0


def batched(spec: RNNSpec, *dims: str) -> tuple[str, ...]:
    """``dims`` with N before the last one (the feature), unless unbatched."""
    *leading, feature = dims
    return (*leading, *([] if spec.unbatched else ["N"]), feature)


def sequence_dims(spec: RNNSpec, time: str, feature: str) -> tuple[str, ...]:
    """Layout of input and output: sequence-first unless batch_first; no N when unbatched."""
    return ("N", time, feature) if time_dim(spec) else batched(spec, time, feature)


def _state(spec: RNNSpec, feature: str) -> tuple[str, ...]:
    """Layout of h and c: always (D·num_layers, N, ·); batch_first never applies."""
    return batched(spec, "D·num_layers", feature)


def tensor_formulas(spec: RNNSpec) -> list[TensorFormula]:
    """Every tensor of ``output, h_n = module(input, h_0)`` (LSTM: with c_0, c_n), in call order."""
    if spec.kind.is_cell:
        return cell_tensor_formulas(spec)
    lstm = spec.kind.has_cell_state
    rows = [TensorFormula("input", sequence_dims(spec, "L", "H_in"), fed=True)]
    rows.append(TensorFormula("h_0", _state(spec, "H_out"), fed=True))
    if lstm:
        rows.append(TensorFormula("c_0", _state(spec, "H_cell"), fed=True))
    rows.append(TensorFormula("output", sequence_dims(spec, "L", "D·H_out")))
    rows.append(TensorFormula("h_n", _state(spec, "H_out")))
    if lstm:
        rows.append(TensorFormula("c_n", _state(spec, "H_cell")))
    return rows


def legend(spec: RNNSpec) -> list[LegendEntry]:
    """What each symbol that applies is in this run (a cell: N, H_in, H_cell), and why it has that value."""
    sym = symbols(spec)
    meaning = {
        "L": "sequence length (--seq-len)",
        "N": "batch size (--batch)",
        "H_in": "input_size (--input-size)",
        "H_cell": "hidden_size (--hidden-size)",
        "H_out": "proj_size, because --proj-size" if spec.proj_size else "= H_cell, no --proj-size",
        "D": "two directions, because --bidir" if spec.bidirectional else "one direction, no --bidir",
        "num_layers": "stacked layers (--layers)",
    }
    shown = [(name, value) for name, value in sym.values if name != "N" or not spec.unbatched]
    return [LegendEntry(name, value, meaning[name]) for name, value in shown]


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
        batch = "" if spec.unbatched else "N, "  # unbatched h_n has no N, and neither has its view
        out.append(
            "output holds both directions side by side (D·H_out); h_n is ordered layer by layer, "
            f"forward then backward: h_n.view(num_layers, D, {batch}H_out)."
        )
    if spec.num_layers > 1 or spec.bidirectional:
        out.append(
            "output is the top layer at every step; h_n is every layer (and direction) at its last step."
        )
    return out


# One step of a cell. The symbols that apply are N, H_in and H_cell: a cell has no
# sequence (L), one direction (D = 1), one layer, and no projection (H_out = H_cell).
CELL_SYMBOLS = ("N", "H_in", "H_cell")


def cell_tensor_formulas(spec: RNNSpec) -> list[TensorFormula]:
    """Every tensor of ``h_1 = cell(input, h_0)`` (LSTMCell: ``h_1, c_1 = cell(input, (h_0, c_0))``)."""
    lstm = spec.kind.has_cell_state
    state = batched(spec, "H_cell")
    rows = [TensorFormula("input", batched(spec, "H_in"), fed=True), TensorFormula("h_0", state, fed=True)]
    if lstm:
        rows.append(TensorFormula("c_0", state, fed=True))
    rows.append(TensorFormula("h_1", state))
    if lstm:
        rows.append(TensorFormula("c_1", state))
    return rows


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
