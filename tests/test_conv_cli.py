"""torchshape conv on the command line: a kernel too large gets the size that works, the Python
API names its arguments, JSON's dims, a script that can fail. Its bad command lines and --help:
tests/test_usage.py; every format and the run reproduced: tests/test_reproduce.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, run_python


def test_a_kernel_too_large_gets_the_smallest_size_that_works(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "conv", "--kernel-size", "5", "--dilation", "2", "--padding", "1", "--size", "4"
    )
    assert code == 2
    # span 2·(5 − 1) + 1 = 9, padded 4 + 2 = 6: the smallest size is 9 − 2 = 7
    assert "the smallest --size on axis H that works is 7" in err
    assert (
        run_cli(capsys, "conv", "--kernel-size", "5", "--dilation", "2", "--padding", "1", "--size", "7")[0]
        == 0
    )
    assert (
        run_cli(capsys, "conv", "--kernel-size", "5", "--dilation", "2", "--padding", "1", "--size", "6")[0]
        == 2
    )


def test_the_python_api_names_its_arguments() -> None:
    from torchshape import UsageError, inspect_conv

    with pytest.raises(UsageError, match=r"^size=\(3, 24\): .*the smallest size on axis H that works is 5"):
        inspect_conv(kernel_size=5, padding=0, size=(3, 24))
    with pytest.raises(UsageError, match=r"^output_padding=1: .*add transposed"):
        inspect_conv(output_padding=1)
    with pytest.raises(UsageError, match=r"^in_channels=3: .*divisible by groups 2"):
        inspect_conv(in_channels=3, groups=2)


def test_json_has_the_rnn_keys_and_dims(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "conv", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert list(data)[:14] == [
        "schema_version", "torchshape_version", "command", "config", "module", "call", "symbols",
        "tensors", "ok", "notes", "run", "parameters", "totals", "timing",
    ]  # fmt: skip
    assert data["command"] == "conv"
    assert data["config"]["kernel_size"] == [3, 3]
    assert data["dims"] == [
        {
            "axis": "H",
            "formula": "H_out = ⌊(H_in + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1)"
            " / stride[0] + 1⌋",
            "numeric": "⌊(32 + 2·1 − 1·(3 − 1) − 1) / 2 + 1⌋ = 16",
            "value": 16,
        },
        {
            "axis": "W",
            "formula": "W_out = ⌊(W_in + 2·padding[1] − dilation[1]·(kernel_size[1] − 1) − 1)"
            " / stride[1] + 1⌋",
            "numeric": "⌊(24 + 2·1 − 1·(3 − 1) − 1) / 2 + 1⌋ = 12",
            "value": 12,
        },
    ]
    assert [t["shape"] for t in data["tensors"]] == [[4, 3, 32, 24], [4, 8, 16, 12]]


def test_the_default_settings_reproduce_as_the_bare_command() -> None:
    from torchshape.families.conv.request import make_spec
    from torchshape.families.conv.spec import FLAGS, command_line

    spec = make_spec(names=FLAGS, dims=2)
    assert command_line(spec) == "torchshape conv"


def test_the_python_script_can_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "check.py"
    run_cli(capsys, "conv", "--output", str(path))
    assert "(4, 8, 28, 20)" in path.read_text()
    text = path.read_text().replace("(4, 8, 28, 20)", "(4, 8, 29, 20)")
    path.write_text(text)
    done = run_python(str(path), timeout=120)
    assert done.returncode == 1 and "AssertionError" in done.stderr
