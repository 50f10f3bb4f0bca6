"""Every output format parses with a standard parser and shows the shapes torch returned.

Ground truth is ``torch_truth``: the module built and run by the test itself.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import io
import json
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.conftest import run_cli, run_python, wrong_rnn_formula
from tests.strategies import DEFAULT_RAW, cell_settings, settings
from tests.test_against_torch import torch_truth
from tests.truth import torch_module
from torchshape import inspect
from torchshape.cli import main
from torchshape.facts import LegendEntry
from torchshape.families.rnn.request import make_spec
from torchshape.families.rnn.spec import command_line
from torchshape.options import Format
from torchshape.render import render
from torchshape.render.csv_format import COLUMNS
from torchshape.render.markdown import cell
from torchshape.report import Report

ROOT = Path(__file__).resolve().parent.parent
BOX_DRAWING = re.compile("[\u2500-\u257f]")


def parse_shape(text: str) -> tuple[int, ...]:
    assert re.fullmatch(r"\((\d+, )+\d+\)", text), text
    return tuple(int(n) for n in text[1:-1].split(", "))


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table a CommonMark + GFM-tables parser finds: rows of cell texts, header first."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables: list[list[list[str]]] = []
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            tables[-1].append([])
        elif token.type in ("th_open", "td_open"):
            tables[-1][-1].append(tokens[i + 1].content)
    return tables


# --- markdown --------------------------------------------------------------------------


@hypothesis_settings(max_examples=20)
@given(settings())
def test_markdown_is_a_table_of_torchs_shapes(raw: dict[str, Any]) -> None:
    report = inspect(**raw)
    text = render(report, Format.MARKDOWN)
    assert "\x1b" not in text and not BOX_DRAWING.search(text)
    truth = torch_truth(raw)
    shapes, legend = markdown_tables(text)
    assert shapes[0] == ["tensor", "formula", "shape", "torch", "verified"]
    assert all(len(row) == 5 for row in shapes)
    assert {row[0]: parse_shape(row[2]) for row in shapes[1:]} == truth
    assert {row[0]: parse_shape(row[3]) for row in shapes[1:]} == truth
    assert [row[4] for row in shapes[1:]] == ["✓"] * len(truth)
    assert legend[0] == ["symbol", "value", "meaning"]
    assert ["L", str(raw["seq_len"]), "sequence length (--seq-len)"] in legend
    assert text.endswith(f"Reproduce with `{command_line(report.spec, Format.MARKDOWN)}`\n")


def test_markdown_on_meta_names_the_probe(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--seq-len", "5000", "--device", "meta", "--format", "markdown")
    assert code == 0
    shapes = markdown_tables(out)[0]
    assert shapes[0][3] == "torch probe"
    rows = {row[0]: row for row in shapes[1:]}
    assert parse_shape(rows["output"][2]) == (5000, 3, 30)
    assert parse_shape(rows["output"][3])[0] < 5000  # the probe ran a short sequence
    assert all(row[4] == "✓*" for row in shapes[1:])


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "lstm", "--layers", "2", "--bidir"],
        ["--kind", "rnn", "--nonlinearity", "relu", "--unbatched", "--dtype", "float64", "--dropout", "0.3"],
        ["--proj-size", "7", "--batch-first", "--batch", "9", "--device", "meta"],
    ],
)
def test_markdown_command_reproduces_it(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, first, _ = run_cli(capsys, "rnn", *args, "--format", "markdown")
    assert code == 0
    command = re.fullmatch(r"Reproduce with `(.+)`", first.splitlines()[-1])
    assert command is not None
    words = shlex.split(command[1])
    assert words[0] == "torchshape"
    code, again, _ = run_cli(capsys, *words[1:])
    assert code == 0
    assert again == first


def test_markdown_escapes_pipes_in_cells() -> None:
    report = inspect()
    odd = dataclasses.replace(report, legend=[LegendEntry("L", 5, "a | b"), *report.legend[1:]])
    legend = markdown_tables(render(odd, Format.MARKDOWN))[1]
    assert all(len(row) == 3 for row in legend)
    assert legend[1] == ["L", "5", "a | b"]
    assert cell("x|y\nz") == "x\\|y z"


# --- csv -------------------------------------------------------------------------------


@hypothesis_settings(max_examples=20)
@given(settings())
def test_csv_is_rectangular_with_torchs_shapes(raw: dict[str, Any]) -> None:
    text = render(inspect(**raw), Format.CSV)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in rows)
    every = list(csv.DictReader(io.StringIO(text, newline="")))
    records = [r for r in every if r["kind"] == "tensor"]
    truth = torch_truth(raw)
    totals = {r["tensor"]: int(r["value"]) for r in every if r["kind"] == "total"}
    assert totals["params"] == sum(p.numel() for p in torch_module(raw).parameters())
    assert {r["tensor"]: parse_shape(r["shape"]) for r in records} == truth
    assert {r["tensor"]: parse_shape(r["torch_shape"]) for r in records} == truth
    assert all(r["verified"] == "true" and r["source"] == "forward" for r in records)
    for record in records:  # text for a spreadsheet: never a number
        with pytest.raises(ValueError):
            float(record["shape"])


def test_csv_on_meta_leaves_torch_shape_empty(capsys: pytest.CaptureFixture[str]) -> None:
    raw = {**DEFAULT_RAW, "kind": "gru", "seq_len": 1000, "hidden_size": 100, "batch": 2}
    args = "--kind gru --seq-len 1000 --hidden-size 100 --batch 2 --device meta --format csv"
    code, out, _ = run_cli(capsys, "rnn", *args.split())
    assert code == 0
    records = [r for r in csv.DictReader(io.StringIO(out, newline="")) if r["kind"] == "tensor"]
    assert {r["tensor"]: parse_shape(r["shape"]) for r in records} == torch_truth(raw)
    assert all(r["torch_shape"] == "" and r["source"] == "formula" for r in records)
    assert all(max(parse_shape(r["probe_shape"])) < 100 for r in records)


# --- json ------------------------------------------------------------------------------


def documented_json_tables() -> list[dict[str, str]]:
    """The key → type tables of the JSON page (docs/json.md), in order."""
    section = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    return [
        {row[0].strip("`"): row[1] for row in table[1:]}
        for table in markdown_tables(section)
        if table[0][1] == "type"
    ]


def _is(value: Any, documented: str) -> bool:
    kinds: dict[str, Any] = {
        "int": lambda v: type(v) is int,
        "bool": lambda v: type(v) is bool,
        "string": lambda v: type(v) is str,
        "object": lambda v: type(v) is dict,
        "list": lambda v: type(v) is list,
    }
    for alternative in documented.split(" or "):
        if alternative == "null" and value is None:
            return True
        outer, _, inner = alternative.partition(" of ")
        if outer in ("list", "object") and kinds[outer](value):
            items = value.values() if outer == "object" else value
            if not inner or all(_is(item, inner.rstrip("s")) for item in items):
                return True
        elif outer in kinds and kinds[outer](value):
            return True
    return False


@pytest.mark.parametrize("args", [["--kind", "lstm", "--bidir"], ["--kind", "rnn", "--device", "meta"]])
def test_json_keys_and_types_are_the_documented_ones(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, _ = run_cli(capsys, "rnn", *args, "--format", "json")
    assert code == 0
    data = json.loads(out)
    top, tensor, run = documented_json_tables()
    assert list(data) == list(top)  # every key documented, in the documented order
    for key, documented in top.items():
        assert _is(data[key], documented), (key, data[key], documented)
    for item in data["tensors"]:
        assert list(item) == list(tensor)
        for key, documented in tensor.items():
            assert _is(item[key], documented), (key, item[key], documented)
    assert list(data["run"]) == list(run)
    for key, documented in run.items():
        assert _is(data["run"][key], documented), (key, data["run"][key], documented)


def test_type_checker_can_fail() -> None:
    assert not _is([1, "2"], "list of int")
    assert not _is(None, "string")
    assert not _is(True, "int")
    assert _is(None, "list of int or null") and _is(["a"], "list of strings")


# --- svg -------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_svg_is_an_xml_document_showing_the_table(device: str) -> None:
    report = inspect(kind="lstm", num_layers=2, bidirectional=True, device=device)
    root = ET.fromstring(render(report, Format.SVG))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    shown = "".join(root.itertext()).replace("\xa0", " ")
    for row in report.rows:
        assert row.name in shown
        assert row.formula in shown
        assert "(" + ", ".join(map(str, row.shape)) + ")" in shown
    assert report.spec.module_call in shown


# --- python ----------------------------------------------------------------------------


def run_snippet(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    return run_python(str(script), timeout=120, cwd=tmp_path)


def imported_modules(code: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


# Each snippet runs as a script (``__main__``) with its own globals; one interpreter runs a
# batch of them, so torch is imported once per batch.
RUN_SCRIPTS = "import runpy, sys\nfor path in sys.argv[1:]:\n    runpy.run_path(path, run_name='__main__')\n"


@hypothesis_settings(max_examples=2)
@given(
    st.lists(
        st.tuples(
            st.one_of(settings(max_size=12, max_layers=3), cell_settings(max_size=12)),
            st.sampled_from(["cpu", "meta"]),
        ),
        min_size=3,
        max_size=3,
    )
)
def test_python_snippets_run_green(configs: list[tuple[dict[str, Any], str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (raw, device) in enumerate(configs):
            code = render(inspect(**raw, device=device), Format.PYTHON)
            assert imported_modules(code) == {"torch"}
            paths.append(Path(tmp) / f"snippet_{i}.py")
            paths[-1].write_text(code, encoding="utf-8")
        result = run_python("-c", RUN_SCRIPTS, *map(str, paths), timeout=120, cwd=tmp)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "every shape matches\n" * len(configs)


def test_python_snippet_fails_when_a_formula_is_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The snippet checks something: forget bidirectional's factor D and it fails."""
    wrong_rnn_formula(monkeypatch, "output", lambda dims: (*dims[:-1], "H_out"))
    report: Report = inspect(kind="gru", bidirectional=True)
    assert not report.ok
    result = run_snippet(render(report, Format.PYTHON), tmp_path)  # with plain `python snippet.py`
    assert result.returncode == 1
    assert "assert output.shape == (5, 3, 30)" in result.stderr


