"""Hypothesis strategies for configurations covering every flag and their combinations."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# The settings of `torchshape rnn` with no flags: LSTM 50→30, L = 5, N = 3
DEFAULT_RAW: dict[str, Any] = {
    "kind": "lstm",
    "input_size": 50,
    "hidden_size": 30,
    "num_layers": 1,
    "seq_len": 5,
    "batch": 3,
    "bidirectional": False,
    "batch_first": False,
    "bias": True,
    "dropout": 0.0,
    "unbatched": False,
    "dtype": "float32",
}


@st.composite
def settings(draw: st.DrawFn, *, max_size: int = 24, max_layers: int = 4) -> dict[str, Any]:
    """Raw settings for ``make_spec``: every flag, in every valid combination."""
    kind = draw(st.sampled_from(["gru", "lstm", "rnn"]))
    hidden_size = draw(st.integers(1, max_size))
    raw: dict[str, Any] = {
        "kind": kind,
        "input_size": draw(st.integers(1, max_size)),
        "hidden_size": hidden_size,
        "num_layers": draw(st.integers(1, max_layers)),
        "seq_len": draw(st.integers(1, 9)),
        "bidirectional": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "dropout": draw(st.sampled_from([0.0, 0.0, 0.3])),
        "unbatched": draw(st.booleans()),
        "dtype": draw(st.sampled_from(["float32", "float32", "float64", "bfloat16", "float16"])),
    }
    if not raw["unbatched"]:
        raw["batch"] = draw(st.integers(1, 7))
    if kind == "lstm" and hidden_size > 1 and draw(st.booleans()):
        raw["proj_size"] = draw(st.integers(1, hidden_size - 1))
    if kind == "rnn" and draw(st.booleans()):
        raw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    return raw


@st.composite
def cell_settings(draw: st.DrawFn, *, max_size: int = 24, max_batch: int = 7) -> dict[str, Any]:
    """Raw settings for one step of a cell (``--kind lstm-cell|gru-cell|rnn-cell``).

    Sometimes also passes a layer-only setting at the value that means "none"
    (one layer, no projection, no dropout): a cell accepts those.
    """
    kind = draw(st.sampled_from(["gru-cell", "lstm-cell", "rnn-cell"]))
    raw: dict[str, Any] = {
        "kind": kind,
        "input_size": draw(st.integers(1, max_size)),
        "hidden_size": draw(st.integers(1, max_size)),
        "bias": draw(st.booleans()),
        "unbatched": draw(st.booleans()),
        "dtype": draw(st.sampled_from(["float32", "float32", "float64", "bfloat16", "float16"])),
    }
    if not raw["unbatched"]:
        raw["batch"] = draw(st.integers(1, max_batch))
    if kind == "rnn-cell" and draw(st.booleans()):
        raw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    neutral = {"num_layers": 1, "proj_size": 0, "dropout": 0.0, "bidirectional": False, "batch_first": False}
    for name in draw(st.sets(st.sampled_from(sorted(neutral)))):
        raw[name] = neutral[name]
    return raw
