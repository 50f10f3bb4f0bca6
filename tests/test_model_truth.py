"""torchshape model on layers of real models: the MACs against PyTorch's FlopCounterMode, the
memory against what torch holds, the guard when the trial on meta cannot finish, TorchScript,
subclasses and parametrized layers. The stand-ins in tests/models/real.py are written as
transformers, torchvision and torchaudio write those layers."""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tests.conftest import MODELS, run_python
from tests.conftest import run_line as run
from tests.models import crnn, real, seq2seq

ROOT = MODELS.parent.parent


def flop_counter_macs(model: nn.Module, inputs: list[torch.Tensor]) -> int:
    """PyTorch's FlopCounterMode on the meta device (where every kernel breaks down into ones it
    counts), halved: two FLOPs per multiply-accumulate."""
    with torch.no_grad(), warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        model.eval()(*inputs)
    flops: int = counter.get_total_flops()
    return flops // 2


# (target, --input flags, the model built on meta, its inputs on meta)
CASES: dict[str, tuple[str, str, Any, Any]] = {
    "gpt2_conv1d_sdpa": (
        "real.py:GPT2",
        "--input 2,16:int64",
        lambda: real.GPT2(),
        lambda: [torch.zeros(2, 16, dtype=torch.int64)],
    ),
    "swin_f_linear": (
        "real.py:WindowAttention",
        "--input 2,10,24",
        lambda: real.WindowAttention(),
        lambda: [torch.empty(2, 10, 24)],
    ),
    "r3d_conv3d_subclass": (
        "real.py:Video",
        "--input 1,3,8,16,16",
        lambda: real.Video(),
        lambda: [torch.empty(1, 3, 8, 16, 16)],
    ),
    "wav2vec2_weight_norm": (
        "real.py:WeightNormed",
        "--input 2,16,20",
        lambda: real.WeightNormed(),
        lambda: [torch.empty(2, 16, 20)],
    ),
    "crnn_conv_lstm": (
        "crnn.py:CRNN",
        "--input 2,1,32,20",
        lambda: crnn.CRNN(),
        lambda: [torch.empty(2, 1, 32, 20)],
    ),
    "seq2seq_lstm_gru": (
        "seq2seq.py:Seq2Seq",
        "--input 4,10:int64 --input 4,7:int64",
        lambda: seq2seq.Seq2Seq(),
        lambda: [torch.zeros(4, 10, dtype=torch.int64), torch.zeros(4, 7, dtype=torch.int64)],
    ),
}


def failed(args: str) -> str:
    """``torchshape ARGS`` exits 1: its stdout, each run of white space one space (the table wraps)."""
    code, out, _ = run(args)
    assert code == 1
    return " ".join(out.split())


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_macs_are_flop_counter_modes_on_meta(case: str, device: str) -> None:
    """HF's Conv1D, F.linear, SDPA, a Conv3d subclass and a weight-normed conv are all counted,
    on the CPU as on meta: the total is FlopCounterMode's on meta, halved. Recurrent layers
    (there: decomposed step by step) come from the rnn formulas and agree."""
    target, flags, build, inputs = CASES[case]
    with torch.device("meta"):
        expected = flop_counter_macs(build(), inputs())
    code, out, err = run(f"model {MODELS}/{target} {flags} --device {device} --format json")
    assert code == 0, err
    data = json.loads(out)
    assert expected > 0
    assert data["totals"]["macs"] == expected
    assert data["macs_complete"] is True and data["macs_uncounted"] == {}


@settings(max_examples=15, deadline=None)
@given(
    embed=st.sampled_from([8, 16, 24]),
    heads=st.sampled_from([1, 2, 4]),
    length=st.integers(1, 12),
    batch=st.integers(1, 3),
    layers=st.integers(1, 2),
)
def test_a_gpt2_of_any_size_is_counted_whole(
    embed: int, heads: int, length: int, batch: int, layers: int
) -> None:
    with torch.device("meta"):
        expected = flop_counter_macs(
            real.GPT2(embed=embed, layers=layers), [torch.zeros(batch, length, dtype=torch.int64)]
        )
    code, out, err = run(
        f"model {MODELS}/real.py:GPT2 --input {batch},{length}:int64 --arg embed={embed} "
        f"--arg layers={layers} --device meta --format json"
    )
    assert code == 0, err
    assert json.loads(out)["totals"]["macs"] == expected
    del heads  # the stand-in's heads are fixed at 4 (embed is a multiple of 4)


