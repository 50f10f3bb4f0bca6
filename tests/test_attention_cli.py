"""torchshape attention on the command line: heads that do not divide, the Python API's names,
JSON's command and tensors. Its bad command lines and --help: tests/test_usage.py; every format and
the run reproduced: tests/test_reproduce.py."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


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
