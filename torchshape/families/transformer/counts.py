"""Parameters, compute and memory of one transformer layer or nn.Transformer, in the docs' symbols.

Pure arithmetic, no torch.

Every layer (E = d_model, F = dim_feedforward):

    self_attn / multihead_attn   in_proj_weight (3·E, E)  in_proj_bias (3·E)
                                 out_proj.weight (E, E)   out_proj.bias (E)
    linear1  weight (F, E)  bias (F)        linear2  weight (E, F)  bias (E)
    norm1, norm2 (and norm3 in a decoder layer)  weight (E)  bias (E)

nn.Transformer stacks num_encoder_layers encoder layers and num_decoder_layers decoder
layers, and adds encoder.norm and decoder.norm (weight (E), bias (E) each).

MACs (multiply-accumulates) of the matrix products, per layer:

    encoder layer  N·S·(4·E² + 2·S·E + 2·E·F)
                   in_proj 3·E², Q·Kᵀ S·E, weights·V S·E, out_proj E², linear1 + linear2 2·E·F
    decoder layer  N·T·(6·E² + 2·T·E + 2·S·E + 2·E·F) + N·S·2·E²
                   self-attention as above over T; cross-attention: q and out_proj on T,
                   k and v on the S memory positions, Q·Kᵀ and weights·V T·S·E each

Bias additions, softmax, LayerNorm and masks are not counted. torch's own counter,
``torch.utils.flop_counter.FlopCounterMode``, reports exactly 2·MACs when attention runs
on scaled_dot_product_attention's math backend (``sdpa_kernel(SDPBackend.MATH)``), where
Q·Kᵀ and weights·V are bmm calls it counts. On the CPU's default fused attention kernel,
and on the fused fast path an encoder layer takes in eval under no_grad, it sees the
projections and the feed-forward only: 2·(MACs − the Q·Kᵀ and weights·V products).
Tests check both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torchshape.facts import ParameterRow, Totals, unclaimed_rows
from torchshape.families import layer_counts
from torchshape.families.layer_counts import PEAK_MARGIN
from torchshape.families.transformer.formulas import mask_dtype, symbols, tensor_formulas
from torchshape.families.transformer.spec import Layer, PaddingForm, TransformerSpec

# torch checks a key padding mask's shape with ``torch._check_with``, which imports
# torch.fx.experimental.symbolic_shapes (and sympy) the first time: 36 MB resident, measured.
KEY_PADDING_CHECK_BYTES = 36 * 2**20

_ATTENTION = (
    ("in_proj_weight", "(3·E, E)", lambda e, f: (3 * e, e)),
    ("in_proj_bias", "(3·E)", lambda e, f: (3 * e,)),
    ("out_proj.weight", "(E, E)", lambda e, f: (e, e)),
    ("out_proj.bias", "(E)", lambda e, f: (e,)),
)
_FEED_FORWARD = (
    ("linear1.weight", "(F, E)", lambda e, f: (f, e)),
    ("linear1.bias", "(F)", lambda e, f: (f,)),
    ("linear2.weight", "(E, F)", lambda e, f: (e, f)),
    ("linear2.bias", "(E)", lambda e, f: (e,)),
)


@dataclass(frozen=True)
class ParameterFormula:
    """One parameter of every layer of a stack: ``name`` with ``{i}`` for the layer index."""

    name: str
    formula: str
    shape: tuple[int, ...]
    layers: int  # how many layers have it (1 outside a stack)

    def names(self) -> list[str]:
        return [self.name.format(i=i) for i in range(self.layers)]

    @property
    def shown(self) -> str:
        """``encoder.layers.0-1.linear1.weight`` for a stack of two; the name itself for one."""
        if "{i}" not in self.name:
            return self.name
        return self.name.format(i="0" if self.layers == 1 else f"0-{self.layers - 1}")

    @property
    def shown_formula(self) -> str:
        if "{i}" not in self.name or self.layers == 1:
            return self.formula
        return f"{self.formula} ×{self.layers}"

    @property
    def numel(self) -> int:
        return math.prod(self.shape) * self.layers


def layer_parameters(decoder: bool, e: int, f: int) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, formula, shape) of one layer, in ``named_parameters()`` order."""
    rows: list[tuple[str, str, tuple[int, ...]]] = [
        (f"self_attn.{n}", form, shape(e, f)) for n, form, shape in _ATTENTION
    ]
    if decoder:
        rows += [(f"multihead_attn.{n}", form, shape(e, f)) for n, form, shape in _ATTENTION]
    rows += [(n, form, shape(e, f)) for n, form, shape in _FEED_FORWARD]
    for norm in ("norm1", "norm2", "norm3") if decoder else ("norm1", "norm2"):
        rows += [(f"{norm}.weight", "(E)", (e,)), (f"{norm}.bias", "(E)", (e,))]
    return rows