def test_each_rows_macs_are_the_operations_it_ran() -> None:
    """A Conv1D row holds its addmm; the block holds its children's and its own attention."""
    code, out, err = run(f"model {MODELS}/real.py:GPT2 --input 2,16:int64 --format json")
    assert code == 0, err
    rows = {row["path"]: row for row in json.loads(out)["layers"]}
    assert rows["h.0.c_attn"]["macs"] == 2 * 16 * 32 * 96
    attention = 2 * 4 * 16 * 16 * (8 + 8)  # B·H·L·S·(E + E_v)
    children = sum(rows[f"h.0.{name}"]["macs"] for name in ("c_attn", "c_proj", "c_fc", "mlp_proj"))
    assert rows["h.0"]["macs"] == children + attention
    assert rows[""]["macs"] == json.loads(out)["totals"]["macs"]


def test_a_failed_forward_never_claims_the_whole_model() -> None:
    text = failed(f"model {MODELS}/broken.py:BrokenFlatten --input 2,3,12,12")
    assert "MACs: only the operations that ran before forward raised (a lower bound)" in text
    assert "MACs count the whole model" not in text
    _, out, _ = run(f"model {MODELS}/broken.py:BrokenFlatten --input 2,3,12,12 --format json")
    assert json.loads(out)["macs_complete"] is False


def test_an_operation_without_a_formula_is_named() -> None:
    """An LSTM run through torch's functional kernel outside an nn.LSTM: its matrix products are
    hidden in the fused CPU kernel, so the footer names it and does not say the whole model."""
    code, out, err = run(f"model {MODELS}/real.py:FunctionalLSTM --input 5,2,8")
    assert code == 0, err
    text = " ".join(out.split())
    assert "MACs: a lower bound: no MAC formula for aten.mkldnn_rnn_layer (1 calls)" in text
    assert "MACs count the whole model" not in text


# -- memory


def test_the_activation_peak_is_what_torch_holds_at_once() -> None:
    """A chain of layers under no_grad holds one layer's input and output at once: the peak is the
    largest such pair, from the shapes torch returned; with --grad autograd keeps more."""
    widths = [64, 512, 2048, 256, 8]
    code, out, err = run(
        f"model {MODELS}/real.py:Chain --input 32,64 --arg widths={','.join(map(str, widths))} --format json"
    )
    assert code == 0, err
    data = json.loads(out)
    model = real.Chain(tuple(widths)).eval()
    outputs: list[int] = []
    for layer in model.layers:
        layer.register_forward_hook(lambda m, a, o: outputs.append(o.numel() * o.element_size()))
    with torch.no_grad():
        model(torch.randn(32, 64))
    pairs = [outputs[0], *(a + b for a, b in itertools.pairwise(outputs))]
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    memory = data["memory"]
    assert memory["activation_peak_bytes"] == max(pairs)
    assert memory["estimate_bytes"] == params + 32 * 64 * 4 + max(pairs)
    assert data["grad"] is False
    code, out, err = run(
        f"model {MODELS}/real.py:Chain --input 32,64 --arg widths={','.join(map(str, widths))} "
        "--format json --grad"
    )
    assert code == 0, err
    kept = json.loads(out)
    assert kept["grad"] is True
    assert kept["memory"]["activation_peak_bytes"] >= sum(outputs)
    assert "what backward needs is kept" in " ".join(kept["notes"])


def test_a_forward_that_needs_inference_runs() -> None:
    """A forward that clamps its own parameter in place: torch refuses it with autograd on."""
    code, out, err = run(f"model {MODELS}/real.py:Clamped --input 3,8")
    assert code == 0, err
    assert "eval mode under torch.no_grad()" in " ".join(out.split())
    code, out, err = run(f"model {MODELS}/real.py:Clamped --input 3,8 --grad")
    assert code == 1


