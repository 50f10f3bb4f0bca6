"""Cells (``--kind lstm-cell|gru-cell|rnn-cell``): every shape equals what torch's own cell returns.

Ground truth is an nn.LSTMCell / nn.GRUCell / nn.RNNCell built and stepped by the
test itself with plain torch calls, independent of torchshape's probe.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import torch
from hypothesis import given

from tests.conftest import run_cli
from tests.strategies import cell_settings
from torchshape import Kind, inspect, make_spec
from torchshape.formulas import symbols, tensor_formulas

CELL_CLASSES = {"gru-cell": torch.nn.GRUCell, "lstm-cell": torch.nn.LSTMCell, "rnn-cell": torch.nn.RNNCell}


def build_cell(raw: dict[str, Any]) -> torch.nn.Module:
    kwargs: dict[str, Any] = {"bias": raw["bias"], "dtype": getattr(torch, raw["dtype"])}
    if raw.get("nonlinearity"):
        kwargs["nonlinearity"] = raw["nonlinearity"]
    module: torch.nn.Module = CELL_CLASSES[raw["kind"]](raw["input_size"], raw["hidden_size"], **kwargs)
    return module.eval()


def torch_cell_truth(raw: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Step the cell with torch directly and return every tensor's shape."""
    cell = build_cell(raw)
    dtype = getattr(torch, raw["dtype"])
    H_in = raw["input_size"]
    x = torch.randn(H_in, dtype=dtype) if raw["unbatched"] else torch.randn(raw["batch"], H_in, dtype=dtype)
    with torch.no_grad():
        first = cell(x)  # torch makes h_0 (and c_0) itself: zeros of the right shape
        # torch accepts exactly h_1's (and c_1's) shape as the next step's h_0 (c_0)
        second = cell(x, first)
    shapes = {"input": tuple(x.shape)}
    if isinstance(first, tuple):
        assert isinstance(second, tuple)
        shapes["h_1"], shapes["c_1"] = tuple(first[0].shape), tuple(first[1].shape)
        shapes["h_0"], shapes["c_0"] = tuple(second[0].shape), tuple(second[1].shape)
    else:
        shapes["h_1"] = tuple(first.shape)
        shapes["h_0"] = tuple(second.shape)
    return shapes


@given(cell_settings())
def test_cell_formulas_match_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    sym = symbols(spec)
    formulas = {f.name: f.shape(sym) for f in tensor_formulas(spec)}
    assert formulas == torch_cell_truth(raw)


@given(cell_settings())
def test_cell_report_matches_torch(raw: dict[str, Any]) -> None:
    report = inspect(**raw)
    truth = torch_cell_truth(raw)
    assert report.ok
    assert not report.probe.reduced
    assert [row.name for row in report.rows] == [
        n for n in ("input", "h_0", "c_0", "h_1", "c_1") if n in truth
    ]
    assert {row.name: row.shape for row in report.rows} == truth
    assert {row.name: row.actual for row in report.rows} == truth
    # The constructor line shown to the user builds the very cell the test built.
    shown = eval(report.spec.module_call, {"nn": torch.nn})
    assert repr(shown) == repr(build_cell(raw))
    assert report.symbols.as_dict() == {
        "N": report.spec.batch,
        "H_in": raw["input_size"],
        "H_cell": raw["hidden_size"],
    }


@given(cell_settings(max_size=90, max_batch=40))
def test_cell_meta_device_matches_a_real_forward(raw: dict[str, Any]) -> None:
    """On meta torchshape steps the cell at probe sizes; its answer must equal a real step at full size."""
    report = inspect(**raw, device="meta")
    truth = torch_cell_truth(raw)
    assert report.ok
    assert report.probe.reduced
    assert report.probe.spec.kind is report.spec.kind
    assert {row.name: row.shape for row in report.rows} == truth
    assert all(row.actual is None for row in report.rows)