def parameter_formulas(spec: TransformerSpec) -> list[ParameterFormula]:
    e, f = spec.d_model, spec.dim_feedforward

    def stack(prefix: str, decoder: bool, count: int, norm: bool) -> list[ParameterFormula]:
        """A stack's ``count`` layers, one row per parameter, then its final LayerNorm's (``norm``)."""
        rows = layer_parameters(decoder, e, f)
        layers = [ParameterFormula(f"{prefix}layers.{{i}}.{n}", form, s, count) for n, form, s in rows]
        return layers + [
            ParameterFormula(f"{prefix}norm.{p}", "(E)", (e,), 1) for p in ("weight", "bias") if norm
        ]

    if spec.stacked:
        return stack("", spec.decoder_only, spec.num_layers, spec.final_norm)
    if spec.layer is not Layer.FULL:
        return [ParameterFormula(n, form, s, 1) for n, form, s in layer_parameters(spec.decoder_only, e, f)]
    encoder = stack("encoder.", False, spec.num_encoder_layers, True)
    return encoder + stack("decoder.", True, spec.num_decoder_layers, True)


def parameter_count(spec: TransformerSpec) -> int:
    return sum(p.numel for p in parameter_formulas(spec))


def encoder_layer_macs(n: int, s: int, e: int, f: int) -> int:
    return n * s * (4 * e * e + 2 * s * e + 2 * e * f)


def decoder_layer_macs(n: int, t: int, s: int, e: int, f: int) -> int:
    return n * t * (6 * e * e + 2 * t * e + 2 * s * e + 2 * e * f) + n * s * 2 * e * e


def macs(spec: TransformerSpec) -> int:
    n, s, t, e, f = spec.batch, spec.source_len, spec.target_len, spec.d_model, spec.dim_feedforward
    return spec.num_encoder_layers * encoder_layer_macs(n, s, e, f) + spec.num_decoder_layers * (
        decoder_layer_macs(n, t, s, e, f)
    )


def macs_formula(spec: TransformerSpec) -> str:
    enc = "N·S·(4·E² + 2·S·E + 2·E·F)"
    dec = "N·T·(6·E² + 2·T·E + 2·S·E + 2·E·F) + N·S·2·E²"
    if spec.layer is Layer.ENCODER:
        return enc
    if spec.layer is Layer.DECODER:
        return dec
    if spec.layer is Layer.ENCODER_STACK:
        return f"num_layers·{enc}"
    if spec.layer is Layer.DECODER_STACK:
        return f"num_layers·({dec})"
    return f"num_encoder_layers·{enc} + num_decoder_layers·({dec})"


def numels(spec: TransformerSpec) -> dict[str, int]:
    sym = symbols(spec)
    return {f.name: math.prod(f.shape(sym)) for f in tensor_formulas(spec)}


def moments(spec: TransformerSpec) -> list[tuple[int, bool]]:
    """Bytes alive at each moment of a layer's forward, beyond the parameters, inputs and masks,
    in the order torch runs them (a stack's second layer after its first), each with whether
    torch's key padding check has been imported by then (``checks_key_padding``).

    The feed-forward's moment, per row (N·S in an encoder layer, N·T in a decoder layer): its
    hidden activations before and after the activation function, 2·F, and the residual, E.
    Each attention's: q, k, v, the heads' output, out_proj's and the residual, 6·E a row (a
    decoder layer's cross-attention projects k and v over the N·S memory rows, their projection
    and per-head copies, 4·E, beside 4·E of its own rows), and whatever torch forms the size of
    its weights (``materialized_bytes``: masks merged, or the weights where its kernel forms
    them), freed before the next one runs. The layer's output is one of the rows. With
    norm_first, the normalized copy too (E). nn.Transformer keeps the encoder's output (N, S, E)
    while its decoder runs. Measured (tests/test_guard_peaks.py).
    """
    n, e, f = spec.batch, spec.d_model, spec.dim_feedforward
    itemsize = spec.dtype.itemsize
    source, target = n * spec.source_len, n * (spec.target_len or 0)
    residual = 2 * e if spec.norm_first else e  # norm_first keeps the normalized copy beside it
    feed_forward, attention = 2 * f + residual, 5 * e + residual
    checked = checks_key_padding(spec)
    encoder: list[tuple[int, bool]] = []
    if cpu_fast_path(spec):
        fused = source * 3 * e * itemsize + fused_attention_bytes(spec, "src")
        encoder = [(max(source * (f + residual + e) * itemsize, fused), False)]
    elif spec.num_encoder_layers:
        encoder = [
            (source * attention * itemsize + materialized_bytes(spec, "src"), "src" in checked),
            (source * feed_forward * itemsize, False),
        ]
    decoder: list[tuple[int, bool]] = []
    if spec.has_target:  # the cross-attention's k and v span the S memory positions
        kept = source * e if spec.layer is Layer.FULL else 0
        own = attention - e if native_self_attention(spec) else attention
        cross = target * 4 * e + source * 4 * e + kept
        decoder = [
            ((target * own + kept) * itemsize + materialized_bytes(spec, "tgt"), "tgt" in checked),
            (cross * itemsize + materialized_bytes(spec, "memory"), "memory" in checked),
            ((target * feed_forward + kept) * itemsize, False),
        ]
    order = encoder * min(2, spec.num_encoder_layers) + decoder * min(2, spec.num_decoder_layers)
    return [(size, any(checks for _, checks in order[: i + 1])) for i, (size, _) in enumerate(order)]


