"""torchshape embedding against torch: every shape, parameter and MAC count, every --explain claim,
and every mistake users make.

The truth is built here with plain torch calls (``torch_module``, ``torch_inputs``), never with
torchshape's code; hypothesis draws configurations over every flag of ``torchshape embedding``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from tests.conftest import run_cli
from torchshape import inspect_embedding

# A 1-D input's length when the settings give no shape: the last offset, plus 2 without
# include_last_offset (documented under --shape in ``torchshape embedding --help``).
LAST_BAG = 2


@st.composite
def embedding_settings(draw: st.DrawFn, *, meta: bool = True) -> dict[str, Any]:
    """Raw settings for ``inspect_embedding``: every flag of ``torchshape embedding``."""
    n = draw(st.integers(1, 40))
    raw: dict[str, Any] = {"num_embeddings": n, "embedding_dim": draw(st.integers(1, 9))}
    if draw(st.booleans()):
        raw["bag"] = True
        mode = draw(st.sampled_from(["sum", "mean", "max"]))
        raw["mode"] = mode
        if draw(st.booleans()):
            steps = draw(st.lists(st.integers(0, 3), min_size=0, max_size=6))
            offsets = [0]
            for step in steps:
                offsets.append(offsets[-1] + step)
            raw["offsets"] = tuple(offsets)
            raw["include_last_offset"] = draw(st.booleans())
            if draw(st.booleans()):
                extra = 0 if raw["include_last_offset"] else draw(st.integers(0, 3))
                raw["shape"] = offsets[-1] + extra
        else:
            raw["bags"] = draw(st.integers(1, 5))
            raw["bag_size"] = draw(st.integers(1, 6))
        if mode == "sum":
            raw["per_sample_weights"] = draw(st.booleans())
    else:
        raw["shape"] = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=4)))
    if draw(st.booleans()):
        raw["padding_idx"] = draw(st.integers(-n, n - 1))
    if draw(st.booleans()):
        raw["max_norm"] = draw(st.sampled_from([0.5, 1.0, 2.5, 100.0]))
    raw["dtype"] = draw(st.sampled_from(["float32", "float64"]))
    raw["device"] = draw(st.sampled_from(["cpu", "cpu", "meta"] if meta else ["cpu"]))
    return raw


def torch_module(raw: dict[str, Any], device: str = "cpu") -> torch.nn.Module:
    """The module ``raw`` describes, built with torch alone."""
    kwargs: dict[str, Any] = {
        "padding_idx": raw.get("padding_idx"),
        "max_norm": raw.get("max_norm"),
        "dtype": getattr(torch, raw.get("dtype", "float32")),
        "device": device,
    }
    if raw.get("bag"):
        kwargs["mode"] = raw.get("mode", "mean")
        kwargs["include_last_offset"] = raw.get("include_last_offset", False)
        return torch.nn.EmbeddingBag(raw["num_embeddings"], raw["embedding_dim"], **kwargs)
    return torch.nn.Embedding(raw["num_embeddings"], raw["embedding_dim"], **kwargs)


def input_shape(raw: dict[str, Any]) -> tuple[int, ...]:
    if not raw.get("bag"):
        return tuple(raw.get("shape", (4, 7)))
    if "offsets" not in raw:
        return (raw.get("bags", 3), raw.get("bag_size", 5))
    offsets = raw["offsets"]
    default = offsets[-1] if raw.get("include_last_offset") else offsets[-1] + LAST_BAG
    return (raw.get("shape", default),)


def torch_inputs(raw: dict[str, Any], device: str = "cpu") -> dict[str, Any]:
    """The index tensor (and offsets, per_sample_weights) as a user would make them."""
    shape = input_shape(raw)
    dtype = getattr(torch, raw.get("dtype", "float32"))
    inputs: dict[str, Any] = {"input": torch.randint(0, raw["num_embeddings"], shape).to(device)}
    if "offsets" in raw:
        inputs["offsets"] = torch.tensor(raw["offsets"], device=device)
    if raw.get("per_sample_weights"):
        inputs["per_sample_weights"] = torch.rand(shape, dtype=dtype).to(device)
    return inputs


def call(module: torch.nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    if isinstance(module, torch.nn.EmbeddingBag):
        return module(inputs["input"], inputs.get("offsets"), inputs.get("per_sample_weights"))
    return module(inputs["input"])


def bag_spans(raw: dict[str, Any]) -> list[tuple[int, int]]:
    """[start, end) of every bag of a 1-D input, from the offsets as the PyTorch docs describe them."""
    offsets = list(raw["offsets"])
    ends = [*offsets[1:], input_shape(raw)[0]]
    spans = list(zip(offsets, ends, strict=True))
    return spans[:-1] if raw.get("include_last_offset") else spans


def row_of(raw: dict[str, Any]) -> int:
    """The row padding_idx names (a negative one counts from the end)."""
    return int(raw["padding_idx"]) % raw["num_embeddings"]


@given(embedding_settings())
def test_every_shape_parameter_and_mac_is_torchs(raw: dict[str, Any]) -> None:
    report = inspect_embedding(**raw)
    assert report.ok, report.probe.error
    assert report.family == "embedding"
    torch.manual_seed(0)
    device = raw["device"]
    module = torch_module(raw, device)
    inputs = torch_inputs(raw, device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        output = call(module, inputs)
    truth = {name: tuple(t.shape) for name, t in inputs.items()} | {"output": tuple(output.shape)}
    assert {row.name: row.shape for row in report.rows} == truth
    assert [row.name for row in report.rows][-1] == "output"
    parameters = {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert {p.name: p.shape for p in report.parameters} == parameters
    assert all(p.verified for p in report.parameters)
    assert report.totals is not None
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    # MACs: 0 for a lookup and for a bag (additions, not a matrix product's multiply-accumulates);
    # torch's own counter agrees: it counts no FLOPs for embedding or embedding_bag
    assert report.totals.macs == 0
    assert counter.get_total_flops() == 2 * report.totals.macs


@given(embedding_settings(meta=False))
def test_every_explain_claim_holds_and_holds_again_here(raw: dict[str, Any]) -> None:
    """Each claim --explain makes is checked by torchshape, then again here on a forward pass of its own."""
    report = inspect_embedding(explain=True, **raw)
    findings = {f.topic: f for f in report.probe.analysis.findings}
    assert all(f.holds is True for f in findings.values()), [(f.topic, f.evidence) for f in findings.values()]
    n = raw["num_embeddings"]
    expected = {"index range"}
    torch.manual_seed(1)

    # index range: index num_embeddings makes torch raise
    with pytest.raises((IndexError, RuntimeError)):
        bad = torch.tensor([[n]] if raw.get("bag") else [n])
        call(torch_module(raw), {"input": bad})

    if raw.get("padding_idx") is not None:
        expected.add("padding_idx")
        row = raw["padding_idx"] % n
        module = torch_module(raw)
        assert not module.weight[row].any()  # the padding_idx row starts as zeros
        inputs = torch_inputs(raw)
        x = inputs["input"]
        if x.numel():
            x.view(-1)[0] = row
        output = call(module, inputs)
        if not raw.get("bag"):
            assert not output[x == row].any()  # padded positions give zeros
        output.sum().backward()
        assert not module.weight.grad[row].any()  # ...and the row receives no gradient

    if raw.get("bag"):
        expected.add("bags")
        module = torch_module(raw)
        inputs = torch_inputs(raw)
        output = call(module, inputs).detach()
        if "offsets" in raw:
            # the include_last_offset rule: B = len(offsets) − 1, else len(offsets), and bag i is
            # input[offsets[i]:offsets[i+1]], the last one to the input's end without it
            o = len(raw["offsets"])
            assert output.shape[0] == (o - 1 if raw.get("include_last_offset") else o)
            weight = module.weight.detach()
            x, weights = inputs["input"], inputs.get("per_sample_weights")
            for i, (start, end) in enumerate(bag_spans(raw)):
                keep = [j for j in range(start, end) if raw.get("padding_idx") is None or x[j] != row_of(raw)]
                rows = weight[x[keep]] * (1 if weights is None else weights[keep].unsqueeze(1))
                mode = raw.get("mode", "mean")
                if not keep:
                    expected_row = torch.zeros_like(output[i])
                elif mode == "sum":
                    expected_row = rows.sum(0)
                elif mode == "mean":
                    expected_row = rows.mean(0)
                else:
                    expected_row = rows.amax(0)
                assert torch.allclose(output[i], expected_row, atol=1e-5), (i, start, end)
            empty = [i for i, (start, end) in enumerate(bag_spans(raw)) if start == end]
            if empty:
                expected.add("empty bags")
                assert not output[empty].any()  # an empty bag gives zeros, in every mode
        else:
            assert output.shape[0] == raw["bags"]

    if raw.get("max_norm") is not None:
        expected.add("max_norm")
        module = torch_module(raw)
        before = module.weight.detach().clone()
        inputs = torch_inputs(raw)
        with torch.no_grad():
            call(module, inputs)
        after = module.weight.detach()
        looked = torch.zeros(n, dtype=torch.bool)
        looked[inputs["input"].reshape(-1)] = True
        above = looked & (before.norm(dim=1) > raw["max_norm"])
        assert torch.equal(after[~above], before[~above])  # other rows untouched
        assert (after[above].norm(dim=1) <= raw["max_norm"] * (1 + 1e-5)).all()  # rescaled in place
        assert torch.allclose(
            after[above], before[above] / before[above].norm(dim=1, keepdim=True) * raw["max_norm"], atol=1e-5
        )
    assert set(findings) == expected


# ---------------------------------------------------------------- what users get wrong, in torch


def test_an_index_equal_to_num_embeddings_fails_in_torch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(IndexError, match="index out of range in self"):
        torch.nn.Embedding(10, 3)(torch.tensor([10]))
    with pytest.raises(RuntimeError, match="not in the valid range"):
        torch.nn.EmbeddingBag(10, 3)(torch.tensor([[10]]))
    code, out, _ = run_cli(capsys, "embedding", "--num-embeddings", "10", "--explain", "--format", "json")
    import json

    found = next(f for f in json.loads(out)["explain"] if f["topic"] == "index range")
    assert code == 0 and found["holds"] is True
    assert found["detail"] == "holds: torch raised IndexError: index out of range in self"


def test_a_padding_idx_out_of_range_fails_in_torch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AssertionError, match=r"(?i)padding_idx must be within num_embeddings"):
        torch.nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(AssertionError, match=r"(?i)padding_idx must be within num_embeddings"):
        torch.nn.EmbeddingBag(10, 3, padding_idx=-11)
    assert torch.nn.Embedding(10, 3, padding_idx=-10).padding_idx == 0  # the lowest torch takes
    code, out, err = run_cli(capsys, "embedding", "--num-embeddings", "10", "--padding-idx", "10")
    assert (code, out) == (2, "")
    assert err == (
        "torchshape: error: --padding-idx: 10 is out of range for --num-embeddings 10: an index must be "
        "from -10 to 9 (torch: Padding_idx must be within num_embeddings)\n"
    )


@pytest.mark.parametrize("mode", ["mean", "max"])
def test_per_sample_weights_outside_sum_fails_in_torch(mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    bag = torch.nn.EmbeddingBag(10, 3, mode=mode)
    with pytest.raises((NotImplementedError, RuntimeError, ValueError), match="per_sample_weights"):
        bag(torch.tensor([[1, 2]]), per_sample_weights=torch.ones(1, 2))
    code, _, err = run_cli(capsys, "embedding", "--bag", "--mode", mode, "--per-sample-weights")
    assert code == 2
    assert err.startswith("torchshape: error: --per-sample-weights: only with --mode sum")


def test_include_last_offset_with_a_2d_input_is_ignored_by_torch(capsys: pytest.CaptureFixture[str]) -> None:
    """pytorch#167974: torch gives B rows for a 2-D input, not B − 1, so torchshape refuses the flag there."""
    bag = torch.nn.EmbeddingBag(10, 3, include_last_offset=True)
    assert bag(torch.tensor([[1, 2], [3, 4], [5, 6]])).shape == (3, 3)
    code, _, err = run_cli(capsys, "embedding", "--bag", "--include-last-offset")
    assert code == 2 and err.startswith("torchshape: error: --include-last-offset: only with a 1-D input")


