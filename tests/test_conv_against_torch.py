"""torchshape conv against torch itself: hypothesis draws Conv and ConvTranspose configurations
over every flag; each test builds the module with plain torch calls (not torchshape code) and
compares every shape, every parameter and the MAC count (torch's FlopCounterMode)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from torchshape import inspect_conv
from torchshape.errors import UsageError


@st.composite
def conv_settings(draw: st.DrawFn, transposed: bool | None = None) -> dict[str, Any]:
    dims = draw(st.integers(1, 3))
    is_t = draw(st.booleans()) if transposed is None else transposed
    groups = draw(st.integers(1, 3))
    per = lambda lo, hi: draw(st.lists(st.integers(lo, hi), min_size=dims, max_size=dims))  # noqa: E731
    kernel, stride, dilation = per(1, 4), per(1, 3), per(1, 3)
    settings: dict[str, Any] = {
        "dims": dims,
        "in_channels": groups * draw(st.integers(1, 3)),
        "out_channels": groups * draw(st.integers(1, 3)),
        "kernel_size": tuple(kernel),
        "stride": tuple(stride),
        "dilation": tuple(dilation),
        "groups": groups,
        "bias": draw(st.booleans()),
        "transposed": is_t,
        "size": tuple(per(1, 9 if dims == 3 else 14)),
        "unbatched": draw(st.booleans()),
    }
    if not settings["unbatched"]:
        settings["batch"] = draw(st.integers(1, 3))
    if is_t:
        settings["padding"] = tuple(per(0, 3))
        settings["output_padding"] = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        )
    else:
        settings["padding"] = draw(
            st.one_of(st.just("valid"), st.just("same"), st.tuples(*[st.integers(0, 3)] * dims))
        )
        if settings["padding"] == "same":
            settings["stride"] = (1,) * dims
        settings["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    return settings


def torch_module(s: dict[str, Any]) -> torch.nn.Module:
    """The module built with plain torch calls from the same settings."""
    cls = getattr(torch.nn, f"{'ConvTranspose' if s['transposed'] else 'Conv'}{s['dims']}d")
    kwargs = {k: s[k] for k in ("stride", "padding", "dilation", "groups", "bias")}
    if s["transposed"]:
        kwargs["output_padding"] = s["output_padding"]
    else:
        kwargs["padding_mode"] = s["padding_mode"]
    return cls(s["in_channels"], s["out_channels"], s["kernel_size"], **kwargs)


def torch_input(s: dict[str, Any]) -> torch.Tensor:
    lead = () if s["unbatched"] else (s["batch"],)
    return torch.randn(*lead, s["in_channels"], *s["size"])


def torch_accepts(s: dict[str, Any]) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor] | None:
    try:
        module = torch_module(s)
        x = torch_input(s)
        y = module(x)
    except (RuntimeError, ValueError):
        return None
    # torch refuses an empty output ("Output size is too small"), except on the grouped
    # ConvTranspose1d path, which returns one; torchshape refuses it everywhere.
    return None if 0 in y.shape else (module, x, y)


@given(conv_settings())
def test_every_shape_and_parameter_is_torchs(settings: dict[str, Any]) -> None:
    ran = torch_accepts(settings)
    try:
        report = inspect_conv(**settings)
    except UsageError:
        # torchshape refuses exactly what torch refuses
        assert ran is None, f"torchshape refused what torch ran: {settings}"
        return_value = None
    else:
        assert ran is not None, f"torch refused what torchshape accepted: {settings}"
        module, x, y = ran
        rows = {row.name: row for row in report.rows}
        assert rows["input"].expected == tuple(x.shape)
        assert rows["output"].expected == tuple(y.shape)
        assert report.ok
        params = {name: tuple(p.shape) for name, p in module.named_parameters()}
        assert {p.name: p.shape for p in report.parameters} == params
        assert report.totals is not None
        assert report.totals.params == sum(p.numel() for p in module.parameters())
        return_value = report
    assume(return_value is not None)


@given(conv_settings())
def test_macs_are_half_of_torchs_flop_count(settings: dict[str, Any]) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    ran = torch_accepts(settings)
    assume(ran is not None)
    assert ran is not None
    module, x, _ = ran
    report = inspect_conv(**settings)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x)
    assert report.totals is not None
    assert counter.get_total_flops() == 2 * report.totals.macs


def test_flop_counter_on_the_defaults() -> None:
    """The measured figure docs/conv.md quotes: 331,776 FLOPs = 2 · 165,888 MACs."""
    from torch.utils.flop_counter import FlopCounterMode

    module = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.randn(4, 3, 32, 24))
    assert counter.get_total_flops() == 331_776
    report = inspect_conv(kernel_size=3, stride=2, padding=1)
    assert report.totals is not None and report.totals.macs == 165_888


@given(conv_settings())
def test_meta_gives_the_same_shapes_at_the_users_sizes(settings: dict[str, Any]) -> None:
    assume(torch_accepts(settings) is not None)
    cpu = inspect_conv(**settings)
    meta = inspect_conv(**settings, device="meta")
    assert [r.actual for r in meta.rows] == [r.actual for r in cpu.rows]
    assert meta.ok and not meta.probe.reduced


def test_huge_sizes_on_meta_run_at_those_sizes_quickly() -> None:
    import time

    inspect_conv(device="meta")  # one-time costs inside torch
    began = time.perf_counter()
    report = inspect_conv(
        batch=64, in_channels=1024, out_channels=1024, size=(4096, 4096), stride=2, padding=2, device="meta"
    )
    assert time.perf_counter() - began < 2.0
    assert report.ok
    assert report.rows[1].actual == (64, 1024, 2048, 2048)
    assert "meta: shapes from torch's meta kernels, no values" in report.ran


@pytest.mark.parametrize("transposed", [False, True])
def test_the_output_size_formula_can_fail(transposed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the formula (add one to every output size): torch's forward pass disagrees."""
    from torchshape.families.conv import formulas

    real = formulas.out_size
    monkeypatch.setattr(formulas, "out_size", lambda spec: tuple(n + 1 for n in real(spec)))
    report = inspect_conv(transposed=transposed)
    assert not report.ok
    assert not next(r for r in report.rows if r.name == "output").verified


def test_the_weight_formula_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap C_in and C_out in the weight (the classic ConvTranspose mistake): torch disagrees."""
    from torchshape.families.conv import counts

    real = counts.parameter_formulas

    def swapped(spec: Any) -> list[tuple[str, str, tuple[int, ...]]]:
        rows = real(spec)
        name, formula, shape = rows[0]
        return [(name, formula, (shape[1] * spec.groups, shape[0] // spec.groups, *shape[2:])), *rows[1:]]

    monkeypatch.setattr(counts, "parameter_formulas", swapped)
    report = inspect_conv(transposed=True)
    assert not report.ok
    assert not report.parameters[0].verified


def test_the_mac_formula_can_fail() -> None:
    """A MAC count that ignored groups would be wrong by the factor groups: FlopCounterMode sees it."""
    from torch.utils.flop_counter import FlopCounterMode

    report = inspect_conv(in_channels=6, out_channels=9, kernel_size=3, stride=2, padding=1, groups=3)
    module = torch.nn.Conv2d(6, 9, 3, stride=2, padding=1, groups=3)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.randn(4, 6, 32, 24))
    assert report.totals is not None
    assert counter.get_total_flops() == 2 * report.totals.macs
    without_groups = 4 * 9 * 16 * 12 * 6 * math.prod((3, 3))
    assert counter.get_total_flops() != 2 * without_groups
