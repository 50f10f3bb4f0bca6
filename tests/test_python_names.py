"""The Python API's errors name Python arguments (``proj_size=3``), the command line's name flags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run_cli
from torchshape import UsageError, inspect, make_spec

EXACT = [
    (
        {"kind": "gru", "proj_size": 3},
        "proj_size",
        "proj_size=3: only kind='lstm' supports a projection; nn.GRU has none",
    ),
    (
        {"proj_size": 30},
        "proj_size",
        "proj_size=30: 30 must be smaller than hidden_size (30); use 0 for none",
    ),
    (
        {"unbatched": True, "batch": 4},
        "batch",
        "batch=4: unbatched input has no batch dimension; drop batch or unbatched=True",
    ),
    (
        {"kind": "gru-cell", "dropout": 0.2},
        "dropout",
        "dropout=0.2: nn.GRUCell has no dropout, which acts between stacked layers; "
        "drop dropout or use kind='gru' with num_layers=2 or more",
    ),
    (
        {"kind": "lstm-cell", "bidirectional": True},
        "bidirectional",
        "bidirectional=True: nn.LSTMCell runs one step in one direction; "
        "drop bidirectional=True or use kind='lstm'",
    ),
    (
        {"lengths": [6, 3], "seq_len": 5},
        "lengths",
        "lengths=[6, 3]: 6 is longer than seq_len (5); every length must be from 1 to L, "
        "so raise seq_len, drop it (L is then the longest length), or shorten the sequence",
    ),
]


@pytest.mark.parametrize(("settings", "option", "message"), EXACT)
def test_python_errors_name_python_arguments(settings: dict[str, Any], option: str, message: str) -> None:
    for call in (make_spec, inspect):
        with pytest.raises(UsageError) as raised:
            call(**settings)
        assert raised.value.option == option
        assert str(raised.value) == message
        assert raised.value.exit_code == 2


ANY = [
    {"hidden_size": 0},
    {"input_size": "abc"},
    {"num_layers": 0},
    {"kind": "transformer"},
    {"dropout": float("nan")},
    {"kind": "lstm", "nonlinearity": "relu"},
    {"kind": "rnn", "nonlinearity": "gelu"},
    {"device": "tpu"},
    {"dtype": "int8"},
    {"kind": "gru-cell", "num_layers": 2},
    {"kind": "rnn-cell", "seq_len": 4},
    {"kind": "lstm-cell", "batch_first": True},
    {"kind": "lstm-cell", "proj_size": 2},
    {"kind": "lstm-cell", "lengths": [1]},
    {"lengths": "4,,1"},
    {"lengths": [5, 3], "batch": 3},
    {"lengths": [5, 3], "unbatched": True},
]


@pytest.mark.parametrize("settings", ANY, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_no_python_error_names_a_flag(settings: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as raised:
        make_spec(**settings)
    assert "--" not in str(raised.value)
    assert raised.value.option in settings
    assert str(raised.value).startswith(f"{raised.value.option}=")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"kind": "gru-cell", "explain": True},
            "explain=True: nn.GRUCell returns only the next state, there is no output vs h_n; "
            "drop explain=True or use kind='gru'",
        ),
        (
            {"device": "meta", "unroll": True},
            "unroll=True: needs values to compare, and meta tensors have none; use device='cpu' (or cuda)",
        ),
        (
            {"kind": "gru-cell", "diagram": True},
            "diagram=True: kind='gru-cell' takes one step, so there is no network to unroll; use kind='gru'",
        ),
        (
            {"seq_len": 5000, "unroll": True},
            "unroll=True: L = 5000 steps would take 5000 calls; use seq_len=4096 or less",
        ),
    ],
)
def test_inspect_options_are_named_as_arguments(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        inspect(**settings)
    assert str(raised.value) == message


def test_the_command_line_keeps_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "rnn", "--kind", "gru", "--proj-size", "3")
    assert (code, out) == (2, "")
    assert err == "torchshape: error: --proj-size: only --kind lstm supports a projection; nn.GRU has none\n"
