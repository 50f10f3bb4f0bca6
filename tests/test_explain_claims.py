"""--explain's results are one type: the claims of attention, transformer, pool, embedding and conv
are ``torchshape.explain.Claim``, every format draws them from ``torchshape.view``, and a claim
torch did not hold fails the run in every family alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from torchshape import inspect_attention, inspect_conv, inspect_embedding, inspect_pool, inspect_transformer
from torchshape.explain import Claim, Claims
from torchshape.families.conv.present import claims as conv_claims
from torchshape.render import render
from torchshape.report import Report
from torchshape.view import FAIL, claim_lines, claim_mark, finding_lines


def _claims(report: Report) -> list[Claim]:
    a = report.probe.analysis
    if isinstance(a, Claims):
        return list(a.claims)
    findings = getattr(a, "findings", None)
    if findings is not None:
        return list(findings)
    return conv_claims(report.spec, a)


RUNS: dict[str, Callable[[], Report]] = {
    "attention": lambda: inspect_attention(key_padding_mask=True, average_attn_weights=False, explain=True),
    "transformer": lambda: inspect_transformer(layer="decoder", causal=True, explain=True),
    "pool": lambda: inspect_pool(
        kind="max", kernel_size=3, stride=2, size=(9, 9), ceil_mode=True, explain=True
    ),
    "embedding": lambda: inspect_embedding(num_embeddings=10, padding_idx=2, explain=True),
    "conv": lambda: inspect_conv(kernel_size=3, stride=2, size=(11, 8), explain=True),
}


@pytest.mark.parametrize("family", sorted(RUNS))
def test_every_family_explains_with_one_claim_type_drawn_by_the_view(family: str) -> None:
    report = RUNS[family]()
    claims = _claims(report)
    assert claims and all(isinstance(c, Claim) for c in claims)
    assert all(c.holds is not False for c in claims) and report.ok  # torch agreed with each
    table = render(report, "table", width=400)
    drawn = claim_lines(claims, quoted=family == "transformer")
    if family in ("pool", "embedding"):
        drawn = [line for c in claims for line in finding_lines(c)]
    for line in drawn:
        assert line.removeprefix(claim_mark(True) + " ") in table, line


@pytest.mark.parametrize("family", ["attention", "transformer", "pool", "embedding"])
def test_a_claim_torch_did_not_hold_fails_the_run_and_is_marked(family: str, monkeypatch: Any) -> None:
    report = RUNS[family]()
    a = report.probe.analysis
    first = _claims(report)[0]
    wrong = replace(first, holds=False)
    if isinstance(a, Claims):
        broken: Any = replace(a, claims=(wrong, *a.claims[1:]))
    else:
        broken = replace(a, findings=(wrong, *a.findings[1:]))
    bad = replace(report, probe=replace(report.probe, analysis=broken))
    assert not broken.ok and not bad.ok
    shown = first.claim if isinstance(a, Claims) else first.topic  # a finding's mark is beside its topic
    assert f"{FAIL} {shown}" in render(bad, "table", width=400)
    explain = json.loads(render(bad, "json"))["explain"]
    listed = explain["claims"] if isinstance(explain, dict) else explain
    held = "held" if isinstance(explain, dict) else "holds"
    assert listed[0][held] is False


def test_the_recurrent_relations_are_claims_too() -> None:
    """rnn's relations: the meaning is the claim, ``lhs == rhs`` the expression, and torch held every
    relation the rules claim (the listed mistakes it refused or found unequal)."""
    from torchshape import inspect

    report = inspect(kind="lstm", bidirectional=True, num_layers=2, explain=True)
    a = report.probe.analysis
    assert a is not None and a.relations is not None and a.handoff is not None
    checks = [*a.relations, *a.handoff.relations]
    assert checks and all(isinstance(c, Claim) for c in checks)
    assert all(c.expression == c.relation.expression and c.claim == c.relation.meaning for c in checks)
    assert all(c.holds is True for c in checks if c.relation.expected)
    assert any(c.evidence.startswith("RuntimeError") for c in checks if not c.relation.expected)
