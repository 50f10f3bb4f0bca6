"""The diagnoses of a broken model beyond a layer's input width: a hidden state of the wrong
shape, a kernel larger than its input, an index out of an embedding's range, an error in the
model's own code, and the silent sequence-first mistake. Each fix is re-run here, on torch,
by the test itself."""

from __future__ import annotations

import ast
import inspect
import json
import re
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import torchshape
from tests.models import broken
from tests.test_model import MODELS, run
from torchshape.families.model.load import ModelFailed


def error_of(command: str) -> dict[str, Any]:
    code, out, err = run(f"model {MODELS}/broken.py:{command} --format json")
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("torchshape: error: the model failed in ")
    error: dict[str, Any] = json.loads(out)["error"]
    return error


def captured(
    model: nn.Module, inputs: list[torch.Tensor], path: str
) -> tuple[tuple[Any, ...], BaseException]:
    """What reached the module at ``path`` when the model raised, and torch's error (this test's hook)."""
    layer = dict(model.named_modules())[path]
    seen: list[tuple[Any, ...]] = []
    handle = layer.register_forward_pre_hook(lambda m, args: seen.append(args))
    with pytest.raises(Exception) as raised:
        model.eval()(*inputs)
    handle.remove()
    return seen[-1], raised.value


def expected_hidden(message: str) -> tuple[int, ...]:
    """The shape torch's own error says the layer expected: 'Expected hidden size (1, 4, 16), got ...'."""
    found = re.search(r"Expected hidden(?:\[0\])? size \(([\d, ]+)\)", message)
    assert found is not None, message
    return tuple(int(d) for d in found.group(1).split(","))


@pytest.mark.parametrize(
    ("name", "shapes", "make"),
    [
        (
            "BrokenHandoff",
            "--input 4,7:int64 --input 4,5:int64",
            lambda: [torch.randint(0, 20, (4, 7)), torch.randint(0, 20, (4, 5))],
        ),
        (
            "BrokenHandoffLSTM",
            "--input 7,4,8 --input 5,4,8",
            lambda: [torch.randn(7, 4, 8), torch.randn(5, 4, 8)],
        ),
    ],
)
def test_a_bidirectional_hand_off_is_diagnosed_and_both_fixes_run(name: str, shapes: str, make: Any) -> None:
    error = error_of(f"{name} {shapes}")
    model = getattr(broken, name)()
    (x, state), torch_error = captured(model, make(), "decoder")
    lstm = isinstance(state, tuple)
    h_n = state[0] if lstm else state
    assert error["layer"] == "decoder" and error["argument"] == "h_0"
    assert error["got"] == list(h_n.shape) and error["source"] == "encoder"
    wanted = expected_hidden(str(torch_error))
    assert f"= {torchshape.shapes.shape_text(wanted)}" in error["expects"]
    assert error["where"].startswith("tests/models/broken.py:") or error["where"].startswith(str(MODELS))
    assert "self.decoder(" in error["where"]
    decoder = dict(model.named_modules())["decoder"]
    assert [fix["verified"] for fix in error["fixes"]] == [True, True]
    for fix in error["fixes"]:
        # the hand-off as printed, run here on the real h_n (and c_n), then the decoder it names
        names: dict[str, Any] = {"torch": torch, "h_n": state[0] if lstm else state}
        if lstm:
            names["c_n"] = state[1]
        exec("\n".join(fix["code"]), names)
        given = (names["h_0"], names["c_0"]) if lstm else names["h_0"]
        layer = eval(fix["module"], {"nn": nn}) if fix["change"].startswith("hidden_size=") else decoder
        _, final = layer.eval()(x, given)
        final_h = final[0] if lstm else final
        assert final_h.shape[1] == x.shape[1 if not layer.batch_first else 0]
    with pytest.raises(RuntimeError):  # and torch refuses the state as it arrived
        decoder(x, state)


