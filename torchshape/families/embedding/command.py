"""``torchshape embedding``: the embeddings' command, made from their settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.embedding.spec import SETTINGS

# No --kind: nn.Embedding, or nn.EmbeddingBag with --bag.
KINDS: frozenset[str] = frozenset()
# Shown under ``torchshape embedding --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape embedding --num-embeddings 1000 --embedding-dim 64 --shape 8,32 --padding-idx 0",
    "torchshape embedding --num-embeddings 128256 --embedding-dim 4096 --shape 1,131072 --device meta",
    "torchshape embedding --bag --mode sum --bags 4 --bag-size 6 --per-sample-weights",
    "torchshape embedding --bag --offsets 0,3,3,7 --shape 9 --explain",
    "torchshape embedding --bag --offsets 0,2,5 --include-last-offset --max-norm 1 --format json",
)


embedding = family_command(
    "embedding",
    SETTINGS,
    "Build nn.Embedding or nn.EmbeddingBag from flags, run it, and print every shape with its formula.",
)