@st.composite
def script_configs(draw: st.DrawFn, *, handoff: bool = False) -> tuple[dict[str, Any], dict[str, bool]]:
    """Settings and the flags that add to the script: --lengths, --explain, --unroll, --params, and
    cells' --unroll. ``handoff``: always --explain on a bidirectional or stacked module."""
    params = draw(st.booleans())
    if not handoff and draw(st.integers(0, 3)) == 0:
        raw = draw(cell_settings(max_size=8))
        raw["seq_len"] = draw(st.integers(1, 5))
        return raw, {"explain": False, "unroll": True, "params": params}
    raw = draw(settings(max_size=8, max_layers=3))
    raw["seq_len"] = min(raw["seq_len"], 6)
    explain = handoff or draw(st.booleans())
    if handoff and raw["num_layers"] == 1:
        raw["bidirectional"] = True
    packed = not raw["unbatched"] and draw(st.booleans())
    if packed:
        n = raw.get("batch", 3)
        raw["lengths"] = draw(st.lists(st.integers(1, raw["seq_len"]), min_size=n, max_size=n))
    unroll = not packed and draw(st.booleans())
    raw["device"] = "cpu" if unroll else draw(st.sampled_from(["cpu", "cpu", "meta"]))
    return raw, {"explain": explain, "unroll": unroll, "params": params}


