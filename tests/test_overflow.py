"""Claims never judged by overflow: a check that meets infinite values says so and is neither ✓
nor ✗; an exit 1 always says why on stderr, in one line."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run_cli
from torchshape import inspect_pool, inspect_transformer


def test_lp_pool_of_a_large_norm_is_not_judged_by_overflow(capsys: pytest.CaptureFixture[str]) -> None:
    """x¹⁰⁰⁰ overflows float32: the unread positions are still checked (on an input that cannot
    overflow), and nothing is marked ✗."""
    code, out, err = run_cli(capsys, "pool", "--kind", "lp", "--norm-type", "1000", "--explain")
    assert (code, err) == (0, "")
    assert "✗" not in out and "DOES NOT HOLD" not in out
    report = inspect_pool(kind="lp", norm_type=1000.0, explain=True)
    unread = [f for f in report.probe.analysis.findings if f.topic == "unread"]
    assert [f.data["positions"] for f in unread] == [[27], [18, 19]]
    assert all(f.holds is True for f in unread)


def test_a_check_on_overflowed_values_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    report = inspect_pool(kind="lp", norm_type=1000.0, size=(13, 13), ceil_mode=True, explain=True)
    ceil = [f for f in report.probe.analysis.findings if f.topic == "ceil_mode"]
    assert ceil and all(f.holds is None for f in ceil)
    assert all(f.evidence == "not checkable in float32: values overflow" for f in ceil)
    assert report.ok
    code, out, err = run_cli(
        capsys, "pool", "--kind", "lp", "--norm-type", "1000", "--size", "13", "--ceil-mode", "--explain"
    )
    assert (code, err) == (0, "")
    assert "not checkable in float32: values overflow" in " ".join(out.split())


def test_transformer_values_that_overflow_are_not_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchshape.families.transformer import explain_probe

    real = explain_probe._run

    def overflowing(module: Any, inputs: Any) -> Any:
        return real(module, inputs) * float("inf")

    monkeypatch.setattr(explain_probe, "_run", overflowing)
    report = inspect_transformer(layer="decoder", explain=True)
    memory = [c for c in report.probe.analysis.claims if c.claim.startswith("the output depends on memory")]
    assert memory and memory[0].holds is None
    assert memory[0].evidence == "not checkable in float32: values overflow"


def test_exit_1_says_why_on_stderr_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchshape.families.pool import explain
    from torchshape.families.spatial import Coverage

    real = explain.coverage

    def one_less(window: Any) -> Coverage:
        c = real(window)
        return Coverage(c.axis, c.size, (c.unread or ())[:-1])

    monkeypatch.setattr(explain, "coverage", one_less)
    code, out, err = run_cli(
        capsys, "pool", "--kind", "avg", "--kernel-size", "2", "--stride", "3", "--explain"
    )
    assert code == 1 and "✗" in out
    assert err == "torchshape: error: torch disagreed with a formula; see the ✗ above\n"
