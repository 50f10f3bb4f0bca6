"""``torchshape transformer``: the transformer layers' command, made from their settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.transformer.spec import SETTINGS

# The --kind choices, for the command line's advice on a stray word (this command has --layer).
KINDS = frozenset[str]()
# Shown under ``torchshape transformer --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape transformer --src-mask 2d --src-key-padding-mask bool",
    "torchshape transformer --layer decoder --causal --memory-key-padding-mask bool --explain",
    "torchshape transformer --layer full --num-encoder-layers 2 --num-decoder-layers 2 --batch-first "
    "--params",
    "torchshape transformer --layer encoder-stack --num-layers 12 --final-norm --batch-first "
    "--src-key-padding-mask bool --explain",
    "torchshape transformer --layer full --d-model 1024 --nhead 16 --dim-feedforward 4096 "
    "--source-len 100000 --target-len 50000 --batch 64 --causal --device meta",
)


transformer = family_command(
    "transformer",
    SETTINGS,
    "Build a transformer layer or nn.Transformer from flags, run it, and print every shape and mask.",
)