def test_cell_meta_probe_stays_small_for_huge_sizes() -> None:
    report = inspect(kind="lstm-cell", input_size=100000, hidden_size=8192, batch=4096, device="meta")
    assert report.ok
    assert max(max(row.probe_shape or (0,)) for row in report.rows) <= 64
    assert {row.name: row.shape for row in report.rows} == {
        "input": (4096, 100000),
        "h_0": (4096, 8192),
        "c_0": (4096, 8192),
        "h_1": (4096, 8192),
        "c_1": (4096, 8192),
    }
    assert set(report.probe.sizes.as_dict()) == {"N", "H_in", "H_cell"}


@pytest.mark.parametrize("kind", ["gru-cell", "lstm-cell", "rnn-cell"])
def test_kind_properties_agree_with_torch(kind: str) -> None:
    k = Kind(kind)
    cell = CELL_CLASSES[kind](5, 3)
    assert k.is_cell and not k.layer.is_cell
    assert k.module_name == type(cell).__name__
    assert k.gates * 3 == cell.weight_ih.shape[0]  # (G·H_cell, H_in)
    assert k.has_cell_state == isinstance(cell(torch.randn(2, 5)), tuple)
    assert k.has_nonlinearity == hasattr(cell, "nonlinearity")


def test_a_wrong_cell_formula_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verification can fail: give h_1 the input's width and torch disagrees."""
    from torchshape import formulas

    real = formulas.cell_tensor_formulas

    def broken(spec: Any) -> list[formulas.TensorFormula]:
        return [
            formulas.TensorFormula(f.name, (f.dims[0], formulas.Dim("H_in", ("H_in",))))
            if f.name == "h_1"
            else f
            for f in real(spec)
        ]

    monkeypatch.setattr(formulas, "cell_tensor_formulas", broken)
    report = inspect(kind="gru-cell")
    assert not report.ok
    assert {row.name for row in report.rows if not row.verified} == {"h_1"}