def test_bag_sum_is_over_each_bag_not_over_bags() -> None:
    """The docs once said ``sum(dim=0)`` (PR #45763): a bag of a 2-D input sums over dim 1."""
    torch.manual_seed(0)
    x = torch.randint(0, 10, (3, 5))
    bag = torch.nn.EmbeddingBag(10, 4, mode="sum")
    embedding = torch.nn.Embedding(10, 4)
    embedding.weight = bag.weight
    out = bag(x)
    assert torch.allclose(out, embedding(x).sum(dim=1), atol=1e-6)
    assert embedding(x).sum(dim=0).shape != out.shape


def test_indices_past_the_last_offset_are_undefined_in_torch(capsys: pytest.CaptureFixture[str]) -> None:
    """With include_last_offset the last offset is the input's length (CSR); past it, torch's kernels
    disagree: float32 sum skips the extra index, max adds it to the last bag. torchshape refuses it."""
    torch.manual_seed(0)
    x, offsets = (
        torch.tensor([1, 2]),
        torch.tensor([0, 0, 0]),
    )  # bags [0, 0) and [0, 0); index 0..1 past the end
    results = {}
    for mode in ("sum", "max"):
        bag = torch.nn.EmbeddingBag(26, 2, mode=mode, include_last_offset=True)
        with torch.no_grad():
            results[mode] = bag(x, offsets)
    assert not results["sum"].any()  # skipped: the empty bags give zeros
    assert results["max"][1].any()  # added to the last bag, which should be empty
    code, _, err = run_cli(
        capsys, "embedding", "--bag", "--offsets", "0,0,0", "--include-last-offset", "--shape", "2"
    )
    assert code == 2
    assert err.startswith(
        "torchshape: error: --shape: with --include-last-offset the last offset is the input's length"
    )


