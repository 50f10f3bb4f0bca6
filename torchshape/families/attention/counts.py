"""Parameters, compute and memory of one nn.MultiheadAttention, in the PyTorch docs' symbols.

Pure arithmetic, no torch.

    in_proj_weight (3·E, E)  when E_k = E_v = E; else q_proj_weight (E, E),
                             k_proj_weight (E, E_k), v_proj_weight (E, E_v)
    in_proj_bias (3·E)       out_proj.weight (E, E)   out_proj.bias (E)
    bias_k, bias_v (1, 1, E) with add_bias_kv

MACs (multiply-accumulates): the four projections and the two products of attention,

    N·L·E·E  +  N·S·E_k·E  +  N·S·E_v·E          query, key and value projections
    + N·num_heads·L·S'·head_dim                  QKᵀ   (S' = S, S + 1 or S + 2)
    + N·num_heads·L·S'·head_dim                  weights @ V
    + N·L·E·E                                    out_proj

(N is 1 unbatched). torch's ``FlopCounterMode`` reports exactly 2·MACs when the attention runs
as bmm (need_weights=True, or SDPA's math kernel); it counts nothing for the fused kernels
(the inference fast path, CPU flash attention), so the tests count with those off.
"""

from __future__ import annotations

import math

from torchshape.facts import Totals
from torchshape.families import layer_counts
from torchshape.families.attention.spec import AttentionSpec, MaskDType, MaskForm
from torchshape.families.layer_counts import PEAK_MARGIN, batch


def keys(spec: AttentionSpec) -> int:
    """S': the keys each query is scored against, with bias_k and the zero key."""
    return spec.source_len + spec.extra_keys


