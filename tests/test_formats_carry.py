"""Every format carries what the terminal table carries, or refuses the flag by name.

Truth is torch: the parameter names, shapes and counts each format shows are compared
with ``named_parameters()`` of a module the test builds itself.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import json
import os
import re
import shlex
import tempfile
import xml.dom.minidom
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.strategies import settings
from tests.truth import torch_module
from torchshape.cli import main
from torchshape.families.rnn.request import make_spec
from torchshape.units import human_bytes

TEXT_FORMATS = ["table", "markdown", "svg"]


def run(capsys: pytest.CaptureFixture[str] | None, *args: str) -> tuple[int, str, str]:
    """``main(args)``, stdout and stderr captured here (hypothesis tests pass no fixture)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def flags_for(raw: dict[str, Any]) -> list[str]:
    """The command line for raw settings (as tests.strategies draws them)."""
    words = ["rnn", "--kind", raw["kind"], "--input-size", str(raw["input_size"])]
    words += ["--hidden-size", str(raw["hidden_size"]), "--layers", str(raw["num_layers"])]
    words += ["--seq-len", str(raw["seq_len"]), "--dropout", str(raw["dropout"]), "--dtype", raw["dtype"]]
    for flag, key in (
        ("--bidir", "bidirectional"),
        ("--batch-first", "batch_first"),
        ("--unbatched", "unbatched"),
    ):
        if raw[key]:
            words.append(flag)
    if not raw["bias"]:
        words.append("--no-bias")
    if "batch" in raw:
        words += ["--batch", str(raw["batch"])]
    if raw.get("proj_size"):
        words += ["--proj-size", str(raw["proj_size"])]
    if raw.get("nonlinearity"):
        words += ["--nonlinearity", raw["nonlinearity"]]
    return words


def svg_text(document: str) -> str:
    """The text an SVG shows, one line per terminal row."""
    dom = xml.dom.minidom.parseString(document)
    rows: dict[str, str] = {}
    for node in dom.getElementsByTagName("text"):
        y = node.getAttribute("y")
        rows[y] = rows.get(y, "") + "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE)
    return "\n".join(rows[y] for y in sorted(rows, key=float)).replace("\xa0", " ")


def shown_text(fmt: str, out: str) -> str:
    return svg_text(out) if fmt == "svg" else out


@hypothesis_settings(max_examples=12)
@given(settings(max_layers=3), st.sampled_from(["table", "markdown", "svg", "txt", "md"]))
def test_params_time_and_footer_reach_every_text_format(raw: dict[str, Any], where: str) -> None:
    capsys = None
    args = [*flags_for(raw), "--params", "--time", "--repeats", "1", "--warmup", "0"]
    if where in ("txt", "md"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"report.{where}"
            code, out, err = run(capsys, *args, "--output", str(path))
            assert (code, out, err) == (0, "", "")
            text = path.read_text(encoding="utf-8")
    else:
        code, out, err = run(capsys, *args, "--format", where)
        assert (code, err) == (0, "")
        text = shown_text(where, out)
    module = torch_module(raw)
    total = sum(p.numel() for p in module.parameters())
    assert f"parameters {total:,} ✓" in text  # the footer, with torch's own count
    assert "MACs" in text and "peak memory" in text
    assert re.search(r"time: median [\d.,]+ ms", text)  # --time
    for name, parameter in module.named_parameters():  # --params: every row, torch's shape
        row = next(line for line in text.splitlines() if re.search(rf"(^|[| ]){name}(?=[ (|]|$)", line))
        assert repr(tuple(parameter.shape)) in row, (name, row)
    assert re.search(rf"\btotal\b.*{total:,}", text)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_explain_lengths_and_unroll_sections_reach_every_text_format(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    for extra in (["--explain", "--lengths", "4,1,3"], ["--unroll", "--bidir"]):
        code, out, err = run(capsys, "rnn", *extra, "--format", fmt)
        assert (code, err) == (0, "")
        text = shown_text(fmt, out)
        if "--explain" in extra:
            assert "output vs h_n (--explain)" in text and "Packed batch (--lengths 4,1,3)" in text
        else:
            assert "Step by step vs one call (--unroll)" in text


def test_csv_carries_parameters_packed_and_step_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    raw = {"kind": "gru", "input_size": 6, "hidden_size": 5, "num_layers": 2, "bidirectional": True}
    code, out, err = run(
        capsys,
        "rnn",
        "--kind",
        "gru",
        "--input-size",
        "6",
        "--hidden-size",
        "5",
        "--layers",
        "2",
        "--bidir",
        "--params",
        "--lengths",
        "4,1,3",
        "--format",
        "csv",
    )
    assert (code, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    params = {r["tensor"]: ast.literal_eval(r["shape"]) for r in rows if r["kind"] == "parameter"}
    full = {**raw, "seq_len": 4, "batch_first": False, "bias": True, "dropout": 0.0, "dtype": "float32"}
    module = torch_module(full)
    assert params == {name: tuple(p.shape) for name, p in module.named_parameters()}
    packed = {r["tensor"]: ast.literal_eval(r["shape"]) for r in rows if r["kind"] == "packed"}
    assert packed["packed.data"] == (8, 6)  # sum(lengths) = 8 real steps
    assert packed["packed_output.data"] == (8, 10)
    totals = {r["tensor"]: int(r["value"]) for r in rows if r["kind"] == "total"}
    assert totals["params"] == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("fmt", "flag"),
    [("csv", "--explain"), ("csv", "--time"), ("python", "--time")],
)
def test_a_flag_a_format_cannot_carry_exits_2_and_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, flag: str
) -> None:
    code, out, err = run(capsys, "rnn", flag, "--format", fmt)
    assert (code, out) == (2, "")
    assert err.startswith(f"torchshape: error: {flag}: not with --format {fmt}") and err.count("\n") == 1
    target = tmp_path / f"x.{'py' if fmt == 'python' else fmt}"
    code, out, err = run(capsys, "rnn", flag, "--output", str(target))
    assert (code, out) == (2, "") and flag in err and not target.exists()


def _reproduce(markdown: str) -> list[str]:
    line = markdown.rstrip("\n").splitlines()[-1]
    found = re.fullmatch(r"Reproduce with `(.+)`", line)
    assert found is not None, line
    words = shlex.split(found[1])
    assert words[0] == "torchshape"
    return words[1:]


def _without_times(text: str) -> str:
    return re.sub(r"\d[\d.,]*( [kMGTP])?( ms|FLOP/s| ms,)", "<t>", text)


@pytest.mark.parametrize(
    "args",
    [
        ["--params", "--time", "--repeats", "2", "--warmup", "1", "--layers", "2"],
        ["--explain", "--lengths", "3,1", "--params", "--bidir"],
        ["--unroll", "--kind", "gru", "--time"],
        ["--kind", "lstm-cell", "--seq-len", "3", "--unroll"],
    ],
)
def test_reproduce_with_gives_the_whole_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    code, first, _ = run(capsys, "rnn", *args, "--format", "markdown")
    assert code == 0
    words = _reproduce(first)
    assert sorted(set(args) & {"--params", "--time", "--explain", "--unroll"}) == sorted(
        set(words) & {"--params", "--time", "--explain", "--unroll"}
    )
    code, again, _ = run(capsys, *words)
    assert code == 0
    assert _without_times(again) == _without_times(first)
    # written to a file: the command names the file, and running it writes the same
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(capsys, "rnn", *args, "--output", "report.md")
    written = (tmp_path / "report.md").read_text(encoding="utf-8")
    words = _reproduce(written)
    assert words[-2:] == ["--output", "report.md"] and "--format" not in words
    (tmp_path / "report.md").unlink()
    assert run(capsys, *words)[0] == 0
    assert _without_times((tmp_path / "report.md").read_text(encoding="utf-8")) == _without_times(written)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "python", "json", "svg"])
