"""torchshape pool against torch: every shape, every refusal and every --explain claim.

The truth is built here with plain torch calls (``torch_pool``), never with torchshape's
code; hypothesis draws configurations over every kind, dims and flag.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.conftest import run_cli
from torchshape import inspect_pool
from torchshape.errors import UsageError
from torchshape.families.pool import formulas

KINDS = ["max", "avg", "lp", "adaptive-max", "adaptive-avg"]
STEMS = {
    "max": "MaxPool",
    "avg": "AvgPool",
    "lp": "LPPool",
    "adaptive-max": "AdaptiveMaxPool",
    "adaptive-avg": "AdaptiveAvgPool",
}


def torch_pool(raw: dict[str, Any]) -> Any:
    """The module ``raw`` describes, built with torch alone (stride None: torch's default)."""
    kind, dims = raw["kind"], raw["dims"]
    if dims == 1:  # as users write a 1-d pool: ints (LPPool1d fails on a tuple kernel_size)
        raw = {k: v[0] if isinstance(v, tuple) and k != "size" else v for k, v in raw.items()}
    cls = getattr(torch.nn, f"{STEMS[kind]}{dims}d")
    if kind.startswith("adaptive"):
        size = raw["output_size"]
        extra = {"return_indices": True} if raw.get("return_indices") else {}
        return cls(size, **extra)
    kwargs: dict[str, Any] = {"stride": raw.get("stride"), "ceil_mode": raw.get("ceil_mode", False)}
    if kind == "lp":
        return cls(raw.get("norm_type", 2.0), raw["kernel_size"], **kwargs)
    kwargs["padding"] = raw.get("padding", 0)
    if kind == "max":
        kwargs["dilation"] = raw.get("dilation", 1)
        kwargs["return_indices"] = raw.get("return_indices", False)
    else:
        kwargs["count_include_pad"] = raw.get("count_include_pad", True)
    return cls(raw["kernel_size"], **kwargs)


def torch_input(raw: dict[str, Any], device: str = "cpu") -> torch.Tensor:
    lead = [] if raw.get("unbatched") else [raw["batch"]]
    return torch.randn(*lead, raw["channels"], *raw["size"], device=device)


def torch_run(raw: dict[str, Any], device: str = "cpu") -> tuple[torch.Tensor, ...] | str:
    """torch's outputs for ``raw``, or its error message."""
    try:
        result = torch_pool(raw)(torch_input(raw, device))
    except RuntimeError as error:
        return str(error)
    return result if isinstance(result, tuple) else (result,)


@st.composite
def pool_settings(draw: st.DrawFn, *, valid_padding: bool = True) -> dict[str, Any]:
    """Raw settings for ``inspect_pool``: every kind and flag; per-axis values as tuples."""
    kind = draw(st.sampled_from(KINDS))
    dims = draw(st.integers(1, 3))
    top = {1: 40, 2: 14, 3: 8}[dims]

    def per_axis(low: int, high: int) -> tuple[int, ...]:
        return tuple(draw(st.integers(low, high)) for _ in range(dims))

    raw: dict[str, Any] = {
        "kind": kind,
        "dims": dims,
        "channels": draw(st.integers(1, 4)),
        "size": per_axis(1, top),
        "unbatched": draw(st.booleans()),
    }
    if not raw["unbatched"]:
        raw["batch"] = draw(st.integers(1, 3))
    if kind.startswith("adaptive"):
        raw["output_size"] = per_axis(1, top + 3)  # larger than the input too: torch allows it
    else:
        kernel = per_axis(1, 5)
        raw["kernel_size"] = kernel
        if draw(st.booleans()):
            raw["stride"] = per_axis(1, 4)
        raw["ceil_mode"] = draw(st.booleans())
        if kind != "lp":
            if valid_padding:
                raw["padding"] = tuple(draw(st.integers(0, k // 2)) for k in kernel)
            else:
                raw["padding"] = tuple(draw(st.integers(0, k)) for k in kernel)
        if kind == "max":
            raw["dilation"] = per_axis(1, 3)
        if kind == "avg" and draw(st.booleans()):
            raw["count_include_pad"] = draw(st.booleans())
        if kind == "lp":
            raw["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
    if kind in ("max", "adaptive-max"):
        raw["return_indices"] = draw(st.booleans())
    return raw


def spatial(shape: tuple[int, ...], dims: int) -> tuple[int, ...]:
    return tuple(shape[len(shape) - dims :])


@given(pool_settings())
def test_every_shape_is_torchs(raw: dict[str, Any]) -> None:
    """Accepted: every row equals torch's tensor. Refused: torch refuses too."""
    truth = torch_run(raw)
    assume(not isinstance(truth, str))  # refusals: test_refused_exactly_when_torch_refuses
    report = inspect_pool(**raw)
    shapes = {row.name: row.shape for row in report.rows}
    assert shapes["input"] == tuple(torch_input(raw).shape)
    assert shapes["output"] == tuple(truth[0].shape)
    if raw.get("return_indices"):
        assert shapes["indices"] == tuple(truth[1].shape)
    else:
        assert "indices" not in shapes
    assert report.ok
    rules = formulas.dim_rules(report.spec)
    assert tuple(rule.value for rule in rules) == spatial(tuple(truth[0].shape), raw["dims"])
    for rule in rules:  # the numbers written out give the value shown
        assert (
            rule.numeric.endswith(f"= {rule.value}")
            or rule.numeric == str(rule.value)
            or "(the last" in rule.numeric
        )


@given(pool_settings(valid_padding=False))
def test_refused_exactly_when_torch_refuses(raw: dict[str, Any]) -> None:
    """Too much padding, a kernel larger than the padded input: refused before torch, as torch would."""
    assert refusal_agrees(raw)


def refusal_agrees(raw: dict[str, Any]) -> bool:
    """torchshape refuses ``raw`` (before torch runs) exactly when torch refuses it."""
    from torchshape.families.pool.request import make_spec

    truth = torch_run(raw)
    try:
        make_spec(**raw)
    except UsageError:
        return isinstance(truth, str)
    return not isinstance(truth, str)


@given(pool_settings())
def test_explain_claims_hold_on_torch(raw: dict[str, Any]) -> None:
    """Every --explain claim holds on the values of the forward pass."""
    assume(not isinstance(torch_run(raw), str))
    report = inspect_pool(**raw, explain=True)
    findings = report.probe.analysis.findings
    assert findings is not None
    assert all(f.holds is True or (f.holds is None and "not evaluated" in f.evidence) for f in findings), (
        findings
    )
    assert report.ok


@given(
    size=st.integers(1, 30),
    out=st.integers(1, 35),
    kind=st.sampled_from(["adaptive-max", "adaptive-avg"]),
)
def test_adaptive_windows_are_torchs(size: int, out: int, kind: str) -> None:
    """start ⌊i·in/out⌋, end ⌈(i+1)·in/out⌉: a max or mean over exactly these is torch's output."""
    x = torch.randn(2, 3, size, dtype=torch.float64)
    pool = torch.nn.AdaptiveMaxPool1d(out) if kind == "adaptive-max" else torch.nn.AdaptiveAvgPool1d(out)
    expected = pool(x)
    spans = formulas.adaptive_windows(size, out)
    assert spans[0][0] == 0 and spans[-1][1] == size
    for i, (start, end) in enumerate(spans):
        assert (start, end) == (math.floor(i * size / out), math.ceil((i + 1) * size / out))
        window = x[..., start:end]
        manual = window.amax(-1) if kind == "adaptive-max" else window.mean(-1)
        torch.testing.assert_close(manual, expected[..., i])
    overlap = any(spans[i][1] > spans[i + 1][0] for i in range(out - 1))
    assert formulas.windows_overlap(spans) == overlap


def test_a_wrong_output_size_rule_is_caught(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Break the rule (one more output on every axis): torch disagrees, exit 1, MISMATCH."""
    real = formulas.output_size
    monkeypatch.setattr(formulas, "output_size", lambda spec: tuple(n + 1 for n in real(spec)))
    code, out, _ = run_cli(capsys, "pool", "--kind", "avg", "--size", "9,8")
    assert code == 1
    assert "✗ MISMATCH output" in out


def test_a_wrong_adaptive_window_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the windows (end ⌊…⌋ instead of ⌈…⌉): --explain's check on torch fails."""
    from torchshape.families.pool import probe

    monkeypatch.setattr(
        probe,
        "adaptive_windows",
        lambda size, out: [(i * size // out, (i + 1) * size // out) for i in range(out)],
    )
    report = inspect_pool(kind="adaptive-avg", size=(10, 7), output_size=(4, 3), explain=True)
    assert report.probe.analysis.findings[0].holds is False
    assert not report.ok


def test_breaking_the_ceil_drop_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the drop rule, ceil_mode's size disagrees with torch (a window starting in the padding)."""
    from torchshape.families import spatial

    monkeypatch.setattr(spatial.Window, "dropped_by_ceil", property(lambda self: False))
    report = inspect_pool(kind="max", size=(8, 7), kernel_size=2, padding=1, ceil_mode=True)
    assert not report.ok


def test_breaking_the_padding_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the padding check, the refusal test's comparison fails: torch refuses, torchshape not."""
    raw = {
        "kind": "max",
        "dims": 1,
        "channels": 1,
        "size": (10,),
        "batch": 1,
        "kernel_size": (3,),
        "padding": (2,),
    }
    assert refusal_agrees(raw)
    with pytest.raises(UsageError, match="more than half of kernel_size 3"):
        inspect_pool(**raw)
    from torchshape.families.pool import request

    monkeypatch.setattr(request._Check, "_check_padding", lambda *args: None)
    assert not refusal_agrees(raw)


def test_meta_runs_at_the_users_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    """Huge sizes on meta: torch's meta kernel at exactly those sizes, labelled so; explain has no values."""
    args = ["pool", "--kind", "max", "--size", "100000,90000", "--channels", "512", "--batch", "64"]
    args += ["--kernel-size", "3", "--stride", "2", "--padding", "1", "--ceil-mode", "--return-indices"]
    code, out, err = run_cli(capsys, *args, "--device", "meta", "--explain", "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    truth = torch_run(
        {
            "kind": "max",
            "dims": 2,
            "channels": 512,
            "batch": 64,
            "size": (100000, 90000),
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "return_indices": True,
        },
        device="meta",
    )
    assert not isinstance(truth, str)
    assert [t["shape"] for t in doc["tensors"]] == [
        [64, 512, 100000, 90000],
        list(truth[0].shape),
        list(truth[1].shape),
    ]
    assert all(t["source"] == "forward" and t["verified"] for t in doc["tensors"])
    assert doc["run"]["device"] == "meta" and doc["run"]["reduced"] is False
    assert "meta at your sizes" in doc["run"]["description"]
    assert doc["explain"] and all(f["holds"] is None for f in doc["explain"])
    assert [d["value"] for d in doc["dims"]] == [50001, 45001]


@pytest.mark.skipif(hasattr(torch.nn, "LPPool3d") is False, reason="this torch has no LPPool3d")
def test_lp_3d_runs_where_torch_has_it() -> None:
    report = inspect_pool(kind="lp", dims=3, size=(6, 7, 8), kernel_size=2)
    assert report.ok and report.rows[1].shape == (2, 5, 3, 3, 4)


def test_lp_3d_refused_without_torch_support(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(torch.nn, "LPPool3d", raising=False)
    code, out, err = run_cli(capsys, "pool", "--kind", "lp", "--dims", "3")
    assert (code, out) == (2, "")
    assert err.startswith("torchshape: error: --dims: torch ") and "has no nn.LPPool3d" in err