def working_bytes(spec: TransformerSpec) -> int:
    """Bytes alive inside the largest layer at its largest moment (``moments``)."""
    return max(size for size, _ in moments(spec))


def cpu_fast_path(spec: TransformerSpec) -> bool:
    """Whether the encoder layers take torch's fused fast path (``torch._transformer_encoder_layer_fwd``)
    on the CPU (on meta, what the CPU would do): in eval under no_grad, batch first, with an even nhead."""
    on_cpu = spec.device in ("cpu", "meta")
    return on_cpu and spec.batch_first and spec.nhead % 2 == 0 and spec.num_encoder_layers > 0


def native_self_attention(spec: TransformerSpec) -> bool:
    """Whether a decoder layer's self-attention takes MultiheadAttention's fused path
    (``torch._native_multi_head_attention``): in eval under no_grad, batch first, an even nhead,
    and no float mask (a causal mask is one)."""
    bool_masks = all(mask_dtype(spec, m) == "bool" for m in spec.masks() if m.startswith("tgt_"))
    return spec.has_target and spec.batch_first and spec.nhead % 2 == 0 and bool_masks


def fused_attention_bytes(spec: TransformerSpec, side: str) -> int:
    """Bytes a fused self-attention forms beside q, k and v (the encoder's CPU fast path over
    ``src``; a decoder's ``native_self_attention`` over ``tgt``): the scores (N, nhead, L, L);
    given any mask, softmax writes a second copy; an attention mask becomes a bool (N, nhead,
    L, L) mask; an attention mask and a key padding mask are first merged into one float (N,
    nhead, L, L) mask. (An encoder stack given only a key padding mask runs nested tensors of
    the real lengths: no more.) Measured with peak RSS (tests/test_guard_peaks.py)."""
    length = spec.source_len if side == "src" else spec.target_len
    elements = spec.batch * spec.nhead * length * length
    weights = elements * spec.dtype.itemsize
    padded = f"{side}_key_padding_mask" in spec.masks()
    masked = f"{side}_mask" in spec.masks()
    total = weights
    if padded or masked:
        total += weights
    if masked:
        total += elements  # the bool mask
    if masked and padded:
        total += weights
    return total


def checks_key_padding(spec: TransformerSpec) -> set[str]:
    """The attentions (src, tgt, memory) whose key padding mask goes through
    ``F.multi_head_attention_forward`` on the CPU, which checks its shape
    (``KEY_PADDING_CHECK_BYTES``); the fused paths do not."""
    if spec.device not in ("cpu", "meta"):
        return set()
    padded = {m.split("_", 1)[0] for m in spec.masks() if m.endswith("key_padding_mask")}
    fused = {"src"} if cpu_fast_path(spec) else set()
    return padded - fused - ({"tgt"} if native_self_attention(spec) else set())


def materialized_bytes(spec: TransformerSpec, side: str) -> int:
    """Bytes of the attention weights (N·nhead, L, S), or of masks that size, where torch forms
    them in the attention over ``side`` (src: an encoder's self-attention; tgt: a decoder's;
    memory: its cross-attention).

    Measured: an attention mask and a key padding mask on the same attention are merged into one
    float mask per sample and head; a 3-D attention mask makes torch take the math kernel, which
    forms every head's weights. A 2-D mask is turned into (L, S) floats; a key padding mask
    alone reaches the kernel as an (N·nhead, 1, S) mask. Fused paths form the weights with or
    without masks (``fused_attention_bytes``): a decoder's ``native_self_attention``, an
    encoder's on the CPU (``cpu_fast_path``). Off the
    CPU, the encoder's with batch_first forms about nhead/8 of them below eight heads, twice that
    given a key padding mask, and all of them once more beside an attention mask (not measured).
    """
    n, h, s, t = spec.batch, spec.nhead, spec.source_len, spec.target_len
    rows, cols = {"src": (s, s), "tgt": (t, t), "memory": (t, s)}[side]
    weights = n * h * rows * cols * spec.dtype.itemsize
    if side == "src" and cpu_fast_path(spec):
        return 0  # fused_attention_bytes
    if side == "tgt" and native_self_attention(spec):
        return fused_attention_bytes(spec, "tgt")
    masks = [m for m in spec.masks() if m.startswith(f"{side}_")]
    attend = getattr(spec, f"{side}_mask").value if f"{side}_mask" in masks else "none"
    heads = weights if len(masks) == 2 or attend == "3d" else 0
    small = rows * cols * spec.dtype.itemsize if attend == "2d" else 0
    fast_path = 0
    if side == "src" and spec.batch_first:  # not measured off the CPU
        share = math.ceil(weights * min(1.0, h / 8))
        padded = spec.src_key_padding_mask is not PaddingForm.NONE
        fast_path = share * (2 if padded else 1) + (weights if "src_mask" in masks else 0)
    return heads + small + fast_path