def has_handoff(raw: dict[str, Any], flags: dict[str, bool]) -> bool:
    """--explain on a bidirectional or stacked module: the report hands h_n to a decoder."""
    return flags["explain"] and (raw.get("bidirectional", False) or raw.get("num_layers", 1) > 1)


def success_lines(raw: dict[str, Any], flags: dict[str, bool]) -> list[str]:
    """What each script prints, by prefix: one line per part it checks."""
    lines = ["every shape matches"]
    if flags["explain"]:
        lines.append("relations: ")
    if has_handoff(raw, flags):
        lines.append("hand-off: ")
    if flags["unroll"]:
        lines.append("unroll: the step loop matches one call within ")
    if raw.get("lengths") is not None:
        lines.append("packed: every shape matches, relations: ")
    if flags["params"]:
        lines.append("parameters: ")
    return lines


def handoff_asserts(report: Report) -> list[str]:
    """How the script must assert each hand-off relation, from what torchshape found."""
    assert report.probe.analysis is not None and report.probe.analysis.handoff is not None
    lines = []
    for check in report.probe.analysis.handoff.relations:
        rel = check.relation
        if rel.expected:
            lines.append(f"assert relation_holds({rel.lhs}, {rel.rhs}), ")
        elif check.evidence:
            kind = check.evidence.split(":")[0]
            lines.append(f"assert raises({kind}, lambda: relation_holds({rel.lhs}, {rel.rhs})), ")
        elif check.holds is False:
            lines.append(f"assert not relation_holds({rel.lhs}, {rel.rhs}), ")
    return lines


