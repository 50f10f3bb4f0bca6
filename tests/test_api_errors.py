"""Every public function of the Python API names the argument a wrong type or value came in
(``model=None: expected an nn.Module``), never an AttributeError or IndexError from inside."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

import torchshape
from torchshape.errors import EnvironmentProblem, TorchshapeError

FAMILIES: dict[str, Callable[..., Any]] = {
    "rnn": torchshape.inspect,
    "conv": torchshape.inspect_conv,
    "pool": torchshape.inspect_pool,
    "attention": torchshape.inspect_attention,
    "embedding": torchshape.inspect_embedding,
    "transformer": torchshape.inspect_transformer,
    "norm": torchshape.inspect_norm,
}


def setting_names(family: str) -> list[str]:
    spec = importlib.import_module(f"torchshape.families.{family}.spec")
    request = importlib.import_module(f"torchshape.families.{family}.request")
    defaults = getattr(request, "DEFAULTS", None) or spec.DEFAULTS
    return sorted(name for name in defaults if name not in ("device",))


class Odd:
    """An object of no type torchshape knows, whose repr is long."""

    def __repr__(self) -> str:
        return "Odd(" + "x" * 500 + ")"


wrong = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=12),
    st.binary(max_size=4),
    st.lists(st.integers(-3, 40), max_size=4),
    st.lists(st.integers(-3, 40), max_size=4).map(tuple),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(Odd()),
    st.just(torch.zeros(2)),
    st.just(math.nan),
)


def _names_the_argument(error: BaseException, name: str) -> bool:
    """The message names the argument: as its start (``name=...:``), or as a word in a message
    about a combination (``the window (dilation·(kernel_size − 1) + 1 = 21) ...``)."""
    return re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", str(error)) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_wrong_setting_is_named(data: st.DataObject) -> None:
    family = data.draw(st.sampled_from(sorted(FAMILIES)))
    name = data.draw(st.sampled_from(setting_names(family)))
    value = data.draw(wrong)
    try:
        report = FAMILIES[family](**{name: value, "device": "meta"})
    except EnvironmentProblem:
        pass  # too large for this machine, even on meta: an environment answer, not an argument's
    except (TorchshapeError, TypeError, ValueError) as error:
        assert _names_the_argument(error, name), (family, name, value, type(error).__name__, str(error))
        assert len(str(error)) < 1000, str(error)[:200]
    else:
        assert report.spec is not None


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(FAMILIES)),
    st.sampled_from(["spec", "explain", "diagram", "unroll"]),
    st.one_of(st.text(max_size=5), st.integers(), st.just(Odd()), st.floats()),
)
def test_a_wrong_spec_or_switch_is_named(family: str, name: str, value: Any) -> None:
    function = FAMILIES[family]
    assume(not (name == "unroll" and family != "rnn"))
    assume(not (name == "diagram" and family in ("embedding", "transformer", "norm")))
    with pytest.raises(TorchshapeError) as caught:
        if name == "spec":
            function(value)
        else:
            function(**{name: value, "device": "meta"})
    assert str(caught.value).startswith(f"{name}="), str(caught.value)


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (
            lambda: torchshape.trace(None, torch.randn(2, 4)),
            "model=None: expected an nn.Module, got NoneType",
        ),
        (lambda: torchshape.trace("lstm", torch.randn(2, 4)), "model='lstm': expected an nn.Module, got str"),
        (
            lambda: torchshape.summary(None, input_size=(2, 4), verbose=0),
            "model=None: expected an nn.Module, got NoneType",
        ),
        (
            lambda: torchshape.trace(nn.Linear(4, 2), torch.randn(2, 4), device="gpu"),
            "device='gpu': is not cpu",
        ),
        (
            lambda: torchshape.trace(nn.Linear(4, 2), torch.randn(2, 4), depth=-1),
            "depth=-1: must be 0 or more",
        ),
        (
            lambda: torchshape.trace(nn.Linear(4, 2), torch.randn(2, 4), depth="2"),
            "depth='2': expected a whole",
        ),
        (
            lambda: torchshape.inspect_module(nn.LSTM(8, 4), torch.randn(3, 8), hx=torch.randn(1, 4)),
            "hx=tensor of shape (1, 4): nn.LSTM takes (h_0, c_0)",
        ),
        (
            lambda: torchshape.inspect_module(nn.GRU(8, 4), torch.randn(3, 8), hx=(torch.randn(1, 4),)),
            "hx=(tensor([[",
        ),
        (lambda: torchshape.inspect_module(None, torch.randn(3, 8)), "module=None: expected an nn.Module"),
        (lambda: torchshape.inspect_module(nn.LSTM(8, 4), [1, 2]), "input=[1, 2]: expected a torch.Tensor"),
        (lambda: torchshape.inspect("lstm"), "spec='lstm': expected RNNSpec or None, got str"),
    ],
)
def test_trace_and_inspect_module_name_the_argument(call: Callable[[], Any], said: str) -> None:
    with pytest.raises(TorchshapeError) as caught:
        call()
    assert str(caught.value).startswith(said), str(caught.value)


def test_trace_takes_a_torch_device_as_its_name() -> None:
    """``device=torch.device("meta")`` moves the model and inputs as ``device="meta"`` does."""
    for device in ("meta", torch.device("meta")):
        report = torchshape.trace(nn.Linear(4, 2), torch.randn(2, 4), device=device)
        assert report.ok and report.probe.device == "meta", device


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_a_missing_cuda_device_is_named() -> None:
    with pytest.raises(EnvironmentProblem, match=r"^device='cuda': no CUDA device"):
        torchshape.trace(nn.Linear(4, 2), torch.randn(2, 4), device="cuda")


def test_a_reports_symbols_are_read_by_name_as_in_the_docs() -> None:
    """``report.symbols.H_out`` is ``report.symbols["H_out"]``, for every symbol of every family's
    table; a name the table lacks is an AttributeError that lists the ones it has."""
    import torchshape

    for report in (torchshape.inspect(kind="lstm", bidirectional=True), torchshape.inspect_conv()):
        symbols = report.symbols
        assert symbols.as_dict()
        for name, value in symbols.as_dict().items():
            assert getattr(symbols, name) == symbols[name] == value
        with pytest.raises(AttributeError, match="no symbol 'nope'"):
            _ = symbols.nope
