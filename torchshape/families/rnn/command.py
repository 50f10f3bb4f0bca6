"""``torchshape rnn``: the recurrent layers' command, made from the family's settings table (no torch)."""

from __future__ import annotations

from torchshape.command import family_command
from torchshape.families.rnn.spec import SETTINGS, Kind

# The --kind choices, for the command line's advice on a stray word.
KINDS = frozenset(kind.value for kind in Kind)
# Shown under ``torchshape rnn --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape rnn --kind lstm --layers 2 --bidir",
    "torchshape rnn --kind gru --batch-first --format json",
    "torchshape rnn --kind lstm --proj-size 10 --unbatched --device meta",
    "torchshape rnn --lengths 5,3,2 --explain",
    "torchshape rnn --kind rnn-cell --nonlinearity relu --params",
)


rnn = family_command(
    "rnn", SETTINGS, "Build a recurrent layer from flags, run it, and print every shape with its formula."
)
