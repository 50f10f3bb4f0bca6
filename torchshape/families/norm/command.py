"""``torchshape norm``: the normalization layers' command, made from their settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.norm.spec import SETTINGS, Kind

# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset(kind.value for kind in Kind)
# Shown under ``torchshape norm --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape norm --kind batch --num-features 64 --size 32,32",
    "torchshape norm --kind layer --normalized-shape 768 --size 128 --explain",
    "torchshape norm --kind group --num-groups 8 --num-features 32 --explain",
    "torchshape norm --kind instance --dims 1 --eval --explain",
    "torchshape norm --kind rms --normalized-shape 8192 --size 131072 --batch 8 --device meta",
)


norm = family_command(
    "norm",
    SETTINGS,
    "Build a normalization layer from flags, run it, and print every shape, parameter, buffer and "
    "the dimensions its statistics are taken over, each checked by torch.",
)
