"""torchshape attention --explain: every claim is re-evaluated here on a forward pass of a module
built with plain torch, and every common mistake is shown to fail in torch itself."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchshape import inspect_attention


@st.composite
def explained(draw: st.DrawFn) -> dict[str, Any]:
    heads = draw(st.integers(1, 4))
    s: dict[str, Any] = {
        "embed_dim": heads * draw(st.integers(1, 3)),
        "num_heads": heads,
        "target_len": draw(st.integers(1, 5)),
        "source_len": draw(st.integers(2, 6)),
        "batch": draw(st.integers(1, 3)),
        "batch_first": draw(st.booleans()),
        "key_padding_mask": True,
        "is_causal": draw(st.booleans()),
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "mask_dtype": draw(st.sampled_from(["bool", "float"])),
        "dtype": "float64",
    }
    return s


def build(s: dict[str, Any]) -> tuple[torch.nn.MultiheadAttention, torch.Tensor, torch.Tensor]:
    """The module and a batch-first query and key/value (the same tensor for value)."""
    torch.manual_seed(1)
    m = torch.nn.MultiheadAttention(
        s["embed_dim"], s["num_heads"], bias=s["bias"], add_bias_kv=s["add_bias_kv"],
        add_zero_attn=s["add_zero_attn"], batch_first=True, dtype=torch.float64,
    ).eval()  # fmt: skip
    q = torch.randn(s["batch"], s["target_len"], s["embed_dim"], dtype=torch.float64)
    kv = torch.randn(s["batch"], s["source_len"], s["embed_dim"], dtype=torch.float64)
    return m, q, kv


def padding(s: dict[str, Any]) -> torch.Tensor:
    """True at the last n + 1 keys of sequence n (at most S − 1): padding at the end."""
    kpm = torch.zeros(s["batch"], s["source_len"], dtype=torch.bool)
    for n in range(s["batch"]):
        kpm[n, s["source_len"] - min(n + 1, s["source_len"] - 1) :] = True
    return kpm


def forward(m: Any, q: torch.Tensor, kv: torch.Tensor, **kwargs: Any) -> Any:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return m(q, kv, kv, need_weights=True, average_attn_weights=False, **kwargs)


@settings(max_examples=25, deadline=None)
@given(explained())
def test_every_claim_holds_in_torchshape_and_in_plain_torch(s: dict[str, Any]) -> None:
    report = inspect_attention(**s, explain=True)
    analysis = report.probe.analysis
    assert report.ok and analysis.values
    held = {c.topic: c.holds for c in analysis.claims}
    assert held["rows_sum_to_one"] and held["masked_keys_get_zero"] and held["output_is_weights_at_v"]
    assert held["need_weights_false_is_fused"] and held["mistake_inverted_padding"]
    assert held.get("causal_lower_triangular", True)

    m, q, kv = build(s)
    kpm = padding(s)
    big_l, big_s = s["target_len"], s["source_len"]
    causal = torch.ones(big_l, big_s, dtype=torch.bool).triu(1)
    kwargs: dict[str, Any] = {"key_padding_mask": kpm}
    if s["is_causal"]:
        kwargs |= {"attn_mask": causal, "is_causal": True}
    out, w = forward(m, q, kv, **kwargs)
    # a row of the weights sums to 1
    assert torch.allclose(w.sum(-1), torch.ones(()).double())
    # a key masked out for a sequence gets weight 0, from every head and query
    assert (
        w[..., :big_s][kpm.view(s["batch"], 1, 1, big_s).expand(-1, s["num_heads"], big_l, -1)] == 0
    ).all()
    # the causal mask makes the weights lower-triangular (the added keys after S stay visible)
    if s["is_causal"]:
        assert (w[..., :big_s][..., causal] == 0).all()
    # attn_output = out_proj(concat_h(weights_h @ V_h)), V through its projection
    e, h = s["embed_dim"], s["num_heads"]
    v = torch.nn.functional.linear(
        kv, m.in_proj_weight[2 * e :], None if m.in_proj_bias is None else m.in_proj_bias[2 * e :]
    )
    if s["add_bias_kv"]:
        v = torch.cat([v, m.bias_v.expand(s["batch"], 1, e)], dim=1)
    v = v.view(s["batch"], -1, h, e // h).transpose(1, 2)
    if s["add_zero_attn"]:
        v = torch.cat([v, torch.zeros(s["batch"], h, 1, e // h, dtype=v.dtype)], dim=2)
    joined = (w @ v).transpose(1, 2).reshape(s["batch"], big_l, e)
    assert torch.allclose(m.out_proj(joined), out, atol=1e-10)
    # need_weights=False: no weights, the same output
    with torch.no_grad():
        out2, none = m(q, kv, kv, need_weights=False, **kwargs)
    assert none is None and torch.allclose(out2, out, atol=1e-10)
    # the inverted key_padding_mask is accepted and gives another output
    inverted, _ = forward(m, q, kv, key_padding_mask=~kpm)
    right, _ = forward(m, q, kv, key_padding_mask=kpm)
    assert not torch.allclose(inverted, right)


def test_the_mask_mistakes_fail_in_torch() -> None:
    """(L, S) as (N, L, S), and (N, L, S) without ×num_heads: torch's own error; repeat_interleave
    is right and repeat is not."""
    s = {"embed_dim": 24, "num_heads": 4, "target_len": 5, "source_len": 7, "batch": 3}
    m, q, kv = build({**s, "bias": True, "add_bias_kv": False, "add_zero_attn": False})
    two = torch.zeros(5, 7, dtype=torch.bool)
    with pytest.raises(
        RuntimeError,
        match=r"The shape of the 3D attn_mask is torch.Size\(\[3, 5, 7\]\), but should be \(12, 5, 7\)",
    ):
        forward(m, q, kv, attn_mask=two.expand(3, 5, 7))
    per_sequence = padding(s).unsqueeze(1).expand(3, 5, 7)
    with pytest.raises(RuntimeError, match="but should be"):
        forward(m, q, kv, attn_mask=per_sequence)
    _, w = forward(m, q, kv, attn_mask=per_sequence.repeat_interleave(4, dim=0))
    assert all((w[n][:, per_sequence[n]] == 0).all() for n in range(3))
    _, tiled = forward(m, q, kv, attn_mask=per_sequence.repeat(4, 1, 1))
    assert any((tiled[n][:, per_sequence[n]] != 0).any() for n in range(3))
    report = inspect_attention(**s, explain=True)
    held = {c.topic: (c.holds, c.evidence) for c in report.probe.analysis.claims}
    assert held["mistake_2d_mask_as_3d"][0] is True
    assert "but should be (12, 5, 7)" in held["mistake_2d_mask_as_3d"][1]
    assert held["mistake_3d_mask_without_heads"][0] is True
    assert "with mask.repeat(num_heads, 1, 1) some do not: yes" in held["mistake_3d_mask_without_heads"][1]


def test_a_claim_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pad the wrong end in the claim's own check: torch's weights there are not 0, so ✗."""
    from torchshape.families.attention import explain_probe

    monkeypatch.setattr(explain_probe, "padded_keys", lambda spec, n: 0 if n else spec.source_len - 1)
    report = inspect_attention(key_padding_mask=True, explain=True)
    held = {c.topic: c.holds for c in report.probe.analysis.claims}
    assert held["masked_keys_get_zero"] is False
    assert not report.ok


