"""torchshape norm against torch: shapes, parameters and buffers, the statistics' dimensions and
the mistakes, for configurations hypothesis draws of every kind."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from torchshape import families
from torchshape.api import inspect_norm
from torchshape.errors import UsageError
from torchshape.families.norm.explain import Analysis

KINDS = ["batch", "layer", "group", "instance", "rms"]


@st.composite
def norm_settings(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    out: dict[str, Any] = {"kind": kind, "batch": draw(st.integers(2, 4))}
    if kind in ("batch", "instance"):
        dims = draw(st.integers(1, 3))
        out["dims"] = dims
        out["num_features"] = draw(st.integers(1, 5))
        out["size"] = tuple(draw(st.lists(st.integers(2, 5), min_size=dims, max_size=dims)))
        out["affine"] = draw(st.booleans())
        out["track_running_stats"] = draw(st.booleans())
        if kind == "instance" and draw(st.booleans()):
            out["unbatched"] = True
            del out["batch"]
    elif kind == "group":
        groups = draw(st.integers(1, 4))
        out["num_groups"] = groups
        out["num_features"] = groups * draw(st.integers(1, 3))
        out["size"] = tuple(draw(st.lists(st.integers(2, 5), min_size=0, max_size=3)))
        out["affine"] = draw(st.booleans())
    else:
        out["normalized_shape"] = tuple(draw(st.lists(st.integers(2, 6), min_size=1, max_size=3)))
        out["size"] = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
        out["elementwise_affine"] = draw(st.booleans())
        if draw(st.booleans()):
            out["unbatched"] = True
            del out["batch"]
    if draw(st.booleans()):
        out["eps"] = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    out["train"] = draw(st.booleans())
    return out


def torch_module(s: dict[str, Any]) -> nn.Module:
    """The module built from the drawn settings straight from torch's constructors."""
    kind = s["kind"]
    extra = {k: s[k] for k in ("affine", "track_running_stats", "eps") if k in s}
    if kind == "batch":
        return getattr(nn, f"BatchNorm{s['dims']}d")(s["num_features"], **extra)
    if kind == "instance":
        return getattr(nn, f"InstanceNorm{s['dims']}d")(s["num_features"], **extra)
    if kind == "group":
        return nn.GroupNorm(s["num_groups"], s["num_features"], **extra)
    extra = {"elementwise_affine": s["elementwise_affine"], **({"eps": s["eps"]} if "eps" in s else {})}
    return (nn.LayerNorm if kind == "layer" else nn.RMSNorm)(list(s["normalized_shape"]), **extra)


def input_shape(s: dict[str, Any]) -> tuple[int, ...]:
    lead = () if s.get("unbatched") else (s["batch"],)
    if s["kind"] in ("layer", "rms"):
        return (*lead, *s["size"], *s["normalized_shape"])
    return (*lead, s["num_features"], *s["size"])


def inspect(s: dict[str, Any], **switches: Any) -> Any:
    """The Python API, as a user calls it."""
    return inspect_norm(**s, **switches)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(norm_settings())
def test_against_torch(s: dict[str, Any]) -> None:
    report = inspect(s)
    module = torch_module(s).train(s["train"])
    x = torch.randn(input_shape(s))
    try:
        with torch.no_grad():
            out: torch.Tensor | None = module(x)
    except ValueError:  # torch refuses: the report says so, with torch's words
        out = None
    if out is None:
        assert report.probe.error is not None and not report.ok
    else:
        assert report.ok, report
        assert [row.shape for row in report.rows] == [tuple(x.shape), tuple(out.shape)]
        check_held(report, module)
        check_statistics(s, report, x, out)


def check_held(report: Any, module: nn.Module) -> None:
    """Parameters and buffers: the report's names and shapes are torch's."""
    assert {p.name: p.shape for p in report.parameters} == {
        n: tuple(p.shape) for n, p in module.named_parameters()
    }
    analysis = report.probe.analysis
    assert isinstance(analysis, Analysis)
    assert {h.name: h.shape for h, _ in analysis.buffers} == {
        n: tuple(b.shape) for n, b in module.named_buffers()
    }


