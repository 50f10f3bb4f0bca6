"""The norm family inside a user's model: the trace's formula of each normalization layer, --layer
and ``inspect_module`` on one, and the diagnosis when one fails, for layers hypothesis draws, each
shape against what torch returned to this test."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

import torchshape
from tests.conftest import run_line as run
from tests.test_model_layer import first_call
from torchshape.families.model.load import ModelFailed
from torchshape.families.norm import probe as norm_probe


class SubclassedBatchNorm2d(nn.BatchNorm2d):
    """A user's class that keeps nn.BatchNorm2d's forward: it is still a batch norm."""


def shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


@st.composite
def norm_layer(draw: st.DrawFn) -> tuple[nn.Module, torch.Tensor, dict[str, Any]]:
    """A normalization layer, an input it takes, and the settings ``torchshape norm`` takes for it."""
    kind = draw(st.sampled_from(["batch", "instance", "group", "layer", "rms", "subclass"]))
    batch = draw(st.integers(2, 3))
    eps = draw(st.sampled_from([1e-5, 1e-3]))
    raw: dict[str, Any] = {"eps": eps}
    module: nn.Module
    unbatched = False
    if kind in ("batch", "instance", "subclass"):
        dims = 2 if kind == "subclass" else draw(st.integers(1, 3))
        channels = draw(st.integers(1, 5))
        affine, track = draw(st.booleans()), draw(st.booleans())
        cls = SubclassedBatchNorm2d if kind == "subclass" else getattr(nn, f"{kind.title()}Norm{dims}d")
        module = cls(channels, eps=eps, affine=affine, track_running_stats=track)
        size = tuple(draw(st.lists(st.integers(2, 5), min_size=dims, max_size=dims)))
        if kind != "instance" and dims == 1 and draw(st.booleans()):
            size = ()  # BatchNorm1d's (N, C)
        unbatched = kind == "instance" and draw(st.booleans())
        x = torch.randn(*(() if unbatched else (batch,)), channels, *size)
        raw |= {"kind": "instance" if kind == "instance" else "batch", "dims": dims, "num_features": channels}
        raw |= {"affine": affine, "track_running_stats": track, "size": size}
    elif kind == "group":
        groups = draw(st.integers(1, 3))
        channels = groups * draw(st.integers(1, 3))
        affine = draw(st.booleans())
        module = nn.GroupNorm(groups, channels, eps=eps, affine=affine)
        size = tuple(draw(st.lists(st.integers(2, 5), min_size=0, max_size=3)))
        x = torch.randn(batch, channels, *size)
        raw |= {
            "kind": "group",
            "num_groups": groups,
            "num_features": channels,
            "affine": affine,
            "size": size,
        }
    else:
        normalized = tuple(draw(st.lists(st.integers(2, 6), min_size=1, max_size=3)))
        affine = draw(st.booleans())
        cls = nn.LayerNorm if kind == "layer" else nn.RMSNorm
        module = cls(list(normalized), eps=eps, elementwise_affine=affine)
        lead = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
        x = torch.randn(*lead, *normalized)
        raw |= {"kind": kind, "normalized_shape": normalized, "elementwise_affine": affine, "size": lead[1:]}
        unbatched = not lead
    if unbatched:
        raw["unbatched"] = True
    else:
        raw["batch"] = int(x.shape[0])
    return module, x, raw


def randomized(module: nn.Module) -> nn.Module:
    """The layer with weights, bias and running statistics that are not torch's init, so that a
    run on torchshape's own would differ; in eval mode, as a model's trace runs it."""
    with torch.no_grad():
        for name, value in module.named_parameters():
            value.copy_(torch.randn_like(value) + (1.0 if name == "weight" else 0.0))
        for name, value in module.named_buffers():
            if name == "running_var":
                value.uniform_(0.5, 2.0)
            elif name == "running_mean":
                value.normal_()
    return module.eval()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(norm_layer())
def test_a_norm_layer_in_a_model_has_the_norm_familys_formula_and_torchs_shape(
    case: tuple[nn.Module, torch.Tensor, dict[str, Any]],
) -> None:
    layer, x, raw = case
    model = nn.Sequential(nn.Identity(), layer).eval()
    with torch.no_grad():
        truth = shape(model(x))
    report = torchshape.trace(model, x)
    (row,) = [r for r in report.probe.analysis.layers if r.path == "1"]
    (output,) = row.outputs
    assert output.shape == truth and output.expected == truth and output.verified is True
    # the formula is the one ``torchshape norm`` gives that layer, whose own shapes are torch's
    family = torchshape.inspect_norm(**raw)
    (alone,) = [r for r in family.rows if r.name == "output"]
    assert family.ok and alone.shape == truth
    assert output.formula == alone.formula != "same as input"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(norm_layer(), st.booleans())
def test_inspect_module_of_a_norm_layer_runs_on_its_own_weights_and_input(
    case: tuple[nn.Module, torch.Tensor, dict[str, Any]], explain: bool
) -> None:
    layer, x, raw = case
    layer = randomized(layer)
    seen: dict[str, torch.Tensor] = {}

    def forward(module: nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        seen["output"] = module(inputs["input"])
        return {"output": seen["output"]}

    with torch.no_grad():
        truth = copy.deepcopy(layer)(x)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(norm_probe, "forward", forward)
        report = torchshape.inspect_module(layer, x, explain=explain)
    assert report.family == "norm" and report.ok
    assert {r.name: r.shape for r in report.rows} == {"input": shape(x), "output": shape(truth)}
    # the layer's own weights, statistics and input (batch statistics: the last bit may differ)
    assert torch.allclose(seen["output"], truth, rtol=1e-5, atol=1e-5)
    read = report.spec.as_dict()
    assert read["train"] is False
    assert {k: read[k] for k in raw if k not in ("size", "normalized_shape")} == {
        k: v for k, v in raw.items() if k not in ("size", "normalized_shape")
    }
    assert tuple(read["size"]) == raw["size"]
    assert tuple(read.get("normalized_shape", ())) == raw.get("normalized_shape", ())


@pytest.mark.filterwarnings("ignore:input's size at dim=1 does not match num_features")
def test_a_norm_that_ignores_its_channels_keeps_the_shape_it_was_given() -> None:
    """An InstanceNorm without weights takes any C (torch warns): the family's C would be wrong, so
    the formula is the one every normalization keeps, checked as any other."""
    layer = nn.InstanceNorm1d(4)
    x = torch.randn(2, 6, 5)
    with pytest.warns(UserWarning, match="does not match num_features"):
        truth = shape(layer(x))
    report = torchshape.trace(nn.Sequential(layer), x)
    (output,) = next(r for r in report.probe.analysis.layers if r.path == "0").outputs
    assert (output.formula, output.shape, output.verified) == ("same as input", truth, True)


NORMS = """
from torch import nn


