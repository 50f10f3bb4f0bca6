"""torchshape conv --explain: every claim holds on torch for drawn configurations, and a broken
claim is caught (the checks can fail)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings

from tests.test_conv_against_torch import conv_settings, torch_accepts
from torchshape import inspect_conv
from torchshape.families.conv.explain import ConvAnalysis
from torchshape.report import Report


def explained_where_torch_runs(drawn: dict[str, Any]) -> tuple[Report, ConvAnalysis]:
    """torchshape conv --explain's report and analysis of DRAWN settings that torch runs (hypothesis
    draws others until it does)."""
    assume(torch_accepts(drawn) is not None)
    report = inspect_conv(**drawn, explain=True)
    assert isinstance(report.probe.analysis, ConvAnalysis)
    return report, report.probe.analysis


@settings(max_examples=30)
@given(conv_settings())
def test_every_explain_claim_holds_on_torch(drawn: dict[str, Any]) -> None:
    report, a = explained_where_torch_runs(drawn)
    assert a.ok and report.ok
    if a.receptive is not None and a.receptive.reason is None:
        assert a.receptive.holds is True
    assert all(u.holds is True for u in a.unread)  # torch's gradient agrees on every axis
    if drawn["transposed"]:
        assert a.inverse is not None and a.inverse.holds
        assert all(o.refusal for o in a.output_padding if o.holds_output_size is not None)


def test_unread_input_positions_are_named_and_checked() -> None:
    report = inspect_conv(stride=2, padding=0, size=(32, 25), explain=True)
    a = report.probe.analysis
    assert isinstance(a, ConvAnalysis)
    h = a.unread[0]
    assert (h.axis, h.coverage.unread, h.holds) == ("H", (31,), True)


def test_a_wrong_receptive_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from torchshape.families.conv import explain

    real = explain.receptive

    def shifted(spec: Any) -> explain.Receptive:
        r = real(spec)
        return replace(r, positions=tuple(tuple(p + 1 for p in axis) for axis in r.positions))

    monkeypatch.setattr(explain, "receptive", shifted)
    report = inspect_conv(explain=True)
    assert report.probe.analysis.receptive.holds is False
    assert not report.ok


def test_output_padding_and_output_size_on_a_transposed_conv() -> None:
    report = inspect_conv(
        transposed=True, dims=1, size=(10,), kernel_size=3, stride=(3,), padding=1, explain=True
    )
    a = report.probe.analysis
    o = a.output_padding[0]
    assert o.conv_inputs == (28, 29, 30) and o.reachable == (28, 29, 30) and o.beyond == 31
    assert o.refusal is not None and "valid sizes range from [28] to [30]" in o.refusal
    assert a.inverse is not None and a.inverse.measured == (4, 3, 10)


def test_on_meta_what_needs_values_is_not_evaluated() -> None:
    report = inspect_conv(padding=0, size=(32, 25), device="meta", explain=True)
    a = report.probe.analysis
    assert a.values is False
    assert a.unread[0].holds is None and a.receptive.holds is None
    assert a.same.kept is True and a.inverse.holds is True  # shapes run on the meta kernels
    import json

    from torchshape.render import render_json

    data = json.loads(render_json(report))
    assert data["explain"]["receptive_field"]["held"] is None


def test_same_padding_that_torch_refuses_for_circular_padding_is_said_not_raised() -> None:
    """padding='same' here pads W by 4 + 5, more than the 4 cells circular padding may wrap:
    torch refuses that module, and --explain says so instead of failing."""
    import contextlib
    import io

    import torch

    from torchshape.cli import main

    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        torch.nn.Conv3d(1, 1, (1, 1, 4), dilation=(1, 1, 3), padding="same", padding_mode="circular")(
            torch.randn(1, 1, 1, 4)
        )
    args = "conv --dims 3 --in-channels 1 --out-channels 1 --kernel-size 1,1,4 --dilation 1,1,3 --size 1,1,4"
    args += " --unbatched --padding 0,0,3 --padding-mode circular --explain"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args.split()) == 0
    assert "torch refuses it for (1, 1, 4) with padding_mode 'circular'" in " ".join(out.getvalue().split())
