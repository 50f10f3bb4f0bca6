"""torchshape model: every row of the trace against shapes the test's own hooks captured."""

from __future__ import annotations

import itertools
import json
from functools import partial
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tests.conftest import MODELS
from tests.conftest import run_line as run


def shapes(value: Any) -> list[tuple[int, ...]]:
    """Every tensor shape inside ``value``, in order (the test's own flattening)."""
    if isinstance(value, torch.Tensor):
        return [tuple(value.shape)]
    if isinstance(value, (tuple, list)):
        return [s for item in value for s in shapes(item)]
    return []


def truth(model: nn.Module, inputs: list[torch.Tensor]) -> list[tuple[str, list[tuple[int, ...]]]]:
    """(path, output shapes) of every module call, in call order, from hooks of this test."""
    names = {id(m): p for p, m in model.named_modules()}
    order: list[list[Any]] = []
    stack: list[int] = []

    def pre(m: nn.Module, args: Any) -> None:
        stack.append(len(order))
        order.append([names[id(m)], []])

    def post(m: nn.Module, args: Any, out: Any) -> None:
        order[stack.pop()][1] = shapes(out)

    handles = [
        h for m in model.modules() for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))
    ]
    with torch.random.fork_rng(devices=[]):
        model.eval()(*inputs)
    for h in handles:
        h.remove()
    return [(path, outs) for path, outs in order]


CASES = [
    (
        "seq2seq.py:Seq2Seq",
        "--input 4,10:int64 --input 4,7:int64",
        lambda: __import__("tests.models.seq2seq", fromlist=["x"]).Seq2Seq(),
        [torch.randint(0, 100, (4, 10)), torch.randint(0, 100, (4, 7))],
    ),
    (
        "crnn.py:CRNN",
        "--input 2,1,32,20",
        lambda: __import__("tests.models.crnn", fromlist=["x"]).CRNN(),
        [torch.randn(2, 1, 32, 20)],
    ),
    (
        "transformer.py:TinyTransformer",
        "--input 2,6:int64",
        lambda: __import__("tests.models.transformer", fromlist=["x"]).TinyTransformer(),
        [torch.randint(0, 50, (2, 6))],
    ),
    (
        "cell_loop.py:CellLoop",
        "--input 5,3,8",
        lambda: __import__("tests.models.cell_loop", fromlist=["x"]).CellLoop(),
        [torch.randn(5, 3, 8)],
    ),
]


