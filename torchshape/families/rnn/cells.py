"""One time step: nn.LSTMCell, nn.GRUCell and nn.RNNCell (``--kind lstm-cell|gru-cell|rnn-cell``).

A cell is one layer, one direction, one step: ``h_1, c_1 = lstm_cell(input, (h_0, c_0))``.
Its shape rules are in ``torchshape.families.rnn.formulas`` with the layers'; this module holds what
differs for a cell: the settings it refuses, its call line, and (torch imported lazily)
how it is built and called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.errors import UsageError
from torchshape.families.rnn.spec import FLAGS, Kind, RNNSpec

if TYPE_CHECKING:
    import torch


def reject_layer_settings(
    kind: Kind,
    *,
    num_layers: int,
    seq_len_given: bool,
    bidirectional: bool,
    batch_first: bool,
    proj_size: int,
    dropout: float,
    lengths_given: bool = False,
    unroll: bool = False,
) -> None:
    """Raise ``UsageError`` naming the first setting that only a whole-sequence layer has.

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
    module = f"nn.{kind.module_name}"
    layer = f"use --kind {kind.layer.value}"
    if explain:
        raise UsageError(
            "--explain",
            f"{module} returns only the next state, there is no output vs h_n; drop --explain or {layer}",
        )
    if seq_len != 1 and not unroll:
        raise UsageError(
            FLAGS["seq_len"],
            f"{module} takes one time step, not a sequence; add --unroll to loop it over "
            f"--seq-len steps, or drop --seq-len, or {layer}",
        )


def call(spec: RNNSpec) -> str:
    """How the cell is called: LSTMCell returns the tuple (h_1, c_1), the others h_1 alone."""
    name = spec.kind.value.replace("-", "_")
    if spec.kind.has_cell_state:
        return f"h_1, c_1 = {name}(input, (h_0, c_0))"
    return f"h_1 = {name}(input, h_0)"


def build_module(spec: RNNSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.LSTMCell / nn.GRUCell / nn.RNNCell that ``spec`` describes."""
    import torch

    kwargs: dict[str, Any] = {"bias": spec.bias, "device": device, "dtype": dtype}
    if spec.nonlinearity is not None:
        kwargs["nonlinearity"] = spec.nonlinearity.value
    module_class = getattr(torch.nn, spec.kind.module_name)
    module: torch.nn.Module = module_class(spec.input_size, spec.hidden_size, **kwargs)
    return module.eval()


def is_cell_module(module: torch.nn.Module) -> bool:
    import torch

    return isinstance(module, torch.nn.RNNCellBase)


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Call the cell as users do for one step; name every returned tensor."""
    hidden: Any = (inputs["h_0"], inputs["c_0"]) if "c_0" in inputs else inputs["h_0"]
    result = module(inputs["input"], hidden)
    if isinstance(result, tuple):
        return {"h_1": result[0], "c_1": result[1]}
    return {"h_1": result}
