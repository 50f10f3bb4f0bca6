"""Lazy layers learn their sizes on the first forward: ``torchshape model`` runs that forward
before it counts parameters, so the trace, the parameter total and the guard's trial on meta see
the layers they become, as torch's forward does."""

from __future__ import annotations

import json

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import MODELS, run_line
from tests.models.lazy import LazyNet


@settings(max_examples=8, deadline=None)
@given(
    batch=st.integers(1, 3),
    in_channels=st.integers(1, 5),
    size=st.integers(3, 9),
    channels=st.integers(1, 6),
    classes=st.integers(1, 9),
    device=st.sampled_from(["cpu", "meta"]),
)
def test_a_model_of_lazy_layers_is_traced_as_torch_runs_it(
    batch: int, in_channels: int, size: int, channels: int, classes: int, device: str
) -> None:
    args = f"--arg channels={channels} --arg classes={classes}"
    code, out, err = run_line(
        f"model {MODELS}/lazy.py:LazyNet {args} --input {batch},{in_channels},{size},{size} "
        f"--device {device} --format json"
    )
    assert code == 0, err
    report = json.loads(out)
    model = LazyNet(channels, classes).eval()
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(path: str) -> object:
        def record(module: torch.nn.Module, args: object, out: torch.Tensor) -> None:
            shapes.setdefault(path, tuple(out.shape))

        return record

    for path, module in model.named_modules():
        module.register_forward_hook(hook(path))
    with torch.no_grad():
        model(torch.randn(batch, in_channels, size, size))
    traced = {layer["path"]: tuple(layer["outputs"][0]["shape"]) for layer in report["layers"]}
    assert traced == shapes
    assert report["totals"]["params"] == sum(p.numel() for p in model.parameters())
    assert all(o["verified"] is not False for layer in report["layers"] for o in layer["outputs"])