def test_an_input_torch_refuses_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3-D input makes nn.GRUCell raise ValueError: the report says so, nothing escapes."""
    from torchshape import formulas

    real = formulas.cell_tensor_formulas

    def three_d(spec: Any) -> list[formulas.TensorFormula]:
        return [
            formulas.TensorFormula(f.name, (formulas.Dim("1", ()), *f.dims)) if f.name == "input" else f
            for f in real(spec)
        ]

    monkeypatch.setattr(formulas, "cell_tensor_formulas", three_d)
    report = inspect(kind="gru-cell")
    assert not report.ok
    assert report.probe.error is not None and "1D or 2D" in report.probe.error
    assert {row.name for row in report.rows if not row.verified} == {"h_1"}


# --- the command line ---------------------------------------------------------------


BAD_CELL_USAGE = [
    (
        ["--kind", "lstm-cell", "--layers", "2"],
        "--layers: nn.LSTMCell is a single layer; drop --layers or use --kind lstm",
    ),
    (
        ["--kind", "gru-cell", "--seq-len", "5"],  # given explicitly, even at the layers' default
        "--seq-len: nn.GRUCell takes one time step, not a sequence; drop --seq-len or use --kind gru",
    ),
    (
        ["--kind", "rnn-cell", "--seq-len", "1"],
        "--seq-len: nn.RNNCell takes one time step, not a sequence; drop --seq-len or use --kind rnn",
    ),
    (
        ["--kind", "lstm-cell", "--bidir"],
        "--bidir: nn.LSTMCell runs one step in one direction; drop --bidir or use --kind lstm",
    ),
    (
        ["--kind", "gru-cell", "--batch-first"],
        "--batch-first: nn.GRUCell input has no time dimension, it is (N, H_in); "
        "drop --batch-first or use --kind gru",
    ),
    (
        ["--kind", "lstm-cell", "--proj-size", "5"],
        "--proj-size: nn.LSTMCell has no projection; drop --proj-size or use --kind lstm",
    ),
    (
        ["--kind", "gru-cell", "--proj-size", "5"],
        "--proj-size: nn.GRUCell has no projection; drop --proj-size",
    ),
    (
        ["--kind", "rnn-cell", "--dropout", "0.2"],
        "--dropout: nn.RNNCell has no dropout, which acts between stacked layers; "
        "drop --dropout or use --kind rnn with --layers 2 or more",
    ),
    (
        ["--kind", "lstm-cell", "--nonlinearity", "relu"],
        "--nonlinearity: only --kind rnn and rnn-cell have a nonlinearity; nn.LSTMCell has fixed gates",
    ),
    (
        ["--kind", "gru-cell", "--nonlinearity", "tanh"],
        "--nonlinearity: only --kind rnn and rnn-cell have a nonlinearity; nn.GRUCell has fixed gates",
    ),
    (
        ["--kind", "rnn-cell", "--unbatched", "--batch", "4"],
        "--batch: unbatched input has no batch dimension; drop --batch or --unbatched",
    ),
    (
        ["--kind", "lstm-cell", "--layers", "3", "--bidir"],  # several: the first in flag order
        "--layers: nn.LSTMCell is a single layer; drop --layers or use --kind lstm",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_CELL_USAGE)
def test_layer_flags_on_a_cell_exit_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "rnn", *args)
    assert code == 2
    assert out == ""
    assert err == f"torchshape: error: {message}\n"


def test_neutral_layer_values_are_accepted_for_a_cell(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "rnn", "--kind", "rnn-cell", "--layers", "1", "--proj-size", "0", "--dropout", "0",
        "--nonlinearity", "relu", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["module"] == "nn.RNNCell(50, 30, nonlinearity='relu')"
    assert data["config"]["nonlinearity"] == "relu"


def test_cell_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "rnn", "--kind", "lstm-cell", "--batch", "4")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["nn.LSTMCell(50, 30)", "h_1, c_1 = lstm_cell(input, (h_0, c_0))"]
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in (["h_1"], ["c_1"])}
    assert rows["h_1"] == ["h_1", "(N,", "H_cell)", "(4,", "30)", "(4,", "30)", "✓"]
    assert rows["c_1"] == ["c_1", "(N,", "H_cell)", "(4,", "30)", "(4,", "30)", "✓"]
    legend = [line.split()[0] for line in lines if re.match(r"^\s*\w+ = \d+", line)]
    assert legend == ["N", "H_in", "H_cell"]  # no L, D, H_out or num_layers for a cell


@pytest.mark.parametrize(
    ("kind", "names", "call"),
    [
        ("lstm-cell", ["input", "h_0", "c_0", "h_1", "c_1"], "h_1, c_1 = lstm_cell(input, (h_0, c_0))"),
        ("gru-cell", ["input", "h_0", "h_1"], "h_1 = gru_cell(input, h_0)"),
        ("rnn-cell", ["input", "h_0", "h_1"], "h_1 = rnn_cell(input, h_0)"),
    ],
)
def test_cell_json(capsys: pytest.CaptureFixture[str], kind: str, names: list[str], call: str) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--kind", kind, "--unbatched", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [t["name"] for t in data["tensors"]] == names
    assert data["call"] == call
    assert list(data["config"]) == [
        "kind", "input_size", "hidden_size", "batch", "bias", "nonlinearity", "unbatched", "device", "dtype",
    ]  # fmt: skip
    assert data["config"]["kind"] == kind
    assert list(data["symbols"]) == ["N", "H_in", "H_cell"]
    by_name = {t["name"]: t for t in data["tensors"]}
    assert by_name["input"]["shape"] == [50] and by_name["input"]["formula"] == "(H_in)"
    assert by_name["h_1"]["shape"] == [30] and by_name["h_1"]["formula"] == "(H_cell)"
    assert all(t["verified"] is True and t["source"] == "forward" for t in data["tensors"])


@pytest.mark.cuda
@given(cell_settings())
def test_cell_cuda_matches_cpu(raw: dict[str, Any]) -> None:
    report = inspect(**raw, device="cuda")
    assert report.ok
    assert {row.name: row.shape for row in report.rows} == torch_cell_truth(raw)