def test_a_kernel_larger_than_its_input_gets_a_padding_and_a_kernel_that_fit() -> None:
    error = error_of("BrokenKernel --input 2,1,8,8")
    model = broken.BrokenKernel()
    (x,), torch_error = captured(model, [torch.randn(2, 1, 8, 8)], "features.3")
    assert "Kernel size can't be greater than actual input size" in str(torch_error)
    assert error["layer"] == "features.3" and error["got"] == list(x.shape) == [2, 4, 2, 2]
    assert "H_in + 2·padding ≥ dilation·(kernel_size − 1) + 1" in error["expects"]
    assert [fix["change"] for fix in error["fixes"]] == ["padding=1", "kernel_size=2"]
    assert all(fix["verified"] for fix in error["fixes"])
    assert tuple(nn.Conv2d(4, 8, 3, padding=1)(x).shape) == (2, 8, 2, 2)
    assert tuple(nn.Conv2d(4, 8, 2)(x).shape) == (2, 8, 1, 1)


def test_a_pool_window_larger_than_its_input() -> None:
    error = error_of("BrokenPoolKernel --input 2,2,5")
    model = broken.BrokenPoolKernel()
    (x,), _ = captured(model, [torch.randn(2, 2, 5)], "pool")
    assert error["got"] == list(x.shape) == [2, 2, 3]
    assert "L_in + 2·padding ≥" in error["expects"]
    fixes = {fix["change"]: fix["verified"] for fix in error["fixes"]}
    assert fixes == {"padding=1": True, "kernel_size=3": True}
    assert nn.MaxPool1d(4, padding=1)(x).shape[-1] >= 1 and nn.MaxPool1d(3, stride=4)(x).shape[-1] >= 1


def test_an_index_out_of_range_names_the_range_and_the_table_that_fits() -> None:
    error = error_of("BrokenPositions --input 2,12:int64")
    model = broken.BrokenPositions()
    (indices,), torch_error = captured(model, [torch.randint(0, 8, (2, 12))], "positions")
    assert isinstance(torch_error, IndexError)
    assert error["layer"] == "positions" and error["expects"] == "0 ≤ index < num_embeddings = 8"
    high = int(indices.max())
    assert f"run from {int(indices.min())} to {high}" in error["detail"]
    assert error["fixes"] == [
        {
            "change": f"num_embeddings={high + 1}",
            "module": f"nn.Embedding({high + 1}, 16)",
            "verified": True,
            "on": None,
            "why": None,
            "code": [],
        }
    ]
    assert tuple(nn.Embedding(high + 1, 16)(indices).shape) == (2, 12, 16)


def test_an_error_in_the_models_own_code_names_the_line_and_the_last_module() -> None:
    error = error_of("BrokenView --input 3,6")
    lines, start = inspect.getsourcelines(broken.BrokenView.forward)
    number = start + next(i for i, line in enumerate(lines) if ".view(-1, 7)" in line)
    assert error["layer"] == "" and error["fixes"] == []
    assert error["where"].endswith(f"broken.py:{number} in forward: return self.fc(x).view(-1, 7)")
    assert error["last_module"] == "fc (nn.Linear) → (3, 6)"
    with pytest.raises(RuntimeError, match="invalid for input of size 18"):
        broken.BrokenView()(torch.randn(3, 6))


