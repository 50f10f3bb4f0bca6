"""attention --diagram: the weights' grid of one sequence and head, checked against torch.

Every drawn cell must be hidden exactly where this test's own forward pass, with the same
weights and inputs, gives weight 0, whatever masks, sizes and layouts are drawn."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchshape
from torchshape.diagram import MaskDiagram
from torchshape.families.attention.spec import MaskForm
from torchshape.families.attention.torch_side import build_module, make_inputs


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, object]:
    heads = draw(st.integers(1, 3))
    causal = draw(st.booleans())
    attn_mask = "2d" if causal else draw(st.sampled_from(["none", "2d", "3d"]))
    if causal:
        attn_mask = draw(st.sampled_from(["2d", "3d"]))
    unbatched = draw(st.booleans())
    key_padding_mask = draw(st.booleans())
    masked = key_padding_mask or attn_mask != "none"
    return {
        "embed_dim": heads * draw(st.integers(1, 3)),
        "num_heads": heads,
        "target_len": draw(st.integers(1, 20)),
        "source_len": draw(st.integers(2, 20)),
        "batch": None if unbatched else draw(st.integers(1, 4)),
        "unbatched": unbatched,
        "batch_first": draw(st.booleans()),
        "is_causal": causal,
        "attn_mask": attn_mask,
        "key_padding_mask": key_padding_mask,
        "mask_dtype": draw(st.sampled_from(["bool", "float"])) if masked else None,
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
        "average_attn_weights": draw(st.booleans()),
    }


@settings(max_examples=40, deadline=None)
@given(configurations())
def test_every_drawn_cell_is_masked_exactly_where_torch_gives_weight_zero(
    settings_: dict[str, object],
) -> None:
    report = torchshape.inspect_attention(diagram=True, **settings_)  # type: ignore[arg-type]
    d = report.probe.diagram
    assert isinstance(d, MaskDiagram) and d.holds is True
    spec = report.spec
    # the test's own pass: the same seeded module and inputs, per-head weights
    torch.manual_seed(0)
    with torch.random.fork_rng(devices=[]):
        from torchshape.options import SEED

        torch.manual_seed(SEED)
        module = build_module(spec, torch.device("cpu"), torch.float32).eval()
        inputs = make_inputs(spec, torch.device("cpu"), torch.float32)
    with torch.no_grad():
        _, weights = module(
            inputs["query"],
            inputs["key"],
            inputs["value"],
            key_padding_mask=inputs.get("key_padding_mask"),
            attn_mask=inputs.get("attn_mask"),
            need_weights=True,
            average_attn_weights=False,
            is_causal=spec.is_causal,
        )
    grid = weights[0] if d.sequence is None else weights[d.sequence, 0]
    assert grid.shape == (d.target_len, d.keys)
    assert d.keys == spec.source_len + int(spec.add_bias_kv) + int(spec.add_zero_attn)
    for cell in d.cells:
        assert bool(cell.masked_by) == bool(grid[cell.query, cell.key] == 0), cell
        if cell.key >= spec.source_len:
            assert cell.masked_by == ()  # the appended keys are never masked
    if spec.attn_mask is MaskForm.NONE and not spec.key_padding_mask:
        assert all(c.masked_by == () for c in d.cells)


def test_a_large_grid_shows_its_edges_with_a_gap() -> None:
    report = torchshape.inspect_attention(target_len=40, source_len=30, is_causal=True, diagram=True)
    d = report.probe.diagram
    assert isinstance(d, MaskDiagram)
    assert d.shown_queries == (0, 1, 2, 3, 4, 5, 34, 35, 36, 37, 38, 39)
    assert d.shown_keys == (0, 1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29)
    assert d.holds is True


def test_on_meta_nothing_is_checked() -> None:
    report = torchshape.inspect_attention(is_causal=True, device="meta", diagram=True)
    d = report.probe.diagram
    assert isinstance(d, MaskDiagram) and d.holds is None
    assert all(c.zero is None for c in d.cells)


def test_a_wrong_drawing_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A drawing whose masks differ from the ones fed is refuted, not drawn as holding."""
    from torchshape.families.attention import diagram as mask_diagram

    monkeypatch.setattr(mask_diagram, "masked_by", lambda spec, n, h, q, k: ())
    report = torchshape.inspect_attention(is_causal=True, diagram=True)
    assert report.probe.diagram.holds is False
