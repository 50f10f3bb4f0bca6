"""torchshape.summary: torchinfo's call, on our copies of torchinfo's test models.

The totals are compared with torchinfo's golden outputs (its tests/test_output/*.out) where
torchinfo is right, and each place where torchshape differs is named and checked on torch:
torchinfo counts a bias addition as a multiply-accumulate and an embedding lookup as a MAC, adds
Python's storage overhead (56 bytes a tensor) to the input size, and counts only the first tensor
an LSTM returns. Drawn models compare with torch's own FlopCounterMode and parameters().
"""

from __future__ import annotations

import math
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import torchshape
from tests.models.torchinfo_fixtures import (
    ContainerModule,
    LSTMNet,
    MixedTrainableParameters,
    MultipleInputNetDifferentDtypes,
    SingleInputNet,
    TiedWeightsModel,
)
from torchshape import Summary, UsageError

STORAGE_OVERHEAD = 56  # sys.getsizeof(tensor.untyped_storage()) - its bytes: in torchinfo's "Input size"


def bias_additions(model: nn.Module, *inputs: torch.Tensor) -> int:
    """The bias elements added in one forward pass of every Conv and Linear (torch's shapes):
    one per output element of a layer with a bias. torchinfo counts each as a mult-add."""
    total = [0]

    def hook(module: nn.Module, args: object, out: torch.Tensor) -> None:
        if getattr(module, "bias", None) is not None:
            total[0] += out.numel()

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.Conv1d))
    ]
    with torch.no_grad():
        model(*inputs)
    for handle in handles:
        handle.remove()
    return total[0]


def test_single_input_net_matches_torchinfo_golden() -> None:
    """torchinfo's single_input.out: summary(SingleInputNet(), (2, 1, 28, 28))."""
    model = SingleInputNet()
    result = torchshape.summary(model, (2, 1, 28, 28), verbose=0)
    assert isinstance(result, Summary) and result.ok
    assert result.total_params == 21_840
    assert result.trainable_params == 21_840
    assert result.total_output_bytes == 113_600  # Forward/backward pass size (kB): 113.60
    assert result.total_param_bytes == 87_360  # Params size (kB): 87.36
    assert result.total_input + STORAGE_OVERHEAD == 6_328  # Input size (kB): 6.33
    # Total mult-adds (k): 975.20, which counts each bias addition
    assert result.total_mult_adds + bias_additions(model, torch.rand(2, 1, 28, 28)) == 975_200


def test_lstm_net_matches_torchinfo_golden() -> None:
    """torchinfo's lstm.out: summary(LSTMNet(), input_size=(1, 100), dtypes=[torch.long])."""
    model = LSTMNet()
    result = torchshape.summary(model, input_size=(1, 100), dtypes=[torch.long], verbose=0)
    assert result.ok
    assert result.total_params == 3_784_580
    assert result.total_param_bytes == 15_138_320  # Params size (MB): 15.14
    assert result.total_input + STORAGE_OVERHEAD == 856
    # torchinfo's 665,600 bytes count the LSTM's output alone; h_n and c_n are outputs too
    tokens = torch.randint(0, 20, (1, 100))
    _, (h_n, c_n) = model.encoder(model.embedding(tokens))
    states = (h_n.numel() + c_n.numel()) * 4 * 2
    assert result.total_output_bytes == 665_600 + states
    # Total mult-adds (M): 377.86 = 377,864,000: the biases of the LSTM (each of its L·N steps) and
    # of the decoder counted as MACs, and the embedding's 6,000 "MACs" (a lookup: no multiply)
    lstm_biases = sum(p.numel() for name, p in model.encoder.named_parameters() if "bias" in name) * 100
    decoder_biases = bias_additions(model.decoder, torch.rand(1, 100, 512))
    embedding = model.embedding.weight.numel()
    assert result.total_mult_adds + lstm_biases + decoder_biases + embedding == 377_864_000


