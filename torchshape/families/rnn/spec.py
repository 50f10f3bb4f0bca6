"""One recurrent layer (or cell) and the input it is fed, in PyTorch's names: its settings table
and its checked spec. No torch here (``torchshape rnn --help`` imports this)."""

from __future__ import annotations

from dataclasses import asdict
from enum import Enum
from typing import Any

from torchshape import settings
from torchshape.options import DType, Format
from torchshape.settings import (
    CLOSING,
    DIAGRAM,
    WHERE,
    Given,
    Role,
    Rule,
    Setting,
    explain,
    option,
    switch,
)


class Kind(str, Enum):
    """Which recurrent module to build."""

    GRU = "gru"
    LSTM = "lstm"
    RNN = "rnn"
    # One time step of one layer: nn.GRUCell, nn.LSTMCell, nn.RNNCell.
    GRU_CELL = "gru-cell"
    LSTM_CELL = "lstm-cell"
    RNN_CELL = "rnn-cell"

    @property
    def module_name(self) -> str:
        name = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}[self.layer.value]
        return name + "Cell" if self.is_cell else name

    @property
    def gates(self) -> int:
        """G: gates per cell (the row blocks of weight_ih / weight_hh)."""
        return {"gru": 3, "lstm": 4, "rnn": 1}[self.layer.value]

    @property
    def has_cell_state(self) -> bool:
        return self.layer is Kind.LSTM

    @property
    def is_cell(self) -> bool:
        """A one-step cell (nn.LSTMCell, ...) rather than a whole-sequence layer."""
        return self.value.endswith("-cell")

    @property
    def layer(self) -> Kind:
        """The whole-sequence layer this kind is, or steps through: LSTM_CELL → LSTM."""
        return Kind(self.value.removesuffix("-cell"))

    @property
    def has_nonlinearity(self) -> bool:
        """nn.RNN and nn.RNNCell take ``nonlinearity``; the gated kinds do not."""
        return self.layer is Kind.RNN


class Nonlinearity(str, Enum):
    TANH = "tanh"
    RELU = "relu"


# The settings of the command and of the Python call, one row each: the spec's field, the flags,
# --help's metavar and text, the command line's default (``torchshape.settings``).
SETTINGS: tuple[Setting, ...] = (
    option(
        "kind",
        "--kind",
        "KIND",
        "Which module: gru, lstm, rnn (nn.GRU, nn.LSTM, nn.RNN); or one step of a cell: "
        "gru-cell, lstm-cell, rnn-cell (nn.GRUCell, nn.LSTMCell, nn.RNNCell).",
        "lstm",
    ),
    option("input_size", "--input-size", "INT", "H_in: features per time step.", "50"),
    option("hidden_size", "--hidden-size", "INT", "H_cell: hidden_size.", "30"),
    option(
        "num_layers", ("--layers", "--num-layers"), "INT", "num_layers: stacked layers.", "1", param="layers"
    ),
    option(
        "seq_len",
        "--seq-len",
        "INT",
        "L: time steps (a cell: only with --unroll; with --lengths, the longest length).",
        "5",
        given=Given.TYPED,
    ),
    option("batch", ("--batch", "--batch-size"), "INT", "N: sequences per batch.", "3", given=Given.TYPED),
    switch("bidirectional", ("--bidir", "--bidirectional"), "Bidirectional: D = 2.", param="bidir"),
    switch("batch_first", "--batch-first", "Input and output as (N, L, H) instead of (L, N, H)."),
    option("proj_size", "--proj-size", "INT", "LSTM only: projection size H_out; 0 = none.", "0"),
    switch("bias", "--no-bias", "Build without bias terms.", param="no_bias", given=Given.NEGATED),
    option("dropout", "--dropout", "FLOAT", "Dropout between stacked layers, in [0, 1).", "0"),
    option(
        "nonlinearity",
        "--nonlinearity",
        "tanh|relu",
        "rnn and rnn-cell only: tanh (torch's default) or relu.",
    ),
    switch("unbatched", "--unbatched", "2-D input (L, H_in), no batch dimension."),
    *WHERE,
    explain("How output relates to h_n (and c_n), checked on the values."),
    option(
        "lengths",
        "--lengths",
        "L1,L2,...",
        "Pack a variable-length batch: one length (1 to L) per sequence; N without --batch.",
    ),
    switch(
        "unroll", "--unroll", "One call per time step, carrying the state, beside one call.", role=Role.BOTH
    ),
    DIAGRAM,
    *CLOSING,
)
# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = settings.flags(SETTINGS)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)

# Sizes beyond these are refused up front: torch indexes tensors with int64, and
# no recurrent layer of more layers than this has ever been worth building.
MAX_SIZE = 2**31 - 1
MAX_LAYERS = 1024

# The settings a cell (nn.LSTMCell, ...) has; the others belong to whole-sequence layers.
CELL_FIELDS = (
    "kind",
    "input_size",
    "hidden_size",
    "batch",
    "bias",
    "nonlinearity",
    "unbatched",
    "device",
    "dtype",
)


class RNNSpec(settings.Spec, family="rnn"):
    """One recurrent layer and the input it is fed, in PyTorch's own names."""

    kind: Kind
    input_size: int
    hidden_size: int
    num_layers: int
    seq_len: int  # 1 for a cell: one time step
    batch: int  # ignored when unbatched
    bidirectional: bool
    batch_first: bool
    proj_size: int
    bias: bool
    dropout: float
    nonlinearity: Nonlinearity | None  # RNN and RNNCell only; None means torch's default, tanh
    unbatched: bool
    device: str
    dtype: DType
    # --lengths: one real length per sequence, for a packed batch; None means unpacked.
    lengths: tuple[int, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, in field order."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Enum):
                out[key] = value.value
        if self.kind.has_nonlinearity and self.nonlinearity is None:
            out["nonlinearity"] = Nonlinearity.TANH.value
        if self.kind.is_cell:  # only the settings a cell has
            out = {key: value for key, value in out.items() if key in CELL_FIELDS}
        return out

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        args = [str(self.input_size), str(self.hidden_size)]
        if self.num_layers != 1:
            args.append(f"num_layers={self.num_layers}")
        if self.kind.has_nonlinearity and self.nonlinearity is Nonlinearity.RELU:
            args.append("nonlinearity='relu'")
        if not self.bias:
            args.append("bias=False")
        if self.batch_first:
            args.append("batch_first=True")
        if self.dropout:
            args.append(f"dropout={self.dropout:g}")
        if self.bidirectional:
            args.append("bidirectional=True")
        if self.proj_size:
            args.append(f"proj_size={self.proj_size}")
        return f"nn.{self.kind.module_name}({', '.join(args)})"


_COMMAND = settings.Command(
    "rnn",
    SETTINGS,
    {
        # unbatched input has no batch; with --lengths, N is the number of lengths
        "batch": Rule(when=lambda spec: not spec.unbatched and spec.lengths is None),
        # with --lengths and without --seq-len, L is the longest length
        "seq_len": Rule(
            default=lambda spec: DEFAULTS["seq_len"] if spec.lengths is None else max(spec.lengths)
        ),
        "lengths": Rule(text=settings.listed),
    },
)


def command_line(spec: RNNSpec, fmt: Format | None = None, *, unroll: bool = False, **flags: Any) -> str:
    """``settings.Command.line``: a cell takes one step, so --seq-len only with --unroll."""
    hide = ("seq_len",) if spec.kind.is_cell and not unroll else ()
    return _COMMAND.line(spec, fmt, hide=hide, unroll=unroll, **flags)
