"""--explain's results, one type for every family: what is claimed (with this run's numbers),
the expression checked where there is one, whether torch held it, and torch's evidence.

Plain data, no torch. A family's rules write the claims; its probe checks each on torch and
fills in ``holds``: True (torch agreed), False (it did not) or None (not evaluated: it needs
values and meta has none, or the configuration has no such case). A common mistake is a claim
too: it says what torch does with the wrong input (its own error, or an output that differs),
and ``holds`` says torch did exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Why a claim that needs values was not evaluated on meta: a claim's evidence, and the heading
# of an --explain section that only states the rules.
NO_VALUES = "not evaluated: meta has no values"
NO_VALUES_HEADING = "not evaluated: no values on meta"
# The recurrent layers' relations (output vs h_n, the hand-off, the packed call) say more.
NO_RELATION_VALUES = (
    "meta tensors carry no values, so no relation is evaluated (holds: null); use --device cpu"
)


@dataclass(frozen=True)
class Claim:
    """One statement about the forward pass, and what torch showed."""

    topic: str  # a stable name for JSON: rows_sum_to_one, causal, padding_idx, ...
    claim: str  # in words, with this run's numbers
    holds: bool | None = None  # None: not evaluated (meta, too large, or no such case)
    evidence: str = ""  # torch's numbers or its own error message; why it was not evaluated
    facts: tuple[str, ...] = ()  # what the rules say before the claim, one line each
    note: str = ""  # how it was checked, where that is not plain: "compared on a float32 copy ..."
    mistake: bool = False  # a common mistake, shown to fail in torch
    expression: str = ""  # the Python expression checked, where there is one
    data: dict[str, Any] = field(default_factory=dict)  # the same facts as JSON values


@dataclass(frozen=True)
class Claims:
    """What a family's probe checked beyond the shapes."""

    values: bool  # False on meta: what needs values was not evaluated
    claims: tuple[Claim, ...] = ()

    @property
    def ok(self) -> bool:
        """No check that ran found torch disagreeing."""
        return all_held(self.claims)


def all_held(claims: Iterable[Claim]) -> bool:
    """No claim that torch checked came out False."""
    return all(c.holds is not False for c in claims)
