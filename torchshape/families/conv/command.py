"""``torchshape conv``: the convolutions' command, made from the family's settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.conv.spec import SETTINGS

# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset[str]()
# Shown under ``torchshape conv --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape conv --kernel-size 3 --stride 2 --padding 1",
    "torchshape conv --dims 1 --size 100 --kernel-size 4 --padding same --stride 1",
    "torchshape conv --transposed --stride 2 --output-padding 1 --explain",
    "torchshape conv --transposed --kernel-size 3 --stride 2 --padding 1 --size 10 --output-size 20,19",
    "torchshape conv --kernel-size 1 --stride 2 --size 16 --explain",
    "torchshape conv --dims 3 --in-channels 1024 --out-channels 1024 --size 64,512,512 --device meta",
    "torchshape conv --groups 3 --in-channels 6 --out-channels 9 --params --format json",
)


conv = family_command(
    "conv", SETTINGS, "Build a convolution from flags, run it, and print every shape with its formula."
)
