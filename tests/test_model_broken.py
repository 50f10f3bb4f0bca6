"""torchshape model on a model whose forward raises: the trace up to the failing call, the
diagnosis, and fixes that the test itself re-runs on torch."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import torch
from torch import nn

from tests.models import broken
from tests.test_model import MODELS, run
from torchshape.families.model import diagnose as diagnose_module


def failing_call(model: nn.Module, inputs: list[torch.Tensor]) -> tuple[str, tuple[int, ...], list[str]]:
    """The innermost module that raised, the shape that arrived at it, and the paths of the
    calls that finished, from this test's own hooks."""
    names = {id(m): p for p, m in model.named_modules()}
    stack: list[tuple[str, tuple[int, ...]]] = []
    finished: list[str] = []

    def pre(m: nn.Module, args: Any) -> None:
        stack.append((names[id(m)], tuple(args[0].shape)))

    def post(m: nn.Module, args: Any, out: Any) -> None:
        finished.append(stack.pop()[0])

    handles = [
        h for m in model.modules() for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))
    ]
    with pytest.raises(Exception):  # noqa: B017 - any of the model's own errors
        model.eval()(*inputs)
    for h in handles:
        h.remove()
    path, shape = stack[-1]
    return path, shape, finished


# (class, --input, inputs for the test, changed argument, the value torch needs, source row)
CASES = [
    ("BrokenLSTM", "4,10:int64", lambda: [torch.randint(0, 50, (4, 10))], "input_size", 32, "emb"),
    ("BrokenFlatten", "2,3,12,12", lambda: [torch.randn(2, 3, 12, 12)], "in_features", 200, "flat"),
    ("BrokenConv", "2,3,10,10", lambda: [torch.randn(2, 3, 10, 10)], "in_channels", 16, "features.1"),
    ("Broken", "2,4,12", lambda: [torch.randn(2, 4, 12)], "in_features", 10, "conv"),
]


def rebuilt(layer: nn.Module, argument: str, value: int) -> nn.Module:
    """The layer built again by this test, from its own attributes, with one argument changed."""
    if isinstance(layer, nn.LSTM):
        return nn.LSTM(value, layer.hidden_size, num_layers=layer.num_layers, batch_first=layer.batch_first)
    if isinstance(layer, nn.Linear):
        return nn.Linear(value, layer.out_features)
    assert isinstance(layer, nn.Conv2d)
    return nn.Conv2d(value, layer.out_channels, layer.kernel_size, layer.stride, layer.padding)


@pytest.mark.parametrize(("name", "shape", "make", "argument", "value", "source"), CASES)
def test_the_diagnosis_and_its_fix_hold_on_torch(
    name: str, shape: str, make: Any, argument: str, value: int, source: str
) -> None:
    model = getattr(broken, name)()
    path, arrived, finished = failing_call(model, make())
    code, out, err = run(f"model {MODELS}/broken.py:{name} --input {shape} --format json")
    assert code == 1
    layer = dict(model.named_modules())[path]
    assert (
        err
        == f"torchshape: error: the model failed in {path} (nn.{type(layer).__name__}); see the trace above\n"
    )
    data = json.loads(out)
    assert data["ok"] is False
    error = data["error"]
    assert error["layer"] == path and error["got"] == list(arrived) and error["source"] == source
    assert f"{argument} = {getattr(layer, argument)}" in error["expects"]
    assert error["message"].splitlines() == [error["message"]]
    # the trace: every call that finished, then the failing one marked, outputs none
    rows = data["layers"]
    failed = [row for row in rows if row["path"] == path]
    assert len(failed) == 1 and failed[0]["failed"] is True and failed[0]["outputs"] == []
    assert failed[0]["inputs"][0]["shape"] == list(arrived)
    assert [row["path"] for row in rows if row["outputs"]] == [p for p in finished if p != ""]
    # the fix: the test rebuilds the layer with it and runs it on a tensor of the arrived shape
    fix = error["fixes"][0]
    assert fix["change"] == f"{argument}={value}" and fix["verified"] is True
    torch.manual_seed(0)
    result = rebuilt(layer, argument, value)(torch.randn(arrived))
    assert isinstance(result, (torch.Tensor, tuple))
    # and torch refuses the layer as it was, on the same tensor
    with pytest.raises(RuntimeError):
        layer(torch.randn(arrived))


def test_a_wrong_fix_is_not_marked_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(module: nn.Module, arrived: torch.Tensor) -> list[tuple[str, dict[str, Any]]]:
        return [("in_features=199", {"in_features": 199})]

    monkeypatch.setattr(diagnose_module, "proposals", wrong)
    code, out, _ = run(f"model {MODELS}/broken.py:BrokenFlatten --input 2,3,12,12 --format json")
    assert code == 1
    fixes = json.loads(out)["error"]["fixes"]
    assert fixes[0] == {
        "change": "in_features=199",
        "module": "nn.Linear(in_features=199, out_features=10, bias=True)",
        "verified": False,
        "on": None,
        "why": None,
        "code": [],
    }
    with pytest.raises(RuntimeError):  # the test's own check that torch refuses it
        nn.Linear(199, 10)(torch.randn(2, 200))


