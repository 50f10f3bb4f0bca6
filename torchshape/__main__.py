"""``python -m torchshape``."""

from torchshape.entry import run

run()
