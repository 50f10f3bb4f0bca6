"""torchshape model says what really happened: a tuple argument given one tensor, the range of
integer inputs, lines that fit a page when piped, and MAC formulas checked by the operations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import MODELS
from tests.conftest import run_line as run
from tests.models import pairs

# -- a tuple argument given one tensor


@settings(max_examples=12, deadline=None)
@given(
    batch=st.integers(1, 5),
    features=st.sampled_from([4, 8, 12]),
    width=st.sampled_from([4, 8, 12, 16]),
    device=st.sampled_from(["cpu", "meta"]),
)
def test_a_tuple_argument_given_one_tensor_is_a_usage_error(
    batch: int, features: int, width: int, device: str
) -> None:
    """Siamese.forward unpacks its argument: given one (B, W) tensor, Python splits it into B
    tensors of (W,). Where torch then raises (or the unpacking does), the cause is the argument,
    not the layer that raised: exit 2 naming --input and the line that unpacks, no layer fix."""
    model = pairs.Siamese(features=features).eval()
    one = torch.randn(batch, width)
    try:
        with torch.no_grad():
            model(one)
        raised = False
    except (RuntimeError, ValueError):
        raised = True
    code, out, err = run(
        f"model {MODELS}/pairs.py:Siamese --arg features={features} --input {batch},{width} --device {device}"
    )
    if not raised:  # batch 2 and the encoder's width: torch ran it on the two rows
        assert code == 0, err
        text = " ".join(out.split())
        assert f"forward unpacks its input ({batch}, {width}) as if it were a tuple" in text
        assert "x1, x2 = pair" in text and "forward(x1, x2) calls the model with (x1, x2)" in text
    else:
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith(
            f"torchshape: error: --input: {batch},{width} is one tensor, and Siamese.forward"
        )
        assert "pairs.py:19 (x1, x2 = pair)" in err
        assert f"into {batch} tensors of ({width},)" in err
        assert "forward(x1, x2) calls the model with (x1, x2)" in err
        assert "in_features" not in err and "fix:" not in err
    # the way out works: the pair as two arguments, each the shape given
    with torch.no_grad():
        pairs.TwoInputs(features=features).eval()(torch.randn(batch, features), torch.randn(batch, features))


def test_the_diagnosis_of_a_tuple_argument_offers_no_layer_fix() -> None:
    """The Python API keeps the diagnosis (no --input there): the cause, and no ✓ fix of the
    Linear that raised on a row of the split tensor."""
    from torchshape import trace
    from torchshape.families.model.load import ModelFailed

    with pytest.raises(ModelFailed) as raised:
        trace(pairs.Siamese(), torch.randn(2, 16))
    data = raised.value.report
    assert data is not None
    diagnosis = data.probe.analysis.diagnosis
    assert diagnosis.fixes == ()
    assert diagnosis.advice.startswith("the cause: forward unpacks its input (2, 16) as if it were a tuple")


def test_iterating_an_input_in_a_loop_is_not_unpacking() -> None:
    """An LSTMCell stepped over the input with ``for step in x``: no warning."""
    code, out, err = run(f"model {MODELS}/cell_loop.py:CellLoop --input 5,3,8 --format json")
    assert code == 0, err
    assert json.loads(out)["warnings"] == []


# -- the values of integer inputs


@settings(max_examples=8, deadline=None)
@given(vocab=st.integers(3, 400))
def test_integer_inputs_are_drawn_within_their_own_table_on_cpu_and_meta(vocab: int) -> None:
    """BERT's input_ids feed the word table (``vocab`` rows), not the token-type table of 2. On
    the CPU and on meta alike the ids are drawn below ``vocab`` (the model returns max + 1: the
    values torch saw), and the note says that range and why."""
    said = set()
    for device in ("cpu", "meta"):
        code, out, err = run(
            f"model {MODELS}/real.py:BertEmbeddings --arg vocab={vocab} --input 2,64:int64 "
            f"--device {device} --format json"
        )
        assert code == 0, err
        data = json.loads(out)
        (model,) = [row for row in data["layers"] if row["path"] == ""]
        largest = model["outputs"][1]["shape"][0] - 1
        assert 2 <= largest < vocab
        (note,) = [n for n in data["notes"] if n.startswith("integer inputs hold")]
        assert f"input: 0 ≤ v < {vocab} (the num_embeddings of the embedding it feeds)" in note
        said.add(note)
    assert len(said) == 1  # the same words on both devices


def _said(args: str) -> str:
    """The table of a run that succeeds, its words joined by single spaces."""
    code, out, err = run(args)
    assert code == 0, err
    return " ".join(out.split())


def test_an_integer_input_that_feeds_no_embedding_says_why_its_range() -> None:
    for device in ("cpu", "meta"):
        text = _said(
            f"model {MODELS}/pairs.py:PointerPick --input 2,6:int64 --input 2:int64:0-6 --device {device}"
        )
        assert (
            "integer inputs hold input[0]: 0 ≤ v < 50 (the num_embeddings of the embedding it feeds); "
            "input[1]: 0 ≤ v < 6 (as given)" in text
        )
    text = _said(f"model {MODELS}/pairs.py:PointerPick --input 2,6:int64 --input 2:int64 --arg vocab=4")
    assert (
        "input[1]: 0 ≤ v < 4 (the smallest num_embeddings of the model's embeddings: it feeds none as "
        "it comes)" in text
    )


# -- lines that fit a page when piped


@pytest.mark.parametrize(
    "flags",
    [
        "wide.py:MultiTask --input 2,1,3,4,5",
        "wide.py:MultiTask --input 2,1,3,4,5 --ops",
        "wide.py:MultiView " + " ".join(["--input 1,8"] * 30) + " --ops",
    ],
)
def test_piped_lines_fit_the_page(flags: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 outputs with 5-D shapes, paths of 90 characters, 30 inputs: piped or written to a file
    (no terminal, no COLUMNS), no line is wider than the trace's 120 columns, and every shape
    torch returned is still whole on one line beside its name."""
    from tests.models import wide
    from torchshape.families.model.present import TRACE_WIDTH

    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, err = run(f"model {MODELS}/{flags}")
    assert code == 0, err
    written = tmp_path / "trace.txt"
    code, _, err = run(f"model {MODELS}/{flags} --output {written}")
    assert code == 0, err
    for text in (out, written.read_text()):
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= TRACE_WIDTH
        if "MultiTask" in flags:
            with torch.no_grad():
                returned = wide.MultiTask().eval()(torch.randn(2, 1, 3, 4, 5))
            for i, tensor in enumerate(returned):
                shape = "(" + ", ".join(str(d) for d in tensor.shape) + ")"
                assert any(f"output[{i}]: {shape}" in line for line in lines)
        else:
            assert "output = model(*inputs)" in lines
            # the model's row and the cat's: one input a line, the first beside the row's name
            assert sum(line.strip() == "(1, 8)" for line in lines) == 2 * 29