def test_container_module_matches_torchinfo_golden() -> None:
    """torchinfo's container.out: summary(ContainerModule(), input_size=(1, 5), depth=4)."""
    model = ContainerModule()
    result = torchshape.summary(model, input_size=(1, 5), depth=4, verbose=0)
    assert result.total_params == 150  # each Linear once, however often it is called
    assert result.total_output_bytes == 440  # eleven Linear calls, 5 floats each, x2
    assert result.total_param_bytes == 600
    assert result.total_input + STORAGE_OVERHEAD == 76
    assert result.total_mult_adds + bias_additions(model, torch.rand(1, 5)) == 330


def test_multiple_inputs_of_different_dtypes_match_torchinfo_golden() -> None:
    """torchinfo's multiple_input_types.out: tensor types as dtypes, one float and one long input."""
    model = MultipleInputNetDifferentDtypes()
    result = torchshape.summary(
        model, input_size=[(1, 300), (1, 300)], dtypes=[torch.FloatTensor, torch.LongTensor], verbose=0
    )
    assert [row.shape for row in result.rows] == [(1, 300), (1, 300)]
    assert result.total_params == result.trainable_params == 31_120
    assert result.total_output_bytes == 960
    assert result.total_param_bytes == 124_480  # Params size (kB): 124.48
    assert result.total_input + 2 * STORAGE_OVERHEAD == 3_712  # Input size (kB): 3.71: float + long
    x1, x2 = torch.rand(1, 300), torch.zeros(1, 300, dtype=torch.long)
    assert result.total_mult_adds + bias_additions(model, x1, x2) == 31_120  # Total mult-adds (k): 31.12


def test_frozen_parameters_are_not_trainable() -> None:
    """torchinfo's mixed_trainable_parameters.out: 20 parameters, 10 trainable."""
    result = torchshape.summary(MixedTrainableParameters(), input_data=torch.randn(10), verbose=0)
    assert (result.total_params, result.trainable_params) == (20, 10)


def test_tied_weights_count_once() -> None:
    """The shared tensor counts once, as model.parameters() has it (torchinfo 1.8 counted 128,000)."""
    model = TiedWeightsModel()
    result = torchshape.summary(model, input_data=torch.randint(0, 1000, (2, 8)), depth=2, verbose=0)
    assert result.total_params == sum(p.numel() for p in model.parameters()) == 64_000
    assert result.trainable_params == 64_000
    assert result.total_param_bytes == 64_000 * 4


@settings(max_examples=15, deadline=None)
@given(
    channels=st.integers(1, 4),
    out_channels=st.integers(1, 6),
    kernel=st.integers(1, 3),
    size=st.integers(3, 9),
    batch=st.integers(1, 3),
    hidden=st.integers(1, 8),
    bias=st.booleans(),
)
def test_totals_are_torchs_own(
    channels: int, out_channels: int, kernel: int, size: int, batch: int, hidden: int, bias: bool
) -> None:
    """Parameters from parameters(), MACs from torch's FlopCounterMode (two FLOPs a MAC),
    bytes from the tensors themselves."""
    side = size - kernel + 1
    model = nn.Sequential(
        nn.Conv2d(channels, out_channels, kernel, bias=bias),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(out_channels * side * side, hidden, bias=bias),
    )
    x = torch.rand(batch, channels, size, size)
    result = torchshape.summary(model, input_data=x, verbose=0)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    assert result.total_mult_adds * 2 == counter.get_total_flops()
    assert result.total_params == sum(p.numel() for p in model.parameters())
    assert result.total_param_bytes == sum(p.numel() * p.element_size() for p in model.parameters())
    assert result.total_input == x.numel() * x.element_size()
    outputs = [model[0](x)]
    outputs.append(model[3](model[2](model[1](outputs[0]))))
    assert result.total_output_bytes == sum(o.numel() * 4 * 2 for o in outputs)


def test_input_size_and_batch_dim_make_torchinfos_inputs() -> None:
    model = SingleInputNet()
    result = torchshape.summary(model, input_size=(1, 28, 28), batch_dim=0, verbose=0)
    assert result.rows[0].shape == (1, 1, 28, 28)
    listed = torchshape.summary(model, input_size=[1, 1, 28, 28], verbose=0)
    assert listed.rows[0].shape == (1, 1, 28, 28)


