"""Every shape torchshape reports equals what torch itself returns.

Ground truth here is a module built and run by the test itself, with plain torch
calls, independent of torchshape's probe.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import reported_shapes, wrong_rnn_formula
from tests.strategies import settings
from tests.truth import torch_module
from torchshape import inspect, make_spec
from torchshape.families.rnn.formulas import symbols, tensor_formulas


def torch_truth(raw: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Build the module with torch directly, feed it, and return every tensor's shape."""
    dtype = getattr(torch, raw["dtype"])
    module = torch_module(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L, H_in = raw["seq_len"], raw["input_size"]
        if raw["unbatched"]:
            x = torch.randn(L, H_in, dtype=dtype)
        elif raw["batch_first"]:
            x = torch.randn(raw["batch"], L, H_in, dtype=dtype)
        else:
            x = torch.randn(L, raw["batch"], H_in, dtype=dtype)
        with torch.no_grad():
            output, state = module(x)  # torch makes h_0 (and c_0) itself: zeros of the right shape
    shapes = {"input": tuple(x.shape), "output": tuple(output.shape)}
    if isinstance(state, tuple):
        shapes["h_n"], shapes["c_n"] = tuple(state[0].shape), tuple(state[1].shape)
        # torch accepts exactly h_n's / c_n's shape as h_0 / c_0
        shapes["h_0"], shapes["c_0"] = shapes["h_n"], shapes["c_n"]
    else:
        shapes["h_n"] = shapes["h_0"] = tuple(state.shape)
    return shapes


@given(settings())
def test_formulas_match_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    truth = torch_truth(raw)
    sym = symbols(spec)
    formulas = {f.name: f.shape(sym) for f in tensor_formulas(spec)}
    assert formulas == truth


@given(settings())
def test_report_matches_torch(raw: dict[str, Any]) -> None:
    report = inspect(**raw)
    truth = torch_truth(raw)
    assert report.ok
    assert {row.name: row.shape for row in report.rows} == truth
    assert {row.name: row.actual for row in report.rows} == truth
    assert all(row.verified for row in report.rows)


@given(settings(max_size=90, max_layers=6), st.integers(1, 40))
def test_meta_device_matches_a_real_forward(raw: dict[str, Any], seq_len: int) -> None:
    """On meta torchshape runs at probe sizes; its answer must equal a real run at full size."""
    raw = {**raw, "seq_len": seq_len}
    report = inspect(**raw, device="meta")
    truth = torch_truth(raw)
    assert report.ok
    assert report.probe.reduced
    assert {row.name: row.shape for row in report.rows} == truth
    # It never claims a measurement it did not make.
    assert all(row.actual is None for row in report.rows)


def test_meta_probe_stays_small_for_huge_sizes() -> None:
    raw = dict(
        kind="gru",
        input_size=4096,
        hidden_size=4096,
        num_layers=8,
        bidirectional=True,
        seq_len=100000,
        batch=64,
        device="meta",
    )
    report = inspect(**raw)
    assert report.ok
    assert max(max(row.probe_shape or (0,)) for row in report.rows) <= 128
    shapes = {row.name: row.shape for row in report.rows}
    assert shapes == {
        "input": (100000, 64, 4096),
        "h_0": (16, 64, 4096),
        "output": (100000, 64, 8192),
        "h_n": (16, 64, 4096),
    }


def test_a_wrong_formula_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verification can fail: break one rule and torch disagrees."""
    # forget the D factor of output, a classic mistake
    wrong_rnn_formula(monkeypatch, "output", lambda dims: (*dims[:-1], "H_out"))
    report = inspect(kind="lstm", bidirectional=True)
    assert not report.ok
    bad = {row.name for row in report.rows if not row.verified}
    assert bad == {"output"}


@pytest.mark.cuda
@given(settings())
def test_cuda_matches_cpu(raw: dict[str, Any]) -> None:
    assert reported_shapes(raw, "cuda") == torch_truth(raw)
