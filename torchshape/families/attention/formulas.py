"""The shape rules of nn.MultiheadAttention, in the PyTorch docs' symbols.

Pure arithmetic, no torch: this is the file to read to learn the rules.

    L          target sequence length (query)
    S          source sequence length (key, value)
    N          batch size (absent for unbatched input)
    E          embed_dim;  E_k kdim, E_v vdim (both E unless given)
    num_heads  the heads;  head_dim = E/num_heads

    query                (L, N, E)     batch_first: (N, L, E)     unbatched: (L, E)
    key                  (S, N, E_k)   batch_first: (N, S, E_k)   unbatched: (S, E_k)
    value                (S, N, E_v)   batch_first: (N, S, E_v)   unbatched: (S, E_v)
    key_padding_mask     (N, S)                                   unbatched: (S)
    attn_mask            (L, S) or (N·num_heads, L, S)            unbatched: (L, S) or (num_heads, L, S)
    attn_output          (L, N, E)     batch_first: (N, L, E)     unbatched: (L, E)
    attn_output_weights  (N, L, S) averaged over the heads (the default),
                         (N, num_heads, L, S) with average_attn_weights=False;
                         unbatched: (L, S) or (num_heads, L, S); None with need_weights=False

add_bias_kv appends one key (bias_k) and one value (bias_v), add_zero_attn one key and value
of zeros: each adds one to S in the weights' last dimension (S + 1, S + 2). The masks keep
the user's S: torch pads them with a column that lets every query see the added keys.
A bool mask's True means "not allowed"; a float mask is added to the scores QKᵀ/√head_dim.
"""

from __future__ import annotations

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.attention.spec import AttentionSpec, MaskDType, MaskForm


def weights_source(spec: AttentionSpec) -> str:
    """The weights' last dimension: S, S + 1 or S + 2 (add_bias_kv, add_zero_attn)."""
    return "S" if spec.extra_keys == 0 else f"S + {spec.extra_keys}"


def symbols(spec: AttentionSpec) -> Symbols:
    pairs = [("L", spec.target_len), ("S", spec.source_len)]
    pairs += [] if spec.unbatched else [("N", spec.batch)]
    pairs += [("E", spec.embed_dim), ("E_k", spec.kdim), ("E_v", spec.vdim)]
    pairs += [("num_heads", spec.num_heads), ("head_dim", spec.head_dim)]
    derived = [(weights_source(spec), spec.source_len + spec.extra_keys)]
    if not spec.unbatched:
        derived.append(("N·num_heads", spec.batch * spec.num_heads))
    return Symbols(tuple(pairs), tuple(derived))


def layout(spec: AttentionSpec, length: str, features: str) -> tuple[str, ...]:
    """query, key, value and attn_output: sequence-first unless batch_first; no N unbatched."""
    if spec.unbatched:
        return (length, features)
    return ("N", length, features) if spec.batch_first else (length, "N", features)


def mask_dtype(spec: AttentionSpec) -> str:
    return "bool" if spec.mask_dtype is MaskDType.BOOL else spec.dtype.value


def tensor_formulas(spec: AttentionSpec) -> list[TensorFormula]:
    """Every tensor fed (query, key, value, the masks given) and returned, in call order."""
    rows = [
        TensorFormula("query", layout(spec, "L", "E"), fed=True),
        TensorFormula("key", layout(spec, "S", "E_k"), fed=True),
        TensorFormula("value", layout(spec, "S", "E_v"), fed=True),
    ]
    if spec.key_padding_mask:
        rows.append(
            TensorFormula(
                "key_padding_mask", ("S",) if spec.unbatched else ("N", "S"), dtype=mask_dtype(spec), fed=True
            )
        )
    if spec.attn_mask is MaskForm.TWO_D:
        rows.append(TensorFormula("attn_mask", ("L", "S"), dtype=mask_dtype(spec), fed=True))
    elif spec.attn_mask is MaskForm.THREE_D:
        depth = "num_heads" if spec.unbatched else "N·num_heads"
        rows.append(TensorFormula("attn_mask", (depth, "L", "S"), dtype=mask_dtype(spec), fed=True))
    rows.append(TensorFormula("attn_output", layout(spec, "L", "E")))
    if spec.need_weights:
        lead = () if spec.unbatched else ("N",)
        heads = () if spec.average_attn_weights else ("num_heads",)
        rows.append(TensorFormula("attn_output_weights", (*lead, *heads, "L", weights_source(spec))))
    return rows


