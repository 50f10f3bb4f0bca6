"""torchshape: every shape of a PyTorch RNN, GRU or LSTM, with its formula, verified by torch."""

from torchshape.api import inspect
from torchshape.errors import EnvironmentProblem, TorchshapeError, UsageError
from torchshape.report import Report, TensorRow
from torchshape.spec import DType, Format, Kind, Nonlinearity, RNNSpec, make_spec

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
    "inspect",
    "make_spec",
]
