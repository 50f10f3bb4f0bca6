"""One time step: nn.LSTMCell, nn.GRUCell and nn.RNNCell (``--kind lstm-cell|gru-cell|rnn-cell``).

A cell is one layer, one direction, one step: ``h_1, c_1 = lstm_cell(input, (h_0, c_0))``.
Its shape rules are in ``torchshape.families.rnn.formulas`` with the layers'; this module holds what
differs for a cell: the settings it refuses (``report`` writes its call line, ``torch_side``
builds and calls it, with the layers').
"""

from __future__ import annotations

from torchshape.errors import UsageError
from torchshape.families.rnn.spec import FLAGS, Kind


def reject_layer_settings(
    kind: Kind,
    *,
    num_layers: int = 1,
    seq_len_given: bool = False,
    bidirectional: bool = False,
    batch_first: bool = False,
    proj_size: int = 0,
    dropout: float = 0.0,
    lengths_given: bool = False,
    unroll: bool = False,
) -> None:
    """Raise ``UsageError`` naming the first setting that only a whole-sequence layer has (each
    default is what a cell has).

    ``--seq-len`` is the one exception: with ``--unroll`` it is the number of steps the
    cell is looped over.
    """
    module = f"nn.{kind.module_name}"
    layer = f"use --kind {kind.layer.value}"
    refused = [
        ("num_layers", num_layers > 1, f"{module} is a single layer; drop --layers or {layer}"),
        (
            "seq_len",
            seq_len_given and not unroll,
            f"{module} takes one time step, not a sequence; add --unroll to loop it over "
            f"--seq-len steps, or drop --seq-len, or {layer}",
        ),
        (
            "bidirectional",
            bidirectional,
            f"{module} runs one step in one direction; drop --bidir or {layer}",
        ),
        (
            "batch_first",
            batch_first,
            f"{module} input has no time dimension, it is (N, H_in); drop --batch-first or {layer}",
        ),
        (
            "proj_size",
            proj_size > 0,
            f"{module} has no projection; drop --proj-size" + (f" or {layer}" if kind.has_cell_state else ""),
        ),
        (
            "dropout",
            dropout > 0,
            f"{module} has no dropout, which acts between stacked layers; "
            f"drop --dropout or {layer} with --layers 2 or more",
        ),
        (
            "lengths",
            lengths_given,
            f"{module} takes one time step, not a sequence to pack; drop --lengths or {layer}",
        ),
    ]
    for field, bad, message in refused:
        if bad:
            raise UsageError(FLAGS[field], message)


def reject_sequence_analyses(kind: Kind, *, explain: bool, unroll: bool, seq_len: int = 1) -> None:
    """--explain is about whole sequences (output vs h_n); a cell's sequence exists only with --unroll.

    ``seq_len`` is the spec's: a cell has L > 1 only when it was made for ``--unroll``.
    """
    if explain:
        raise UsageError(
            "--explain",
            f"nn.{kind.module_name} returns only the next state, there is no output vs h_n; "
            f"drop --explain or use --kind {kind.layer.value}",
        )
    reject_layer_settings(kind, seq_len_given=seq_len != 1, unroll=unroll)
