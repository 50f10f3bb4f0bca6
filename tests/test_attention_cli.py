"""torchshape attention on the command line: heads that do not divide, the Python API's names,
every format, JSON's command and tensors; the command line and the python script reproduce the
run. Its bad command lines and --help: tests/test_usage.py."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import reproduced, run_cli, script_passes


def test_embed_dim_not_divisible_names_both_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "attention", "--embed-dim", "30", "--heads", "4")
    assert code == 2
    assert err.startswith("torchshape: error: --embed-dim: 30 is not divisible by --heads 4")
    assert "--heads that divide 30: 1, 2, 3, 5, 6, 10, 15, 30" in err


def test_the_python_api_names_its_arguments() -> None:
    from torchshape import UsageError, inspect_attention

    with pytest.raises(UsageError, match=r"^embed_dim=25: 25 is not divisible by num_heads 4"):
        inspect_attention(embed_dim=25, num_heads=4)
    with pytest.raises(UsageError, match=r"^source_len=9: self_attention feeds one tensor"):
        inspect_attention(self_attention=True, source_len=9)


ARGS = [
    "",
    "--per-head-weights --key-padding-mask --add-bias-kv --add-zero-attn",
    "--self --batch-first --causal --no-need-weights --attn-mask 3d",
    "--kdim 10 --vdim 6 --unbatched --attn-mask 3d --mask-dtype float --no-bias --device meta",
]


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv", "svg", "python"])
@pytest.mark.parametrize("args", ARGS)
def test_every_format(fmt: str, args: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "attention", *shlex.split(args), "--params", "--format", fmt)
    assert (code, err) == (0, "")
    assert out


def test_json_names_the_command_and_every_tensor(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "attention", "--key-padding-mask", "--per-head-weights", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["command"] == "attention"
    assert data["ok"] is True
    assert [(t["name"], t["shape"]) for t in data["tensors"]] == [
        ("query", [5, 3, 24]),
        ("key", [7, 3, 24]),
        ("value", [7, 3, 24]),
        ("key_padding_mask", [3, 7]),
        ("attn_output", [5, 3, 24]),
        ("attn_output_weights", [3, 4, 5, 7]),
    ]
    assert data["symbols"] == {
        "L": 5,
        "S": 7,
        "N": 3,
        "E": 24,
        "E_k": 24,
        "E_v": 24,
        "num_heads": 4,
        "head_dim": 6,
    }
    assert sum(term["macs"] for term in data["macs_terms"]) == data["totals"]["macs"]


def test_no_need_weights_has_no_weights_row(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "attention", "--no-need-weights", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert "attn_output_weights" not in [t["name"] for t in data["tensors"]]
    assert any("need_weights=False: attn_output_weights is None" in note for note in data["notes"])


COMMANDS = [
    "",
    "--self --batch-first --causal --no-need-weights",
    "--kdim 10 --vdim 6 --attn-mask 3d --mask-dtype float --per-head-weights --add-zero-attn",
    "--unbatched --key-padding-mask --add-bias-kv --dropout 0.1 --dtype float64 --device meta",
    "--embed-dim 8 --heads 2 --target-len 3 --source-len 4 --batch 2 --no-bias --causal --attn-mask 3d",
]


@pytest.mark.parametrize("args", [*COMMANDS, "--self --causal --diagram"])
def test_the_reproduce_line_gives_the_same_spec(args: str, capsys: pytest.CaptureFixture[str]) -> None:
    reproduced(capsys, "attention", args)


@pytest.mark.parametrize("args", COMMANDS)
def test_the_python_script_runs_and_checks_every_shape(
    args: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script_passes(capsys, tmp_path / "check.py", "attention", args, "--params")
