"""Cells (``--kind lstm-cell|gru-cell|rnn-cell``): every shape equals what torch's own cell returns.

Ground truth is an nn.LSTMCell / nn.GRUCell / nn.RNNCell built and stepped by the
test itself with plain torch calls, independent of torchshape's probe.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import reported_shapes, run_cli
from tests.strategies import cell_settings
from torchshape import Kind, UsageError, inspect, make_spec
from torchshape.facts import TensorFormula
from torchshape.families.rnn.formulas import symbols, tensor_formulas

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
    from torchshape.families.rnn import formulas

    real = formulas.cell_tensor_formulas

    def broken(spec: Any) -> list[TensorFormula]:
        return [replace(f, dims=(f.dims[0], "H_in")) if f.name == "h_1" else f for f in real(spec)]

    monkeypatch.setattr(formulas, "cell_tensor_formulas", broken)
    report = inspect(kind="gru-cell")
    assert not report.ok
    assert {row.name for row in report.rows if not row.verified} == {"h_1"}


def test_an_input_torch_refuses_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3-D input makes nn.GRUCell raise ValueError: the report says so, nothing escapes."""
    from torchshape.families.rnn import formulas

    real = formulas.cell_tensor_formulas

    def three_d(spec: Any) -> list[TensorFormula]:
        return [replace(f, dims=("1", *f.dims)) if f.name == "input" else f for f in real(spec)]

    monkeypatch.setattr(formulas, "cell_tensor_formulas", three_d)
    report = inspect(kind="gru-cell")
    assert not report.ok
    assert report.probe.error is not None and "1D or 2D" in report.probe.error
    assert {row.name for row in report.rows if not row.verified} == {"h_1"}


# --- the command line ---------------------------------------------------------------


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
    assert reported_shapes(raw, "cuda") == torch_cell_truth(raw)


# --- --unroll: the cell looped over L steps vs the one-layer module ------------------------

LAYER_CLASSES = {"gru-cell": torch.nn.GRU, "lstm-cell": torch.nn.LSTM, "rnn-cell": torch.nn.RNN}


def torch_cell_loop(raw: dict[str, Any], seq_len: int) -> tuple[dict[str, tuple[int, ...]], dict[str, float]]:
    """Loop the cell with torch as the PyTorch docs do, and run nn.LSTM/GRU/RNN sharing its weights.

    Returns the shapes the loop and the layer produced, and max |loop - layer| of output and final states.
    """
    cell = build_cell(raw)
    dtype = getattr(torch, raw["dtype"])
    batch = () if raw["unbatched"] else (raw["batch"],)
    H_in, H_cell = raw["input_size"], raw["hidden_size"]
    layer_kwargs: dict[str, Any] = {"bias": raw["bias"], "dtype": dtype}
    if raw.get("nonlinearity"):
        layer_kwargs["nonlinearity"] = raw["nonlinearity"]
    layer = LAYER_CLASSES[raw["kind"]](H_in, H_cell, **layer_kwargs).eval()
    with torch.no_grad():
        for name, param in cell.named_parameters():
            getattr(layer, f"{name}_l0").copy_(param)
        x = torch.randn(seq_len, *batch, H_in, dtype=dtype)
        h_0 = torch.randn(*batch, H_cell, dtype=dtype)
        c_0 = torch.randn(*batch, H_cell, dtype=dtype)
        lstm = raw["kind"] == "lstm-cell"
        hx, cx, output = h_0, c_0, []
        shapes: dict[str, tuple[int, ...]] = {"input": tuple(x.shape)}
        for i in range(seq_len):
            shapes["input_t"] = tuple(x[i].shape)
            if lstm:
                hx, cx = cell(x[i], (hx, cx))
                shapes["c"] = tuple(cx.shape)
            else:
                hx = cell(x[i], hx)
            shapes["h"] = tuple(hx.shape)
            output.append(hx)
        stacked = torch.stack(output, dim=0)
        shapes["output"] = tuple(stacked.shape)
        if lstm:
            layer_output, (h_n, c_n) = layer(x, (h_0.unsqueeze(0), c_0.unsqueeze(0)))
            shapes["c_n"] = tuple(c_n.shape)
        else:
            layer_output, h_n = layer(x, h_0.unsqueeze(0))
        shapes["h_n"] = tuple(h_n.shape)

    def diff(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a.double() - b.double()).abs().max())

    diffs = {"output": diff(stacked, layer_output), "h_n": diff(hx, h_n[0])}
    if lstm:
        diffs["c_n"] = diff(cx, c_n[0])
    return shapes, diffs


