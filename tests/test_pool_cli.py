"""torchshape pool on the command line and in Python: the Python API's errors, formats, the
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
from tests.test_pool_against_torch import pool_settings
from torchshape import inspect_pool
from torchshape.errors import UsageError
from torchshape.families.pool.request import make_spec
from torchshape.families.pool.spec import FLAGS, command_line


def test_json_has_rnns_keys_and_dims(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "pool", "--size", "8,7", "--kernel-size", "2", "--padding", "1")
    assert code == 0
    code, out, _ = run_line("pool --size 8,7 --kernel-size 2 --padding 1 --ceil-mode --format json")
    doc = json.loads(out)
    core = ["schema_version", "torchshape_version", "command", "config", "module", "call", "symbols"]
    core += ["tensors", "ok", "notes", "run", "parameters", "totals", "timing", "dims"]
    assert list(doc) == core
    assert doc["command"] == "pool" and doc["ok"] is True
    assert doc["config"]["kernel_size"] == [2, 2] and doc["config"]["ceil_mode"] is True
    assert doc["module"] == "nn.MaxPool2d(2, padding=1, ceil_mode=True)"
    assert doc["symbols"] == {"N": 2, "C": 5, "H_in": 8, "W_in": 7, "H_out": 5, "W_out": 4}
    assert doc["parameters"] == [] and doc["totals"]["params"] == 0 and doc["totals"]["macs"] == 0
    h, w = doc["dims"]
    assert h == {
        "axis": "H",
        "formula": "H_out = ⌈(H_in + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0] + 1⌉",
        "numeric": "⌈(8 + 2·1 − 1·(2 − 1) − 1) / 2 + 1⌉ = 5",
        "value": 5,
    }
    assert (
        w["numeric"]
        == "⌈(7 + 2·1 − 1·(2 − 1) − 1) / 2 + 1⌉ − 1 = 4 (the last window would start in the right padding)"
    )
    assert any("ceil_mode on W" in note for note in doc["notes"])


def test_the_ceil_rule_shows_only_where_it_changes_the_size(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "pool", "--size", "8", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--ceil-mode"
    )
    assert code == 0
    assert "⌈(8 + 2·1 − 1·(3 − 1) − 1) / 2 + 1⌉ = 5\n" in out  # ⌊…⌋ would be 4: ceil_mode adds a window
    assert "ceil_mode on" not in out and "right padding" not in out
    code, out, _ = run_cli(
        capsys, "pool", "--size", "7,8", "--kernel-size", "2", "--padding", "1", "--ceil-mode"
    )
    assert "ceil_mode on H:" in out and "(the last window would start in the right padding)" in out


def test_avg_and_lp_rules_are_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_line("pool --kind avg --dims 1 --size 10 --kernel-size 4 --padding 2 --format json")
    assert json.loads(out)["dims"][0]["formula"] == "L_out = ⌊(L_in + 2·padding − kernel_size) / stride + 1⌋"
    assert json.loads(out)["dims"][0]["numeric"] == "⌊(10 + 2·2 − 4) / 4 + 1⌋ = 3"
    _, out, _ = run_cli(capsys, "pool", "--kind", "lp", "--format", "json")
    rule = json.loads(out)["dims"][0]
    assert rule["formula"] == "H_out = ⌊(H_in − kernel_size[0]) / stride[0] + 1⌋"
    assert rule["numeric"] == "⌊(28 − 3) / 3 + 1⌋ = 9"


def test_adaptive_output_larger_than_the_input_is_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_line("pool --kind adaptive-avg --size 3,2 --output-size 5,4 --explain --format json")
    doc = json.loads(out)
    assert code == 0 and doc["tensors"][1]["shape"] == [2, 5, 5, 4]
    assert doc["dims"][0] == {"axis": "H", "formula": "H_out = output_size[0]", "numeric": "5", "value": 5}
    windows = doc["explain"][0]
    assert windows["topic"] == "adaptive windows" and windows["holds"] is True
    assert windows["axes"][0]["windows"] == [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]]
    assert windows["axes"][0]["overlap"] is True


def test_explain_shows_unreached_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "pool", "--explain")
    assert code == 0
    out = " ".join(out.split())  # the table wraps long lines at 80 columns
    assert "H: position 27 (1 of 28) read by no window" in out
    assert "W: positions 18 to 19 (2 of 20) read by no window" in out
    assert "✗" not in out


def test_params_shows_an_empty_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "pool", "--params", "--format", "markdown")
    assert code == 0
    assert "parameters 0 ✓ · 0 MACs" in out
    assert "a pool has no parameters: named_parameters() of nn.MaxPool2d(3) is empty" in out
    assert "| total |  |  | 0 |  |" in out


def test_csv_has_a_row_per_output_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "pool", "--dims", "3", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    dims = [row for row in rows if row[7] == "dim"]
    assert [(row[0], row[3], row[5], row[8]) for row in dims] == [
        ("D_out", "true", "4", "4"),
        ("H_out", "true", "9", "9"),
        ("W_out", "true", "6", "6"),
    ]
    assert ["params", "", "", "true", "formula", "", "", "total", "0"] in rows


@given(pool_settings())
def test_the_command_line_gives_the_same_spec(raw: dict[str, Any]) -> None:
    try:
        spec = make_spec(**raw)
    except UsageError:
        spec = None
    if spec is not None:
        assert spec_of_command_line("pool", command_line(spec)) == spec


def test_python_errors_name_the_argument() -> None:
    with pytest.raises(UsageError) as caught:
        inspect_pool(kind="avg", dilation=2)
    assert str(caught.value) == "dilation=2: nn.AvgPool2d has no dilation; only kind='max' takes it"
    with pytest.raises(UsageError) as caught:
        inspect_pool(size=(1, 2, 3))
    assert str(caught.value).startswith("size=(1, 2, 3): 3 values for dims=2; ")
    with pytest.raises(UsageError) as caught:
        inspect_pool(size=3, kernel_size=5)
    assert str(caught.value).endswith("the smallest size that works on H is 5")
    assert FLAGS["kernel_size"] == "--kernel-size"


def test_python_api_returns_the_report() -> None:
    import torchshape

    report = torchshape.inspect_pool(kind="max", size=(8, 7), kernel_size=2, ceil_mode=True, explain=True)
    assert report.ok and report.family == "pool"
    assert [row.shape for row in report.rows] == [(2, 5, 8, 7), (2, 5, 4, 4)]


def test_time_runs_the_pool(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "pool", "--time", "--repeats", "2", "--format", "json")
    assert code == 0
    timing = json.loads(out)["timing"]
    assert timing["repeats"] == 2 and timing["macs"] == 0