class SubclassedBatchNorm2d(nn.BatchNorm2d):
    pass


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3), SubclassedBatchNorm2d(8), nn.GroupNorm(4, 8))
        self.head = nn.Sequential(nn.Flatten(2), nn.LayerNorm([8, 48]), nn.RMSNorm(48))

    def forward(self, x):
        return self.head(self.stem(x))
"""


# (the layer's path in NORMS, what its title shows, how its module call starts)
NORM_LAYERS = [
    ("stem.1", "N = 2, C = 8", "nn.BatchNorm2d(8)"),
    ("stem.2", "N = 2, C = 8", "nn.GroupNorm(4, 8)"),
    ("head.1", "N = 2, normalized_shape = (8, 48)", "nn.LayerNorm([8, 48])"),
    ("head.2", "N = 2, normalized_shape = (48,)", "nn.RMSNorm(48"),
]


@pytest.mark.parametrize(("path", "seen", "module_call"), NORM_LAYERS)
def test_layer_on_a_norm_layer_is_the_norm_familys_report(
    tmp_path: Path, path: str, seen: str, module_call: str
) -> None:
    (tmp_path / "norms.py").write_text(NORMS, encoding="utf-8")
    target = f"{tmp_path / 'norms.py'}:Net --input 2,3,8,10"
    code, out, err = run(f"model {target} --layer {path} --format json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["command"] == "norm" and document["ok"] is True
    assert seen in document["title"] and document["module"].startswith(module_call)
    namespace: dict[str, Any] = {}
    exec(compile(NORMS, "norms.py", "exec"), namespace)
    truth = first_call(namespace["Net"](), path, [torch.randn(2, 3, 8, 10)])
    assert {t["name"]: tuple(t["shape"]) for t in document["tensors"]} == truth
    assert "on the layer's own weights and the input it was called with" in document["run"]["description"]
    if path == "stem.1":
        assert document["title"].startswith("stem.1 (SubclassedBatchNorm2d) of ")
    code, out, err = run(f"model {target} --layer {path} --device meta --format json")
    assert (code, err) == (0, "")
    assert {t["name"]: tuple(t["shape"]) for t in json.loads(out)["tensors"]} == truth


def test_layer_refuses_a_layer_norm_without_bias_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "nobias.py").write_text(
        "from torch import nn\n\ndef Net():\n    return nn.Sequential(nn.LayerNorm(6, bias=False))\n",
        encoding="utf-8",
    )
    code, out, err = run(f"model {tmp_path / 'nobias.py'}:Net --input 2,6 --layer 0")
    assert (code, out) == (2, "")
    assert err == (
        "torchshape: error: --layer: 0 has a weight and bias=False, which torchshape norm does not take yet\n"
    )


def test_inspect_module_refuses_a_second_tensor_for_a_norm() -> None:
    with pytest.raises(
        torchshape.UsageError, match=r"^input: the module was called with more than its input"
    ):
        torchshape.inspect_module(nn.LayerNorm(4), torch.randn(2, 4), torch.randn(1, 4))


# -- a norm layer that raised: what it expects, and fixes torch ran ------------------------------


@st.composite
def wrong_channels(draw: st.DrawFn) -> tuple[nn.Module, torch.Tensor, str]:
    kind = draw(st.sampled_from(["batch", "instance", "group"]))
    channels, arrived = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    assume(channels != arrived)
    if kind == "group":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        module: nn.Module = nn.GroupNorm(groups, channels)
    elif kind == "batch":
        module = nn.BatchNorm2d(channels)
    else:
        module = nn.InstanceNorm2d(channels, affine=True)
    return module, torch.randn(2, arrived, 3, 4), kind


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wrong_channels())
def test_a_norm_given_the_wrong_channels_gets_a_fix_torch_accepts(
    case: tuple[nn.Module, torch.Tensor, str],
) -> None:
    layer, x, kind = case
    with pytest.raises((RuntimeError, ValueError)):  # torch refuses the layer as drawn
        copy.deepcopy(layer).eval()(x)
    with pytest.raises(ModelFailed) as raised:
        torchshape.trace(nn.Sequential(layer), x)
    diagnosis = raised.value.report.probe.analysis.diagnosis
    assert diagnosis.layer == "0" and diagnosis.got == shape(x)
    wanted = "num_channels" if kind == "group" else "num_features"
    assert (
        f"C = {wanted} = {layer.num_channels if kind == 'group' else layer.num_features}" in diagnosis.expects
    )
    assert diagnosis.fixes
    for fix in diagnosis.fixes:  # each fix rebuilt and run here, on torch
        changes = {
            name.strip(): ast.literal_eval(value)
            for name, value in (p.split("=") for p in fix.change.split(","))
        }
        if kind == "group":
            rebuilt: nn.Module = nn.GroupNorm(
                changes.get("num_groups", layer.num_groups), changes["num_channels"]
            )
        else:
            rebuilt = type(layer)(changes["num_features"], affine=True)
        assert shape(rebuilt.eval()(x)) == shape(x)
        assert fix.verified


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 6), st.integers(2, 6), st.integers(1, 3))
def test_layer_norm_written_from_the_front_is_named_and_fixed(length: int, width: int, batch: int) -> None:
    """LayerNorm(L) on an (N, L, E) input: normalized_shape names the last dims, not the first."""
    assume(length != width)
    x = torch.randn(batch, length, width)
    with pytest.raises(RuntimeError):
        nn.LayerNorm(length)(x)
    with pytest.raises(ModelFailed) as raised:
        torchshape.trace(nn.Sequential(nn.LayerNorm(length)), x)
    diagnosis = raised.value.report.probe.analysis.diagnosis
    assert diagnosis.detail is not None and "is the input's front" in diagnosis.detail
    (fix,) = diagnosis.fixes
    assert fix.change == f"normalized_shape={width}" and fix.verified
    assert shape(nn.LayerNorm(width)(x)) == shape(x)


def test_norm_layers_on_meta_at_sizes_no_machine_holds() -> None:
    meta = torch.device("meta")
    model = nn.Sequential(
        nn.Conv2d(3, 64, 3, device=meta),
        nn.BatchNorm2d(64, device=meta),
        nn.GroupNorm(8, 64, device=meta),
        nn.InstanceNorm2d(64, device=meta),
        nn.Flatten(2),
        nn.LayerNorm(4094 * 4094, device=meta),
        nn.RMSNorm(4094 * 4094, device=meta),
    ).eval()
    x = torch.empty(100_000, 3, 4096, 4096, device=meta)
    truth: dict[str, tuple[int, ...]] = {}
    with torch.no_grad():
        hidden = x
        for path, layer in model.named_children():
            hidden = layer(hidden)
            truth[path] = shape(hidden)
    report = torchshape.trace(model, x, device="meta")
    norms = {
        row.path: row.outputs for row in report.probe.analysis.layers if row.path in ("1", "2", "3", "5", "6")
    }
    assert len(norms) == 5
    for path, (output,) in norms.items():
        assert output.shape == truth[path] and output.verified is True, path
        assert output.formula != "same as input"
