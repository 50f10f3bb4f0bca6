"""The pool family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.families.pool import formulas
from torchshape.families.pool.counts import totals
from torchshape.families.pool.spec import PoolSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, layer_report, meta_or_real_pass


def call(spec: PoolSpec) -> str:
    """How the module is called, in the names the table uses."""
    return "output, indices = pool(input)" if spec.return_indices else "output = pool(input)"


def build_report(spec: PoolSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned (on meta too: at the user's sizes)."""
    ran = meta_or_real_pass(probe, "pooling meta kernel")
    return layer_report(spec, probe, formulas, call(spec), totals(spec), ran=ran)