@given(cell_settings(max_size=10), st.integers(1, 6))
def test_cell_unroll_matches_torch(raw: dict[str, Any], seq_len: int) -> None:
    """Every step shape is what torch's own loop produced; loop and layer agree as torch says they do."""
    from torchshape.families.rnn.unroll import UNROLL_TOLERANCE

    report = inspect(**raw, seq_len=seq_len, unroll=True)
    truth, diffs = torch_cell_loop(raw, seq_len)
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.unroll is not None
    unroll = analysis.unroll
    assert unroll.method == "cell" and unroll.steps == seq_len
    assert {row.name: row.measured for row in unroll.step_shapes} == truth
    assert {row.name: row.expected for row in unroll.step_shapes} == truth
    assert set(unroll.max_abs_diff) == set(diffs) == set(unroll.within_tolerance)
    rtol, atol = UNROLL_TOLERANCE[raw["dtype"]]
    assert unroll.tolerance == (rtol, atol)
    # torch's own loop and layer agree within the tolerance torchshape uses, and so does torchshape's
    assert all(d <= atol + rtol * 64 for d in diffs.values())
    assert unroll.agree
    assert len(unroll.per_step_max_abs_diff) == seq_len
    assert max(unroll.per_step_max_abs_diff) <= unroll.max_abs_diff["output"]
    # the main table stays one step of the cell
    assert {row.name: row.shape for row in report.rows} == torch_cell_truth(raw)
    assert report.rows[0].shape == truth["input_t"]


