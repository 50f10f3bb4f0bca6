"""Every flag that mirrors a keyword argument defaults to torch's own default: a user types what
differs from torch, as in the PyTorch docs' examples, and gets torch's shapes."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import torch

from tests.conftest import run_cli
from torchshape.families.conv.request import make_spec as conv_spec
from torchshape.families.pool.request import make_spec as pool_spec
from torchshape.families.transformer.request import make_spec as transformer_spec


def torch_default(cls: Any, name: str) -> Any:
    return inspect.signature(cls.__init__).parameters[name].default


def per_axis(value: Any, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,) * dims


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_flags_default_to_torchs(transposed: bool) -> None:
    cls = torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d
    spec = conv_spec(transposed=transposed)
    for name in ("stride", "padding", "dilation"):
        assert getattr(spec, name) == per_axis(torch_default(cls, name), 2), name
    assert spec.groups == torch_default(cls, "groups")
    assert spec.bias is torch_default(cls, "bias")
    assert spec.padding_mode.value == torch_default(cls, "padding_mode")
    if transposed:
        assert spec.output_padding == per_axis(torch_default(cls, "output_padding"), 2)


def test_the_docs_conv_example_typed_as_flags_gives_torchs_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """The docs' ``nn.Conv2d(16, 33, 3, stride=2)`` on ``torch.randn(20, 16, 50, 100)``."""
    expected = tuple(torch.nn.Conv2d(16, 33, 3, stride=2)(torch.randn(20, 16, 50, 100)).shape)
    code, out, _ = run_cli(
        capsys,
        "conv",
        *("--in-channels", "16", "--out-channels", "33", "--kernel-size", "3", "--stride", "2"),
        *("--size", "50,100", "--batch", "20", "--format", "json"),
    )
    import json

    assert code == 0
    shapes = {t["name"]: tuple(t["shape"]) for t in json.loads(out)["tensors"]}
    assert shapes["output"] == expected == (20, 33, 24, 49)


@pytest.mark.parametrize("kind", ["max", "avg", "lp"])
def test_pool_flags_default_to_torchs(kind: str) -> None:
    cls = {"max": torch.nn.MaxPool2d, "avg": torch.nn.AvgPool2d, "lp": torch.nn.LPPool2d}[kind]
    spec = pool_spec(kind=kind)
    assert torch_default(cls, "stride") is None and spec.stride == spec.kernel_size  # None: kernel_size
    assert spec.ceil_mode is torch_default(cls, "ceil_mode")
    if kind != "lp":
        assert spec.padding == per_axis(torch_default(cls, "padding"), 2)
    if kind == "max":
        assert spec.dilation == per_axis(torch_default(cls, "dilation"), 2)
        assert spec.return_indices is torch_default(cls, "return_indices")
    if kind == "avg":
        assert spec.count_include_pad is torch_default(cls, "count_include_pad")


def test_transformer_flags_default_to_torchs() -> None:
    layer = transformer_spec()
    for name in ("dim_feedforward", "batch_first", "norm_first"):
        assert getattr(layer, name) == torch_default(torch.nn.TransformerEncoderLayer, name), name
        assert getattr(layer, name) == torch_default(torch.nn.TransformerDecoderLayer, name), name
    full = transformer_spec(layer="full")
    for name in ("num_encoder_layers", "num_decoder_layers", "dim_feedforward", "batch_first", "norm_first"):
        assert getattr(full, name) == torch_default(torch.nn.Transformer, name), name


def test_illustrative_sizes_are_each_their_own_number() -> None:
    """The sizes torch requires keep illustrative defaults, none equal to another, so a formula that
    mixed two symbols up would show."""
    c = conv_spec()
    sizes = [c.batch, c.in_channels, c.out_channels, c.kernel_size[0], *c.size]
    assert len(set(sizes)) == len(sizes), sizes
    p = pool_spec()
    sizes = [p.batch, p.channels, p.kernel_size[0], *p.size]
    assert len(set(sizes)) == len(sizes), sizes
    t = transformer_spec(layer="full")
    sizes = [t.batch, t.d_model, t.nhead, t.d_model // t.nhead, t.source_len, t.target_len, t.dim_feedforward]
    assert len(set(sizes)) == len(sizes), sizes
