"""``AdaptiveAvgPool2d((None, 7))``: None on an axis keeps the input's size there, from the
command line (``--output-size None,7``) and from Python (``output_size=(None, 7)``)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_cli
from torchshape import inspect_pool
from torchshape.errors import UsageError


@given(
    kind=st.sampled_from(["adaptive-avg", "adaptive-max"]),
    dims=st.integers(2, 3),
    data=st.data(),
)
def test_none_keeps_the_input_size_as_torch_does(kind: str, dims: int, data: Any) -> None:
    size = tuple(data.draw(st.integers(1, 9)) for _ in range(dims))
    output_size = tuple(data.draw(st.one_of(st.none(), st.integers(1, 9))) for _ in range(dims))
    cls = getattr(torch.nn, f"{'AdaptiveAvgPool' if kind == 'adaptive-avg' else 'AdaptiveMaxPool'}{dims}d")
    expected = tuple(cls(output_size)(torch.randn(2, 3, *size)).shape)
    report = inspect_pool(kind=kind, dims=dims, channels=3, batch=2, size=size, output_size=output_size)
    assert report.ok
    assert report.rows[-1].actual == report.rows[-1].expected == expected


def test_the_command_line_takes_none(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "pool", "--kind", "adaptive-avg", "--output-size", "None,7")
    assert (code, err) == (0, "")
    assert out.startswith("nn.AdaptiveAvgPool2d((None, 7))\n")
    assert "(2, 5, 28, 7)" in out and "H_out = H_in (output_size[0] is None)" in out


def test_none_where_torch_has_no_use_for_it_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "pool", "--kind", "adaptive-max", "--dims", "1", "--output-size", "None")
    assert code == 2 and err.startswith("torchshape: error: --output-size: None keeps the input's size")
    code, _, err = run_cli(capsys, "pool", "--kind", "adaptive-avg", "--output-size", "None,7,3")
    assert code == 2 and "3 values for --dims 2" in err
    with pytest.raises(UsageError, match="output_size"):
        inspect_pool(kind="adaptive-avg", output_size=(None, "x"))