@pytest.mark.parametrize(("target", "flags", "build", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_every_row_is_torchs_shape_and_every_mark_is_right(
    target: str, flags: str, build: Any, inputs: Any
) -> None:
    code, out, err = run(f"model {MODELS / target} {flags} --format json")
    assert code == 0, err
    layers = json.loads(out)["layers"]
    expected = truth(build(), inputs)
    # collapse the truth the same way: identical consecutive calls are one row
    collapsed: list[tuple[str, list[tuple[int, ...]], int]] = []
    for path, outs in expected:
        if collapsed and collapsed[-1][:2] == (path, outs):
            collapsed[-1] = (path, outs, collapsed[-1][2] + 1)
        else:
            collapsed.append((path, outs, 1))
    assert [
        (layer["path"], [tuple(o["shape"]) for o in layer["outputs"]], layer["calls"]) for layer in layers
    ] == collapsed
    for layer in layers:
        for o in layer["outputs"]:
            if o["formula"] is None:
                assert o["verified"] is None  # no formula: no mark
            else:
                assert o["verified"] is True, (layer["path"], o)


def test_names_are_pytorchs() -> None:
    _code, out, _ = run(
        f"model {MODELS}/seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64 --format json"
    )
    layers = {layer["path"]: layer for layer in json.loads(out)["layers"]}
    assert [o["name"] for o in layers["encoder"]["outputs"]] == ["output", "h_n", "c_n"]
    assert [o["name"] for o in layers["decoder"]["outputs"]] == ["output", "h_n"]
    _, out, _ = run(f"model {MODELS}/cell_loop.py:CellLoop --input 5,3,8 --format json")
    cell = next(layer for layer in json.loads(out)["layers"] if layer["path"] == "cell")
    assert [o["name"] for o in cell["outputs"]] == ["h_1", "c_1"] and cell["calls"] == 5
    _, out, _ = run(f"model {MODELS}/transformer.py:TinyTransformer --input 2,6:int64 --format json")
    rows = {layer["path"]: layer for layer in json.loads(out)["layers"]}
    assert rows["encoder.layers.0"]["outputs"][0]["formula"] == "(N, S, E)"  # the transformer family's
    assert rows["encoder.layers.0"]["outputs"][0]["verified"] is True
    assert rows["encoder.layers.0.self_attn"]["outputs"][0]["name"] == "attn_output"


def test_target_forms_and_args() -> None:
    assert run(f"model {MODELS}/transformer.py:build --input 2,6:int64")[0] == 0  # a function
    assert run(f"model {MODELS}/cell_loop.py:model --input 5,3,8")[0] == 0  # a module object
    assert run("model tests.models.cell_loop:CellLoop --input 5,3,4 --arg input_size=4")[0] == 0  # a package
    _code, out, _ = run(
        f"model {MODELS}/cell_loop.py:CellLoop --input 5,3,8 --arg hidden_size=16 --format json"
    )
    assert json.loads(out)["layers"][1]["outputs"][0]["shape"] == [3, 16]


def test_depth_limits_rows_not_totals() -> None:
    _, full, _ = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --format json")
    _, shallow, _ = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --depth 1 --format json")
    assert max(layer["depth"] for layer in json.loads(shallow)["layers"]) == 1
    assert len(json.loads(shallow)["layers"]) < len(json.loads(full)["layers"])
    assert json.loads(shallow)["totals"] == json.loads(full)["totals"]
    assert json.loads(full)["totals"]["params"] == sum(
        p.numel() for p in __import__("tests.models.crnn", fromlist=["x"]).CRNN().parameters()
    )


def test_a_wrong_formula_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchshape.families.model import known

    real = known.linear

    def wrong(module: nn.Module, args: Any, kwargs: Any) -> Any:
        found = real(module, args, kwargs)
        bad = known.KnownOutput(
            "output", "(*, in_features)", (*found.outputs[0].expected[:-1], module.in_features)
        )
        return known.Known((bad,), found.macs)

    monkeypatch.setitem(known.ADAPTERS, nn.Linear, wrong)
    code, out, _ = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20")
    assert code == 1
    assert (
        "✗ MISMATCH classifier (nn.Linear) output: formula (*, in_features) gives (10, 2, 48), "
        "torch returned (10, 2, 20)" in " ".join(out.split())
    )
    _, out, _ = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --format json")
    classifier = next(layer for layer in json.loads(out)["layers"] if layer["path"] == "classifier")
    assert classifier["outputs"][0]["verified"] is False and json.loads(out)["ok"] is False


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ("model nonsense --input 2", "TARGET"),
        (f"model {MODELS}/missing.py:X --input 2", "TARGET"),
        (f"model {MODELS}/crnn.py:Nope --input 2", "TARGET"),
        ("model no_such_package_xyz:Model --input 2", "TARGET"),
        (f"model {MODELS}/crnn.py:CRNN --input 2,x", "--input"),
        (f"model {MODELS}/crnn.py:CRNN --input 2:int3", "--input"),
        (f"model {MODELS}/crnn.py:CRNN", "--input"),
        (f"model {MODELS}/crnn.py:CRNN --input 2 --arg classes=os.system", "--arg"),
        (f"model {MODELS}/crnn.py:CRNN --input 2 --arg nope=1", "--arg"),
        (f"model {MODELS}/crnn.py:CRNN --input 2 --depth -1", "--depth"),
        (f"model {MODELS}/crnn.py:CRNN --input 2 --device tpu", "--device"),
        (f"model {MODELS}/crnn.py:CRNN --input 2 --dtype int8", "--dtype"),
        (f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20 --format python", "--format"),
    ],
)
def test_bad_arguments_exit_2_naming_the_flag(args: str, flag: str) -> None:
    code, out, err = run(args)
    assert code == 2, err
    assert err.startswith(f"torchshape: error: {flag}") and err.count("\n") == 1, err
    assert out == ""


def test_model_checks_device_and_dtype_as_every_family() -> None:
    """--device and --dtype: model takes what rnn takes, as rnn takes it, and refuses what it refuses
    (the first of two bad flags the same)."""
    from torchshape import families
    from torchshape.errors import UsageError
    from torchshape.families.model.spec import make_spec
    from torchshape.families.rnn.spec import FLAGS

    def outcome(make: Any, **flags: str) -> tuple[str, Any]:
        try:
            spec = make(**flags)
        except UsageError as refused:
            return refused.option, None
        return "", (spec.device, spec.dtype)

    devices = ["cpu", " CPU ", "Meta", "cuda", "cuda:3", "cuda:1000", "tpu", "", "cuda:x"]
    for device, dtype in itertools.product(devices, ["float32", "FLOAT64", " bfloat16", "half", "int8", ""]):
        rnn = outcome(partial(families.family("rnn").make_spec, names=FLAGS), device=device, dtype=dtype)
        model = outcome(partial(make_spec, f"{MODELS}/crnn.py:CRNN", ["2"]), device=device, dtype=dtype)
        assert model == rnn, (device, dtype)


def test_a_model_that_fails_in_forward_exits_1_after_the_trace() -> None:
    code, out, err = run(f"model {MODELS}/broken.py:Broken --input 2,4,12")
    assert code == 1 and "mat1 and mat2 shapes cannot be multiplied" in out
    assert err == "torchshape: error: the model failed in head (nn.Linear); see the trace above\n"


@pytest.mark.parametrize(("target", "flags", "build", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_meta_gives_the_shapes_the_cpu_gives(target: str, flags: str, build: Any, inputs: Any) -> None:
    """On meta every row equals what this test's hooks saw on the CPU; recurrent layers, answered
    by their formulas there, are marked as such (✓*) and every other known layer ran."""
    code, out, err = run(f"model {MODELS / target} {flags} --device meta --format json")
    assert code == 0, err
    data = json.loads(out)
    assert data["run"]["device"] == "meta" and data["ok"] is True
    expected = truth(build(), inputs)
    seen = [(row["path"], [tuple(o["shape"]) for o in row["outputs"]]) for row in data["layers"]]
    collapsed = [pair for i, pair in enumerate(expected) if i == 0 or expected[i - 1] != pair]
    assert seen == collapsed
    recurrent = {p for p, m in build().named_modules() if isinstance(m, (nn.RNNBase, nn.RNNCellBase))}
    for row in data["layers"]:
        for o in row["outputs"]:
            assert o["from_formula"] is (row["path"] in recurrent), (row["path"], o)
            if o["formula"] is not None:
                assert o["verified"] is True


def test_a_packed_sequence_has_its_formulas_on_cpu_and_meta() -> None:
    from tests.models.packed import Packed

    tokens = torch.randint(0, 30, (3, 5))
    expected = dict(truth(Packed(), [tokens]))["rnn"]
    for device in ("cpu", "meta"):
        code, out, err = run(
            f"model {MODELS}/packed.py:Packed --input 3,5:int64 --device {device} --format json"
        )
        assert code == 0, err
        (row,) = [r for r in json.loads(out)["layers"] if r["path"] == "rnn"]
        assert [o["name"] for o in row["outputs"]] == ["output.data", "output.batch_sizes", "h_n"]
        assert [tuple(o["shape"]) for o in row["outputs"]] == expected
        assert all(o["verified"] is True for o in row["outputs"])
        assert row["outputs"][0]["formula"] == "(sum(lengths), D·H_out)"


def test_a_model_that_would_not_fit_is_refused_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchshape import guard

    monkeypatch.setattr(guard, "cpu_available_bytes", lambda: 2**16)
    code, out, err = run(f"model {MODELS}/seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64")
    assert code == 1 and out == ""
    assert err.startswith("torchshape: error: --device cpu: this forward pass needs about ")
    assert "use --device meta" in err and err.count("\n") == 1
    # the guard's estimate, from a trace on meta, is the report's own figure, on meta and on the CPU
    import torch as torch_

    from torchshape.families.model.load import import_target
    from torchshape.families.model.probe import estimate
    from torchshape.families.model.spec import make_spec

    spec = make_spec(f"{MODELS}/seq2seq.py:Seq2Seq", ["4,10:int64", "4,7:int64"], [])
    guarded = estimate(spec, import_target(spec), torch_.float32)
    monkeypatch.undo()
    for device in ("cpu", "meta"):
        code, out, err = run(
            f"model {MODELS}/seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64 --device {device} "
            "--format json"
        )
        assert code == 0, err
        data = json.loads(out)
        assert data["memory"]["estimate_bytes"] == guarded.peak_bytes == data["totals"]["peak_bytes_estimate"]


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    return []


def test_a_model_that_would_run_too_long_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from torchshape import guard

    monkeypatch.setattr(guard, "MAX_SECONDS", 1e-9)
    code, out, err = run(f"model {MODELS}/crnn.py:CRNN --input 2,1,32,20")
    assert code == 1 and out == "" and "would run for about" in err and err.count("\n") == 1


def test_python_api_traces_a_live_module() -> None:
    import torchshape

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    report = torchshape.trace(model, torch.randn(3, 4))
    assert report.ok
    layers = report.probe.analysis.layers
    assert [layer.path for layer in layers] == ["", "0", "1", "2"]
    assert layers[-1].outputs[0].shape == (3, 2) and layers[-1].outputs[0].verified is True


def test_a_keyword_input_reaches_forward_by_name() -> None:
    from tests.models.keywords import Masked

    code, out, err = run(
        f"model {MODELS}/keywords.py:Masked --input 2,5:int64 --input padding_mask=2,5:bool --format json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert [t["name"] for t in data["tensors"]][:2] == ["input", "padding_mask"]
    seen: list[Any] = []
    model = Masked()
    model.attention.register_forward_pre_hook(lambda m, args, kwargs: seen.append(kwargs), with_kwargs=True)
    model.eval()(torch.randint(0, 40, (2, 5)), padding_mask=torch.zeros(2, 5, dtype=torch.bool))
    (attention,) = [row for row in data["layers"] if row["path"] == "attention"]
    assert [i["name"] for i in attention["inputs"]][-1] == "key_padding_mask" == next(iter(seen[0]))
    assert attention["inputs"][-1]["shape"] == list(seen[0]["key_padding_mask"].shape)


@pytest.mark.parametrize(
    "flags",
    ["--input 2,5:int64 --input m=2,5:bool --input m=2,5:bool", "--input 2,5:int64 --input 1m=2,5:bool"],
)
def test_bad_keyword_inputs_exit_2(flags: str) -> None:
    code, out, err = run(f"model {MODELS}/keywords.py:Masked {flags}")
    assert code == 2 and out == "" and err.startswith("torchshape: error: --input") and err.count("\n") == 1


@settings(max_examples=30, deadline=None)
@given(
    bags=st.integers(1, 5),
    per_bag=st.integers(1, 4),
    dim=st.integers(1, 6),
    flat=st.booleans(),
    include_last=st.booleans(),
    mode=st.sampled_from(["sum", "mean", "max"]),
)
def test_embedding_bag_rows_against_torch(
    bags: int, per_bag: int, dim: int, flat: bool, include_last: bool, mode: str
) -> None:
    """nn.EmbeddingBag's one row per bag, 2-D input or 1-D with offsets, checked on torch's output."""
    import torchshape

    bag = nn.EmbeddingBag(20, dim, mode=mode, include_last_offset=include_last and flat)
    indices = torch.randint(0, 20, (bags, per_bag))
    if flat:
        offsets = torch.arange(0, bags * per_bag + (per_bag if include_last else 0), per_bag)
        args: tuple[torch.Tensor, ...] = (indices.flatten(), offsets)
    else:
        args = (indices,)
    report = torchshape.trace(bag, *args)
    (row,) = report.probe.analysis.layers
    (out,) = row.outputs
    assert out.shape == tuple(bag(*args).shape) and out.verified is True


@settings(max_examples=30, deadline=None)
@given(
    heads=st.integers(1, 3),
    head_dim=st.integers(1, 4),
    target=st.integers(1, 5),
    source=st.integers(1, 5),
    batch=st.one_of(st.none(), st.integers(1, 3)),
    batch_first=st.booleans(),
    need_weights=st.booleans(),
    average=st.booleans(),
    bias_kv=st.booleans(),
    zero_attn=st.booleans(),
    kdim=st.one_of(st.none(), st.integers(1, 5)),
)
def test_multihead_attention_rows_against_torch(
    heads: int,
    head_dim: int,
    target: int,
    source: int,
    batch: int | None,
    batch_first: bool,
    need_weights: bool,
    average: bool,
    bias_kv: bool,
    zero_attn: bool,
    kdim: int | None,
) -> None:
    """nn.MultiheadAttention in a trace: attn_output and the weights (averaged or per head, S
    grown by add_bias_kv and add_zero_attn) have the attention family's formulas, checked on
    the shapes torch returned."""
    import torchshape

    embed = heads * head_dim
    mha = nn.MultiheadAttention(
        embed,
        heads,
        batch_first=batch_first,
        add_bias_kv=bias_kv,
        add_zero_attn=zero_attn,
        kdim=kdim,
        vdim=kdim,
    )

    def shaped(length: int, features: int) -> torch.Tensor:
        if batch is None:
            return torch.randn(length, features)
        return torch.randn(batch, length, features) if batch_first else torch.randn(length, batch, features)

    q, k = shaped(target, embed), shaped(source, kdim or embed)
    options = {"need_weights": need_weights, "average_attn_weights": average}
    report = torchshape.trace(mha, q, k, k.clone(), **options)
    (row,) = report.probe.analysis.layers
    with torch.no_grad():
        returned = [t for t in mha.eval()(q, k, k.clone(), **options) if t is not None]
    assert [o.shape for o in row.outputs] == [tuple(t.shape) for t in returned]
    assert all(o.verified is True for o in row.outputs), row.outputs


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@settings(max_examples=20, deadline=None)
@given(
    kind=st.sampled_from(["encoder-layer", "decoder-layer", "encoder", "decoder", "full"]),
    heads=st.integers(1, 3),
    head_dim=st.integers(1, 3),
    source=st.integers(1, 6),
    target=st.integers(1, 6),
    batch=st.integers(1, 3),
    batch_first=st.booleans(),
    norm_first=st.booleans(),
)
def test_transformer_layers_rows_against_torch(
    kind: str,
    heads: int,
    head_dim: int,
    source: int,
    target: int,
    batch: int,
    batch_first: bool,
    norm_first: bool,
) -> None:
    """The transformer layers, stacks and nn.Transformer in a trace: each output has the
    transformer family's formula, checked on the shape torch returned."""
    import torchshape

    d = heads * head_dim
    options = {"dim_feedforward": 8, "batch_first": batch_first, "norm_first": norm_first, "dropout": 0.0}

    def seq(length: int) -> torch.Tensor:
        return torch.randn(batch, length, d) if batch_first else torch.randn(length, batch, d)

    src, tgt = seq(source), seq(target)
    model: nn.Module
    if kind == "full":
        model = nn.Transformer(d, heads, num_encoder_layers=1, num_decoder_layers=2, **options)  # type: ignore[arg-type]
        inputs: tuple[torch.Tensor, ...] = (src, tgt)
    elif kind.startswith("encoder"):
        layer = nn.TransformerEncoderLayer(d, heads, **options)  # type: ignore[arg-type]
        model = (
            layer if kind == "encoder-layer" else nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        )
        inputs = (src,)
    else:
        layer = nn.TransformerDecoderLayer(d, heads, **options)  # type: ignore[arg-type]
        model = layer if kind == "decoder-layer" else nn.TransformerDecoder(layer, 2)
        inputs = (tgt, src)
    report = torchshape.trace(model, *inputs)
    top = report.probe.analysis.layers[0]
    with torch.no_grad():
        expected = model.eval()(*inputs)
    assert top.outputs[0].shape == tuple(expected.shape)
    assert top.outputs[0].formula is not None and top.outputs[0].verified is True