# -- MAC formulas checked by the operations


def _flop_counter_macs(layer: torch.nn.Module, x: torch.Tensor) -> int:
    """PyTorch's FlopCounterMode on the layer alone, halved (two FLOPs per multiply-accumulate)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        layer(x)
    flops: int = counter.get_total_flops()
    return flops // 2


@settings(max_examples=25, deadline=None)
@given(
    dims=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    per_group=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    kernel_size=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    dilation=st.integers(1, 2),
    bias=st.booleans(),
    transposed=st.booleans(),
    extra=st.integers(0, 3),
    batch=st.integers(1, 2),
    features=st.integers(1, 6),
    device=st.sampled_from(["cpu", "meta"]),
)
def test_conv_and_linear_formulas_agree_with_the_operations(
    dims: int,
    groups: int,
    per_group: tuple[int, int],
    kernel_size: int,
    stride: int,
    padding: int,
    dilation: int,
    bias: bool,
    transposed: bool,
    extra: int,
    batch: int,
    features: int,
    device: str,
) -> None:
    """Each row's MACs are FlopCounterMode's for that layer on the tensor it got, and the family's
    formula, checked against that count, agrees: the row is marked checked."""
    from tests.models.counted import ConvHead

    settings_ = {
        "dims": dims,
        "in_channels": groups * per_group[0],
        "out_channels": groups * per_group[1],
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "bias": bias,
        "transposed": transposed,
        "features": features,
    }
    size = dilation * (kernel_size - 1) + 1 + 2 * padding + extra  # a transposed one's output too ≥ 1
    shape = (batch, groups * per_group[0], *[size] * dims)
    flags = " ".join(f"--arg {k}={v}" for k, v in settings_.items())
    code, out, err = run(
        f"model {MODELS}/counted.py:ConvHead {flags} --input {','.join(map(str, shape))} "
        f"--device {device} --format json"
    )
    assert code == 0, err
    data = json.loads(out)
    rows = {row["path"]: row for row in data["layers"]}
    with torch.device("meta"):
        model = ConvHead(**settings_).eval()  # type: ignore[arg-type]
        x = torch.empty(shape)
        conv_macs = _flop_counter_macs(model.conv, x)
        head_macs = _flop_counter_macs(model.head, model.conv(x).movedim(1, -1))
    assert (rows["conv"]["macs"], rows["head"]["macs"]) == (conv_macs, head_macs)
    assert rows["conv"]["macs_checked"] is True and rows["head"]["macs_checked"] is True
    assert data["macs_checked"] == {"agree": 2, "disagree": []}


@settings(max_examples=8, deadline=None)
@given(features=st.integers(2, 24), r=st.integers(1, 8), rows=st.integers(1, 6))
def test_a_formula_that_misses_operations_is_named_and_the_count_stands(
    features: int, r: int, rows: int
) -> None:
    """minLoRA's LoRA keeps the layer an nn.Linear, with nn.Linear's formula, which knows nothing
    of the low-rank product B·A that the parametrization adds to the weight at each call: the
    row's MACs are what torch ran (FlopCounterMode's), the formula's disagreement is named, and
    the plain Linear after it agrees."""
    from tests.models.counted import Adapted

    code, out, err = run(
        f"model {MODELS}/counted.py:Adapted --arg features={features} --arg r={r} --input {rows},{features}"
    )
    assert code == 0, err
    with torch.device("meta"):
        model = Adapted(features, r).eval()
        counted = _flop_counter_macs(model.query, torch.empty(rows, features))
    text = " ".join(out.split())
    assert (
        "⚠ MACs: query (nn.Linear (weight parametrized)): its family's formula gives "
        f"{rows * features * features:,}, "
        f"the operations it ran count {counted:,}; the operations' count is the one used" in text
    )
    assert "the MAC formulas of nn.Linear (1 call) agree" in text
    code, out, err = run(
        f"model {MODELS}/counted.py:Adapted --arg features={features} --arg r={r} --input {rows},{features} "
        "--format json"
    )
    data = json.loads(out)
    query = next(row for row in data["layers"] if row["path"] == "query")
    assert query["macs"] == counted and query["macs_checked"] is False
    assert data["totals"]["macs"] == counted + rows * features * 2
    assert [d["path"] for d in data["macs_checked"]["disagree"]] == ["query"]
