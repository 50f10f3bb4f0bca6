"""``torchshape expr`` on the command line and in Python: the issue's seed lines, exit codes, the JSON
contract, every format (the python script runs), --explain, meta at any size, and --help
without torch."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import torch

import torchshape
from tests.conftest import run_python
from torchshape.cli import main
from torchshape.errors import UsageError
from torchshape.families.expr.command import EXAMPLES
from torchshape.options import Format


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["expr", *args])
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _ = run(capsys, *args, "--format", "json")
    return code, json.loads(out)


# --- the notes' own lines ------------------------------------------------------------------


def test_casting_a_float_tensor_to_long(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(capsys, "a = torch.tensor([1,2,3], dtype=torch.float); a.type(torch.long)")
    assert code == 0
    assert doc["result"] == {"shape": [3], "dtype": "int64"}
    assert [s["dtype"] for s in doc["steps"]] == ["float32", "int64"]
    assert all(s["holds"] for s in doc["steps"])
    assert torch.tensor([1, 2, 3], dtype=torch.float).type(torch.long).dtype == torch.int64


@pytest.mark.parametrize(
    ("index", "shape"), [("a[:,0]", [3]), ("a[0]", [4]), ("a[0:1]", [1, 4]), ("a[None]", [1, 3, 4])]
)
def test_a_column_a_row_and_a_kept_dim(
    capsys: pytest.CaptureFixture[str], index: str, shape: list[int]
) -> None:
    code, doc = as_json(capsys, index, "--tensor", "a=3,4")
    assert code == 0
    assert doc["result"]["shape"] == shape == list(eval(index, {"a": torch.empty(3, 4)}).shape)
    assert doc["steps"][-1]["rule"].startswith("basic indexing")


def test_item_is_a_python_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(capsys, "b.item()", "--tensor", "b=()")
    assert code == 0
    assert doc["result"]["dtype"] == "float (Python)" and doc["result"]["shape"] is None
    assert doc["run"]["device"] == "cpu"  # .item() needs a value


def test_the_gru_tutorials_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(capsys, "torch.cat(inputs).view(len(inputs), 1, -1)", "--tensor", "inputs=[1,3]*5")
    assert code == 0
    assert doc["result"] == {"shape": [5, 1, 3], "dtype": "float32"}
    assert [s["shape"] for s in doc["steps"]] == [[5, 3], [5, 1, 3]]
    assert "-1 = 15 / 5 = 3" in doc["steps"][-1]["rule"]


def test_int_division_is_float_and_floor_division_stays_int(capsys: pytest.CaptureFixture[str]) -> None:
    _, true = as_json(capsys, "a / 2", "--tensor", "a=3:int64")
    _, floor = as_json(capsys, "a // 2", "--tensor", "a=3:int64")
    assert true["result"]["dtype"] == "float32" and "true division" in true["steps"][0]["rule"]
    assert floor["result"]["dtype"] == "int64" and "keeps the integer dtype" in floor["steps"][0]["rule"]


# --- failures: exit 1, the error, the checked fixes -----------------------------------------


@pytest.mark.parametrize(
    ("expression", "tensors", "fix", "shape"),
    [
        ("x @ W", ["x=32,784", "W=10,784"], "x @ W.T", [32, 10]),
        ("F.linear(x, W)", ["x=8,5", "W=5,3"], "F.linear(x, W.T)", [8, 3]),
        ("x.transpose(0, 1).view(-1)", ["x=3,4"], "x.transpose(0, 1).reshape(-1)", [12]),
        ("a + b", ["a=3,4", "b=3"], "a + b.unsqueeze(1)", [3, 4]),
        ("torch.cat([a, b])", ["a=2,3", "b=2,4"], "torch.cat([a, b], dim=1)", [2, 7]),
        ("a.mean()", ["a=3:int64"], "a.float().mean()", []),
    ],
)
def test_a_failing_expression_exits_1_with_the_error_and_a_checked_fix(
    capsys: pytest.CaptureFixture[str], expression: str, tensors: list[str], fix: str, shape: list[int]
) -> None:
    args = [expression, *(w for t in tensors for w in ("--tensor", t))]
    code, doc = as_json(capsys, *args)
    assert code == 1 and doc["ok"] is False and doc["result"] is None
    error = doc["error"]
    assert error["expression"] == expression and error["rule"] and error["rule_predicted"] is True
    scope = {"torch": torch, "F": torch.nn.functional}
    for one in tensors:
        name, _, dims = one.partition("=")
        dtype = torch.int64 if dims.endswith(":int64") else torch.float32
        scope[name] = torch.ones(*map(int, dims.split(":")[0].split(",")), dtype=dtype)
    with pytest.raises(Exception) as raised:
        eval(expression, scope)
    assert error["message"] == str(raised.value).splitlines()[0]
    found = {f["change"]: f for f in error["fixes"]}
    assert fix in found, error["fixes"]
    assert found[fix]["shape"] == shape == list(eval(found[fix]["expression"], scope).shape)
    _, _, err = run(capsys, *args)
    assert err == f"torchshape: error: torch refused {expression}: {error['message']}; see the trace above\n"


def test_the_table_names_the_failure_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "x @ W", "--tensor", "x=3,4", "--tensor", "W=5,4")
    assert code == 1
    assert "✗ torch refused x @ W" in out
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (3x4 and 5x4)" in out
    assert "✓ x @ W.T  →  (3, 5) float32" in out


@pytest.mark.parametrize("expression", ["F.conv2d(x, w, None, True)", "F.max_pool2d(x, True)"])
def test_a_bool_torch_refuses_as_a_window_setting_gets_no_rule(
    capsys: pytest.CaptureFixture[str], expression: str
) -> None:
    x, w = torch.ones(1, 3, 8, 8), torch.ones(4, 3, 3, 3)
    with pytest.raises(TypeError):
        eval(expression, {"F": torch.nn.functional, "x": x, "w": w})
    code, doc = as_json(capsys, expression, "--tensor", "x=1,3,8,8", "--tensor", "w=4,3,3,3")
    assert code == 1 and doc["error"]["rule"] is None, doc["error"]


# --- the JSON contract ---------------------------------------------------------------------


def test_json_steps_are_innermost_first_with_their_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(
        capsys, "(x @ W.T + b).relu().sum(dim=1)", "--tensor", "x=8,4", "--tensor", "W=3,4", "--tensor", "b=3"
    )
    assert code == 0 and doc["command"] == "expr" and doc["ok"] is True
    assert [s["expression"] for s in doc["steps"]] == [
        "W.T",
        "x @ W.T",
        "x @ W.T + b",
        "(x @ W.T + b).relu()",
        "(x @ W.T + b).relu().sum(dim=1)",
    ]
    for step in doc["steps"]:
        assert set(step) >= {"expression", "shape", "dtype", "rule", "holds"} and step["holds"] is True
    assert doc["result"] == {"shape": [8], "dtype": "float32"}
    assert "b (3,)" in doc["steps"][2]["rule"] and "stretched" in doc["steps"][2]["rule"]
    assert doc["error"] is None and doc["run"]["device"] == "meta"


def test_separated_advanced_indices_move_to_the_front(capsys: pytest.CaptureFixture[str]) -> None:
    _, apart = as_json(capsys, "a[idx, :, idx]", "--tensor", "a=5,6,7", "--tensor", "idx=4:int64")
    _, together = as_json(capsys, "a[:, idx, idx]", "--tensor", "a=5,6,7", "--tensor", "idx=4:int64")
    assert apart["result"]["shape"] == [4, 6] and together["result"]["shape"] == [5, 4]
    assert "B moves to the front" in apart["steps"][-1]["rule"]
    assert "B takes their place" in together["steps"][-1]["rule"]


def test_einsum_letters_are_mapped_to_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = as_json(
        capsys, "torch.einsum('bij,bjk->bik', a, b)", "--tensor", "a=2,3,4", "--tensor", "b=2,4,5"
    )
    assert doc["result"]["shape"] == [2, 3, 5]
    assert "b=2, i=3, j=4, k=5" in doc["steps"][0]["rule"] and "summed over j" in doc["steps"][0]["rule"]


def test_a_mask_runs_on_the_cpu_and_counts_its_true_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(capsys, "a[m]", "--tensor", "a=3,4", "--tensor", "m=3,4:bool")
    assert code == 0 and doc["run"]["device"] == "cpu"
    generator = torch.Generator().manual_seed(0)
    torch.randn((3, 4), generator=generator)
    mask = torch.randint(0, 2, (3, 4), generator=generator).bool()
    assert doc["result"]["shape"] == [int(mask.sum())]


def test_a_million_by_a_million_matmul_runs_on_meta(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(capsys, "x @ W", "--tensor", "x=1000000,1000000", "--tensor", "W=1000000,1000000")
    assert code == 0 and doc["run"]["device"] == "meta"
    assert doc["result"]["shape"] == [1000000, 1000000]


@pytest.mark.parametrize(
    "expression",
    [
        "b.sum().item()",  # a --tensor too large
        "a.new_zeros(100000, 100000)",  # no rule: its size from the same call on meta
        "a.repeat_interleave(1000000000)",
        "torch.zeros(100000, 100000)",  # the rule's size
    ],
)
def test_values_on_the_cpu_are_refused_past_the_limit(
    capsys: pytest.CaptureFixture[str], expression: str
) -> None:
    args = [expression, "--tensor", "a=3,4", "--device", "cpu"]
    if expression.startswith("b"):
        args += ["--tensor", "b=100000,100000"]
    code, _, err = run(capsys, *args)
    assert code == 1 and "use --device meta" in err and err.count("\n") == 1


@pytest.mark.parametrize("device", ["auto", "meta"])
def test_a_tensor_torch_cannot_address_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], device: str
) -> None:
    code, out, err = run(
        capsys, "a + 1", "--tensor", "a=4000000000,4000000000,4000000000", "--device", device
    )
    assert (code, out) == (1, "")
    assert err == (
        "torchshape: error: --tensor a=4000000000,4000000000,4000000000: would hold 6.4e+28 elements of 4 "
        "bytes (float32), beyond the 2^63 - 1 bytes a torch tensor can address; use smaller sizes\n"
    )


# --- --explain ----------------------------------------------------------------------------


def test_explain_shows_which_elements_a_fancy_index_picks(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = as_json(capsys, "a[idx]", "--tensor", "a=3,2", "--tensor", "idx=4:int64", "--explain")
    assert code == 0
    view = doc["explain"][0]
    assert view["numbered"] == "[[0, 1], [2, 3], [4, 5]]" and view["holds"] is True
    numbered = torch.arange(6).view(3, 2)
    index = torch.tensor(eval(view["indices"][0]["values"]))
    assert view["picked"] == repr(numbered[index].tolist())


# --- --diagram ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tensors",
    [["a=4,1,3", "b=5,1"], ["a=3", "b=2,1"], ["a=2,3", "b=2,3"], ["a=1", "b=7,1,1"]],
)
def test_diagram_draws_each_broadcast_as_torch_does(
    capsys: pytest.CaptureFixture[str], tensors: list[str]
) -> None:
    code, doc = as_json(capsys, "a * b", *(w for t in tensors for w in ("--tensor", t)), "--diagram")
    assert code == 0
    shapes = [tuple(int(n) for n in t.split("=")[1].split(",")) for t in tensors]
    result = tuple(torch.broadcast_shapes(*shapes))
    pictures = doc["broadcasts"]
    expected = set()
    for label, shape in zip("ab", shapes, strict=True):
        aligned = (None,) * (len(result) - len(shape)) + shape
        expected |= {(label, d, n) for d, (m, n) in enumerate(zip(aligned, result, strict=True)) if m != n}
    drawn = {(s["tensor"], s["dim"], s["to"]) for p in pictures for s in p["stretched"]}
    assert drawn == expected
    assert [tuple(p["result"]) for p in pictures] == ([] if shapes[0] == shapes[1] else [result])
    assert all(p["holds"] is True and len(p["rows"]) == 2 for p in pictures)


def test_diagram_is_refused_where_the_format_cannot_carry_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "a + b", "--tensor", "a=3", "--tensor", "b=2,1", "--diagram", "--format", "csv"
    )
    assert code == 2 and out == "" and err.startswith("torchshape: error: --diagram: not with --format csv")


# --- every format; the python script runs ------------------------------------------------


@pytest.mark.parametrize("fmt", [f.value for f in Format])
@pytest.mark.parametrize(
    "args",
    [
        ["a[idx, :, m]", "--tensor", "a=2,3,4", "--tensor", "idx=1:int64:0-2", "--tensor", "m=4:bool"],
        ["x.transpose(0, 1).view(-1)", "--tensor", "x=3,4"],
        ["torch.cat(inputs).view(len(inputs), 1, -1).split(2)", "--tensor", "inputs=[1,3]*5"],
        ["b.item()", "--tensor", "b=1"],
    ],
)
def test_every_format(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, args: list[str]) -> None:
    code, out, err = run(capsys, *args, "--format", fmt)
    assert code in (0, 1) and out, err
    if fmt == "json":
        assert json.loads(out)["command"] == "expr"
    if fmt == "csv":
        assert out.splitlines()[0].startswith("tensor,formula,shape,verified")
        assert ",step," in out
    if fmt == "python":
        script = tmp_path / "check.py"
        script.write_text(out, encoding="utf-8")
        done = run_python(str(script), timeout=120)
        assert done.returncode == 0, done.stderr
        assert "every step matches" in done.stdout


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a", "--tensor", "a"], "--tensor: 'a' is not NAME=SHAPE[:DTYPE[:LOW-HIGH]]"),
        (["a", "--tensor", "a=3:complex7"], "--tensor: 'a=3:complex7': dtype 'complex7' is not one of"),
        (["a", "--tensor", "a=3", "--tensor", "a=4"], "--tensor: the name 'a' is given twice"),
        (["a", "--tensor", "torch=3"], "--tensor: 'torch=3': torch is taken"),
        (["a +", "--tensor", "a=3"], "EXPRESSION: is not valid Python"),
        (["", "--tensor", "a=3"], "EXPRESSION: is empty"),
        (["a", "--tensor", "a=3", "--device", "tpu"], "--device: 'tpu' is not auto, cpu"),
        (
            ["a", "--tensor", "a=3:float32:0-4"],
            "--tensor: 'a=3:float32:0-4': a value range applies to integer",
        ),
    ],
)
def test_bad_input_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"torchshape: error: {message}"), err
    assert err.count("\n") == 1


# --- the Python API and the command line's help --------------------------------------------


def test_python_api() -> None:
    report = torchshape.expr("a[:, 0]", a=(3, 4))
    assert report.ok and report.probe.analysis.result.shape == (3,)
    failed = torchshape.expr("x @ W", x=(3, 4), W=(5, 4))
    assert not failed.ok and failed.probe.analysis.failure.fixes[0].change == "x @ W.T"
    with pytest.raises(UsageError, match="EXPRESSION: refused"):
        torchshape.expr("a.__class__", a=(3,))


def test_help_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert 3 <= len(EXAMPLES) <= 5
    for example in EXAMPLES:
        code, out, err = run(capsys, *shlex.split(example)[2:])
        assert (code, err) == (0, ""), example
        assert out


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from torchshape.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['expr', '--help']) == 0\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