def test_the_measured_peak_is_printed_and_near_the_estimate() -> None:
    """In a fresh process, a model whose activations are ~200 MB: the report prints the measured
    growth of resident memory beside the estimate, within 1.5× of it."""
    script = (
        "import sys, json; from torchshape.cli import main; "
        "sys.exit(main(['model', 'tests/models/real.py:Chain', '--input', '16384,512', "
        "'--arg', 'widths=(512, 2048, 512)', '--format', 'json']))"
    )
    done = run_python("-c", script, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    memory = json.loads(done.stdout)["memory"]
    measured, estimate = memory["measured_peak_bytes"], memory["estimate_bytes"]
    assert measured is not None
    assert estimate / 1.5 <= measured <= estimate * 1.5


# -- the guard


def test_a_model_that_reads_its_mask_is_refused_from_its_whole_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    """transformers reads the attention mask's values: on meta the mask carries them (drawn on
    the CPU), so the trial runs to the end and the model is refused in one line: 128 MB of
    parameters against 96 MiB free, before anything is allocated."""
    from torchshape import guard

    monkeypatch.setattr(guard, "cpu_available_bytes", lambda: 96 * 2**20)
    code, out, err = run(
        f"model {MODELS}/real.py:MaskReading --input 1,64:int64 --input attention_mask=1,64:int64:0-2 "
        "--arg hidden=1024 --arg layers=32"
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("torchshape: error: --device cpu: this forward pass needs about ")
    assert "at its peak (estimate)" in err


def test_a_model_that_reads_its_activations_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trial on meta stops where the model reads an activation's values; what it knew by
    then (the parameters, the inputs, the activations so far) is still refused, and the line
    says the estimate is a lower bound."""
    from torchshape import guard

    monkeypatch.setattr(guard, "cpu_available_bytes", lambda: 96 * 2**20)
    code, out, err = run(
        f"model {MODELS}/real.py:ActivationReading --input 1,64:int64 --arg hidden=1024 --arg layers=32"
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "at least (the trial on meta stopped at (model)" in err
    assert "use --device meta" not in err


def test_the_refusal_counts_the_parameters_it_knew() -> None:
    import torch as torch_

    from torchshape.families.model.load import import_target
    from torchshape.families.model.probe import estimate
    from torchshape.families.model.spec import make_spec

    spec = make_spec(f"{MODELS}/real.py:ActivationReading", ["1,64:int64"], ["hidden=256", "layers=8"])
    guessed = estimate(spec, import_target(spec), torch_.float32)
    model = real.ActivationReading(hidden=256, layers=8)
    params = sum(p.numel() * 4 for p in model.parameters())
    first = 64 * 256 * 4 * 2  # the embedding's output and the first layer's, alive at once
    assert guessed.estimate_note
    assert guessed.peak_bytes == params + 64 * 8 + first


# -- meta


def test_a_mask_read_on_meta_is_read_from_its_values() -> None:
    code, out, err = run(
        f"model {MODELS}/real.py:MaskReading --input 2,16:int64 --input attention_mask=2,16:int64:0-2 "
        "--device meta --format json"
    )
    assert code == 0, err
    assert json.loads(out)["ok"] is True


def test_packed_lengths_given_as_an_input_work_on_meta() -> None:
    """pack_padded_sequence wants CPU lengths: the --input's values go to it on meta."""
    for device in ("cpu", "meta"):
        code, out, err = run(
            f"model {MODELS}/packed.py:PackedLengths --input 3,5:int64 --input 3:int64:1-6 --device {device} "
            "--format json"
        )
        assert code == 0, err
        rows = {row["path"]: row for row in json.loads(out)["layers"]}
        assert rows[""]["outputs"][0]["shape"] == [3, 5, 24]
        assert all(o["verified"] for o in rows["rnn"]["outputs"])


def test_reading_values_on_meta_says_where_and_what_to_do() -> None:
    code, out, err = run(f"model {MODELS}/real.py:ActivationReading --input 1,8:int64 --device meta")
    assert code == 1
    assert err.startswith(
        "torchshape: error: --device meta: the model failed at tests/models/real.py:"
    ) or err.startswith("torchshape: error: --device meta: the model failed at ")
    assert "real.py:" in err and "in forward" in err and "use --device cpu" in err
    assert "Tensor.item() cannot be called on meta tensors" in err
    text = " ".join(out.split())
    assert "no fix torchshape can check" not in text
    assert "meta tensors hold no values: run it with --device cpu" in text


# -- TorchScript, subclasses, parametrizations


def test_a_torchscript_submodule_is_one_row() -> None:
    code, out, err = run(f"model {MODELS}/real.py:Scripted --input 3,8 --format json")
    assert code == 0, err
    data = json.loads(out)
    rows = {row["path"]: row for row in data["layers"]}
    assert set(rows) == {"", "first", "block", "last"}
    assert rows["block"]["type"] == "ScriptModule(Sequential)"
    model = real.Scripted().eval()
    with torch.no_grad():
        hidden = model.first(torch.randn(3, 8))
        assert rows["block"]["outputs"][0]["shape"] == list(model.block(hidden).shape)
    assert data["totals"]["macs"] == 3 * 8 * 16 + 3 * 16 * 16 + 3 * 16 * 4


def test_subclasses_and_weight_norm_take_their_familys_formula() -> None:
    code, out, err = run(f"model {MODELS}/real.py:Video --input 1,3,8,16,16 --format json")
    assert code == 0, err
    rows = {row["path"]: row for row in json.loads(out)["layers"]}
    assert rows["stem"]["type"] == "Conv3DSimple"
    assert rows["stem"]["outputs"][0]["verified"] is True
    assert rows["stem"]["outputs"][0]["formula"] == "(N, C_out, D_out, H_out, W_out)"
    code, out, err = run(f"model {MODELS}/real.py:WeightNormed --input 2,16,20 --format json")
    assert code == 0, err
    rows = {row["path"]: row for row in json.loads(out)["layers"]}
    assert set(rows) == {"", "conv"}  # how the weight is computed is seen through
    assert rows["conv"]["type"] == "nn.Conv1d (weight parametrized)"
    assert rows["conv"]["outputs"][0]["verified"] is True


# -- diagnoses that name the right cause


def test_position_ids_made_in_forward_are_not_called_the_input() -> None:
    """GPT-2 makes its position ids (1, L) inside forward; the input is (N, L). Longer than the
    position table: the diagnosis says where the ids came from."""
    code, out, _ = run(f"model {MODELS}/real.py:GPT2 --input 2,80:int64 --format json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["layer"] == "wpe" and error["got"] == [1, 80]
    assert error["source"].startswith("forward's own code (no earlier module returned it")


def test_an_integer_input_to_a_convolution_is_a_dtype_problem() -> None:
    text = failed(f"model {MODELS}/real.py:Video --input 1,3,8,16,16:int8")
    assert "stem requires an input of its weights' dtype, float32" in text
    assert "the shape is not the cause: the (1, 3, 8, 16, 16) that arrived holds torch.int8" not in text
    assert "holds int8" in text
    assert "fix: the dtype: --input 1,3,8,16,16:float32" in text
    assert "in_channels" not in text


def test_a_float_input_to_an_embedding_is_a_dtype_problem() -> None:
    text = failed(f"model {MODELS}/real.py:GPT2 --input 2,16")
    assert "wte requires integer indices (int64 or int32)" in text
    assert "fix: the dtype: --input 2,16:int64" in text


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        ("--input 1,8:int64", None),
        ("--input 1,8:int64 --input 1,8:int64 --input 1,8:int64", "too many positional arguments"),
        ("--input 1,8:int64 --input mask=1,8:int64", "got an unexpected keyword argument 'mask'"),
    ],
)
def test_inputs_forward_does_not_take_are_a_usage_error(flags: str, said: str | None) -> None:
    code, out, err = run(f"model {MODELS}/real.py:MaskReading {flags}")
    if said is None:
        assert code == 0, err
        return
    assert code == 2 and out == ""
    assert err.startswith("torchshape: error: --input: MaskReading.forward(input_ids")
    assert said in err and err.count("\n") == 1


# -- operations


def _line(where: str) -> str:
    path, _, number = where.rpartition(":")
    file = Path(path) if Path(path).is_absolute() else ROOT / path
    return file.read_text().splitlines()[int(number) - 1]


def test_the_reshape_between_conv_and_lstm_is_a_row() -> None:
    """The CRNN's permute between its flatten and its LSTM: a row under the model, with the line
    that called it, whose shapes are the flatten's output and the LSTM's input as torch ran them."""
    code, out, err = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --ops --format json")
    assert code == 0, err
    layers = json.loads(out)["layers"]
    index = next(i for i, row in enumerate(layers) if row.get("op") == "Tensor.permute")
    op, before, after = layers[index], layers[index - 1], layers[index + 1]
    assert (before["path"], after["path"]) == ("flatten", "rnn")
    assert op["inputs"] == [before["outputs"][0]["shape"]]
    assert op["outputs"] == [after["inputs"][0]["shape"]]
    assert op["path"] == "" and op["depth"] == 1
    assert ".permute(" in _line(op["where"])
    assert op["rule"] == f"permute(2, 0, 1): ({', '.join(map(str, op['inputs'][0]))}) → (10, 2, 128)"


def test_operations_are_in_json_always_and_rows_only_with_ops() -> None:
    code, out, err = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --format json")
    assert code == 0, err
    data = json.loads(out)
    assert not any("op" in row for row in data["layers"])
    assert [op["op"] for op in data["ops"]] == ["Tensor.permute"]
    code, out, _ = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20")
    assert "· permute" not in out
    code, out, _ = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --ops")
    assert "· permute" in out and "at " in out


def test_operations_inside_the_users_modules_are_under_them() -> None:
    """HF's Conv1D: its view, addmm, view are rows under it; the block's attention is F.sdpa."""
    code, out, err = run(f"model {MODELS}/real.py:GPT2 --input 2,16:int64 --ops --format json")
    assert code == 0, err
    layers = json.loads(out)["layers"]
    under = [row for row in layers if row.get("op") and row["path"] == "h.0.c_attn"]
    assert [row["op"] for row in under] == ["Tensor.view", "torch.addmm", "Tensor.view"]
    assert under[1]["outputs"] == [[32, 96]] and "addmm" in _line(under[1]["where"])
    attention = [row for row in layers if row.get("op") == "F.scaled_dot_product_attention"]
    assert [row["path"] for row in attention] == ["h.0", "h.1"]
    assert attention[0]["inputs"] == [[2, 4, 16, 8]] * 3 and attention[0]["outputs"] == [[2, 4, 16, 8]]
    # the layers torch.nn defines run their own operations: no rows for those
    assert not any(row.get("op") and row["path"].endswith(("ln_1", "wte")) for row in layers)


def test_a_failing_operation_is_the_diagnosis_subject() -> None:
    code, out, _ = run(f"model {MODELS}/broken.py:BrokenView --input 2,6 --format json")
    assert code == 1
    data = json.loads(out)
    assert data["error"]["operation"] == "Tensor.view(-1, 7) of (2, 6)"
    (op,) = data["ops"]
    assert op["failed"] is True and ".view(-1, 7)" in _line(op["where"])
    code, out, _ = run(f"model {MODELS}/broken.py:BrokenView --input 2,6")
    assert "in Tensor.view(-1, 7) of (2, 6)" in out


# -- --layer for every family


@pytest.mark.parametrize(
    ("path", "family", "tensor", "shape"),
    [
        ("emb", "embedding", "output", [2, 7, 16]),
        ("enc", "transformer", "output", [2, 7, 16]),
        ("mha", "attention", "attn_output", [2, 7, 16]),
    ],
)
def test_layer_reads_attention_embedding_and_transformer(
    path: str, family: str, tensor: str, shape: list[int]
) -> None:
    """Each layer's own family report, at its settings and the sizes of its first call: the shape
    the family gives is what the layer returned in the model (the test's own hook)."""
    from tests.models.transformer import EmbedEncodeAttend

    code, out, err = run(
        f"model {MODELS}/transformer.py:EmbedEncodeAttend --input 2,7:int64 --layer {path} --format json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["command"] == family
    model = EmbedEncodeAttend().eval()
    seen: list[Any] = []
    getattr(model, path).register_forward_hook(
        lambda m, a, o: seen.append(o[0] if isinstance(o, tuple) else o)
    )
    with torch.no_grad():
        model(torch.randint(0, 50, (2, 7)))
    assert list(seen[0].shape) == shape
    rows = {row["name"]: row for row in data["tensors"]}
    assert rows[tensor]["shape"] == shape and rows[tensor]["verified"] is True


def test_integer_inputs_are_drawn_within_the_table_they_feed() -> None:
    """BERT's input_ids feed a word table of 1000 rows; the token-type table of 2 is fed by ids
    made in forward. The ids are drawn below 1000, not below 2, and the note says so."""
    code, out, err = run(f"model {MODELS}/real.py:BertEmbeddings --input 2,64:int64 --format json")
    assert code == 0, err
    data = json.loads(out)
    (model,) = [row for row in data["layers"] if row["path"] == ""]
    largest = model["outputs"][1]["shape"][0] - 1
    assert 2 <= largest < 1000
    assert any(
        "input: 0 ≤ v < 1000 (the num_embeddings of the embedding it feeds)" in n for n in data["notes"]
    )


def test_a_dataclass_output_is_shown_by_its_fields() -> None:
    code, out, err = run(f"model {MODELS}/real.py:DataclassOutput --input 2,3,8 --format json")
    assert code == 0, err
    (model,) = [row for row in json.loads(out)["layers"] if row["path"] == ""]
    result = real.DataclassOutput().eval()(torch.randn(2, 3, 8))
    assert [(o["name"], o["shape"]) for o in model["outputs"]] == [
        ("output.last_hidden_state", list(result.last_hidden_state.shape)),
        ("output.pooled", list(result.pooled.shape)),
    ]


def test_warnings_of_the_forward_are_in_the_report_not_on_stderr() -> None:
    code, out, err = run(f"model {MODELS}/real.py:Warns --input 2,8")
    assert code == 0 and err == ""
    text = " ".join(out.split())
    assert "the forward warned: UserWarning at " in text and "this forward is deprecated" in text
    assert text.count("this forward is deprecated") == 1
