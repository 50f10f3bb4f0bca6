"""The errors torchshape raises; the CLI maps each to one line and an exit code."""

from __future__ import annotations


class TorchshapeError(Exception):
    """Base class. ``exit_code`` is what the command line exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(TorchshapeError):
    """A bad flag value or combination (exit 2).

    ``option`` names the flag (``--proj-size``), or from the Python API the argument
    (``proj_size``); the message starts with ``shown``, which defaults to ``option``
    (the Python API shows the value too: ``proj_size=3``).
    """

    exit_code = 2

    def __init__(self, option: str, message: str, *, shown: str | None = None) -> None:
        super().__init__(f"{shown or option}: {message}")
        self.option = option


class EnvironmentProblem(TorchshapeError):
    """Something about this machine (device missing, not enough memory): exit 1."""

    exit_code = 1
