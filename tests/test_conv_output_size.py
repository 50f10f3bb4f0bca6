"""``ConvTranspose2d``'s ``forward(input, output_size=...)``: ``conv --transposed --output-size``
passes it to forward, refused exactly where torch refuses it, every shape torch's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.conftest import run_cli, run_python
from tests.test_conv_against_torch import conv_settings, torch_accepts, torch_module
from torchshape import inspect_conv
from torchshape.errors import UsageError


@given(conv_settings(transposed=True), st.data())
def test_output_size_is_passed_to_forward_as_torch_takes_it(s: dict[str, Any], data: Any) -> None:
    ran = torch_accepts({**s, "output_padding": (0,) * s["dims"]})
    assume(ran is not None)
    module, x, plain = ran
    base = plain.shape[-s["dims"] :]
    wanted = tuple(
        data.draw(st.integers(max(1, b - 1), b + stride)) for b, stride in zip(base, s["stride"], strict=True)
    )
    settings = {k: v for k, v in s.items() if k != "output_padding"}
    try:
        expected: tuple[int, ...] | None = tuple(module(x, output_size=list(wanted)).shape)
    except (RuntimeError, ValueError):
        expected = None
    if expected is None:  # torchshape refuses exactly what torch refuses
        with pytest.raises(UsageError, match=r"output_size"):
            inspect_conv(**settings, output_size=wanted)
    else:
        report = inspect_conv(**settings, output_size=wanted, explain=True)
        assert report.ok
        assert report.rows[-1].actual == report.rows[-1].expected == expected


def test_the_command_line_and_its_script(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["conv", "--transposed", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--size", "10"]
    code, out, err = run_cli(capsys, *args, "--output-size", "20,19")
    assert (code, err) == (0, "")
    assert "output = conv_transpose(input, output_size=[20, 19])" in out
    expected = torch.nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1)(
        torch.randn(4, 3, 10, 10), output_size=[20, 19]
    ).shape
    assert f"{tuple(expected)}" in out
    code, out, _ = run_cli(capsys, *args, "--output-size", "20,19", "--format", "json")
    assert json.loads(out)["config"]["output_size"] == [20, 19]
    script = tmp_path / "check.py"
    assert run_cli(capsys, *args, "--output-size", "20,19", "--output", str(script))[0] == 0
    done = run_python(str(script), timeout=120)
    assert done.returncode == 0 and done.stdout == "every shape matches\n", done.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--output-size", "21"], "--output-size: 21 on axis H is not a size this ConvTranspose can give"),
        (["--output-size", "20", "--output-padding", "1"], "--output-size: give it or --output-padding"),
    ],
)
def test_what_torch_refuses_is_refused(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["conv", "--transposed", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--size", "10"]
    code, _, err = run_cli(capsys, *args, *extra)
    assert code == 2 and err.startswith(f"torchshape: error: {message}"), err
    code, _, err = run_cli(capsys, "conv", "--output-size", "20")
    assert code == 2 and "only a ConvTranspose's forward takes output_size" in err


def test_torch_refuses_the_same_sizes() -> None:
    module = torch_module(
        {"dims": 2, "transposed": True, "stride": 2, "padding": 1, "dilation": 1, "groups": 1, "bias": True,
         "output_padding": 0, "in_channels": 3, "out_channels": 8, "kernel_size": 3}
    )  # fmt: skip
    with pytest.raises(ValueError, match="valid sizes range from"):
        module(torch.randn(4, 3, 10, 10), output_size=[21, 21])
