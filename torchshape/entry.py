"""The ``torchshape`` script and ``python -m torchshape``: Ctrl-C handled first, then the command line."""

from __future__ import annotations


def run() -> None:
    from torchshape.interrupt import install

    install()  # before typer, rich and torch are imported: an interrupt during their import is one line too
    from torchshape.cli import run as run_command_line

    run_command_line()
