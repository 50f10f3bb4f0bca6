"""The Python API's wording: errors name ``proj_size=3``, not the flag ``--proj-size``.

The checks are written once, in the command line's words (``spec.FLAGS``); a call from
Python gets the same message with every flag turned into the argument that sets it, as the
settings table says (``python_terms.in_python_terms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torchshape import python_terms
from torchshape.errors import UsageError
from torchshape.families.rnn.spec import SETTINGS, RNNSpec


def in_python_terms(error: UsageError, given: Mapping[str, Any]) -> UsageError:
    """``error`` reworded for a Python caller; ``given`` holds the arguments as they were passed."""
    return python_terms.in_python_terms(error, given, SETTINGS, RNNSpec)
