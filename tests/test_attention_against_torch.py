"""torchshape attention against torch itself: hypothesis draws nn.MultiheadAttention configurations
over every flag; each test builds the module, its inputs and masks with plain torch calls (not
torchshape code) and compares every tensor and mask shape, every parameter and the MAC count
(torch's FlopCounterMode, with the fused kernels off so that it sees every product)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchshape import inspect_attention


@st.composite
def attention_settings(draw: st.DrawFn) -> dict[str, Any]:
    heads = draw(st.integers(1, 4))
    self_attention = draw(st.booleans())
    s: dict[str, Any] = {
        "embed_dim": heads * draw(st.integers(1, 4)),
        "num_heads": heads,
        "target_len": draw(st.integers(1, 6)),
        "self_attention": self_attention,
        "unbatched": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "need_weights": draw(st.booleans()),
        "key_padding_mask": draw(st.booleans()),
        "attn_mask": draw(st.sampled_from(["none", "2d", "3d"])),
        "is_causal": draw(st.booleans()),
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "dropout": draw(st.sampled_from([0.0, 0.0, 0.25])),
        "dtype": draw(st.sampled_from(["float32", "float32", "float64"])),
    }
    s["average_attn_weights"] = draw(st.booleans()) if s["need_weights"] else True
    if not self_attention:
        s["source_len"] = draw(st.integers(1, 6))
        if draw(st.booleans()):
            s["kdim"] = draw(st.integers(1, 7))
        if draw(st.booleans()):
            s["vdim"] = draw(st.integers(1, 7))
    if not s["unbatched"]:
        s["batch"] = draw(st.integers(1, 3))
    if s["key_padding_mask"] or s["attn_mask"] != "none" or s["is_causal"]:
        s["mask_dtype"] = draw(st.sampled_from(["bool", "float"]))
    return s


def plain(s: dict[str, Any]) -> dict[str, Any]:
    """The module, its inputs and its call, built with plain torch from the settings."""
    e, h = s["embed_dim"], s["num_heads"]
    big_l = s["target_len"]
    big_s = big_l if s["self_attention"] else s.get("source_len", 7)
    kdim, vdim = s.get("kdim", e), s.get("vdim", e)
    dtype = getattr(torch, s["dtype"])
    module = torch.nn.MultiheadAttention(
        e, h, dropout=s["dropout"], bias=s["bias"], add_bias_kv=s["add_bias_kv"],
        add_zero_attn=s["add_zero_attn"], kdim=kdim, vdim=vdim, batch_first=s["batch_first"], dtype=dtype,
    ).eval()  # fmt: skip

    def seq(length: int, features: int) -> torch.Tensor:
        if s["unbatched"]:
            return torch.randn(length, features, dtype=dtype)
        n = s["batch"]
        shape = (n, length, features) if s["batch_first"] else (length, n, features)
        return torch.randn(*shape, dtype=dtype)

    query = seq(big_l, e)
    key, value = (query, query) if s["self_attention"] else (seq(big_s, kdim), seq(big_s, vdim))
    float_masks = s.get("mask_dtype") == "float"

    def as_mask(blocked: torch.Tensor) -> torch.Tensor:
        return (
            torch.zeros(blocked.shape, dtype=dtype).masked_fill(blocked, float("-inf"))
            if float_masks
            else blocked
        )

    kwargs: dict[str, Any] = {
        "need_weights": s["need_weights"],
        "average_attn_weights": s["average_attn_weights"],
        "is_causal": s["is_causal"],
    }
    n = 1 if s["unbatched"] else s["batch"]
    if s["key_padding_mask"]:
        kpm = (
            torch.zeros(big_s, dtype=torch.bool)
            if s["unbatched"]
            else torch.zeros(n, big_s, dtype=torch.bool)
        )
        kwargs["key_padding_mask"] = as_mask(kpm)
    dims = "2d" if s["is_causal"] and s["attn_mask"] == "none" else s["attn_mask"]
    if dims != "none":
        blocked = (
            torch.ones(big_l, big_s, dtype=torch.bool).triu(1)
            if s["is_causal"]
            else torch.zeros(big_l, big_s, dtype=torch.bool)
        )
        if dims == "3d":
            blocked = blocked.expand(n * h, big_l, big_s)
        kwargs["attn_mask"] = as_mask(blocked)
    return {"module": module, "args": (query, key, value), "kwargs": kwargs}


def run(p: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor | None]:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out: tuple[torch.Tensor, torch.Tensor | None] = p["module"](*p["args"], **p["kwargs"])
    return out


@settings(max_examples=60, deadline=None)
@given(attention_settings())
def test_every_shape_parameter_and_mac_is_torchs(s: dict[str, Any]) -> None:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    report = inspect_attention(**s)
    assert report.ok
    p = plain(s)
    output, weights = run(p)
    query, key, value = p["args"]
    torch_shapes = {"query": query.shape, "key": key.shape, "value": value.shape, "attn_output": output.shape}
    for name in ("key_padding_mask", "attn_mask"):
        if name in p["kwargs"]:
            torch_shapes[name] = p["kwargs"][name].shape
    if weights is not None:
        torch_shapes["attn_output_weights"] = weights.shape
    assert {r.name: r.expected for r in report.rows} == {k: tuple(v) for k, v in torch_shapes.items()}
    assert {r.name: r.actual for r in report.rows} == {k: tuple(v) for k, v in torch_shapes.items()}
    # a mask's dtype is in its formula: bool, or the float dtype that is added
    for name in ("key_padding_mask", "attn_mask"):
        if name in p["kwargs"]:
            row = next(r for r in report.rows if r.name == name)
            assert row.formula.endswith(" " + str(p["kwargs"][name].dtype).removeprefix("torch."))
    module = p["module"]
    assert {q.name: q.shape for q in report.parameters} == {
        name: tuple(t.shape) for name, t in module.named_parameters()
    }
    assert report.totals is not None
    assert report.totals.params == sum(t.numel() for t in module.parameters())
    # FlopCounterMode sees every product when the attention runs as bmm: the inference fast path
    # and the fused SDPA kernels are counted as 0 on the CPU, so they are turned off here.
    counter = FlopCounterMode(display=False)
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with counter, sdpa_kernel(SDPBackend.MATH):
            run(p)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    assert counter.get_total_flops() == 2 * report.totals.macs


@settings(max_examples=30, deadline=None)
@given(attention_settings())
def test_meta_gives_the_same_shapes_at_the_users_sizes(s: dict[str, Any]) -> None:
    cpu = inspect_attention(**s)
    meta = inspect_attention(**s, device="meta")
    assert [r.actual for r in meta.rows] == [r.actual for r in cpu.rows]
    assert meta.ok and not meta.probe.reduced


@pytest.mark.parametrize("need_weights", [True, False])
def test_a_128k_context_on_meta_runs_at_those_sizes_in_constant_time(need_weights: bool) -> None:
    """L = S = 131072, E 8192, 64 heads, per-head weights (64 · 131072² elements): torch's meta
    kernels answer at once, as they do for 1024 tokens."""
    big = {"self_attention": True, "embed_dim": 8192, "num_heads": 64, "batch": 1, "device": "meta"}
    weights = {"need_weights": need_weights, "average_attn_weights": not need_weights}
    inspect_attention(**big, target_len=1024, **weights)  # one-time costs inside torch
    began = time.perf_counter()
    small = inspect_attention(**big, target_len=1024, **weights)
    small_s = time.perf_counter() - began
    began = time.perf_counter()
    report = inspect_attention(**big, target_len=131072, **weights)
    large_s = time.perf_counter() - began
    assert report.ok and small.ok
    assert large_s < 2.0 and large_s < 20 * small_s + 0.5
    rows = {r.name: r.actual for r in report.rows}
    assert rows["attn_output"] == (131072, 1, 8192)
    if need_weights:
        assert rows["attn_output_weights"] == (1, 64, 131072, 131072)


def test_sizes_beyond_what_torch_addresses_are_refused_on_meta() -> None:
    from torchshape.errors import EnvironmentProblem

    # torch's meta kernels form the (N·num_heads, L, S) scores even with need_weights=False
    # ("Storage size calculation overflowed"): refused before torch runs
    with pytest.raises(EnvironmentProblem, match="the scores"):
        inspect_attention(
            self_attention=True,
            target_len=2**30,
            embed_dim=64,
            num_heads=64,
            device="meta",
            need_weights=False,
        )


def test_the_weights_formula_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget that add_bias_kv adds a key (S, not S + 1): torch's forward pass disagrees."""
    from torchshape.families.attention import formulas

    monkeypatch.setattr(formulas, "weights_source", lambda spec: "S")
    report = inspect_attention(add_bias_kv=True)
    assert not report.ok
    assert not next(r for r in report.rows if r.name == "attn_output_weights").verified


def test_the_parameter_formula_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep in_proj_weight when kdim differs: torch has q/k/v_proj_weight instead."""
    from torchshape.families.attention import counts
    from torchshape.families.attention.spec import AttentionSpec

    monkeypatch.setattr(AttentionSpec, "same_embed_dim", property(lambda self: True))
    report = inspect_attention(kdim=10)
    assert not report.ok
    assert not next(p for p in report.parameters if p.name == "in_proj_weight").verified
    assert counts.parameter_formulas(report.spec)[0][0] == "in_proj_weight"


def test_the_mac_count_of_the_defaults() -> None:
    """2 · 46,512 = 93,024 FLOPs, as FlopCounterMode measured with the fused kernels off."""
    report = inspect_attention()
    assert report.totals is not None and report.totals.macs == 46_512