def fed_bytes(spec: TransformerSpec) -> int:
    """The inputs and masks torchshape builds, each at its own dtype (a bool mask: one byte)."""
    sizes = numels(spec)
    total = 0
    for f, numel in zip(tensor_formulas(spec), sizes.values(), strict=True):
        if f.fed:
            bool_mask = f.name.endswith("mask") and mask_dtype(spec, f.name) == "bool"
            total += numel * (1 if bool_mask else spec.dtype.itemsize)
    return total


def attention_weights(spec: TransformerSpec) -> list[tuple[str, int]]:
    """The attention weights each kind of attention holds at once: (N·nhead, L, S) elements."""
    n, h, s, t = spec.batch, spec.nhead, spec.source_len, spec.target_len
    pairs = []
    if spec.num_encoder_layers:
        pairs.append(("(N·nhead, S, S)", n * h * s * s))
    if spec.num_decoder_layers:
        pairs += [("(N·nhead, T, T)", n * h * t * t), ("(N·nhead, T, S)", n * h * t * s)]
    return pairs


def totals(spec: TransformerSpec) -> Totals:
    itemsize = spec.dtype.itemsize
    params = parameter_count(spec)
    sizes = numels(spec)
    fed = sum(v for f, v in zip(tensor_formulas(spec), sizes.values(), strict=True) if f.fed)
    output = sizes["output"]
    resident = (params + output) * itemsize + fed_bytes(spec)
    peak = max(
        math.ceil(PEAK_MARGIN * (resident + size)) + (KEY_PADDING_CHECK_BYTES if imported else 0)
        for size, imported in moments(spec)
    )
    return layer_counts.totals(
        spec, params, macs(spec), inputs=fed * itemsize, outputs=output * itemsize, peak=peak
    )


def parameter_rows(
    spec: TransformerSpec, torch_parameters: dict[str, tuple[int, ...]], built: int | None = None
) -> list[ParameterRow]:
    """Each parameter formula beside ``named_parameters()`` of the module torch built; a stack's
    layers share one row. ``built``: how many layers of each stack torch built (None: all); the
    deeper ones are checked by the last one built, and marked as coming from the formulas."""
    rows = []
    known: set[str] = set()
    for p in parameter_formulas(spec):
        names = p.names()
        known.update(names)
        checked = names if built is None else names[: max(1, built)]
        shapes = {torch_parameters.get(name) for name in checked}
        actual = next(iter(shapes)) if len(shapes) == 1 else None
        source = "formula" if built is not None and len(checked) < len(names) else "torch"
        rows.append(
            ParameterRow(p.shown, p.shown_formula, p.shape, p.numel, actual, actual == p.shape, source)
        )
    return rows + unclaimed_rows(known, torch_parameters)


def estimated_seconds(spec: TransformerSpec) -> float:
    return layer_counts.seconds(spec, macs(spec), parameter_count(spec) + sum(numels(spec).values()))


def check_addressable(spec: TransformerSpec) -> None:
    """Refuse any tensor or parameter whose size in bytes torch cannot represent."""
    shapes = list(numels(spec).items())
    shapes += [(p.shown, math.prod(p.shape)) for p in parameter_formulas(spec)]
    shapes += [(f"the attention weights {shape}", n) for shape, n in attention_weights(spec)]
    advice = " (--source-len, --target-len, --batch, --d-model, --nhead, --dim-feedforward)"
    layer_counts.refuse_unaddressable(spec, shapes, advice=advice)


def explain_bytes(spec: TransformerSpec) -> int:
    """What ``--explain``'s checks allocate beside the forward pass: more forward passes, on altered
    inputs, while the first one's output is kept; about half a layer's working set more, measured
    with peak RSS (tests/test_guard_explain.py)."""
    return working_bytes(spec) // 2
