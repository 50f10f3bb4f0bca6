"""The errors torchshape raises; the CLI maps each to one line and an exit code."""

from __future__ import annotations


class TorchshapeError(Exception):
    """Base class. ``exit_code`` is what the command line exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        message = shortened(message)
        super().__init__(message)
        self.message = message


# An error echoes the value it refuses; past this many characters its middle is cut.
LONGEST_MESSAGE = 1000


def shortened(message: str) -> str:
    """``message`` whole, or its start and end around a note of what was cut (a 200 KB value)."""
    if len(message) <= LONGEST_MESSAGE:
        return message
    half = (LONGEST_MESSAGE - 40) // 2
    return f"{message[:half]} ...[{len(message) - 2 * half} characters cut]... {message[-half:]}"


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