def test_bad_offsets_fail_in_torch(capsys: pytest.CaptureFixture[str]) -> None:
    bag = torch.nn.EmbeddingBag(10, 3)
    x = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        bag(x, torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="can not be greater than input's length"):
        bag(x, torch.tensor([0, 4]))
    for args, flag in (
        (["--offsets", "1,2"], "--offsets"),
        (["--offsets", "0,4", "--shape", "3"], "--offsets"),
        (["--offsets", "0,2,1"], "--offsets"),
    ):
        code, _, err = run_cli(capsys, "embedding", "--bag", *args)
        assert code == 2 and err.startswith(f"torchshape: error: {flag}: "), err


def test_empty_bags_give_zeros_in_every_mode() -> None:
    for mode in ("sum", "mean", "max"):
        bag = torch.nn.EmbeddingBag(10, 3, mode=mode)
        out = bag(torch.tensor([1, 2]), torch.tensor([0, 0, 2]))
        assert not out[0].any() and not out[2].any() and out[1].any()


# ---------------------------------------------------------------- huge sizes on meta


def test_huge_sizes_on_meta_take_constant_time() -> None:
    inspect_embedding(device="meta")  # the first meta call pays for loading torch's meta kernels
    began = time.perf_counter()
    small = inspect_embedding(device="meta", shape=(2, 3))
    small_seconds = time.perf_counter() - began
    began = time.perf_counter()
    huge = inspect_embedding(
        num_embeddings=10**9,
        embedding_dim=4096,
        shape=(1, 131072),
        padding_idx=0,
        max_norm=1.0,
        device="meta",
    )
    bags = inspect_embedding(
        num_embeddings=10**9,
        embedding_dim=4096,
        bag=True,
        mode="sum",
        offsets=(0, 10**8, 2 * 10**8),
        shape=2**31 - 1,
        per_sample_weights=True,
        device="meta",
    )
    huge_seconds = time.perf_counter() - began
    assert huge.ok and bags.ok and small.ok
    assert huge.rows[-1].shape == (1, 131072, 4096)
    assert bags.rows[-1].shape == (3, 4096)
    assert huge_seconds < 2 * small_seconds + 1.0