def legend(spec: AttentionSpec) -> list[LegendEntry]:
    """Every symbol of the table and of the formulas under it, with its value and its flag."""
    same = " = L (--self)" if spec.self_attention else ""
    entries = [
        LegendEntry("L", spec.target_len, "target sequence length: query (--target-len)"),
        LegendEntry("S", spec.source_len, f"source sequence length: key and value (--source-len){same}"),
    ]
    if not spec.unbatched:
        entries.append(LegendEntry("N", spec.batch, "batch size (--batch)"))
    entries += [
        LegendEntry("E", spec.embed_dim, "embed_dim (--embed-dim)"),
        LegendEntry("E_k", spec.kdim, "kdim (--kdim; default E)"),
        LegendEntry("E_v", spec.vdim, "vdim (--vdim; default E)"),
        LegendEntry("num_heads", spec.num_heads, "num_heads (--heads)"),
        LegendEntry("head_dim", spec.head_dim, "E/num_heads: each head's share of E"),
    ]
    return entries


def notes(spec: AttentionSpec) -> list[str]:
    """The rules this configuration shows, and where a known mistake is invited."""
    out = _shape_notes(spec)
    if spec.add_bias_kv or spec.add_zero_attn:
        added = []
        if spec.add_bias_kv:
            added.append("add_bias_kv appends bias_k and bias_v as one more key and value")
        if spec.add_zero_attn:
            added.append("add_zero_attn appends a key and a value of zeros")
        out.append(
            f"{'; '.join(added)}: the weights' last dimension is {weights_source(spec)}, not S. "
            "The masks keep S: torch pads them with a column that lets every query see "
            "the added key(s); a mask of S + 1 columns is refused."
        )
    if spec.key_padding_mask:
        meaning = (
            "True marks a padding key to ignore ('not allowed'), False a real one"
            if spec.mask_dtype is MaskDType.BOOL
            else "a float mask is added to the scores: -inf ignores a key, 0 keeps it"
        )
        out.append(f"key_padding_mask ({'S' if spec.unbatched else 'N, S'}): {meaning}.")
    if spec.attn_mask is not MaskForm.NONE:
        meaning = (
            "True means 'not allowed'" if spec.mask_dtype is MaskDType.BOOL else "it is added to the scores"
        )
        heads = "num_heads" if spec.unbatched else "N·num_heads"
        out.append(
            f"attn_mask is (L, S) for every sequence and head, or ({heads}, L, S), one per "
            f"{'head' if spec.unbatched else 'sequence and head, sequence-major'}; {meaning}."
            + (
                ""
                if spec.unbatched
                else " An (N, L, S) mask is refused: repeat_interleave it num_heads times."
            )
        )
    if spec.is_causal:
        out.append(
            "is_causal=True is a hint: torch still needs the causal mask itself as attn_mask "
            "(True above the diagonal: query i sees keys 0 to i)."
        )
    if not spec.same_embed_dim:
        out.append(
            "kdim or vdim differs from embed_dim: separate q_proj_weight (E, E), k_proj_weight (E, E_k) "
            "and v_proj_weight (E, E_v) replace in_proj_weight (3·E, E)."
        )
    if spec.dropout:
        out.append(
            f"dropout={spec.dropout:g} drops attention weights in training only; the module runs in "
            "eval mode here."
        )
    return out


def _shape_notes(spec: AttentionSpec) -> list[str]:
    """Where N goes (unbatched, batch_first or not) and the weights' shape, if they are formed."""
    out: list[str] = []
    lead = "" if spec.unbatched else "N, "
    if spec.unbatched:
        out.append(
            "Unbatched input drops N everywhere: query (L, E), key (S, E_k), key_padding_mask (S), "
            "a 3-D attn_mask is (num_heads, L, S), the weights (L, S) or (num_heads, L, S)."
        )
        if spec.batch_first:
            out.append("batch_first does not apply to unbatched (2-D) input: torch ignores it.")
    elif spec.batch_first:
        out.append(
            "batch_first=True: query, key, value and attn_output are (N, L, E), (N, S, E_k), ...; "
            "the masks and the weights are batch-first whatever batch_first says."
        )
    else:
        out.append(
            "batch_first=False (the default): query, key, value and attn_output are sequence-first, "
            "(L, N, E); a batch-first tensor fed to it is read with L and N swapped, silently when "
            "the sizes allow it (pytorch#122959). The masks and weights are (N, ...) either way."
        )
    if spec.need_weights:
        if spec.average_attn_weights:
            out.append(
                f"attn_output_weights are averaged over the heads: ({lead}L, S), not per head "
                f"(average_attn_weights=True, the default); --per-head-weights gives "
                f"({lead}num_heads, L, S)."
            )
        else:
            out.append(
                f"average_attn_weights=False: one set of weights per head, ({lead}num_heads, L, S); "
                f"the default averages them to ({lead}L, S)."
            )
        out.append(
            "need_weights=True (the default) makes torch form every head's L×S weights with softmax and "
            "bmm; need_weights=False returns None for them and lets the fused kernel "
            "(scaled_dot_product_attention) run."
        )
    else:
        out.append(
            "need_weights=False: attn_output_weights is None, and torch runs the fused "
            "scaled_dot_product_attention, which never forms the L×S weights."
        )
    return out
