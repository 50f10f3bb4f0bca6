"""torchshape embedding on the command line and in Python: the Python API's errors, formats, the
command. Its bad command lines, environment problems and --help: tests/test_usage.py; its script:
tests/test_reproduce.py."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import given

from tests.conftest import run_cli, run_line, spec_of_command_line
from tests.test_embedding import embedding_settings
from torchshape import inspect_embedding
from torchshape.errors import UsageError
from torchshape.families.embedding.request import make_spec
from torchshape.families.embedding.spec import FLAGS, command_line


def test_json_has_the_common_keys_and_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    bag = "embedding --bag --mode sum --offsets 0,2,2,5 --include-last-offset --per-sample-weights"
    code, out, _ = run_line(f"{bag} --format json")
    assert code == 0
    doc = json.loads(out)
    core = ["schema_version", "torchshape_version", "command", "config", "module", "call", "symbols"]
    core += ["tensors", "ok", "notes", "run", "parameters", "totals", "timing", "rule"]
    assert list(doc) == core
    assert doc["command"] == "embedding" and doc["ok"] is True
    assert doc["module"] == 'nn.EmbeddingBag(100, 16, mode="sum", include_last_offset=True)'
    assert doc["call"] == "output = bag(input, offsets, per_sample_weights=per_sample_weights)"
    assert doc["symbols"] == {"L": 5, "O": 4, "B": 3, "embedding_dim": 16, "num_embeddings": 100}
    assert [(t["name"], t["shape"]) for t in doc["tensors"]] == [
        ("input", [5]),
        ("offsets", [4]),
        ("per_sample_weights", [5]),
        ("output", [3, 16]),
    ]
    assert doc["config"]["offsets"] == [0, 2, 2, 5] and doc["config"]["include_last_offset"] is True
    assert doc["rule"] == {
        "formula": "B = len(offsets) − 1: with include_last_offset the last offset ends the last bag",
        "numeric": "B = 4 − 1 = 3",
        "value": 3,
        "bags": [[0, 2], [2, 2], [2, 5]],
    }
    assert doc["totals"]["params"] == 1600 and doc["totals"]["macs"] == 0
    assert doc["parameters"][0]["formula"] == "(num_embeddings, embedding_dim)"
    assert any("Bag(s) 1 hold no index" in note for note in doc["notes"])


def test_explain_in_json_on_the_cpu_and_on_meta(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["embedding", "--bag", "--offsets", "0,3,3", "--padding-idx", "0", "--max-norm", "1", "--explain"]
    code, out, _ = run_cli(capsys, *args, "--format", "json")
    assert code == 0
    topics = {f["topic"]: f for f in json.loads(out)["explain"]}
    assert list(topics) == ["index range", "padding_idx", "bags", "empty bags", "max_norm"]
    assert all(f["holds"] is True for f in topics.values())
    assert topics["empty bags"]["bags"] == [1]  # bag 2 is [3, 5): L defaults to the last offset + 2
    code, out, _ = run_cli(capsys, *args, "--format", "json", "--device", "meta")
    assert code == 0
    assert all(f["holds"] is None and f["detail"] == "no values on meta" for f in json.loads(out)["explain"])


def test_params_shows_the_weight(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "embedding", "--padding-idx", "-1", "--params", "--format", "markdown")
    assert code == 0
    assert "parameters 1,600 ✓ · 0 MACs" in out
    assert "| weight | (num_embeddings, embedding_dim) | (100, 16) | 1,600 | ✓ |" in out
    assert "init: weight starts as N(0, 1), and its padding_idx row 99 as zeros" in out


def test_csv_has_a_row_for_b(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "embedding", "--bag", "--bags", "6", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert [row for row in rows if row[7] == "dim"] == [
        [
            "B",
            "B = input.shape[0]: bag i is input[i], its K indices",
            "",
            "true",
            "forward",
            "6",
            "6",
            "dim",
            "6",
        ]
    ]
    _, out, _ = run_cli(capsys, "embedding", "--format", "csv")
    assert not [row for row in csv.reader(io.StringIO(out)) if row[7] == "dim"]


@given(embedding_settings())
def test_the_command_line_gives_the_same_spec(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    assert spec_of_command_line("embedding", command_line(spec)) == spec


def test_python_errors_name_the_argument() -> None:
    with pytest.raises(UsageError) as caught:
        inspect_embedding(num_embeddings=10, padding_idx=10)
    assert str(caught.value) == (
        "padding_idx=10: 10 is out of range for num_embeddings=10: an index must be from -10 to 9 "
        "(torch: Padding_idx must be within num_embeddings)"
    )
    with pytest.raises(UsageError) as caught:
        inspect_embedding(bag=True, per_sample_weights=True, mode="max")
    assert str(caught.value).startswith("per_sample_weights=True: only with mode='sum', not mode='max'")
    with pytest.raises(UsageError) as caught:
        inspect_embedding(mode="sum")
    assert (
        str(caught.value)
        == "mode='sum': nn.Embedding has no mode: it belongs to nn.EmbeddingBag; add bag=True"
    )
    with pytest.raises(TypeError):
        inspect_embedding(kind="bag")
    assert FLAGS["include_last_offset"] == "--include-last-offset"


def test_python_api_returns_the_report() -> None:
    import torchshape

    report = torchshape.inspect_embedding(shape=(), explain=True)
    assert report.ok and report.family == "embedding"
    assert [row.shape for row in report.rows] == [(), (16,)]
    report = torchshape.inspect_embedding(bag=True, offsets=(0, 2, 2), include_last_offset=True, shape=2)
    assert report.ok and report.rows[-1].shape == (2, 16)


def test_time_runs_the_lookup(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "embedding", "--bag", "--time", "--repeats", "2", "--format", "json")
    assert code == 0
    timing = json.loads(out)["timing"]
    assert timing["repeats"] == 2 and timing["macs"] == 0
