"""``torchshape pool``: the pools' command, made from the family's settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.pool.spec import SETTINGS, Kind

# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset(kind.value for kind in Kind)
# Shown under ``torchshape pool --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape pool --kind adaptive-avg --output-size None,7",
    "torchshape pool --kind max --kernel-size 3 --stride 2 --padding 1",
    "torchshape pool --kind max --size 8,7 --kernel-size 2 --ceil-mode --explain",
    "torchshape pool --kind adaptive-avg --output-size 7 --size 1000,999 --device meta",
    "torchshape pool --kind avg --dims 1 --size 10 --kernel-size 4 --format json",
)


pool = family_command(
    "pool", SETTINGS, "Build a pooling layer from flags, run it, and print every shape with its formula."
)