@hypothesis_settings(max_examples=3)
@given(st.lists(script_configs(), min_size=3, max_size=3), script_configs(handoff=True))
def test_python_scripts_run_what_the_flags_say(
    configs: list[tuple[dict[str, Any], dict[str, bool]]],
    with_handoff: tuple[dict[str, Any], dict[str, bool]],
) -> None:
    """--lengths, --explain, --unroll and --params scripts pack, assert the relations and the hand-off,
    run the loop, check the parameters, and pass."""
    import tempfile

    from torchshape.render import Shown

    configs = [with_handoff, *configs]
    expected: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (raw, flags) in enumerate(configs):
            report = inspect(**raw, explain=flags["explain"], unroll=flags["unroll"])
            assert report.ok
            code = render(report, Format.PYTHON, shown=Shown(params=flags["params"]))
            assert imported_modules(code) == {"torch"}
            if raw.get("lengths") is not None:
                assert "pack_padded_sequence(input, lengths, " in code and "enforce_sorted=False" in code
            if has_handoff(raw, flags):  # every relation torchshape checked, asserted as it found it
                assert all(line in code for line in handoff_asserts(report)), code
            if flags["params"]:
                assert all(f'parameters["{p.name}"].shape == ' in code for p in report.parameters)
            paths.append(Path(tmp) / f"script_{i}.py")
            paths[-1].write_text(code, encoding="utf-8")
            expected += success_lines(raw, flags)
        result = run_python("-c", RUN_SCRIPTS, *map(str, paths), timeout=300, cwd=tmp)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    assert len(printed) == len(expected), result.stdout
    assert all(line.startswith(prefix) for line, prefix in zip(printed, expected, strict=True)), result.stdout


def script(args: str) -> str:
    """The --format python script of ``torchshape rnn ARGS``, through the command line."""
    import contextlib

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["rnn", *shlex.split(args), "--format", "python"]) == 0
    return out.getvalue()


