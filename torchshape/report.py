"""Plain data that renderers turn into text: formulas side by side with what torch returned.

Every family fills the same ``Report`` (``torchshape.families.*.report``); renderers read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torchshape.facts import LegendEntry, ParameterRow, Timing, Totals
from torchshape.probe import ProbeRun

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TensorRow:
    """One tensor: its formula, the shape that formula gives, and what torch did with it."""

    name: str
    formula: str
    expected: tuple[int, ...]  # the formula at the user's sizes
    actual: tuple[int, ...] | None  # torch's shape at the user's sizes; None if not measured there
    probe_shape: tuple[int, ...] | None  # what the forward pass had, at the sizes it ran
    measured: tuple[bool, ...]  # per dimension: did the forward pass run at the user's value?
    verified: bool  # torch agreed with the formula (at the sizes it ran)
    role: str  # "in" (built from the formula and accepted by torch) or "out" (returned by torch)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape to show: torch's own where it ran at the user's sizes."""
        return self.actual if self.actual is not None else self.expected


@dataclass(frozen=True)
class Report:
    """Everything one inspection found."""

    family: str  # the family (and command) it belongs to: rnn, conv, pool
    spec: Any  # the family's checked spec: ``module_call``, ``as_dict()``, ``device``, ``dtype``
    symbols: Any  # the value of every symbol at the user's sizes (``.as_dict()``)
    legend: list[LegendEntry]
    rows: list[TensorRow]
    notes: list[str]
    probe: ProbeRun
    call: str  # how the module is called, in the names the table uses
    ran: str  # one sentence saying exactly what was run, for the table footer and JSON
    parameters: list[ParameterRow] = field(default_factory=list)  # formulas beside named_parameters()
    totals: Totals | None = None  # parameters, MACs and bytes at the user's sizes
    timing: Timing | None = None  # --time: the forward pass, timed on its device
    # one layer of a bigger model (``torchshape model --layer``): which layer of which model, and
    # what its first call saw; renderers show it above the module. None: a standalone inspection.
    title: str | None = None

    @property
    def ok(self) -> bool:
        """True when every tensor and parameter agreed with its formula and torch raised nothing."""
        return (
            self.probe.error is None
            and all(row.verified for row in self.rows)
            and all(p.verified for p in self.parameters)
            and (self.probe.analysis is None or self.probe.analysis.ok)
            and (self.probe.diagram is None or self.probe.diagram.holds is not False)
        )


def row_at_your_sizes(
    name: str,
    formula: str,
    expected: tuple[int, ...],
    actual: tuple[int, ...] | None,
    *,
    fed: bool,
    error: str | None,
) -> TensorRow:
    """A tensor of a forward pass that ran at the user's own sizes (on meta too, for kernels
    that run there): verified when torch's shape is the formula's, and for what torch
    returned, when torch raised nothing."""
    return TensorRow(
        name=name,
        formula=formula,
        expected=expected,
        actual=actual,
        probe_shape=actual,
        measured=tuple(True for _ in expected),
        verified=actual == expected and (fed or error is None),
        role="in" if fed else "out",
    )


def real_pass(probe: ProbeRun) -> str:
    """The sentence for a real forward pass: ``real forward pass on cpu (float32), torch 2.13.0``."""
    return f"real forward pass on {probe.device} ({probe.dtype}), torch {probe.torch_version}"
