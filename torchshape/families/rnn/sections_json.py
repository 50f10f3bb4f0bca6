"""The --explain, --lengths and --unroll sections as JSON entries: relations, layout, hand-off,
packed batch and step loop. Nothing here runs torch.
"""

from __future__ import annotations

from typing import Any

from torchshape.explain import NO_RELATION_VALUES
from torchshape.families.rnn.packed import PackedResult, ShapeCheck, packed_code
from torchshape.families.rnn.relations import RelationCheck
from torchshape.families.rnn.unroll import UnrollResult
from torchshape.report import Report


def _relation_json(check: RelationCheck, call: str = "plain") -> dict[str, Any]:
    """One relation; ``call`` says which call's tensors it is about: "plain" or "packed"."""
    rel = check.relation
    return {
        "call": call,
        "expression": rel.expression,
        "numeric": rel.numeric,
        "meaning": rel.meaning,
        "expected": rel.expected,
        "holds": check.holds,
        "exact": check.exact,
        "max_abs_diff": check.max_abs_diff,
        "note": NO_RELATION_VALUES if check.holds is None else None,
        "error": check.evidence or None,
    }


def _shape_json(row: ShapeCheck) -> dict[str, Any]:
    return {
        "name": row.name,
        "code": row.code,
        "formula": row.formula,
        "shape": list(row.shown),
        "verified": row.verified,
        "source": "forward" if row.exact else "formula",
        "expected_shape": list(row.expected),
        "probe_shape": None if row.measured is None else list(row.measured),
    }


def json_extra(report: Report) -> dict[str, Any]:
    """``relations``, ``layout`` and ``handoff`` (with --explain), ``packed`` (with --lengths) and
    ``unroll`` (with --unroll); nothing without them."""
    analysis = report.probe.analysis
    found: dict[str, Any] = {}
    if analysis is None:
        return found
    if analysis.relations is not None:
        layout: dict[str, Any] = {
            item.tensor: {
                "view": item.view,
                "view_numeric": item.view_numeric,
                "axes": ["layer", "direction"],
                "directions": list(item.directions),
                "grid": [list(row) for row in item.grid],
            }
            for item in analysis.layouts or []
        }
        layout["feature_sizes"] = analysis.feature_sizes
        handoff = analysis.handoff
        found["relations"] = [_relation_json(c) for c in analysis.relations]
        found["layout"] = layout
        # null where h_n already fits a decoder (one layer, one direction)
        found["handoff"] = (
            None
            if handoff is None
            else {
                "code": handoff.code,
                "code_numeric": handoff.code_numeric,
                "relations": [{**_relation_json(c), "section": "handoff"} for c in handoff.relations],
                "ok": handoff.ok,
            }
        )
    if analysis.packed is not None:
        found["packed"] = _packed_json(report, analysis.packed)
    if analysis.unroll is not None:
        found["unroll"] = _unroll_json(analysis.unroll)
    return found


def _packed_json(report: Report, packed: PackedResult) -> dict[str, Any]:
    shapes = {row.name: _shape_json(row) for row in packed.shapes}
    return {
        "lengths": list(packed.lengths),
        "sum_lengths": packed.sum_lengths,
        "max_length": packed.max_length,
        "code": packed_code(report.spec),
        "data_shape": shapes["data"]["shape"],
        "batch_sizes": list(packed.batch_sizes),
        "output_data_shape": shapes["output.data"]["shape"],
        "padded_output_shape": shapes["output"]["shape"],
        "padded_output_shape_total_length": shapes["output (total_length=L)"]["shape"],
        "h_n_shape": shapes["h_n"]["shape"],
        "c_n_shape": shapes["c_n"]["shape"] if "c_n" in shapes else None,
        "sorted_indices": None if packed.sorted_indices is None else list(packed.sorted_indices),
        "batch_sizes_verified": packed.batch_sizes_verified,
        "ran_lengths": list(packed.ran_lengths),
        "tensors": list(shapes.values()),
        "relations": [_relation_json(c, "packed") for c in packed.relations],
        "ok": packed.ok,
    }


def _unroll_json(unroll: UnrollResult) -> dict[str, Any]:
    rtol, atol = unroll.tolerance
    return {
        "steps": unroll.steps,
        "method": unroll.method,
        "code": list(unroll.code),
        "step_shapes": [_shape_json(row) for row in unroll.step_shapes],
        "max_abs_diff": dict(unroll.max_abs_diff),
        "per_step_max_abs_diff": list(unroll.per_step_max_abs_diff),
        "tolerance": {"rtol": rtol, "atol": atol},
        "within_tolerance": dict(unroll.within_tolerance),
        "agree": unroll.agree,
        "naive_max_abs_diff": unroll.naive_max_abs_diff,
        "why": unroll.why,
        "ok": unroll.ok,
    }
