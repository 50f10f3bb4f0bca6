"""Models that misbehave on purpose: they exit, print, leave threads, raise odd exceptions.

torchshape runs them and must still answer with its report or one line (tests/test_contain.py,
tests/campaign.py).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from os.path import join as join_path  # noqa: F401 - a function of another module, named through this one

import torch
from torch import nn


class Works(nn.Module):
    """A Linear(4, 2) that works: the models below misbehave around it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class Exits(Works):
    """Calls sys.exit(code) in forward."""

    def __init__(self, code: object = 3) -> None:
        super().__init__()
        self.code = code

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sys.exit(self.code)  # type: ignore[arg-type]


class ExitsWhenBuilt(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        sys.exit(4)


class Prints(Works):
    """Prints with print() and straight to file descriptor 1 in forward, then works."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print(f"print from forward on {x.device.type}")
        os.write(1, f"fd 1 from forward on {x.device.type}\n".encode())
        return self.linear(x)


class LeavesAThread(Works):
    """Starts a thread that never ends (not a daemon), then works."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "meta":
            threading.Thread(target=time.sleep, args=(3600,), name="left-behind").start()
        return self.linear(x)


class Sleeps(Works):
    """Sleeps in forward (to be interrupted), then works."""

    def __init__(self, seconds: float = 30.0) -> None:
        super().__init__()
        self.seconds = seconds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "meta":
            time.sleep(self.seconds)
        return self.linear(x)


class StrRaises(Exception):
    def __str__(self) -> str:
        raise ValueError("str() of this exception raises")


class ReprRaisesToo(Exception):
    def __str__(self) -> str:
        raise ValueError("no str")

    def __repr__(self) -> str:
        raise ValueError("no repr")


class RaisesUnprintable(Works):
    """Raises an exception whose str() raises (repr too, with --arg both=True)."""

    def __init__(self, both: bool = False) -> None:
        super().__init__()
        self.both = both

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.linear(x)
        raise ReprRaisesToo() if self.both else StrRaises()


ANSI = "\x1b[31mred\x1b[0m\x07 and \x1b]0;title\x07"


class RaisesAnsi(Works):
    """Raises with terminal escape sequences in its message."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError(ANSI + "\nsecond line")


def make_linear(features: int = 4) -> nn.Module:
    """A function of this file that returns a module: a valid TARGET."""
    return nn.Linear(features, 2)


def not_a_model() -> int:
    return 3


class NotAModule:
    """A class that is no nn.Module."""


VALUE = 5


class TakesAnything(Works):
    """Takes any keyword (``--arg``) and keeps it; works."""

    def __init__(self, **keywords: object) -> None:
        super().__init__()
        self.keywords = keywords