@pytest.mark.parametrize(
    ("name", "shape", "make", "path"),
    [
        ("SeqFirstByMistake", "4,10:int64", lambda: torch.randint(0, 100, (4, 10)), "rnn"),
        ("ConvThenSeqFirst", "4,3,20", lambda: torch.randn(4, 3, 20), "rnn"),
    ],
)
def test_a_sequence_first_layer_fed_batch_first_is_a_warning_with_checked_evidence(
    name: str, shape: str, make: Any, path: str
) -> None:
    code, out, err = run(f"model {MODELS}/broken.py:{name} --input {shape} --format json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["ok"] is True and data["error"] is None
    (warning,) = data["warnings"]
    assert warning["layer"] == path and warning["verified"] is True
    model = getattr(broken, name)()
    x = make()
    seen: list[torch.Tensor] = []
    layer = dict(model.named_modules())[path]
    layer.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    model.eval()(x)
    arrived = seen[0]
    assert arrived.shape[0] == x.shape[0]  # the model's batch, read by torch as L
    kind = type(layer)
    fixed = kind(layer.input_size, layer.hidden_size, batch_first=True)
    _, state = fixed(arrived)
    h_n = state[0] if isinstance(state, tuple) else state
    assert f"h_n {torchshape.shapes.shape_text(tuple(h_n.shape))}" in warning["evidence"]
    assert h_n.shape[1] == x.shape[0]


@pytest.mark.parametrize(
    "command",
    [
        "seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64",
        "crnn.py:CRNN --input 2,1,32,100",
        "cell_loop.py:CellLoop --input 5,3,8",
        "transformer.py:TinyTransformer --input 2,6:int64",
    ],
)
def test_no_warning_where_the_layout_is_consistent(command: str) -> None:
    code, out, _ = run(f"model {MODELS}/{command} --format json")
    assert code == 0
    assert json.loads(out)["warnings"] == []


def test_the_python_api_raises_with_the_report_and_its_diagnosis() -> None:
    with pytest.raises(ModelFailed, match="the model failed in head") as raised:
        torchshape.trace(broken.Broken(), torch.randn(2, 4, 12))
    diagnosis = raised.value.report.probe.analysis.diagnosis
    assert diagnosis.layer == "head" and diagnosis.fixes[0].verified


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dims=st.integers(1, 3),
    kernel=st.integers(2, 7),
    dilation=st.integers(1, 2),
    pool=st.booleans(),
    data=st.data(),
)
def test_random_windows_that_do_not_fit_get_fixes_torch_accepts(
    dims: int, kernel: int, dilation: int, pool: bool, data: st.DataObject
) -> None:
    """Drawn convolutions and pools on an input too small for their window: both fixes are
    re-run here; where torch refuses, the report must not say verified."""
    span = dilation * (kernel - 1) + 1
    padding = data.draw(st.integers(0, min((span - 2) // 2, kernel // 2 if pool else 2)))
    size = data.draw(st.integers(1, span - 1 - 2 * padding))
    layer: nn.Module
    if pool:
        layer = getattr(nn, f"MaxPool{dims}d")(kernel, padding=padding, dilation=dilation)
    else:
        layer = getattr(nn, f"Conv{dims}d")(2, 3, kernel, padding=padding, dilation=dilation)
    x = torch.randn(1, 2, *([size] * dims))
    with pytest.raises(RuntimeError):  # torch refuses the layer as drawn
        layer(x)
    with pytest.raises(ModelFailed) as raised:
        torchshape.trace(nn.Sequential(layer), x)
    diagnosis = raised.value.report.probe.analysis.diagnosis
    assert diagnosis.layer == "0" and diagnosis.got == tuple(x.shape)
    assert [fix.change.split("=")[0] for fix in diagnosis.fixes] == ["padding", "kernel_size"]
    for fix in diagnosis.fixes:
        name, value = fix.change.split("=", 1)
        kwargs = {
            "kernel_size": kernel,
            "padding": padding,
            "dilation": dilation,
            name: ast.literal_eval(value),
        }
        if pool:
            rebuilt = getattr(nn, f"MaxPool{dims}d")(**kwargs)
        else:
            rebuilt = getattr(nn, f"Conv{dims}d")(2, 3, **kwargs)
        try:
            rebuilt(x)
            accepted = True
        except RuntimeError:
            accepted = False
        assert fix.verified is accepted, (fix, kwargs)


@pytest.mark.parametrize(
    "command",
    [
        "BrokenHandoff --input 4,7:int64 --input 4,5:int64",
        "BrokenHandoffLSTM --input 7,4,8 --input 5,4,8",
        "BrokenLSTM --input 4,10:int64",
        "BrokenKernel --input 2,1,8,8",
        "BrokenFlatten --input 2,3,12,12",
        "BrokenConv --input 2,3,10,10",
    ],
)
def test_meta_diagnoses_as_the_cpu_does(command: str) -> None:
    """Recurrent layers on meta check their input and state as torch does, so a broken model
    fails at the same layer there, with the same diagnosis and fixes."""
    on_cpu = error_of(command)
    on_meta = error_of(f"{command} --device meta")
    keys = ("layer", "module", "expects", "got", "source", "argument", "fixes")
    assert {k: on_meta[k] for k in keys} == {k: on_cpu[k] for k in keys}