def test_on_meta_the_value_claims_say_they_were_not_evaluated() -> None:
    report = inspect_attention(key_padding_mask=True, is_causal=True, device="meta", explain=True)
    claims = {c.topic: c for c in report.probe.analysis.claims}
    assert claims["rows_sum_to_one"].holds is None
    assert claims["rows_sum_to_one"].evidence == "not evaluated: meta has no values"
    assert claims["mistake_2d_mask_as_3d"].holds is True  # a shape refusal: meta's kernels refuse it too
    assert report.ok


@settings(max_examples=20, deadline=None)
@given(
    heads=st.integers(1, 3),
    length=st.integers(2, 5),
    source=st.integers(1, 5),
    batch=st.integers(1, 3),
    batch_first=st.booleans(),
    unbatched=st.booleans(),
    need_weights=st.booleans(),
    extra=st.sampled_from([(True, False), (False, True), (True, True)]),
)
def test_causal_without_padding_mask_the_fast_path_hides_the_added_keys(
    heads: int,
    length: int,
    source: int,
    batch: int,
    batch_first: bool,
    unbatched: bool,
    need_weights: bool,
    extra: tuple[bool, bool],
) -> None:
    """With is_causal and no key_padding_mask, torch's need_weights=False call draws the causal
    triangle over all S' keys, hiding bias_k/zero-attn from the queries before them;
    need_weights=True keeps them. The claims say so, and plain torch shows both halves."""
    add_bias_kv, add_zero_attn = extra
    s: dict[str, Any] = {
        "embed_dim": 2 * heads,
        "num_heads": heads,
        "target_len": length,
        "source_len": source,
        "batch_first": batch_first,
        "unbatched": unbatched,
        "need_weights": need_weights,
        "is_causal": True,
        "add_bias_kv": add_bias_kv,
        "add_zero_attn": add_zero_attn,
        "dtype": "float64",
    }
    if not unbatched:
        s["batch"] = batch
    report = inspect_attention(**s, explain=True)
    held = {c.topic: c.holds for c in report.probe.analysis.claims}
    assert report.ok and held["output_is_weights_at_v"] and held["need_weights_false_is_fused"]

    torch.manual_seed(3)
    m = torch.nn.MultiheadAttention(
        2 * heads, heads, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn, dtype=torch.float64
    ).eval()
    x = torch.randn(length, 2, 2 * heads, dtype=torch.float64)
    mask = torch.ones(length, length, dtype=torch.bool).triu(1)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused, _ = m(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)
        full, w = m(x, x, x, attn_mask=mask, is_causal=True, need_weights=True, average_attn_weights=False)
    extra_keys = int(add_bias_kv) + int(add_zero_attn)
    assert w.shape[-1] == length + extra_keys and bool((w[..., length:] > 0).all())  # visible here
    assert not torch.allclose(fused, full)  # and not on the fast path