def test_depth_limits_the_rows_shown_not_the_totals() -> None:
    model = ContainerModule()
    shallow = torchshape.summary(model, input_size=(1, 5), depth=2, verbose=0)
    deep = torchshape.summary(model, input_size=(1, 5), depth=4, verbose=0)
    # the ModuleList (depth 1) is never called: its layers are depth 2
    assert {layer["depth"] for layer in shallow.to_dict()["layers"]} == {0, 2}
    assert max(layer["depth"] for layer in deep.to_dict()["layers"]) == 4
    assert shallow.total_params == deep.total_params == 150


def test_keywords_go_to_forward_and_a_dict_is_keywords() -> None:
    class Keyed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return self.fc(x) * scale

    result = torchshape.summary(Keyed(), input_data={"x": torch.rand(2, 4)}, scale=2.0, verbose=0)
    assert result.ok and result.rows[0].name == "x"


def test_mode_runs_the_pass_in_that_mode_and_gives_the_models_back() -> None:
    seen: list[bool] = []
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model[1].register_forward_pre_hook(lambda module, args: seen.append(module.training))
    model.train()
    torchshape.summary(model, input_size=(2, 3), mode="eval", verbose=0)
    assert seen == [False] and model.training
    model.eval()
    torchshape.summary(model, input_size=(2, 3), mode="train", verbose=0)
    assert seen[-1] is True and not model.training


def test_verbose_prints_the_table_and_zero_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Sequential(nn.Linear(3, 5))
    result = torchshape.summary(model, input_size=(2, 3), verbose=1)
    printed = capsys.readouterr().out
    assert printed == str(result) + "\n"
    assert "(2, 5)" in printed and "\x1b[" not in printed
    torchshape.summary(model, input_size=(2, 3), verbose=0)
    assert capsys.readouterr().out == ""
    torchshape.summary(model, input_size=(2, 3), verbose=2)
    assert "0.weight" in capsys.readouterr().out  # every parameter


def test_by_default_it_prints_outside_a_notebook(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A REPL (sys.ps1 set) shows a Report's one-line repr, so the table is printed there too;
    the notebook test checks that a kernel prints nothing."""
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    result = torchshape.summary(nn.Sequential(nn.Linear(3, 5)), input_size=(2, 3))
    assert capsys.readouterr().out == str(result) + "\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "input_size: give input_size or input_data"),
        ({"input_size": (2, 3), "input_data": torch.rand(2, 3)}, "input_size: give one of"),
        ({"input_size": (2, 3), "col_names": ("output_size", "colour")}, "col_names 'colour': none of"),
        ({"input_size": (2, 3), "row_settings": ("wide",)}, "row_settings 'wide': none of"),
        ({"input_size": (2, 3), "col_width": 0}, "col_width=0: must be greater than 0"),
        ({"input_size": (2, 3), "mode": "test"}, "mode='test': none of same, train, eval"),
        ({"input_size": (2, 3), "verbose": 3}, "verbose=3: none of 0"),
        ({"input_size": (2, 0)}, "input_size=(2, 0): a dimension is below 1"),
        ({"input_size": [(2, 3), (2, 3)], "dtypes": [torch.float]}, "dtypes: 1 dtype(s) for 2 input size(s)"),
    ],
)
def test_bad_arguments_name_themselves(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        torchshape.summary(nn.Linear(3, 5), **{"verbose": 0, **arguments})  # type: ignore[arg-type]
    assert str(raised.value).startswith(message), str(raised.value)


def test_torchinfo_columns_are_accepted() -> None:
    """A torchinfo call runs unchanged: its col_names, col_width and row_settings are accepted."""
    result = torchshape.summary(
        SingleInputNet(),
        input_size=(2, 1, 28, 28),
        col_names=("input_size", "output_size", "num_params", "kernel_size", "mult_adds", "trainable"),
        col_width=20,
        row_settings=("var_names",),
        verbose=0,
    )
    assert result.ok and math.isclose(result.total_params, 21_840)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_device_takes_a_name_or_a_torch_device(device: object) -> None:
    model = SingleInputNet()
    sized = torchshape.summary(model, input_size=(1, 1, 28, 28), device=device, verbose=0)
    given = torchshape.summary(model, input_data=torch.rand(1, 1, 28, 28), device=device, verbose=0)
    assert sized.probe.device == given.probe.device == "cpu"
    assert sized.total_params == given.total_params == 21_840
