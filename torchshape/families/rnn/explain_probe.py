"""The torch side of --explain, --lengths and --unroll: every claim checked on real tensors.

Called by ``torchshape.families.rnn.probe.run`` with the module, the inputs and the results of
the very forward pass the table reports; the rules come from ``torchshape.families.rnn.explain``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.families.rnn import unroll_probe
from torchshape.families.rnn.explain import Analysis, feature_sizes, layouts
from torchshape.families.rnn.formulas import symbols
from torchshape.families.rnn.handoff import HandoffResult, decoder_spec, handoff
from torchshape.families.rnn.packed import (
    PackedResult,
    batch_sizes,
    packed_rules,
    packed_symbols,
    probe_lengths,
)
from torchshape.families.rnn.relations import (
    TOLERANCE,
    Relation,
    RelationCheck,
    checked,
    packed_relations,
    relations,
)
from torchshape.families.rnn.spec import RNNSpec
from torchshape.families.rnn.torch_side import build_module, hidden, max_abs_diff, split_state

if TYPE_CHECKING:
    import torch


def analyse(
    spec: RNNSpec,
    ran: RNNSpec,
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    results: dict[str, torch.Tensor],
    *,
    explain: bool = False,
    unroll: bool = False,
) -> Analysis | None:
    """Check what the flags ask for; None when none of --explain, --lengths, --unroll is set.

    ``spec`` is what the user asked for, ``ran`` what the forward pass ran (they
    differ on meta, where relations are left unevaluated: there are no values).
    """
    if not (explain or unroll or spec.lengths is not None):
        return None
    values = ran is spec
    tolerance = TOLERANCE[spec.dtype.value]
    checks = None
    if explain:
        namespace = _namespace(ran, results)
        checks = [_evaluate(r, namespace, tolerance) if values else checked(r, None) for r in relations(spec)]
    return Analysis(
        relations=checks,
        layouts=layouts(spec) if explain else None,
        feature_sizes=feature_sizes(spec) if explain else None,
        packed=_packed(spec, ran, module, inputs, tolerance) if spec.lengths is not None else None,
        unroll=unroll_probe.unroll(spec, module, inputs, results) if unroll else None,
        values=values,
        handoff=_handoff(spec, values, inputs, results, tolerance) if explain else None,
    )


# ---------------------------------------------------------------- relations


def _namespace(spec: RNNSpec, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """What an expression may use: the tensors, the symbols, ``lengths`` and torch."""
    import torch

    namespace: dict[str, Any] = {"torch": torch, **symbols(spec).as_dict(), **tensors}
    if spec.lengths is not None:
        namespace["lengths"] = torch.tensor(spec.lengths)
    return namespace


def _eval(expression: str, namespace: dict[str, Any]) -> Any:
    # The expressions are torchshape's own templates filled with validated integers.
    return eval(expression, {"__builtins__": {}}, namespace)


def _evaluate(
    relation: Relation,
    namespace: dict[str, Any],
    tolerance: tuple[float, float],
    numeric_namespace: dict[str, Any] | None = None,
) -> RelationCheck:
    """Evaluate both sides, with symbols and with numbers, and compare.

    ``numeric_namespace``: where the numeric form runs, when its names were assigned
    from numeric code (the hand-off); else the same namespace.
    """
    import torch

    numeric = namespace if numeric_namespace is None else numeric_namespace
    try:
        lhs, rhs = _eval(relation.lhs, namespace), _eval(relation.rhs, namespace)
        lhs_n, rhs_n = _eval(relation.lhs_numeric, numeric), _eval(relation.rhs_numeric, numeric)
    except (IndexError, RuntimeError, TypeError, ValueError) as exc:  # torch refuses it: say how
        return checked(relation, False, error=_first_line(exc))
    if not isinstance(lhs, torch.Tensor):  # a size: compare as integers
        same = bool(lhs == rhs)
        return checked(relation, same, exact=same, numeric_agrees=bool(lhs == lhs_n and rhs == rhs_n))
    numeric_agrees = _identical(lhs, lhs_n) and _identical(rhs, rhs_n)
    if lhs.shape != rhs.shape:
        return checked(relation, False, exact=False, numeric_agrees=numeric_agrees)
    rtol, atol = tolerance
    return checked(
        relation,
        bool(torch.allclose(lhs, rhs, rtol=rtol, atol=atol)),
        exact=bool(torch.equal(lhs, rhs)),
        max_abs_diff=max_abs_diff(lhs, rhs),
        numeric_agrees=numeric_agrees,
    )


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _identical(a: Any, b: Any) -> bool:
    import torch

    return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))


# ---------------------------------------------------------------- hand-off


def _handoff(
    spec: RNNSpec,
    values: bool,
    inputs: dict[str, torch.Tensor],
    results: dict[str, torch.Tensor],
    tolerance: tuple[float, float],
) -> HandoffResult | None:
    """Run the hand-off code on the forward pass's h_n (c_n), build the decoders, check each relation.

    The symbolic and the numeric code each fill their own namespace, so a numeric
    line that picked other values than its symbolic twin shows as a disagreement.
    """
    import torch

    plan = handoff(spec)
    if plan is None:
        return None
    if not values:
        return HandoffResult(plan, [checked(r, None) for r in plan.relations])
    x = inputs["input"]
    with_symbols: dict[str, Any] = {"torch": torch, **symbols(spec).as_dict(), "input": x, **results}
    numbers_only: dict[str, Any] = {"torch": torch, "input": x, **results}
    for line in plan.assignments:  # as the user runs it; torchshape's own lines, validated integers
        exec(line.code, {"__builtins__": {}}, with_symbols)
        exec(line.code_numeric, {"__builtins__": {}}, numbers_only)
    for decoder in plan.decoders:
        with_symbols[decoder.name] = numbers_only[decoder.name] = build_module(
            decoder_spec(spec, decoder), x.device, x.dtype
        )
    return HandoffResult(plan, [_evaluate(r, with_symbols, tolerance, numbers_only) for r in plan.relations])


# ---------------------------------------------------------------- packed


def _packed(
    spec: RNNSpec,
    ran: RNNSpec,
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    tolerance: tuple[float, float],
) -> PackedResult:
    """pack_padded_sequence (unsorted lengths allowed), the module, pad_packed_sequence."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    assert spec.lengths is not None
    values = ran is spec
    lengths = spec.lengths if values else probe_lengths(spec, ran)
    ran = replace(ran, lengths=lengths)
    packed = pack_padded_sequence(
        inputs["input"], list(lengths), batch_first=ran.batch_first, enforce_sorted=False
    )
    packed_output, state = module(packed, hidden(inputs))
    output, _ = pad_packed_sequence(packed_output, batch_first=ran.batch_first)
    output_total, _ = pad_packed_sequence(
        packed_output, batch_first=ran.batch_first, total_length=ran.seq_len
    )
    tensors = {"output": output, **split_state(state)}
    measured = {
        "data": packed.data,
        "batch_sizes": packed.batch_sizes,
        "output.data": packed_output.data,
        "output (total_length=L)": output_total,
        **tensors,
    }
    sym, at_probe = packed_symbols(spec), packed_symbols(ran)
    shapes = [
        rule.check(sym, at_probe, tuple(measured[rule.formula.name].shape), values)
        for rule in packed_rules(spec)
    ]
    namespace = _namespace(ran, tensors)
    checks = [
        _evaluate(r, namespace, tolerance) if values else checked(r, None) for r in packed_relations(spec)
    ]
    sorted_indices = packed.sorted_indices
    return PackedResult(
        lengths=spec.lengths,
        sum_lengths=sum(spec.lengths),
        max_length=max(spec.lengths),
        batch_sizes=batch_sizes(spec.lengths),
        measured_batch_sizes=tuple(int(n) for n in packed.batch_sizes.tolist()),
        ran_lengths=lengths,
        sorted_indices=None if sorted_indices is None else tuple(int(i) for i in sorted_indices.tolist()),
        shapes=shapes,
        relations=checks,
    )
