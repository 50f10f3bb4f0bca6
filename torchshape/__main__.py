"""``python -m torchshape``."""

from torchshape.cli import run

run()
