"""torchshape: every shape of a PyTorch layer (recurrent, convolution, pooling, attention,
embedding, transformer), with its formula, verified by torch."""

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
        inspect_pool,
        inspect_transformer,
        trace,
    )
    from torchshape.errors import EnvironmentProblem, TorchshapeError, UsageError
    from torchshape.families.rnn.request import make_spec
    from torchshape.families.rnn.spec import Kind, Nonlinearity, RNNSpec
    from torchshape.options import DType, Format
    from torchshape.report import Report, TensorRow

__version__ = "0.1.0"

__all__ = [
    "DType",
    "EnvironmentProblem",
    "Format",
    "Kind",
    "Nonlinearity",
    "RNNSpec",
    "Report",
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
    "inspect_pool",
    "inspect_transformer",
    "make_spec",
    "trace",
]

# Importing any submodule runs this file first (`torchshape --help` imports
# torchshape.cli), so the names above load on first use, not here.
_HOME = {
    "expr": "torchshape.api",
    "inspect": "torchshape.api",
    "inspect_attention": "torchshape.api",
    "inspect_conv": "torchshape.api",
    "inspect_embedding": "torchshape.api",
    "inspect_module": "torchshape.api",
    "inspect_pool": "torchshape.api",
    "inspect_transformer": "torchshape.api",
    "trace": "torchshape.api",
    "EnvironmentProblem": "torchshape.errors",
    "TorchshapeError": "torchshape.errors",
    "UsageError": "torchshape.errors",
    "Report": "torchshape.report",
    "TensorRow": "torchshape.report",
    "DType": "torchshape.options",
    "Format": "torchshape.options",
    "Kind": "torchshape.families.rnn.spec",
    "Nonlinearity": "torchshape.families.rnn.spec",
    "RNNSpec": "torchshape.families.rnn.spec",
    "make_spec": "torchshape.families.rnn.request",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'torchshape' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