def test_piped_output_has_no_trailing_spaces(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    extra = ["--params", "--explain", "--time"] if fmt not in ("csv", "python") else []
    code, out, _ = run(capsys, "rnn", *extra, "--layers", "2", "--bidir", "--format", fmt)
    assert code == 0
    assert [line for line in out.splitlines() if line != line.rstrip()] == []


@hypothesis_settings(max_examples=8)
@given(settings(max_layers=3), st.lists(st.integers(1, 9), min_size=6, max_size=30))
def test_a_pipe_never_breaks_a_line_of_code(raw: dict[str, Any], lengths: list[int]) -> None:
    """Every relation, view and code line of --explain/--lengths is one whole line of the piped table."""
    assume(not raw["unbatched"] and "COLUMNS" not in os.environ)
    capsys = None
    raw = {**raw, "seq_len": max(lengths)}
    raw.pop("batch", None)
    args = [*flags_for(raw), "--explain", "--lengths", ",".join(map(str, lengths))]
    code, table, _ = run(capsys, *args)
    assert code == 0
    code, document, _ = run(capsys, *args, "--format", "json")
    data = json.loads(document)
    code_lines = [
        r[key] for r in data["relations"] + data["packed"]["relations"] for key in ("expression", "numeric")
    ]
    code_lines += data["packed"]["code"]
    lines = [line.strip() for line in table.splitlines()]
    for line in code_lines:
        assert any(line in shown for shown in lines), line
    assert max(len(line) for line in table.splitlines()) >= 80 or all(len(c) < 70 for c in code_lines)


@given(st.integers(0, 2**70))
def test_sizes_are_never_below_one_of_their_unit(n: int) -> None:
    text = human_bytes(n)
    number, unit = text.split(" ")
    if unit != "B":
        assert 1 <= float(number) < 1024, text
    elif "e" not in number:
        assert int(number) == n < 1024


@pytest.mark.parametrize("layers", [5, 6])
def test_meta_parameters_name_the_deeper_layers_right(
    capsys: pytest.CaptureFixture[str], layers: int
) -> None:
    code, out, _ = run(capsys, "rnn", "--layers", str(layers), "--device", "meta", "--params")
    assert code == 0
    assert "layers 4 to 4" not in out
    said = re.search(r"✓\* (layer 4|layers 4 to (\d+)):", out)
    assert said is not None
    assert said[2] is None if layers == 5 else said[2] == str(layers - 1)
    spec = make_spec(num_layers=layers)
    assert spec.num_layers == layers


@pytest.mark.parametrize("args", [["--help"], ["rnn", "--help"], ["rnn", "-h"], []])
def test_piped_help_has_no_trailing_spaces(args: list[str]) -> None:
    code, out, _ = run(None, *args)
    assert code == 0 and "Usage: torchshape" in out
    assert [line for line in out.splitlines() if line != line.rstrip()] == []