@pytest.mark.parametrize("kind", ["lstm-cell", "gru-cell", "rnn-cell"])
def test_cell_unroll_catches_a_layer_that_differs(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """The comparison can fail: a layer that does not share the cell's weights disagrees with the loop."""
    from torchshape.families.rnn import unroll_probe

    def unshared(spec: Any, cell: torch.nn.Module) -> torch.nn.Module:
        from torchshape.families.rnn.probe import build_module

        return build_module(unroll_probe.layer_spec(spec), cell.weight_ih.device, cell.weight_ih.dtype)

    monkeypatch.setattr(unroll_probe, "cell_layer", unshared)
    report = inspect(kind=kind, seq_len=3, unroll=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.unroll is not None
    assert not analysis.unroll.agree and not report.ok
    assert analysis.unroll.max_abs_diff["output"] > 0.01


def test_cell_unroll_first_step_is_the_tables_step() -> None:
    """The loop starts from the table's input and h_0: its first step is the step the table shows."""
    from torchshape.families.rnn import unroll_probe

    calls: list[tuple[torch.Tensor, Any]] = []
    fed: list[dict[str, torch.Tensor]] = []
    real = unroll_probe._cell_unroll

    def spy(spec: Any, cell: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> Any:
        step = cell.forward

        def recording(x: torch.Tensor, state: Any) -> Any:
            calls.append((x, state))
            return step(x, state)

        cell.forward = recording  # type: ignore[method-assign]
        fed.append(inputs)
        return real(spec, cell, inputs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(unroll_probe, "_cell_unroll", spy)
        report = inspect(kind="lstm-cell", seq_len=4, unroll=True)
    assert report.ok and len(fed) == 1 and len(calls) == 4
    x_0, (h, c) = calls[0]
    assert torch.equal(x_0, fed[0]["input"])
    assert h is fed[0]["h_0"] and c is fed[0]["c_0"]
    plain = inspect(kind="lstm-cell")
    assert [(r.name, r.shape) for r in report.rows] == [(r.name, r.shape) for r in plain.rows]
    assert report.totals == plain.totals  # MACs and memory stay those of one step


def test_cell_unroll_api_and_default_length() -> None:
    report = inspect(kind="lstm-cell", seq_len=4, unroll=True)
    assert report.spec.seq_len == 4
    assert report.probe.analysis is not None and report.probe.analysis.unroll is not None
    assert report.probe.analysis.unroll.steps == 4
    # --unroll without --seq-len loops L = 5 steps, the layers' default
    assert inspect(kind="gru-cell", unroll=True).probe.analysis.unroll.steps == 5  # type: ignore[union-attr]
    # a spec made for --unroll is refused without it, naming --seq-len
    spec = make_spec(kind="lstm-cell", seq_len=4, unroll=True)
    with pytest.raises(UsageError) as caught:
        inspect(spec)
    assert caught.value.option == "seq_len"
    with pytest.raises(UsageError) as caught:
        make_spec(kind="lstm-cell", seq_len=4)
    assert caught.value.option == "seq_len" and "add unroll=True" in caught.value.message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "2"], "--layers: nn.LSTMCell is a single layer; drop --layers or use --kind lstm"),
        (["--bidir"], "--bidir: nn.LSTMCell runs one step in one direction; drop --bidir or use --kind lstm"),
        (
            ["--batch-first"],
            "--batch-first: nn.LSTMCell input has no time dimension, it is (N, H_in); "
            "drop --batch-first or use --kind lstm",
        ),
        (
            ["--proj-size", "5"],
            "--proj-size: nn.LSTMCell has no projection; drop --proj-size or use --kind lstm",
        ),
        (
            ["--dropout", "0.2"],
            "--dropout: nn.LSTMCell has no dropout, which acts between stacked layers; "
            "drop --dropout or use --kind lstm with --layers 2 or more",
        ),
        (
            ["--lengths", "3,2"],
            "--lengths: nn.LSTMCell takes one time step, not a sequence to pack; "
            "drop --lengths or use --kind lstm",
        ),
        (
            ["--explain"],
            "--explain: nn.LSTMCell returns only the next state, there is no output vs h_n; "
            "drop --explain or use --kind lstm",
        ),
        (
            ["--device", "meta"],
            "--unroll: needs values to compare, and meta tensors have none; use --device cpu (or cuda)",
        ),
        (["--seq-len", "5000"], "--unroll: L = 5000 steps would take 5000 calls; use --seq-len 4096 or less"),
    ],
)
def test_cell_unroll_still_refuses_layer_flags(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "rnn", "--kind", "lstm-cell", "--seq-len", "3", "--unroll", *args)
    assert (code, out, err) == (2, "", f"torchshape: error: {message}\n")


def test_cell_unroll_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, plain, _ = run_cli(capsys, "rnn", "--kind", "gru-cell", "--unbatched")
    assert code == 0
    code, out, err = run_cli(capsys, "rnn", "--kind", "gru-cell", "--unbatched", "--seq-len", "4", "--unroll")
    assert code == 0, err
    head = plain.split("\n\nparameters")[0]
    assert out.startswith(head)  # the one-step table as without --unroll, then the loop
    assert "L = 4 calls of nn.GRUCell carrying h, vs one call of nn.GRU with its weights" in " ".join(
        out.split()
    )
    assert "    hx = gru_cell(input[i], hx)" in out
    code, out, _ = run_cli(
        capsys, "rnn", "--kind", "lstm-cell", "--seq-len", "2", "--batch", "3", "--input-size", "10",
        "--hidden-size", "20", "--unroll", "--format", "json",
    )  # fmt: skip
    assert code == 0
    unroll = json.loads(out)["unroll"]
    assert unroll["method"] == "cell" and unroll["steps"] == 2 and unroll["agree"] is True
    assert {s["code"]: s["shape"] for s in unroll["step_shapes"]} == {
        "input": [2, 3, 10],
        "input[i]": [3, 10],
        "hx": [3, 20],
        "cx": [3, 20],
        "torch.stack(output)": [2, 3, 20],
        "h_n": [1, 3, 20],
        "c_n": [1, 3, 20],
    }
    assert set(unroll["max_abs_diff"]) == {"output", "h_n", "c_n"}
    assert "    hx, cx = lstm_cell(input[i], (hx, cx))" in unroll["code"]