def test_the_flatten_product_is_named() -> None:
    code, out, _ = run(f"model {MODELS}/broken.py:BrokenFlatten --input 2,3,12,12")
    assert code == 1
    assert "C·H·W = 8·5·5 = 200" in out
    assert "fc requires H_in = in_features = 100" in out
    assert "it got (2, 200), from the output of flat" in out
    code, out, _ = run(f"model {MODELS}/broken.py:Broken --input 2,4,12 --format json")
    fixes = json.loads(out)["error"]["fixes"]
    assert fixes[1]["change"] == "flatten(1) first, in_features=80" and fixes[1]["verified"] is True
    nn.Linear(80, 2)(torch.randn(2, 8, 10).flatten(1))  # the test's own check


def test_other_failures_show_the_trace_and_no_fix() -> None:
    code, out, err = run(f"model {MODELS}/broken.py:BrokenView --input 2,6")
    assert code == 1
    assert "fc" in out and "shape '[-1, 7]' is invalid for input of size 12" in out
    assert "no fix torchshape can check" in out
    assert err == "torchshape: error: the model failed in (model) (BrokenView); see the trace above\n"


def test_a_wrong_dtype_on_the_cpu_is_not_called_a_meta_failure() -> None:
    """A bool input into a float convolution raises on the CPU; the error line names the layer,
    and says nothing of meta (the dtype diagnosis has a fix of its own)."""
    with pytest.raises(RuntimeError, match="bool"):
        broken.Broken()(torch.ones(4, 10, dtype=torch.bool))  # torch's own refusal
    code, out, err = run(f"model {MODELS}/broken.py:Broken --input 4,10:bool")
    assert code == 1 and "fix: the dtype: --input 4,10:float32" in out
    assert err == "torchshape: error: the model failed in conv (nn.Conv1d); see the trace above\n"


@pytest.mark.parametrize("fmt", ["markdown", "csv", "table"])
def test_every_format_carries_the_diagnosis(fmt: str) -> None:
    code, out, _ = run(f"model {MODELS}/broken.py:BrokenLSTM --input 4,10:int64 --format {fmt}")
    assert code == 1
    assert "input_size=32" in out and "input.size(-1) must be equal to input_size" in out
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        kinds = {row[7]: row for row in rows[1:]}
        assert kinds["error"][0] == "rnn" and kinds["error"][5] == "(4, 10, 32)"
        assert kinds["fix"][1] == "input_size=32" and kinds["fix"][3] == "true"


def test_output_file_gets_the_report_and_stderr_one_line(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(f"model {MODELS}/broken.py:BrokenConv --input 2,3,10,10 --output r.json")
    assert code == 1 and out == ""
    assert err == "torchshape: error: the model failed in features.2 (nn.Conv2d); see r.json\n"
    assert json.loads((tmp_path / "r.json").read_text())["error"]["fixes"][0]["verified"] is True


def test_the_python_api_still_raises() -> None:
    import torchshape
    from torchshape.families.model.load import ModelFailed

    with pytest.raises(ModelFailed, match="the model failed in head"):
        torchshape.trace(broken.Broken(), torch.randn(2, 4, 12))


def test_the_docs_excerpt_is_what_torchshape_prints() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "model.md").read_text(encoding="utf-8")
    command = "torchshape model tests/models/broken.py:BrokenFlatten --input 2,3,12,12"
    after = doc[doc.index(f"`{command}`") :]
    start = after.index("```text\n") + len("```text\n")
    excerpt = after[start : after.index("\n```", start)]
    assert excerpt.count("\n") > 10  # the trace and the diagnosis
    code, out, _ = run(command.removeprefix("torchshape ").replace("tests/models", str(MODELS)))
    assert code == 1
    assert excerpt in out


def test_markdown_has_the_diagnosis_as_text_after_the_trace() -> None:
    code, out, _ = run(f"model {MODELS}/broken.py:BrokenConv --input 2,3,10,10 --format markdown")
    assert code == 1
    block = out[out.index("```text") : out.index("```\n", out.index("```text") + 3)]
    assert "features.2" in block and "diagnosis" not in block
    after = out[out.index("diagnosis: where forward raised") :]
    assert "C_in = in_channels = 8" in after and "in_channels=16" in after


@pytest.mark.parametrize(
    "layer", [nn.GRU(5, 3), nn.GRUCell(5, 3), nn.RNNCell(5, 3, nonlinearity="relu"), nn.Conv1d(5, 2, 1)]
)
def test_recurrent_layers_cells_and_conv1d_get_a_checked_fix(layer: nn.Module) -> None:
    from torchshape.families.model.tracing import trace_module

    model = nn.Sequential(nn.Linear(4, 6), layer)
    trace = trace_module(model, (torch.randn(2, 4),))
    diagnosis = trace.diagnosis
    assert diagnosis is not None and diagnosis.layer == "1" and diagnosis.source == "0"
    assert not trace.ok and trace.layers[-1].failed and trace.layers[-1].verified is False
    assert len(diagnosis.fixes) == 1 and diagnosis.fixes[0].verified
    # the test's own rebuild with the proposed value, on the (2, 6) that arrived
    if isinstance(layer, nn.Conv1d):
        assert diagnosis.fixes[0].change == "in_channels=2"  # an unbatched (C, L): C = 2
        nn.Conv1d(2, 2, 1)(torch.randn(2, 6))
    else:
        assert diagnosis.fixes[0].change == "input_size=6"
        type(layer)(6, 3)(torch.randn(2, 6))