# the arguments, then (a line of their script, what it becomes): each corruption must make the script fail
CORRUPTIONS = {
    "--kind gru --lengths 4,1,3": [
        ("assert packed.data.shape == (8, 50)", "assert packed.data.shape == (8, 51)"),
        ("== [3, 2, 2, 1]", "== [3, 2, 1, 1]"),
    ],
    "--lengths 4,1,3": [("assert c_n.shape == (1, 3, 30)", "assert c_n.shape == (3, 1, 30)")],
    "--kind gru --layers 2 --explain": [
        (
            "assert relation_holds(output[-1, :, :H_out], h_n[-1])",
            "assert relation_holds(output[-1, :, :H_out], h_n[0])",
        ),
        ("assert not relation_holds(", "assert relation_holds("),
        # the hand-off: a decoder's state, a mistake torch refused
        ("decoder_1(input, h_n[-1:])[1].shape", "decoder_1(input, h_n[-1:])[0].shape"),
        (
            "lambda: relation_holds(decoder_1(input, h_n[-1])",
            "lambda: relation_holds(decoder_1(input, h_n[-1:])",
        ),
    ],
    "--kind rnn --bidir --explain": [("output[0, :, H_out:], h_n[-1])", "output[-1, :, H_out:], h_n[-1])")],
    "--kind gru --lengths 4,1,3 --explain": [
        ("output[lengths - 1, torch.arange(N), :H_out]", "output[lengths - 2, torch.arange(N), :H_out]")
    ],
    "--unroll": [("out_t, state = lstm(input_t, state)", "out_t, _ = lstm(input_t, state)")],
    "--kind gru --bidir --unroll": [("for t in reversed(range(L)) if d else range(L)", "for t in range(L)")],
    "--kind lstm-cell --seq-len 3 --unroll": [
        ("lstm_cell(sequence[i], (hx, cx))", "lstm_cell(sequence[i], (h_0, c_0))")
    ],
    "--kind rnn-cell --seq-len 3 --unroll": [("assert hx.shape == (3, 30)", "assert hx.shape == (1, 3, 30)")],
    # the hand-off: a relation that holds, a mistake torch computed
    "--kind gru --layers 2 --bidir --explain": [
        ("h_cat[..., :H_out], h_n[0::2])", "h_cat[..., :H_out], h_n[1::2])")
    ],
    "--kind lstm --bidir --explain": [
        (
            "assert not relation_holds(h_n.view(num_layers, N, 2*H_out), h_cat)",
            "assert not relation_holds(h_n.view(num_layers, N, 2*H_out), h_n.view(num_layers, N, 2*H_out))",
        )
    ],
    # --params: one parameter's shape, and the total
    "--kind gru --params": [
        ('parameters["weight_hh_l0"].shape == (90, 30)', 'parameters["weight_hh_l0"].shape == (30, 90)'),
        ("assert total == 7380", "assert total == 7381"),
    ],
}


