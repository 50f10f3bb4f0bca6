"""What one evaluation of an expression found, as plain data for the report. No torch.

A ``Step`` per sub-expression that gave a tensor (innermost first), the ``Failure`` where torch
refused one (with the ``Fix`` es torch accepted, re-run on the same tensors), and with
--explain a ``ValuesView`` per fancy index: which elements it picks, on a small example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torchshape.attributes import json_object

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Step:
    """One sub-expression: what torch gave, the rule beside it, and whether they agree."""

    expression: str
    kind: str  # the rule's name: broadcasting, matmul, indexing, ...
    rule: str  # the rule in words with this run's numbers
    shape: Shape | None  # a tensor's shape; None for a Python value or several tensors
    dtype: str  # torch's dtype, or "int (Python)"
    shapes: tuple[Shape, ...] | None = None  # several tensors (split, chunk, max(dim))
    holds: bool | None = None  # None: no rule to check; False: torch disagreed with the rule
    expected: str = ""  # what the rule said, where it disagreed
    value: str | None = None  # a Python value's text (.item())
    node: tuple[int, int, int, int] | None = None  # where it stands in the source
    operands: tuple[tuple[str, Shape], ...] = ()  # a broadcast's tensors, as they read, and their shapes

    @property
    def shape_text(self) -> str:
        if self.shape is not None:
            return repr(tuple(self.shape))
        if self.shapes is not None:
            if len(self.shapes) > 4:
                return (
                    f"{len(self.shapes)} × {self.shapes[0]!r}"
                    if len(set(self.shapes)) == 1
                    else (f"{len(self.shapes)} tensors: {self.shapes[0]!r} … {self.shapes[-1]!r}")
                )
            return ", ".join(repr(s) for s in self.shapes)
        return self.value if self.value is not None else "-"

    def as_dict(self) -> dict[str, Any]:
        return {
            **json_object(self, "expression shape dtype rule holds kind"),
            **({"shapes": [list(s) for s in self.shapes]} if self.shapes is not None else {}),
            **({"value": self.value} if self.value is not None else {}),
            **({"expected": self.expected} if self.expected else {}),
        }


@dataclass(frozen=True)
class Fix:
    """A change torch accepts, re-run on the same tensors."""

    change: str  # the sub-expression as it should read
    expression: str  # the whole expression with it
    shape: Shape | None  # the whole expression's result
    dtype: str

    def as_dict(self) -> dict[str, Any]:
        return json_object(self) | {"verified": True}


@dataclass(frozen=True)
class Failure:
    """The first sub-expression torch refused."""

    expression: str
    message: str  # torch's own, first line
    error_type: str
    kind: str
    rule: str  # the rule that broke, with this run's numbers; "" where no rule covers it
    predicted: bool | None  # the rule said torch would refuse (None: no rule)
    fixes: tuple[Fix, ...] = ()
    node: tuple[int, int, int, int] | None = None

    def __str__(self) -> str:
        return f"torch refused {self.expression}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return (
            json_object(self, "expression message error_type kind")
            | {"rule": self.rule or None, "rule_predicted": self.predicted}
            | json_object(self, "fixes")
        )


@dataclass(frozen=True)
class ValuesView:
    """--explain: a fancy index on a small example, its input numbered 0, 1, 2, ... in memory order."""

    expression: str
    numbered: str  # the input, each element its position
    indices: tuple[tuple[str, str], ...]  # (the index as typed, its values)
    picked: str  # what the index picks: the positions
    shape: Shape
    holds: bool  # the numbered run gave the step's shape
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        indices = [{"index": a, "values": b} for a, b in self.indices]
        return (
            json_object(self, "expression numbered")
            | {"indices": indices}
            | json_object(self, "picked shape holds note")
        )


@dataclass(frozen=True)
class BroadcastPicture:
    """--diagram: one broadcast, its shapes right-aligned, a column per dimension of the result."""

    expression: str
    rows: tuple[
        tuple[str, tuple[str, ...]], ...
    ]  # each operand: its label, its cells ("" where it has no dim)
    result: tuple[int, ...]
    stretched: tuple[
        tuple[str, int, int], ...
    ]  # (operand, dim of the result, to size): where a 1 or no dim grew
    holds: bool | None  # torch's result is the picture's

    def as_dict(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "rows": [{"tensor": label, "cells": list(cells)} for label, cells in self.rows],
            "result": list(self.result),
            "stretched": [{"tensor": t, "dim": d, "to": n} for t, d, n in self.stretched],
            "holds": self.holds,
        }


def broadcast_picture(step: Step) -> BroadcastPicture | None:
    """The picture of a broadcasting step: each operand's sizes under the result's dims."""
    if step.shape is None or len(step.operands) < 2:
        return None
    width = len(step.shape)
    rows = []
    stretched = []
    for label, shape in step.operands:
        cells = [""] * (width - len(shape)) + [str(n) for n in shape]
        for dim, (cell, size) in enumerate(zip(cells, step.shape, strict=True)):
            if cell != str(size):
                stretched.append((label, dim, size))
                cells[dim] = f"{cell or '·'}→{size}"
        rows.append((label, tuple(cells)))
    return BroadcastPicture(step.expression, tuple(rows), step.shape, tuple(stretched), step.holds)


@dataclass(frozen=True)
class ExprRun:
    """The analysis of one run: the steps, the result, the failure, where it ran and why."""

    steps: tuple[Step, ...]
    result: Step | None  # the whole expression's row (None when it failed or gave no tensor)
    failure: Failure | None
    device: str
    why_device: str
    values: tuple[ValuesView, ...] = field(default=())
    explain: bool = False
    diagram: bool = False  # --diagram: the broadcasting picture of each broadcast

    @property
    def ok(self) -> bool:
        return (
            self.failure is None
            and all(step.holds is not False for step in self.steps)
            and all(view.holds for view in self.values)
        )
