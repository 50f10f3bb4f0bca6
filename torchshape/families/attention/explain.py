"""--explain: what the rules claim about this attention, as plain data (no torch).

``explain_probe`` checks every claim on torch, on the module and tensors of the forward pass,
and fills in ``held``: True (torch agreed), False (it did not) or None (not evaluated: it
needs values, and meta has none, or the configuration has no such case). The common mistakes
are claims too: each says what torch does with the wrong tensor (its own error, or an output
that differs), and ``held`` says torch did exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NO_VALUES = "not evaluated: meta has no values"


@dataclass(frozen=True)
class Claim:
    """One statement about the forward pass, and what torch showed."""

    key: str  # a stable name for JSON: rows_sum_to_one, masked_keys_get_zero, ...
    claim: str  # in words, with this run's numbers
    held: bool | None
    evidence: str  # torch's numbers or its own error message; why not evaluated
    mistake: bool = False  # a common mistake, shown to fail in torch


@dataclass(frozen=True)
class AttentionAnalysis:
    values: bool  # False on meta: what needs values was not evaluated
    claims: list[Claim] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check that ran found torch disagreeing."""
        return all(c.held is not False for c in self.claims)
