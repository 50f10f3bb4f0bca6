"""``torchshape model`` and ``torchshape expr`` are made from their settings tables like the layer
families: their positional word and their repeated flags are rows, their ``--help`` shows each
row, and the command line they write back ("Reproduce with") asks for the very spec it was
written from."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from torchshape import families
from torchshape.cli import main
from torchshape.errors import UsageError
from torchshape.families.expr import spec as expr_spec
from torchshape.families.expr.table import SETTINGS as EXPR_SETTINGS
from torchshape.families.model import spec as model_spec
from torchshape.families.model.table import SETTINGS as MODEL_SETTINGS
from torchshape.options import Format
from torchshape.settings import Setting, argument, many

TABLES = {"model": MODEL_SETTINGS, "expr": EXPR_SETTINGS}


def parsed(family: str, line: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any]]:
    """What the command line's own parsing makes of ``line``: the spec ``deliver`` was handed, and
    its output flags. Nothing runs: the guard and the delivery are stood in for."""
    seen: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(
        f"torchshape.families.{family}.command.deliver",
        lambda ctx, spec, run, **flags: seen.append((spec, flags)),
    )
    monkeypatch.setattr("torchshape.guard.check", lambda spec: None)
    assert main(shlex.split(line)[1:]) == 0
    assert len(seen) == 1 and seen[0][0].family == family
    return seen[0]


FORMATS = st.sampled_from([None, Format.TABLE, Format.JSON, Format.MARKDOWN, Format.CSV])
OUTPUTS = st.sampled_from([None, "out.md", "out.json", "trace.txt"])


@settings(max_examples=60, deadline=None)
@given(
    target=st.sampled_from(["tests/models/crnn.py:CRNN", "tests.models.crnn:CRNN", "my dir/m.py:Net.inner"]),
    inputs=st.lists(
        st.sampled_from(["2,1,32,100", "4,10:int64", "x=4,7:int64:0-5", "3:float64", "mask=4,10:bool", "()"]),
        min_size=1,
        max_size=3,
    ),
    args=st.lists(st.sampled_from(["hidden_size=16", "name='a b'", "sizes=(1, 2)", "flag=True"]), max_size=2),
    depth=st.sampled_from([None, "0", "2"]),
    device=st.sampled_from(["cpu", "meta", "cuda:1"]),
    dtype=st.sampled_from(["float32", "float64", "bfloat16"]),
    grad=st.booleans(),
    ops=st.booleans(),
    fmt=FORMATS,
    output=OUTPUTS,
    params=st.booleans(),
)
def test_model_reproduce_with_asks_for_the_same_spec(
    target: str,
    inputs: list[str],
    args: list[str],
    depth: str | None,
    device: str,
    dtype: str,
    grad: bool,
    ops: bool,
    fmt: Format | None,
    output: str | None,
    params: bool,
) -> None:
    try:
        spec = model_spec.make_spec(
            target, inputs, args, depth=depth, device=device, dtype=dtype, grad=grad, ops=ops
        )
    except UsageError:  # a keyword input given twice
        spec = None
    assume(spec is not None)
    line = model_spec.command_line(spec, fmt, params=params, output=output)
    with pytest.MonkeyPatch.context() as monkeypatch:
        again, flags = parsed("model", line, monkeypatch)
    assert again == spec
    assert flags["params"] is params and flags["output"] == output


@settings(max_examples=60, deadline=None)
@given(
    expression=st.sampled_from(["a[:, 0]", "-a", "a @ b.T", "-a + b[0]", "b = a.T; b.reshape(-1)"]),
    tensors=st.sampled_from(
        [["a=3,4", "b=5,4"], ["a=3,4:float64", "b=4,4:int64:0-2"], ["b=()", "a=[1,3]*5"]]
    ),
    device=st.sampled_from(["auto", "cpu", "meta"]),
    explain=st.booleans(),
    diagram=st.booleans(),
    fmt=FORMATS,
    output=st.sampled_from([None, "out.svg", "out.json"]),
)
def test_expr_reproduce_with_asks_for_the_same_spec(
    expression: str,
    tensors: list[str],
    device: str,
    explain: bool,
    diagram: bool,
    fmt: Format | None,
    output: str | None,
) -> None:
    try:
        spec = expr_spec.make_spec(expression, tensors, device=device, explain=explain, diagram=diagram)
    except UsageError:  # the allow-list refused it (a list of tensors is no matrix)
        spec = None
    assume(spec is not None)
    line = expr_spec.command_line(spec, fmt, output=output)
    with pytest.MonkeyPatch.context() as monkeypatch:
        again, flags = parsed("expr", line, monkeypatch)
    # the checked tree is parsed anew (ast nodes compare by identity); all else is equal
    assert replace(again, checked=spec.checked) == spec and again.checked.source == spec.checked.source
    assert flags["explain"] is explain and flags["diagram"] is diagram and flags["output"] == output


def test_an_expression_that_starts_with_a_dash_is_written_after_the_flags() -> None:
    spec = expr_spec.make_spec("-a", ["a=3"])
    line = expr_spec.command_line(spec, Format.MARKDOWN, output=None)
    assert line == "torchshape expr --tensor a=3 --format markdown -- -a"


def wide_help(command: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``torchshape COMMAND --help`` so wide that no row's help wraps, box characters dropped."""
    monkeypatch.setenv("COLUMNS", "2000")
    monkeypatch.setattr("typer.rich_utils.MAX_WIDTH", None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([command, "--help"]) == 0
    return re.sub(r"[│╭╮╰╯─]", "", out.getvalue())


@pytest.mark.parametrize("command", sorted(TABLES))
def test_help_shows_every_row_of_the_table_in_its_order(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a required argument's line starts with *
    lines = [line.split() for line in wide_help(command, monkeypatch).replace(" * ", " ").splitlines()]

    def where(row: Setting) -> int:
        """The line that starts with the row's flag (a positional's metavar) and holds its help."""
        names = list(row.flags) or [row.metavar or ""]
        text = " ".join(row.help.split())
        found = [
            n for n, words in enumerate(lines) if words and words[0] in names and text in " ".join(words)
        ]
        assert len(found) == 1, f"{command} --help has no line for {row.name} ({names[0]}) with its help"
        return found[0]

    table = TABLES[command]
    options = [where(row) for row in table if not row.positional]
    assert options == sorted(options)
    assert all(where(row) < options[0] for row in table if row.positional)


def test_layer_help_and_explain_name_every_family_with_a_layer_adapter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layer = next(line for line in wide_help("model", monkeypatch).splitlines() if "--layer" in line)
    named = set(re.findall(r"\w+", layer.partition("report (")[2].partition(")")[0])) - {"or"}
    assert named == set(families.ADAPTERS) and len(families.ADAPTERS) >= 7
    assert main(["model", "tests/models/crnn.py:CRNN", "--input", "2,1,32,100", "--explain"]) == 2
    error = capsys.readouterr().err
    assert all(name in error.partition("relations (")[2] for name in families.ADAPTERS), error


def test_positional_and_repeated_rows() -> None:
    target = argument("target", "TARGET", "What to trace.")
    assert target.flag == "TARGET" and target.words("a.py:M", None, str) == ["a.py:M"]
    inputs = many("inputs", "--input", "SHAPE", "One per argument.")
    assert inputs.words(("4,10", "4,7"), None, str) == ["--input", "4,10", "--input", "4,7"]
    assert inputs.words((), None, str) == [] and inputs.words(None, None, str) == []
    with pytest.raises(ValueError, match="must each start with"):
        Setting("target", ("TARGET",), "TARGET", "", None)
    with pytest.raises(ValueError, match="a positional word has no flags"):
        Setting("target", ("--target",), "TARGET", "", None, positional=True)
