"""The python script of a model trace: not in this step (``--format python`` is refused)."""

from __future__ import annotations

from torchshape.errors import UsageError
from torchshape.options import Shown
from torchshape.report import Report

REFUSAL = (
    "not with torchshape model yet: a script that reruns the trace with its hooks comes in a later "
    "step; use --format json, markdown, csv, svg or table"
)


def render_python(report: Report, shown: Shown) -> str:
    raise UsageError("--format", f"python {REFUSAL}")
