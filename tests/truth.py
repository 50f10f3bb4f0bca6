"""Ground truth for the tests: modules built with plain torch calls, not with torchshape."""

from __future__ import annotations

import warnings
from typing import Any

import torch

LAYER_CLASSES = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}


def torch_module(raw: dict[str, Any], dtype: torch.dtype | None = None, device: str = "cpu") -> Any:
    """The nn.GRU / nn.LSTM / nn.RNN that the raw settings describe, in eval mode."""
    kwargs: dict[str, Any] = {
        "num_layers": raw["num_layers"],
        "bias": raw["bias"],
        "batch_first": raw["batch_first"],
        "dropout": raw["dropout"],
        "bidirectional": raw["bidirectional"],
        "dtype": dtype or getattr(torch, raw["dtype"]),
        "device": device,
    }
    if raw.get("proj_size"):
        kwargs["proj_size"] = raw["proj_size"]
    if raw.get("nonlinearity"):
        kwargs["nonlinearity"] = raw["nonlinearity"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout with one layer
        return LAYER_CLASSES[raw["kind"]](raw["input_size"], raw["hidden_size"], **kwargs).eval()