def check_statistics(s: dict[str, Any], report: Any, x: torch.Tensor, out: torch.Tensor) -> None:
    """The dimensions the report names are those torch's own output is normalized over, exactly."""
    stats = report.probe.analysis.statistics
    dims = tuple(stats.data["dims"])
    running = s["kind"] in ("batch", "instance") and s["track_running_stats"] and not s["train"]
    y = out.double()
    if s["kind"] == "group":
        y = y.reshape(x.shape[0], s["num_groups"], -1)
    if running:
        assert dims == ()
    elif s["kind"] == "rms":
        eps = s.get("eps") or torch.finfo(torch.float32).eps
        square = x.double().pow(2).mean(dims)
        assert torch.allclose(y.pow(2).mean(dims), square / (square + eps), atol=1e-4)
    elif stats.data["values_each"] > 1:
        _, mean = torch.var_mean(y, dim=dims, correction=0)
        assert mean.abs().max() < 1e-4
        # not over fewer dims: leaving any one out, the means are no longer all 0
        for left_out in dims:
            rest = tuple(d for d in dims if d != left_out)
            if rest and y.shape[left_out] > 1:
                _, partial = torch.var_mean(y, dim=rest, correction=0)
                assert partial.abs().max() > 1e-3, (left_out, dims)


@settings(max_examples=25, deadline=None)
@given(norm_settings())
def test_on_meta_shapes_only(s: dict[str, Any]) -> None:
    report = inspect({**s, "device": "meta"})
    analysis = report.probe.analysis
    assert isinstance(analysis, Analysis)
    assert analysis.statistics.holds is None
    assert analysis.statistics.evidence.startswith("not evaluated")
    assert report.rows[1].actual == input_shape(s)


@pytest.mark.parametrize(
    ("settings_", "error"),
    [
        ({"kind": "layer"}, RuntimeError),
        ({"kind": "batch", "dims": 1}, ValueError),
        ({"kind": "group", "num_groups": 2, "num_features": 4}, ValueError),
        ({"kind": "group", "num_groups": 1, "num_features": 4}, ValueError),
    ],
)
def test_mistakes_show_torch_refusing(settings_: dict[str, Any], error: type[Exception]) -> None:
    report = inspect(settings_, explain=True)
    (claim,) = report.probe.analysis.findings
    assert claim.mistake and claim.holds is True
    assert claim.evidence.startswith(f"torch raised {error.__name__}: ")


def test_instance_defaults_shown_on_torch() -> None:
    report = inspect({"kind": "instance", "train": False}, explain=True)
    claims = report.probe.analysis.findings
    assert [c.holds for c in claims] == [True, True]
    assert list(nn.InstanceNorm2d(6).parameters()) == []
    meta = inspect({"kind": "instance", "device": "meta"}, explain=True).probe.analysis.findings
    assert meta[1].holds is None


def test_batch_of_one_in_training_is_torchs_error() -> None:
    report = inspect({"kind": "batch", "dims": 1, "size": (), "batch": 1})
    assert not report.ok
    assert report.probe.error is not None and "Expected more than 1 value per channel" in report.probe.error


def test_meta_at_huge_sizes_and_the_guard() -> None:
    huge = {"kind": "rms", "normalized_shape": (8192,), "size": (131072,), "batch": 8}
    report = inspect({**huge, "device": "meta"})
    assert report.ok and report.rows[1].shape == (8, 131072, 8192)
    with pytest.raises(Exception, match=r"memory|fit|GiB"):
        inspect(huge)


@pytest.mark.parametrize(
    ("settings_", "name"),
    [
        ({"kind": "group", "num_groups": 4, "num_features": 6}, "num_groups"),
        ({"kind": "layer", "num_groups": 2}, "num_groups"),
        ({"kind": "batch", "unbatched": True}, "unbatched"),
        ({"kind": "batch", "size": (3,)}, "size"),
        ({"kind": "layer", "eps": -1}, "eps"),
        ({"kind": "rms", "affine": True}, "affine"),
    ],
)
def test_bad_settings_name_the_argument(settings_: dict[str, Any], name: str) -> None:
    with pytest.raises(UsageError) as caught:
        families.family("norm").make_spec(**settings_)
    assert str(caught.value).startswith(f"{name}")
