"""torchshape transformer on the command line: sizes torch cannot address, the Python API's
names, JSON's masks. Its bad command lines and --help: tests/test_usage.py; every format and the
run reproduced: tests/test_reproduce.py."""

from __future__ import annotations

import json
import shlex

import pytest

from tests.conftest import run_cli, run_python


def test_sizes_torch_cannot_address_are_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = "--layer decoder --target-len 2147483647 --device meta --causal"
    code, out, err = run_cli(capsys, "transformer", *shlex.split(args))
    assert (code, out, err.count("\n")) == (1, "", 1)
    assert "tgt_mask would hold" in err and "--target-len" in err


def test_the_python_api_names_its_arguments() -> None:
    from torchshape import UsageError, inspect_transformer

    with pytest.raises(UsageError, match=r"^d_model=10: 10 is not divisible by nhead 4"):
        inspect_transformer(d_model=10, nhead=4)
    with pytest.raises(UsageError, match=r"^causal=True: .*use layer decoder or full"):
        inspect_transformer(causal=True)


def test_json_names_the_command_every_mask_and_what_it_means(capsys: pytest.CaptureFixture[str]) -> None:
    args = "--layer full --causal --src-key-padding-mask bool --memory-mask 3d --explain --format json"
    code, out, _ = run_cli(capsys, "transformer", *shlex.split(args))
    assert code == 0
    data = json.loads(out)
    assert data["command"] == "transformer" and data["ok"] is True
    assert [t["name"] for t in data["tensors"]] == [
        "src", "tgt", "tgt_mask", "memory_mask", "src_key_padding_mask", "memory", "output",
    ]  # fmt: skip
    assert {t["name"]: t["shape"] for t in data["tensors"]}["memory_mask"] == [12, 7, 10]
    assert set(data["meanings"]) == {t["name"] for t in data["tensors"]}
    assert all(c["held"] is True for c in data["explain"]["claims"])


@pytest.mark.parametrize(("source_len", "code"), [("1500000000", 0), ("1520000000", 1)])
def test_attention_weights_torch_cannot_address_are_refused_first(
    source_len: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """(N·nhead, S, S) float32 weights pass 2^63 − 1 bytes between these two S: torch's meta kernel
    answers the first and fails on the second ("Storage size calculation overflowed")."""
    args = ["--source-len", source_len, "--batch", "1", "--d-model", "2", "--nhead", "1", "--device", "meta"]
    got, out, err = run_cli(capsys, "transformer", *args)
    assert got == code, err
    if code:
        assert err.startswith("torchshape: error: the attention weights (N·nhead, S, S) would hold")
    else:
        assert "✗" not in out


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_nested_tensor_path_leaves_stderr_clean(dtype: str) -> None:
    """nn.Transformer with batch_first in eval takes torch's nested-tensor path for a padding mask,
    and torch warns that nested tensors are a prototype: not the user's business."""
    args = "transformer --layer full --batch-first --d-model 4 --nhead 4 --target-len 2 --batch 1"
    done = run_python("-m", "torchshape", *shlex.split(args), "--explain", "--dtype", dtype, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