def parameter_formulas(spec: AttentionSpec) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, formula, shape) of every parameter, in ``named_parameters()`` order."""
    e = spec.embed_dim
    rows: list[tuple[str, str, tuple[int, ...]]]
    if spec.same_embed_dim:
        rows = [("in_proj_weight", "(3·E, E)", (3 * e, e))]
    else:
        rows = [
            ("q_proj_weight", "(E, E)", (e, e)),
            ("k_proj_weight", "(E, E_k)", (e, spec.kdim)),
            ("v_proj_weight", "(E, E_v)", (e, spec.vdim)),
        ]
    if spec.bias:
        rows.append(("in_proj_bias", "(3·E)", (3 * e,)))
    if spec.add_bias_kv:
        rows += [("bias_k", "(1, 1, E)", (1, 1, e)), ("bias_v", "(1, 1, E)", (1, 1, e))]
    rows.append(("out_proj.weight", "(E, E)", (e, e)))
    if spec.bias:
        rows.append(("out_proj.bias", "(E)", (e,)))
    return rows


def parameter_count(spec: AttentionSpec) -> int:
    return sum(math.prod(shape) for _, _, shape in parameter_formulas(spec))


def mac_terms(spec: AttentionSpec) -> list[tuple[str, str, int]]:
    """(what, formula, MACs) of each matrix product of one forward pass."""
    n, big_l, s, e = batch(spec), spec.target_len, spec.source_len, spec.embed_dim
    lead = "" if spec.unbatched else "N·"
    s2 = "S" if spec.extra_keys == 0 else f"(S + {spec.extra_keys})"
    scores = n * spec.num_heads * big_l * keys(spec) * spec.head_dim
    return [
        ("query projection", f"{lead}L·E·E", n * big_l * e * e),
        ("key projection", f"{lead}S·E_k·E", n * s * spec.kdim * e),
        ("value projection", f"{lead}S·E_v·E", n * s * spec.vdim * e),
        ("QKᵀ", f"{lead}num_heads·L·{s2}·head_dim", scores),
        ("weights @ V", f"{lead}num_heads·L·{s2}·head_dim", scores),
        ("out_proj", f"{lead}L·E·E", n * big_l * e * e),
    ]


def macs(spec: AttentionSpec) -> int:
    return sum(value for _, _, value in mac_terms(spec))


def macs_formula(spec: AttentionSpec) -> str:
    return " + ".join(formula for _, formula, _ in mac_terms(spec))


def scores(spec: AttentionSpec) -> int:
    """Elements of every head's L × S' scores: (N·num_heads, L, S')."""
    return batch(spec) * spec.num_heads * spec.target_len * keys(spec)


def numels(spec: AttentionSpec) -> dict[str, int]:
    """Elements of each tensor fed and returned (the masks counted apart: they may be bool)."""
    n, big_l, s = batch(spec), spec.target_len, spec.source_len
    out = {
        "query": n * big_l * spec.embed_dim,
        "key": n * s * spec.kdim,
        "value": n * s * spec.vdim,
        "attn_output": n * big_l * spec.embed_dim,
    }
    if spec.self_attention:  # one tensor fed three times
        out["key"] = out["value"] = 0
    if spec.need_weights:
        heads = 1 if spec.average_attn_weights else spec.num_heads
        out["attn_output_weights"] = n * heads * big_l * keys(spec)
    return out


def mask_numels(spec: AttentionSpec) -> dict[str, int]:
    n, big_l, s = batch(spec), spec.target_len, spec.source_len
    out = {}
    if spec.key_padding_mask:
        out["key_padding_mask"] = n * s
    if spec.attn_mask is MaskForm.TWO_D:
        out["attn_mask"] = big_l * s
    elif spec.attn_mask is MaskForm.THREE_D:
        out["attn_mask"] = n * spec.num_heads * big_l * s
    return out


def mask_bytes(spec: AttentionSpec) -> int:
    itemsize = 1 if spec.mask_dtype is MaskDType.BOOL else spec.dtype.itemsize
    return sum(mask_numels(spec).values()) * itemsize


def weights_copies(spec: AttentionSpec) -> float:
    """Tensors of the scores' size (N·num_heads, L, S') alive at once when torch returns the weights
    (need_weights=True), measured: the scores, softmaxed in place of the last, and half as much
    again while they are averaged over the heads; an attention mask adds two (the mask made float
    and added), and a key padding mask beside a 3-D one one more (the two added into a mask of
    the scores' size; alone, or beside a 2-D mask, it adds nothing measurable)."""
    masked = spec.attn_mask is not MaskForm.NONE
    averaged = 0.5 if spec.average_attn_weights else 0.0
    merged = spec.key_padding_mask and spec.attn_mask is MaskForm.THREE_D
    return 1 + averaged + (2 if masked else 0) + (1 if merged else 0)


def merged_mask_bytes(spec: AttentionSpec) -> int:
    """Without the weights (need_weights=False), scaled_dot_product_attention gets the key
    padding mask merged into one mask per sample and head (N·num_heads, L, S'), at the mask's
    dtype; given an attention mask it takes its math kernel, which keeps about four tensors of
    the scores' size (measured)."""
    if spec.need_weights:  # counted in ``weights_copies``
        return 0
    itemsize = 1 if spec.mask_dtype is MaskDType.BOOL else spec.dtype.itemsize
    if spec.attn_mask is not MaskForm.NONE:  # its math kernel: scores, softmax, the float mask
        return 4 * scores(spec) * spec.dtype.itemsize
    return scores(spec) * itemsize if spec.key_padding_mask else 0


def totals(spec: AttentionSpec) -> Totals:
    """The peak: parameters, inputs, masks, the projected q, k, v, the tensors of the scores' size
    torch keeps (``weights_copies``, ``merged_mask_bytes``) and the output, used by the guard only."""
    itemsize = spec.dtype.itemsize
    params = parameter_count(spec)
    n = numels(spec)
    inputs = n["query"] + n["key"] + n["value"]
    outputs = n["attn_output"] + n.get("attn_output_weights", 0)
    projected = batch(spec) * spec.embed_dim * (spec.target_len + 2 * keys(spec))
    working = projected + (math.ceil(weights_copies(spec) * scores(spec)) if spec.need_weights else 0)
    peak = math.ceil(
        PEAK_MARGIN
        * ((params + inputs + outputs + working) * itemsize + mask_bytes(spec) + merged_mask_bytes(spec))
    )
    fed = inputs * itemsize + mask_bytes(spec)
    return layer_counts.totals(spec, params, macs(spec), inputs=fed, outputs=outputs * itemsize, peak=peak)


def estimated_seconds(spec: AttentionSpec) -> float:
    filled = parameter_count(spec) + sum(numels(spec).values()) + sum(mask_numels(spec).values())
    return layer_counts.seconds(spec, macs(spec), filled)


def check_addressable(spec: AttentionSpec) -> None:
    """Refuse any tensor torch would form whose size in bytes it cannot represent: the inputs,
    the parameters, and the (N·num_heads, L, S') scores (formed on meta too)."""
    shapes = [*numels(spec).items(), *mask_numels(spec).items()]
    shapes += [(name, math.prod(shape)) for name, _, shape in parameter_formulas(spec)]
    shapes.append(("the scores (N·num_heads, L, S)", scores(spec)))

    def flags(name: str) -> str:
        return "--embed-dim" if "proj" in name or name.startswith("bias") else "--target-len, --source-len"

    layer_counts.refuse_unaddressable(spec, shapes, flags=flags)


def explain_bytes(spec: AttentionSpec) -> int:
    """What ``--explain``'s checks allocate beside the forward pass: forward passes with every
    head's weights (N·num_heads, L, S') kept, and outputs (N, L, E) compared in float64; about
    six of the first and twenty of the second, measured with peak RSS
    (tests/test_guard_explain.py)."""
    itemsize = spec.dtype.itemsize
    return (6 * scores(spec) + 20 * batch(spec) * spec.target_len * spec.embed_dim) * itemsize


def diagram_bytes(spec: AttentionSpec) -> int:
    """What ``--diagram`` allocates beside the forward pass: a second pass returning every head's
    weights, while the first one's outputs are kept (measured)."""
    return math.ceil(PEAK_MARGIN * totals(spec).output_bytes)
