"""--explain's unread input positions, conv and pool: the whole set on every axis, compared with
what torch itself reads (its gradient, or perturbing one position at a time), never only the tail."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.test_conv_against_torch import torch_accepts
from tests.test_conv_explain import explained_where_torch_runs
from tests.test_pool_against_torch import torch_pool
from torchshape import inspect_conv, inspect_pool
from torchshape.families.conv.explain import ConvAnalysis
from torchshape.render import render_json


def per_axis_unread(read: torch.Tensor, first_spatial: int, dims: int) -> list[list[int]]:
    """Per spatial axis: the indices whose whole slice of ``read`` is False."""
    found = []
    for i in range(dims):
        dim = first_spatial + i
        others = [d for d in range(read.dim()) if d != dim]
        hit = read.amax(dim=others) if others else read
        found.append([int(p) for p in torch.nonzero(~hit).flatten().tolist()])
    return found


def conv_unread_by_torch(s: dict[str, Any]) -> list[list[int]]:
    """torch's gradient with positive weights and a positive upstream gradient: zero exactly where
    no window reads (nothing can cancel)."""
    ran = torch_accepts(s)
    assert ran is not None
    module = ran[0].double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand_like(p) + 0.5)
    x = torch.rand(ran[1].shape, dtype=torch.float64).add_(0.5).requires_grad_(True)
    y = module(x)
    (grad,) = torch.autograd.grad(y, x, torch.rand_like(y) + 0.5)
    return per_axis_unread(grad != 0, 1 if s["unbatched"] else 2, s["dims"])


@st.composite
def strided_convs(draw: st.DrawFn) -> dict[str, Any]:
    """Strides past the kernel's span, dilation, padding of every mode, groups, transposed."""
    dims = draw(st.integers(1, 2))
    transposed = draw(st.booleans())
    per = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    groups = draw(st.integers(1, 2))
    s: dict[str, Any] = {
        "dims": dims,
        "in_channels": groups,
        "out_channels": groups * draw(st.integers(1, 2)),
        "groups": groups,
        "kernel_size": per(1, 3),
        "stride": per(1, 5),
        "dilation": per(1, 4),
        "padding": per(0, 3),
        "size": per(1, 16),
        "transposed": transposed,
        "bias": draw(st.booleans()),
        "unbatched": draw(st.booleans()),
    }
    if not s["unbatched"]:
        s["batch"] = draw(st.integers(1, 2))
    if transposed:
        s["output_padding"] = tuple(
            draw(st.integers(0, max(st_, d) - 1)) for st_, d in zip(s["stride"], s["dilation"], strict=True)
        )
    else:
        s["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    return s


@settings(max_examples=120, deadline=None)
@given(strided_convs())
def test_conv_unread_positions_are_torchs_on_every_axis(s: dict[str, Any]) -> None:
    _, a = explained_where_torch_runs(s)
    expected = conv_unread_by_torch(s)
    assert [list(u.coverage.unread or ()) for u in a.unread] == expected, s
    assert all(u.holds is True for u in a.unread)


def pool_unread_by_torch(raw: dict[str, Any]) -> list[list[int]]:
    """Perturb one input position at a time (a max pool's gradient reaches only the maximum)."""
    pool = torch_pool(raw).double()
    x = torch.rand(1, 1, *raw["size"], dtype=torch.float64) + 1
    base = pool(x)
    base = base[0] if isinstance(base, tuple) else base
    found = []
    for i, size in enumerate(raw["size"]):
        quiet = []
        for p in range(size):
            changed = x.clone()
            changed.narrow(2 + i, p, 1).add_(1.0)
            out = pool(changed)
            out = out[0] if isinstance(out, tuple) else out
            if torch.equal(out, base):
                quiet.append(p)
        found.append(quiet)
    return found


@st.composite
def strided_pools(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["max", "avg", "lp"]))
    dims = draw(st.integers(1, 2))
    per = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    kernel = per(1, 3)
    raw: dict[str, Any] = {
        "kind": kind,
        "dims": dims,
        "channels": 1,
        "batch": 1,
        "size": per(1, 16),
        "kernel_size": kernel,
        "stride": per(1, 5),
        "ceil_mode": draw(st.booleans()),
    }
    if kind != "lp":
        raw["padding"] = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    if kind == "max":
        raw["dilation"] = per(1, 4)
    if kind == "lp":
        raw["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0, 1000.0]))
    return raw


@settings(max_examples=120, deadline=None)
@given(strided_pools())
def test_pool_unread_positions_are_torchs_on_every_axis(raw: dict[str, Any]) -> None:
    try:
        torch_pool(raw)(torch.rand(1, 1, *raw["size"]))
    except RuntimeError:
        assume(False)
    report = inspect_pool(**raw, explain=True)
    findings = {f.data["axis"]: f for f in report.probe.analysis.findings if f.topic == "unread"}
    axes = {1: ["L"], 2: ["H", "W"]}[raw["dims"]]
    claimed = [findings[a].data["positions"] if a in findings else [] for a in axes]
    assert claimed == pool_unread_by_torch(raw), raw
    assert all(f.holds is True for f in findings.values())


def test_the_resnet_downsample_reads_every_other_row() -> None:
    """resnet18's layer2.0.downsample.0: Conv2d(64, 128, 1, stride=2) leaves half the rows unread."""
    report = inspect_conv(
        in_channels=4, out_channels=8, kernel_size=1, stride=2, padding=0, size=16, explain=True
    )
    a = report.probe.analysis
    assert isinstance(a, ConvAnalysis)
    for u in a.unread:
        assert u.coverage.unread == tuple(range(1, 16, 2)) and u.holds is True
        assert u.coverage.pattern() == (1, 2)
    doc = json.loads(render_json(report))
    h = doc["explain"]["unread"][0]
    assert (h["axis"], h["positions"], h["count"]) == ("H", list(range(1, 16, 2)), 8)
    assert h["held"] is True


def test_a_dilated_conv_names_the_gaps() -> None:
    report = inspect_conv(kernel_size=2, dilation=3, stride=4, padding=0, size=16, explain=True)
    a = report.probe.analysis
    assert isinstance(a, ConvAnalysis)
    assert a.unread[0].coverage.unread == (1, 2, 5, 6, 9, 10, 13, 14) and a.unread[0].holds is True


def test_avg_pool_with_stride_past_its_kernel_names_every_gap() -> None:
    report = inspect_pool(kind="avg", kernel_size=2, stride=3, size=(12, 12), explain=True)
    (h, _) = [f for f in report.probe.analysis.findings if f.topic == "unread"]
    assert h.data["positions"] == [2, 5, 8, 11] and h.data["count"] == 4 and h.holds is True
    assert "every 3rd position from 2" in h.facts[0]
    doc = json.loads(render_json(report))
    (jh, _w) = [f for f in doc["explain"] if f["topic"] == "unread"]
    assert (jh["axis"], jh["positions"], jh["count"]) == ("H", [2, 5, 8, 11], 4)


def test_a_wrong_conv_claim_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from torchshape.families.conv import explain

    real = explain.unread

    def one_less(spec: Any) -> list[explain.Unread]:
        return [replace(u, coverage=replace(u.coverage, unread=u.coverage.unread[1:])) for u in real(spec)]

    monkeypatch.setattr(explain, "unread", one_less)
    report = inspect_conv(kernel_size=1, stride=2, padding=0, size=16, explain=True)
    assert report.probe.analysis.unread[0].holds is False and not report.ok


def test_a_wrong_pool_claim_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchshape.families.pool import explain
    from torchshape.families.spatial import Coverage

    real = explain.coverage

    def one_less(window: Any) -> Coverage:
        c = real(window)
        return Coverage(c.axis, c.size, (c.unread or ())[:-1])

    monkeypatch.setattr(explain, "coverage", one_less)
    report = inspect_pool(kind="avg", kernel_size=2, stride=3, size=(12, 12), explain=True)
    unread = [f for f in report.probe.analysis.findings if f.topic == "unread"]
    assert unread and all(f.holds is False for f in unread) and not report.ok
    assert "torch's output stays put for positions 2, 5, 8, 11" in unread[0].evidence
