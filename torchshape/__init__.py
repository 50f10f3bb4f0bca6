"""torchshape: every shape of a PyTorch layer (recurrent, convolution, pooling, attention,
embedding, transformer, normalization) and of a whole model, with its formula, verified by torch.

A whole model:
    trace(model, x)                  every module call, its shapes and formulas, checked by torch
    summary(model, input_size=...)   the same, called as ``torchinfo.summary`` is, with its totals

One layer family, built from PyTorch's own argument names:
    inspect(kind="lstm", ...)        nn.RNN, nn.LSTM, nn.GRU and their cells
    inspect_conv(...), inspect_pool(...), inspect_attention(...), inspect_embedding(...),
    inspect_transformer(...), inspect_norm(...)
    inspect_module(layer, x)         a layer object you already have

Each returns a ``Report`` and prints nothing. A Report shows itself: ``print(report)`` the
table, a notebook an HTML table, ``repr(report)`` one line; ``report.ok`` is True when torch
agreed with every formula; ``report.to_dict()``, ``to_json()``, ``to_markdown()``, ``to_html()``.
Bad settings raise ``UsageError`` naming the argument. The command line is ``torchshape``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torchshape.api import (
        expr,
        inspect,
        inspect_attention,
        inspect_conv,
        inspect_embedding,
        inspect_module,
        inspect_norm,
        inspect_pool,
        inspect_transformer,
        summary,
        trace,
    )
    from torchshape.errors import EnvironmentProblem, TorchshapeError, UsageError
    from torchshape.families.rnn.request import make_spec
    from torchshape.families.rnn.spec import Kind, Nonlinearity, RNNSpec
    from torchshape.options import DType, Format
    from torchshape.report import Report, Summary, TensorRow

__version__ = "0.1.0"

__all__ = [
    "DType",
    "EnvironmentProblem",
    "Format",
    "Kind",
    "Nonlinearity",
    "RNNSpec",
    "Report",
    "Summary",
    "TensorRow",
    "TorchshapeError",
    "UsageError",
    "__version__",
    "expr",
    "inspect",
    "inspect_attention",
    "inspect_conv",
    "inspect_embedding",
    "inspect_module",
    "inspect_norm",
    "inspect_pool",
    "inspect_transformer",
    "make_spec",
    "summary",
    "trace",
]

# Importing any submodule runs this file first (`torchshape --help` imports
# torchshape.cli), so the names above load on first use, not here: from torchshape.api unless
# named here.
_HOME = {
    "EnvironmentProblem": "torchshape.errors",
    "TorchshapeError": "torchshape.errors",
    "UsageError": "torchshape.errors",
    "Report": "torchshape.report",
    "Summary": "torchshape.report",
    "TensorRow": "torchshape.report",
    "DType": "torchshape.options",
    "Format": "torchshape.options",
    "Kind": "torchshape.families.rnn.spec",
    "Nonlinearity": "torchshape.families.rnn.spec",
    "RNNSpec": "torchshape.families.rnn.spec",
    "make_spec": "torchshape.families.rnn.request",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'torchshape' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_HOME.get(name, "torchshape.api")), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API, for ``dir(torchshape)`` and tab completion (the names load lazily)."""
    return sorted(set(__all__) | set(globals()) - {"annotations", "TYPE_CHECKING", "Any"})
