"""torchshape transformer against plain torch: every tensor and mask shape, every parameter and
the MACs (against FlopCounterMode) for configurations drawn over every flag; each --explain
claim re-evaluated on its own forward pass; each listed mistake shown to fail in torch."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from torchshape.api import inspect_transformer
from torchshape.families.transformer.counts import macs, parameter_formulas
from torchshape.families.transformer.request import make_spec
from torchshape.families.transformer.spec import Layer, TransformerSpec

# torch warns about mixed mask types and its nested-tensor path; the plain modules here are the user's
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@st.composite
def settings_drawn(draw: st.DrawFn) -> dict[str, Any]:
    layer = draw(st.sampled_from(["encoder", "decoder", "full", "encoder-stack", "decoder-stack"]))
    nhead = draw(st.integers(1, 4))
    raw: dict[str, Any] = {
        "layer": layer,
        "nhead": nhead,
        "d_model": nhead * draw(st.integers(1, 5)),
        "dim_feedforward": draw(st.integers(1, 12)),
        "batch_first": draw(st.booleans()),
        "norm_first": draw(st.booleans()),
        "source_len": draw(st.integers(1, 6)),
        "batch": draw(st.integers(1, 4)),
    }
    if not layer.startswith("encoder"):
        raw["target_len"] = draw(st.integers(1, 6))
    if layer.endswith("stack"):
        raw["num_layers"] = draw(st.integers(1, 3))
        raw["final_norm"] = draw(st.booleans())
        layer = layer.removesuffix("-stack")  # the same forward's masks as the layer's
    if layer == "full":
        raw["num_encoder_layers"] = draw(st.integers(1, 3))
        raw["num_decoder_layers"] = draw(st.integers(1, 3))
    attention = {"encoder": ["src_mask"], "decoder": ["tgt_mask", "memory_mask"]}.get(
        layer, ["src_mask", "tgt_mask", "memory_mask"]
    )
    padding = {
        "encoder": ["src_key_padding_mask"],
        "decoder": ["tgt_key_padding_mask", "memory_key_padding_mask"],
    }.get(layer, ["src_key_padding_mask", "tgt_key_padding_mask", "memory_key_padding_mask"])
    for name in attention:
        raw[name] = draw(st.sampled_from(["none", "2d", "3d"]))
    for name in padding:
        raw[name] = draw(st.sampled_from(["none", "bool", "float"]))
    if layer != "encoder":
        raw["causal"] = draw(st.booleans())
    return raw


def plain_torch(spec: TransformerSpec) -> tuple[nn.Module, dict[str, torch.Tensor], tuple[torch.Tensor, ...]]:
    """The module and inputs built from the spec's settings with torch alone (not torchshape's torch side)."""
    e, h, f = spec.d_model, spec.nhead, spec.dim_feedforward
    common = {"dim_feedforward": f, "batch_first": spec.batch_first, "norm_first": spec.norm_first}
    norm = nn.LayerNorm(e) if spec.final_norm else None
    if spec.layer is Layer.ENCODER:
        module: nn.Module = nn.TransformerEncoderLayer(e, h, **common)
    elif spec.layer is Layer.DECODER:
        module = nn.TransformerDecoderLayer(e, h, **common)
    elif spec.layer is Layer.ENCODER_STACK:
        module = nn.TransformerEncoder(nn.TransformerEncoderLayer(e, h, **common), spec.num_layers, norm=norm)
    elif spec.layer is Layer.DECODER_STACK:
        module = nn.TransformerDecoder(nn.TransformerDecoderLayer(e, h, **common), spec.num_layers, norm=norm)
    else:
        module = nn.Transformer(e, h, spec.num_encoder_layers, spec.num_decoder_layers, **common)
    s, t, n = spec.source_len, spec.target_len, spec.batch

    def seq(length: int) -> torch.Tensor:
        return torch.randn((n, length, e) if spec.batch_first else (length, n, e))

    def attention(name: str, rows: int, cols: int) -> torch.Tensor | None:
        form = getattr(spec, name).value
        if form == "none":
            return None
        if name == "tgt_mask" and spec.causal:
            mask = nn.Transformer.generate_square_subsequent_mask(t)
        else:
            mask = torch.zeros(rows, cols, dtype=torch.bool)
        return mask if form == "2d" else mask.expand(n * h, rows, cols).contiguous()

    def padding(name: str, length: int) -> torch.Tensor | None:
        form = getattr(spec, name).value
        if form == "none":
            return None
        return torch.zeros(n, length, dtype=torch.bool if form == "bool" else torch.float32)

    masks = {
        "src_mask": attention("src_mask", s, s),
        "tgt_mask": attention("tgt_mask", t, t),
        "memory_mask": attention("memory_mask", t, s),
        "src_key_padding_mask": padding("src_key_padding_mask", s),
        "tgt_key_padding_mask": padding("tgt_key_padding_mask", t),
        "memory_key_padding_mask": padding("memory_key_padding_mask", s),
    }
    fed = {k: v for k, v in masks.items() if v is not None}
    src, tgt = seq(s), seq(t)
    if spec.encoder_only:
        return module, {"src": src, **fed}, (src,)
    if spec.decoder_only:
        return module, {"tgt": tgt, "memory": src, **fed}, (tgt, src)
    return module, {"src": src, "tgt": tgt, **fed}, (src, tgt)


def run_plain(
    module: nn.Module, spec: TransformerSpec, inputs: dict[str, torch.Tensor], args: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    masks = {k: v for k, v in inputs.items() if k.endswith("mask")}
    if spec.layer is Layer.ENCODER_STACK and "src_mask" in masks:  # nn.TransformerEncoder calls it mask
        masks["mask"] = masks.pop("src_mask")
    return module(*args, **masks)


@settings(max_examples=25, deadline=None)
@given(raw=settings_drawn())
def test_every_shape_parameter_and_mac_agrees_with_plain_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    report = inspect_transformer(spec)
    assert report.ok, report.probe.error
    module, inputs, args = plain_torch(spec)
    module.eval()
    memory: list[torch.Tensor] = []
    if spec.layer is Layer.FULL:
        module.encoder.register_forward_hook(lambda _m, _i, out: memory.append(out))  # type: ignore[union-attr]
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        output = run_plain(module, spec, inputs, args)
    shapes = {name: tuple(t.shape) for name, t in inputs.items()}
    shapes["output"] = tuple(output.shape)
    if memory:
        shapes["memory"] = tuple(memory[0].shape)
    assert {row.name: row.shape for row in report.rows} == shapes
    # every tensor and mask is in the table, each checked by torch at the user's sizes
    assert all(row.verified and row.actual is not None for row in report.rows)
    # parameters: a stack's rows stand for each of its layers
    theirs = {name: tuple(p.shape) for name, p in module.named_parameters()}
    ours = {name: p.shape for p in parameter_formulas(spec) for name in p.names()}
    assert ours == theirs
    assert report.totals is not None
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    # MACs: FlopCounterMode counts two FLOPs per multiply-accumulate of every product on the math path
    assert counter.get_total_flops() == 2 * macs(spec) == 2 * report.totals.macs


def attention_products(spec: TransformerSpec) -> int:
    """Q·Kᵀ and weights·V: what FlopCounterMode does not see in the fused kernels."""
    n, s, t, e = spec.batch, spec.source_len, spec.target_len, spec.d_model
    return spec.num_encoder_layers * 2 * n * s * s * e + spec.num_decoder_layers * (
        2 * n * t * t * e + 2 * n * t * s * e
    )


@pytest.mark.parametrize("layer", ["encoder", "decoder", "full"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_fused_attention_hides_its_products_from_the_flop_counter(layer: str, batch_first: bool) -> None:
    """On the CPU's default attention kernel, and on the fast path in inference, FlopCounterMode
    sees the projections and the feed-forward only: MACs minus the attention products."""
    spec = make_spec(layer=layer, batch_first=batch_first)
    module, inputs, args = plain_torch(spec)
    module.eval()
    with FlopCounterMode(display=False) as default:
        run_plain(module, spec, inputs, args)
    with torch.inference_mode(), FlopCounterMode(display=False) as fast:
        run_plain(module, spec, inputs, args)
    expected = 2 * (macs(spec) - attention_products(spec))
    assert default.get_total_flops() == expected
    assert fast.get_total_flops() == expected


def test_meta_answers_huge_sizes_at_the_users_sizes() -> None:
    report = inspect_transformer(
        layer="full", d_model=1024, nhead=16, dim_feedforward=4096, source_len=100_000, target_len=50_000,
        num_encoder_layers=2, num_decoder_layers=2,
        batch=64, causal=True, src_key_padding_mask="bool", memory_mask="3d", device="meta",
    )  # fmt: skip
    assert report.ok
    assert not report.probe.reduced
    assert {row.name: row.shape for row in report.rows}["memory_mask"] == (64 * 16, 50_000, 100_000)
    assert all(row.actual is not None for row in report.rows)


def test_meta_runs_at_most_four_layers_and_marks_the_rest() -> None:
    report = inspect_transformer(layer="full", num_encoder_layers=100, num_decoder_layers=7, device="meta")
    assert report.ok
    assert report.probe.reduced and report.probe.spec.num_encoder_layers == 4
    assert all(row.actual is None and row.verified for row in report.rows)
    assert "4 of 100 encoder" in report.ran
    assert all(p.source == "formula" for p in report.parameters if ".layers." in p.name)
    assert report.totals is not None
    full = nn.Transformer(18, 3, 100, 7, 2048, device="meta")
    assert report.totals.params == sum(p.numel() for p in full.parameters())


def test_meta_checks_mask_shapes_too() -> None:
    """The is_causal hint on meta keeps the masks in use: a wrong one is still refused there."""
    module = nn.Transformer(18, 3, 1, 1, 32, device="meta").eval()
    src, tgt = torch.empty(10, 4, 18, device="meta"), torch.empty(7, 4, 18, device="meta")
    with pytest.raises(RuntimeError, match="attn_mask"):
        module(src, tgt, tgt_mask=torch.empty(8, 8, device="meta"), src_is_causal=False, tgt_is_causal=False)
    with pytest.raises(
        RuntimeError, match="meta"
    ):  # without the hint, nn.Transformer reads the mask's values
        module(src, tgt, tgt_mask=torch.empty(7, 7, device="meta"))


# --- --explain: each claim re-evaluated on a plain torch forward pass --------------------------------


def claims(report: Any) -> dict[str, bool | None]:
    return {c.claim: c.holds for c in report.probe.analysis.claims}


@pytest.mark.parametrize("layer", ["encoder", "decoder", "full"])
def test_explain_claims_all_hold_on_the_cpu(layer: str) -> None:
    report = inspect_transformer(layer=layer, explain=True, causal=layer != "encoder")
    assert report.ok
    assert all(held is True for held in claims(report).values()), claims(report)
    topics = {c.topic for c in report.probe.analysis.claims}
    assert topics == ({"padding", "mask"} if layer == "encoder" else {"causal", "padding", "mask", "memory"})


def test_explain_on_meta_checks_refusals_and_leaves_values() -> None:
    report = inspect_transformer(layer="full", explain=True, device="meta")
    held = [c.holds for c in report.probe.analysis.claims]
    assert report.ok and True in held and None in held and False not in held


def test_the_causal_mask_is_float_minus_inf_and_its_bool_form_agrees() -> None:
    t = 5
    mask = nn.Transformer.generate_square_subsequent_mask(t)
    upper = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    assert mask.dtype == torch.float32 and mask.shape == (t, t)
    assert bool((mask[upper] == float("-inf")).all()) and bool((mask[~upper] == 0).all())
    layer = nn.TransformerDecoderLayer(12, 3, 16).eval()
    tgt, memory = torch.randn(t, 2, 12), torch.randn(6, 2, 12)
    with torch.no_grad():
        a = layer(tgt, memory, tgt_mask=mask)
        b = layer(tgt, memory, tgt_mask=upper)
        later = tgt.clone()
        later[-1] += 1
        c = layer(later, memory, tgt_mask=mask)
    assert torch.allclose(a, b)
    assert torch.allclose(a[:-1], c[:-1]) and not torch.allclose(a[-1], c[-1])


def test_memory_is_the_encoders_output_and_the_decoders_key_and_value() -> None:
    model = nn.Transformer(12, 3, 2, 2, 16).eval()
    src, tgt = torch.randn(6, 2, 12), torch.randn(5, 2, 12)
    with torch.no_grad():
        memory = model.encoder(src)
        assert torch.allclose(model.decoder(tgt, memory), model(src, tgt), atol=1e-6)
        layer = nn.TransformerDecoderLayer(12, 3, 16).eval()
        assert layer(tgt, torch.randn(9, 2, 12)).shape == tgt.shape  # any S: one row per target position
        assert not torch.allclose(layer(tgt, memory), layer(tgt, memory + 1))


# --- the listed mistakes fail in torch ------------------------------------------------------------


def test_a_padding_mask_of_shape_s_n_fails() -> None:
    layer = nn.TransformerEncoderLayer(12, 3, 16).eval()
    src = torch.randn(6, 2, 12)  # S = 6, N = 2
    layer(src, src_key_padding_mask=torch.zeros(2, 6, dtype=torch.bool))
    with pytest.raises((RuntimeError, AssertionError)):
        layer(src, src_key_padding_mask=torch.zeros(6, 2, dtype=torch.bool))


def test_the_fused_fast_path_takes_a_transposed_padding_mask_beside_src_mask() -> None:
    """The exception --explain names: batch_first, an even nhead, no autograd, and src_mask too."""
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    src, wrong = torch.randn(2, 6, 8), torch.zeros(6, 2, dtype=torch.bool)  # N = 2, S = 6
    with torch.inference_mode():
        assert (
            layer(src, src_mask=torch.zeros(6, 6, dtype=torch.bool), src_key_padding_mask=wrong).shape
            == src.shape
        )
        with pytest.raises(RuntimeError, match="mask shape should be"):
            layer(src, src_key_padding_mask=wrong)
    odd = nn.TransformerEncoderLayer(9, 3, 16, batch_first=True).eval()
    with torch.inference_mode(), pytest.raises((RuntimeError, AssertionError)):
        odd(torch.randn(2, 6, 9), src_mask=torch.zeros(6, 6, dtype=torch.bool), src_key_padding_mask=wrong)


def test_an_integer_padding_mask_fails() -> None:
    layer = nn.TransformerEncoderLayer(12, 3, 16).eval()
    with pytest.raises(AssertionError, match="only bool and floating types"):
        layer(torch.randn(6, 2, 12), src_key_padding_mask=torch.zeros(2, 6, dtype=torch.int64))


def test_a_tgt_mask_of_the_wrong_size_fails() -> None:
    layer = nn.TransformerDecoderLayer(12, 3, 16).eval()
    tgt, memory = torch.randn(5, 2, 12), torch.randn(6, 2, 12)
    with pytest.raises(RuntimeError, match="attn_mask"):
        layer(tgt, memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(6))


def test_d_model_not_divisible_by_nhead_fails() -> None:
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        nn.TransformerEncoderLayer(10, 4)


def test_every_flag_round_trips_through_the_command_line() -> None:
    import shlex

    from torchshape.families.transformer.spec import FLAGS, command_line

    spec = make_spec(
        layer="full", d_model=20, nhead=5, num_encoder_layers=3, num_decoder_layers=1, batch_first=True,
        norm_first=True, source_len=3, target_len=9, batch=2, src_mask="3d", causal=True, memory_mask="2d",
        src_key_padding_mask="float", tgt_key_padding_mask="bool", memory_key_padding_mask="bool",
        dtype="float64",
    )  # fmt: skip
    words = shlex.split(command_line(spec))[2:]
    raw: dict[str, Any] = {}
    flags = {flag: field for field, flag in FLAGS.items()}
    i = 0
    while i < len(words):
        field = flags[words[i]]
        if field in ("batch_first", "norm_first", "causal", "final_norm"):
            raw[field] = True
            i += 1
        else:
            raw[field] = words[i + 1]
            i += 2
    assert make_spec(names=FLAGS, **raw) == spec


@settings(max_examples=15, deadline=None)
@given(raw=settings_drawn(), dtype=st.sampled_from(["float32", "float64", "bfloat16"]))
@example(  # three layers in bfloat16: a bool and a float mask's kernels round 0.03 apart
    raw={"layer": "full", "nhead": 4, "d_model": 4, "dim_feedforward": 11, "batch_first": True,
         "source_len": 2, "batch": 1, "target_len": 2, "num_encoder_layers": 1, "num_decoder_layers": 2,
         "tgt_mask": "2d"},
    dtype="bfloat16",
)  # fmt: skip
def test_explain_claims_hold_for_drawn_configurations(raw: dict[str, Any], dtype: str) -> None:
    """Every claim that torch can evaluate holds; only S = N leaves the transposed-mask claim open."""
    report = inspect_transformer(**raw, dtype=dtype, explain=True)
    assert report.ok, (report.probe.error, report.rows, report.parameters, report.probe.analysis)
    spec = report.spec
    for claim in report.probe.analysis.claims:
        if claim.holds is None:  # a transposed padding mask when S = N; a LayerNorm over E ≤ 2
            open_ = spec.source_len == spec.batch and "(S, N)" in claim.claim
            assert open_ or (spec.d_model <= 2 and "E ≤ 2" in str(claim.evidence)), claim
        else:
            assert claim.holds is True, claim


@pytest.mark.parametrize(("layer", "mask"), [("encoder-stack", "src_mask"), ("decoder-stack", "memory_mask")])
def test_a_stack_round_trips_through_the_command_line(layer: str, mask: str) -> None:
    import shlex

    from torchshape.families.transformer.spec import FLAGS, command_line

    spec = make_spec(layer=layer, num_layers=5, final_norm=True, batch_first=True, **{mask: "3d"})
    words = shlex.split(command_line(spec))[2:]
    assert {"--num-layers", "5", "--final-norm"} <= set(words)
    raw: dict[str, Any] = {}
    flags = {flag: field for field, flag in FLAGS.items()}
    while words:
        field = flags[words.pop(0)]
        raw[field] = True if field in ("batch_first", "final_norm") else words.pop(0)
    assert make_spec(names=FLAGS, **raw) == spec


def test_the_stack_flags_are_refused_elsewhere() -> None:
    from torchshape.errors import UsageError

    with pytest.raises(UsageError, match=r"only nn\.TransformerEncoder and nn\.TransformerDecoder take it"):
        make_spec(layer="encoder", num_layers=2)
    with pytest.raises(UsageError, match=r"only nn\.TransformerEncoder and nn\.TransformerDecoder take it"):
        make_spec(layer="full", final_norm=True)
    with pytest.raises(UsageError, match=r"only nn\.Transformer takes it"):
        make_spec(layer="decoder-stack", num_decoder_layers=2)


def test_a_deep_stack_on_meta_builds_four_layers_and_marks_the_rest() -> None:
    report = inspect_transformer(layer="encoder-stack", num_layers=9, final_norm=True, device="meta")
    assert report.ok and report.probe.reduced
    assert "4 of 9 layers" in report.ran
    full = nn.TransformerEncoder(nn.TransformerEncoderLayer(18, 3, device="meta"), 9, norm=nn.LayerNorm(18))
    assert report.totals is not None
    assert report.totals.params == sum(p.numel() for p in full.parameters())


@pytest.mark.parametrize("layer", ["full", "encoder-stack"])
def test_meta_runs_an_encoder_with_a_padding_mask_and_batch_first(layer: str) -> None:
    """torch's nested-tensor path for an encoder stack has no meta kernel: the shapes come anyway."""
    layers = {"num_encoder_layers": 2, "num_decoder_layers": 2} if layer == "full" else {}
    report = inspect_transformer(
        layer=layer,
        batch_first=True,
        nhead=2,
        d_model=6,
        src_key_padding_mask="bool",
        device="meta",
        explain=True,
        **layers,
    )
    assert report.ok, report.probe.error
    assert all(row.actual is not None for row in report.rows)
