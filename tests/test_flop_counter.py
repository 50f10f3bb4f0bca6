"""What PyTorch's own FlopCounterMode counts for nn.LSTM, nn.GRU and nn.RNN, against torchshape's MACs.

docs/rnn.md (MACs) states what was measured (torch 2.13, CPU): 2 FLOPs per multiply-accumulate,
exactly torchshape's count, for nn.GRU, nn.RNN, and an nn.LSTM in float64, float16 or
with proj_size; 0 for the float32 and bfloat16 nn.LSTM without proj_size, which runs on
oneDNN. A newer torch may start counting that one: then it must be 2 × MACs too.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from hypothesis import given
from torch.utils.flop_counter import FlopCounterMode

from tests.strategies import DEFAULT_RAW, settings
from tests.truth import torch_module
from torchshape import make_spec
from torchshape.families.rnn.counts import totals


def counted_flops(raw: dict[str, Any]) -> int:
    """FlopCounterMode's total for one forward pass of the module the settings describe."""
    torch.manual_seed(0)
    module = torch_module(raw)
    dtype = getattr(torch, raw["dtype"])
    n = () if raw["unbatched"] else (raw["batch"],)
    time_and_batch = (*n, raw["seq_len"]) if raw["batch_first"] else (raw["seq_len"], *n)
    x = torch.randn(*time_and_batch, raw["input_size"], dtype=dtype)
    with torch.no_grad(), warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        module(x)
    flops: int = counter.get_total_flops()
    return flops


def uncounted_on_this_cpu(raw: dict[str, Any]) -> bool:
    """The LSTM that torch 2.13 runs on oneDNN on the CPU, where FlopCounterMode sees no matmul."""
    return raw["kind"] == "lstm" and raw["dtype"] in ("float32", "bfloat16") and not raw.get("proj_size")


@given(settings(max_size=12, max_layers=3))
def test_flop_counter_counts_two_flops_per_mac_where_it_counts(raw: dict[str, Any]) -> None:
    macs = totals(make_spec(**raw)).macs
    flops = counted_flops(raw)
    if uncounted_on_this_cpu(raw):
        assert flops in (0, 2 * macs)
    else:
        assert flops == 2 * macs


def test_the_documented_figures() -> None:
    """The examples in docs/rnn.md: LSTM 50→30, L = 5, N = 3, as measured on torch 2.13 CPU."""
    for change in (
        {"kind": "gru"},
        {"kind": "rnn"},
        {"kind": "lstm", "dtype": "float64"},
        {"kind": "lstm", "proj_size": 10},
    ):
        raw = {**DEFAULT_RAW, **change}
        assert counted_flops(raw) == 2 * totals(make_spec(**raw)).macs, change
    lstm = DEFAULT_RAW
    assert counted_flops(lstm) in (0, 2 * totals(make_spec(**lstm)).macs)


def test_the_docs_say_what_was_measured() -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "rnn.md"
    text = " ".join(page.read_text(encoding="utf-8").split())
    assert "counts 0 for `nn.LSTM`, `nn.GRU` and `nn.RNN`" not in text
    assert (
        "counts exactly 2 × torchshape's MACs (a multiply and an add per MAC) for `nn.GRU`, `nn.RNN`, "
        "and `nn.LSTM` in float64 or float16 or with `--proj-size`; it counts 0 for the float32 and "
        "bfloat16 `nn.LSTM` without projection" in text
    )
    assert "For LSTM 50→30, L = 5, N = 3: 288,000 FLOPs in float64 for 144,000 MACs" in text
    lstm = {**DEFAULT_RAW, "dtype": "float64"}
    assert totals(make_spec(**lstm)).macs == 144_000 and counted_flops(lstm) == 288_000
