"""--explain: what this transformer's masks and memory are, as claims (plain data, no torch).

``explain_probe`` checks every claim on torch and fills in ``held``: True (torch agreed),
False (it did not) or None (not evaluated: it needs values, and meta has none). A claim
that torch refuses a mistake holds when torch raised, and keeps torch's own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NO_VALUES = "not evaluated: meta has no values"


@dataclass(frozen=True)
class Claim:
    topic: str  # causal, padding, mask, memory
    text: str
    held: bool | None = None
    detail: str | None = None  # torch's refusal, or why it was not evaluated
    note: str | None = None  # how it was checked, where that is not plain: "compared on a float32 copy ..."


@dataclass(frozen=True)
class TransformerAnalysis:
    values: bool  # False on meta: what needs values was not evaluated
    claims: list[Claim] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check that ran found torch disagreeing."""
        return all(c.held is not False for c in self.claims)