def test_a_corrupted_script_fails(tmp_path: Path) -> None:
    """The scripts check something: one wrong shape, relation or loop step and the script exits non-zero."""
    mutants = []
    for args, corruptions in CORRUPTIONS.items():
        code = script(args)
        for line, corrupted in corruptions:
            assert line in code, (args, line)
            mutants.append(tmp_path / f"mutant_{len(mutants)}.py")
            mutants[-1].write_text(code.replace(line, corrupted, 1), encoding="utf-8")
    result = run_python("-c", RUN_EACH, *map(str, mutants), timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["AssertionError"] * len(mutants)


def test_the_script_names_the_whole_command() -> None:
    """The docstring's first line is the command that writes this very script, --params included."""
    code = script("--kind gru --layers 2 --explain --params")
    first = code.splitlines()[0]
    assert first.startswith('"""torchshape rnn ') and "--params" in first and "--explain" in first
    words = shlex.split(first.removeprefix('"""torchshape '))
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        assert main(words) == 0
    assert out.getvalue() == code


# Runs each script on its own in one interpreter; prints, per script, the exception it raised or "ok".
RUN_EACH = """import contextlib, io, json, runpy, sys
seen = []
for path in sys.argv[1:]:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(path, run_name='__main__')
        seen.append('ok')
    except Exception as exc:
        seen.append(type(exc).__name__)
print(json.dumps(seen))
"""


@pytest.mark.parametrize(
    "args",
    [
        "--kind lstm --layers 2 --bidir --proj-size 7 --batch-first --explain --unroll",
        "--kind gru --layers 2 --explain --lengths 4,1,3 --params",
        "--kind lstm-cell --seq-len 3 --unroll --params",
    ],
)
def test_every_assert_of_a_script_is_live(args: str, tmp_path: Path) -> None:
    """Negate any one assert of the script and it fails: none is dead code or trivially true."""
    tree = ast.parse(script(args))
    asserts = [node for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert len(asserts) >= 10
    mutants = []
    for i, node in enumerate(asserts):
        original = node.test
        node.test = ast.UnaryOp(op=ast.Not(), operand=original)
        mutants.append(tmp_path / f"negated_{i}.py")
        mutants[-1].write_text(ast.unparse(ast.fix_missing_locations(tree)), encoding="utf-8")
        node.test = original
    result = run_python("-c", RUN_EACH, *map(str, mutants), timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["AssertionError"] * len(mutants)


@pytest.mark.cuda
def test_python_snippet_runs_on_cuda(tmp_path: Path) -> None:
    code = render(inspect(kind="lstm", num_layers=2, device="cuda"), Format.PYTHON)
    assert 'torch.device("cuda")' in code
    result = run_snippet(code, tmp_path)
    assert result.returncode == 0, result.stderr


# --- command_line ----------------------------------------------------------------------


class _Captured(BaseException):  # not an Exception: main turns those into one line
    def __init__(self, spec: Any) -> None:
        self.spec = spec


DEVICES = st.sampled_from(["cpu", "meta", "cuda", "cuda:1", "mps"])
FORMATS = st.sampled_from([None, *Format])


@given(settings(), DEVICES, FORMATS)
def test_command_line_parses_back_to_the_same_spec(raw: dict[str, Any], device: str, fmt: Any) -> None:
    from torchshape import make_spec
    from torchshape import request as spec_module

    spec = make_spec(**raw, device=device)
    words = shlex.split(command_line(spec, fmt))
    assert words[:2] == ["torchshape", "rnn"]
    seen: list[Format] = []
    real_parse_format = spec_module.parse_format

    def record_format(value: Any, output: Any = None) -> Format:
        seen.append(real_parse_format(value, output))
        return seen[-1]

    def capture(parsed: Any, **options: Any) -> Any:
        raise _Captured(parsed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("torchshape.api.run_spec", capture)
        patch.setattr(spec_module, "parse_format", record_format)
        with pytest.raises(_Captured) as captured:
            main(words[1:])
    assert captured.value.spec == spec
    assert seen == [fmt or Format.TABLE]


def test_command_line_names_only_what_differs() -> None:
    from torchshape import make_spec

    assert command_line(make_spec()) == "torchshape rnn"
    assert command_line(make_spec(), Format.TABLE) == "torchshape rnn"
    assert (
        command_line(make_spec(kind="gru", bidirectional=True, dropout=0.2, num_layers=2), Format.CSV)
        == "torchshape rnn --kind gru --layers 2 --bidir --dropout 0.2 --format csv"
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"lengths": "4,1,3"},
        {"lengths": "2,2", "batch_first": True, "kind": "gru"},
        {"lengths": "3,1", "seq_len": 5},  # L is not the longest length: --seq-len stays
        {"lengths": "3,1", "seq_len": 3},
        {"lengths": "7,2"},  # L from the lengths: longer than the default 5
        {"kind": "lstm-cell"},
        {"kind": "rnn-cell", "unbatched": True, "nonlinearity": "relu"},
    ],
)
def test_command_line_round_trips_lengths_and_cells(settings: dict[str, Any]) -> None:
    spec = make_spec(**settings)
    words = shlex.split(command_line(spec))
    seen: list[Any] = []

    def capture(parsed: Any, **options: Any) -> Any:
        seen.append(parsed)
        raise _Captured(parsed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("torchshape.api.run_spec", capture)
        with pytest.raises(_Captured):
            main(words[1:])
    assert seen == [spec]
