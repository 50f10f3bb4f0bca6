"""``torchshape attention``: nn.MultiheadAttention's command, made from its settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.attention.spec import SETTINGS

# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset[str]()
# Shown under ``torchshape attention --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape attention --embed-dim 24 --heads 4 --target-len 5 --source-len 7",
    "torchshape attention --per-head-weights --key-padding-mask --add-bias-kv --explain",
    "torchshape attention --self --batch-first --causal --no-need-weights",
    "torchshape attention --kdim 10 --vdim 6 --attn-mask 3d --mask-dtype float --params",
    "torchshape attention --self --target-len 131072 --embed-dim 8192 --heads 64 --batch 1 --device meta",
)


attention = family_command(
    "attention",
    SETTINGS,
    "Build nn.MultiheadAttention from flags, run it, and print every shape with its formula.",
)
