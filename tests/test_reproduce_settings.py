"""The command line ("Reproduce with") each layer family writes from its settings table asks for the
very spec it was written from, and the run's and the output's flags that made the output."""

from __future__ import annotations

import importlib
import shlex
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from torchshape import command
from torchshape.errors import UsageError
from torchshape.options import Format

# Values each setting is drawn from: torch's defaults, others, and some that make_spec refuses.
SIZES = [1, 2, 3, 4, 5, 7, 8, 12, 16]
VALUES: dict[str, dict[str, list[Any]]] = {
    "rnn": {
        "kind": ["gru", "lstm", "rnn", "gru-cell", "lstm-cell", "rnn-cell"],
        "input_size": SIZES,
        "hidden_size": SIZES,
        "num_layers": [1, 2, 3],
        "seq_len": [1, 5, 6],
        "batch": [1, 3, 4],
        "bidirectional": [False, True],
        "batch_first": [False, True],
        "proj_size": [0, 2],
        "bias": [True, False],
        "dropout": [0.0, 0.25],
        "nonlinearity": ["tanh", "relu"],
        "unbatched": [False, True],
        "lengths": [(3, 2, 1), (5, 5), (2, 2, 2)],
    },
    "conv": {
        "dims": [1, 2, 3],
        "in_channels": [2, 3, 4],
        "out_channels": [4, 8],
        "kernel_size": [1, 3, 5, (3, 5)],
        "stride": [1, 2, (1, 2)],
        "padding": [0, 1, "same", "valid", (1, 2)],
        "dilation": [1, 2],
        "groups": [1, 2],
        "output_padding": [0, 1, (0, 1)],
        "output_size": [17, (33, 25)],
        "padding_mode": ["zeros", "reflect", "circular"],
        "bias": [True, False],
        "transposed": [False, True],
        "size": [20, 32, (32, 24), (12, 32, 24)],
        "batch": [1, 4],
        "unbatched": [False, True],
    },
    "pool": {
        "kind": ["max", "avg", "lp", "adaptive-max", "adaptive-avg"],
        "dims": [1, 2, 3],
        "channels": [3, 5],
        "size": [9, 28, (28, 20), (12, 28, 20)],
        "batch": [2, 3],
        "unbatched": [True],
        "kernel_size": [2, 3, (2, 3)],
        "stride": [1, 2, (1, 2)],
        "padding": [0, 1],
        "dilation": [1, 2],
        "ceil_mode": [True],
        "count_include_pad": [False, True],
        "return_indices": [True],
        "norm_type": [1.5, 2, 3],
        "output_size": [7, (7, 4), "None,7", "None,None", (3, 7, 4)],
    },
    "attention": {
        "embed_dim": [8, 12, 24],
        "num_heads": [1, 2, 3, 4],
        "kdim": [10, 24],
        "vdim": [6, 24],
        "target_len": [3, 5],
        "source_len": [5, 7, 9],
        "batch": [2, 3],
        "batch_first": [False, True],
        "unbatched": [False, True],
        "self_attention": [False, True],
        "need_weights": [True, False],
        "average_attn_weights": [True, False],
        "key_padding_mask": [False, True],
        "attn_mask": ["none", "2d", "3d"],
        "mask_dtype": ["bool", "float"],
        "is_causal": [False, True],
        "add_bias_kv": [False, True],
        "add_zero_attn": [False, True],
        "bias": [True, False],
        "dropout": [0.0, 0.1],
    },
    "embedding": {
        "num_embeddings": [10, 100],
        "embedding_dim": [4, 16],
        "shape": [(4, 7), (3,), (), (2, 2, 2), 9, 6],
        "padding_idx": [0, -1, 3],
        "max_norm": [1.0, 2.5],
        "bag": [True],
        "mode": ["sum", "mean", "max"],
        "bags": [3, 4],
        "bag_size": [2, 5],
        "offsets": [(0, 2, 5), (0, 0, 2), (0,)],
        "include_last_offset": [True],
        "per_sample_weights": [True],
    },
    "transformer": {
        "layer": ["encoder", "decoder", "full", "encoder-stack", "decoder-stack"],
        "d_model": [12, 18],
        "nhead": [2, 3],
        "dim_feedforward": [32, 2048],
        "num_encoder_layers": [2, 6],
        "num_decoder_layers": [1, 6],
        "num_layers": [2, 3],
        "final_norm": [False, True],
        "batch_first": [False, True],
        "norm_first": [False, True],
        "source_len": [4, 10],
        "target_len": [5, 7],
        "batch": [2, 4],
        "src_mask": ["none", "2d", "3d"],
        "tgt_mask": ["none", "2d", "3d"],
        "memory_mask": ["none", "2d"],
        "causal": [False, True],
        "src_key_padding_mask": ["none", "bool", "float"],
        "tgt_key_padding_mask": ["none", "bool"],
        "memory_key_padding_mask": ["none", "float"],
    },
    "norm": {
        "kind": ["batch", "layer", "group", "instance", "rms"],
        "dims": [1, 2, 3],
        "num_features": [4, 6],
        "normalized_shape": [16, (4, 4), (8,)],
        "num_groups": [1, 2, 3],
        "eps": [1e-5, 1e-3],
        "affine": [True, False],
        "track_running_stats": [True, False],
        "elementwise_affine": [True, False],
        "size": [(), (8, 9), 10, (5, 8, 9), (7,), (3, 3)],
        "batch": [1, 4],
        "unbatched": [True],
        "train": [True, False],
    },
}
for values in VALUES.values():
    values |= {"device": ["cpu", "meta"], "dtype": ["float32", "float64"]}


@st.composite
def requests(draw: st.DrawFn, family: str) -> dict[str, Any]:
    """Some of the family's settings, each drawn from its values; the others left to the default."""
    names = draw(st.sets(st.sampled_from(sorted(VALUES[family])), max_size=6))
    return {name: draw(st.sampled_from(VALUES[family][name])) for name in sorted(names)}


def parsed(family: str, line: str) -> tuple[Any, dict[str, Any]]:
    """What the command line's own parsing makes of ``line``: the spec, and ``deliver``'s flags."""
    seen: list[tuple[Any, dict[str, Any]]] = []
    original = command.deliver
    try:
        command.deliver = lambda ctx, spec, run, **flags: seen.append((spec, flags))  # type: ignore[assignment]
        from torchshape.cli import main

        assert main(shlex.split(line)[1:]) == 0
    finally:
        command.deliver = original
    assert len(seen) == 1 and seen[0][0].family == family
    return seen[0]


@pytest.mark.parametrize("family", sorted(VALUES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_reproduce_with_asks_for_the_same_spec(family: str, data: st.DataObject) -> None:
    spec_module = importlib.import_module(f"torchshape.families.{family}.spec")
    request = importlib.import_module(f"torchshape.families.{family}.request")
    raw = data.draw(requests(family))
    unroll = family == "rnn" and data.draw(st.booleans())
    try:
        spec = request.make_spec(**raw, **({"unroll": unroll} if unroll else {}))
    except UsageError:
        spec = None
    assume(spec is not None)
    explain = data.draw(st.booleans())
    fmt = data.draw(st.sampled_from([None, Format.TABLE, Format.JSON, Format.MARKDOWN]))
    run = {"unroll": True} if unroll else {}
    line = spec_module.command_line(spec, fmt, explain=explain, params=True, **run)
    assert line.startswith(f"torchshape {family}")
    again, flags = parsed(family, line)
    assert again == spec
    assert flags["explain"] is explain and flags["params"] is True
    assert flags["output_format"] == (None if fmt in (None, Format.TABLE) else fmt.value)
