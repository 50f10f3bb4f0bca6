"""--explain on torch: each claim about this attention evaluated on the module and the tensors of the
forward pass (and on forward passes of the same module with one thing changed).

Runs inside the checked forward pass (seeded, in inference mode). On meta only the claims about
shapes and kernels are evaluated; those about values say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torchshape.explain import NO_VALUES, Claim, Claims
from torchshape.families.attention.mistakes_probe import mistakes
from torchshape.families.attention.spec import AttentionSpec, MaskForm
from torchshape.families.attention.torch_side import TOLERANCE, bool_masks, call, padded_keys
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


def analyse(
    spec: AttentionSpec,
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    results: dict[str, torch.Tensor],
) -> Claims:
    values = inputs["query"].device.type != "meta"
    claims: list[Claim] = []
    with quiet():
        per_head = None
        if values:
            _, per_head = call(
                module, inputs, need_weights=True, average_attn_weights=False, is_causal=spec.is_causal
            )
        claims += _weights(spec, results, per_head)
        claims += _masks(spec, inputs, per_head)
        claims.append(_output(spec, module, inputs, results, per_head))
        claims.append(_path(spec, module, inputs, values, per_head))
        claims += mistakes(spec, module, inputs, values)
    return Claims(values=values, claims=tuple(claims))


def _batch_first(spec: AttentionSpec, t: torch.Tensor) -> torch.Tensor:
    """query, key, value or attn_output as (N, length, features)."""
    if spec.unbatched:
        return t.unsqueeze(0)
    return t if spec.batch_first else t.transpose(0, 1)


def _heads(spec: AttentionSpec, w: torch.Tensor) -> torch.Tensor:
    """Per-head weights as (N, num_heads, L, S')."""
    return w.unsqueeze(0) if spec.unbatched else w


def _weights(spec: AttentionSpec, results: dict[str, torch.Tensor], per_head: Any) -> list[Claim]:
    rows = "N·num_heads·L" if not spec.unbatched else "num_heads·L"
    if per_head is None:
        return [
            Claim(
                "rows_sum_to_one",
                "every row of the weights sums to 1 (softmax over the keys)",
                None,
                NO_VALUES,
            )
        ]
    w = _heads(spec, per_head).double()
    worst = float((w.sum(-1) - 1).abs().max())
    tol = TOLERANCE[spec.dtype.value]
    out = [
        Claim(
            "rows_sum_to_one",
            f"every row of the weights sums to 1: softmax over the {w.shape[-1]} keys, in each of the "
            f"{rows} = {w.shape[0] * w.shape[1] * w.shape[2]} rows",
            worst <= tol,
            f"largest |row sum − 1| = {worst:.2g}",
        )
    ]
    averaged = results.get("attn_output_weights")
    if averaged is not None and spec.average_attn_weights:
        mean = w.mean(dim=1)
        got = averaged.unsqueeze(0).double() if spec.unbatched else averaged.double()
        diff = float((got - mean).abs().max())
        out.append(
            Claim(
                "averaged_is_mean_of_heads",
                "the averaged weights (the default) are the per-head weights (--per-head-weights) "
                "averaged over dim 1, num_heads",
                diff <= tol,
                f"largest difference {diff:.2g}",
            )
        )
    return out


def _masks(spec: AttentionSpec, inputs: dict[str, torch.Tensor], per_head: Any) -> list[Claim]:
    out: list[Claim] = []
    if spec.key_padding_mask:
        n = 1 if spec.unbatched else spec.batch
        padded = [padded_keys(spec, i) for i in range(n)]
        where = "; ".join(
            f"sequence {i}: {'none' if p == 0 else f'keys {spec.source_len - p} to {spec.source_len - 1}'}"
            for i, p in enumerate(padded[:4])
        ) + ("; ..." if n > 4 else "")
        claim = f"a key masked out for a sequence gets weight 0 from every query and head ({where})"
        if per_head is None:
            out.append(Claim("masked_keys_get_zero", claim, None, NO_VALUES))
        else:
            w = _heads(spec, per_head)
            worst = max(
                (
                    float(w[i, :, :, spec.source_len - p : spec.source_len].abs().max())
                    for i, p in enumerate(padded)
                    if p
                ),
                default=None,
            )
            if worst is None:
                out.append(Claim("masked_keys_get_zero", claim, None, "S = 1: no key can be padding"))
            else:
                out.append(
                    Claim("masked_keys_get_zero", claim, worst == 0.0, f"largest weight there: {worst:.2g}")
                )
    if spec.attn_mask is not MaskForm.NONE and not spec.is_causal:
        claim = "every (query, key) that attn_mask marks not allowed gets weight 0"
        if per_head is None:
            out.append(Claim("attn_mask_gets_zero", claim, None, NO_VALUES))
        else:
            w = _heads(spec, per_head)[..., : spec.source_len]
            mask = bool_masks(spec, w.device)["attn_mask"]
            full = mask.expand(w.shape[0] * w.shape[1], *mask.shape[-2:]) if mask.dim() == 2 else mask
            blocked = full.reshape(w.shape)
            worst = float(w[blocked].abs().max()) if bool(blocked.any()) else 0.0
            out.append(
                Claim(
                    "attn_mask_gets_zero",
                    f"{claim} ({int(blocked.sum())} of them)",
                    worst == 0.0,
                    f"largest weight there: {worst:.2g}",
                )
            )
    if spec.is_causal:
        claim = "the causal mask makes the weights lower-triangular: query i gives keys after i weight 0"
        if spec.extra_keys:
            claim += f" (the {spec.extra_keys} added key(s) after S stay visible to every query)"
        if per_head is None:
            out.append(Claim("causal_lower_triangular", claim, None, NO_VALUES))
        else:
            import torch

            w = _heads(spec, per_head)[..., : spec.source_len]
            above = torch.ones(w.shape[-2:], dtype=torch.bool, device=w.device).triu(1)
            worst = float(w[..., above].abs().max()) if bool(above.any()) else 0.0
            out.append(
                Claim(
                    "causal_lower_triangular",
                    claim,
                    worst == 0.0,
                    f"largest weight above the diagonal: {worst:.2g}",
                )
            )
    return out


def _fused_hides_added_keys(spec: AttentionSpec) -> bool:
    """torch's need_weights=False call with is_causal and no key_padding_mask drops attn_mask and lets
    scaled_dot_product_attention's is_causal draw the triangle over all S' keys: query i sees key j
    only for j ≤ i, so an added bias_k/zero-attn key (j ≥ S) is hidden from the queries before it,
    while need_weights=True keeps the added keys visible to every query."""
    return spec.is_causal and spec.extra_keys > 0 and not spec.key_padding_mask


def _fast_path_weights(spec: AttentionSpec, w: torch.Tensor) -> torch.Tensor:
    """Per-head weights (N, num_heads, L, S') as the fast path forms them: the causal triangle over
    all S' keys, the softmax again over the keys it leaves (a softmax restricted to some keys is the
    full one renormalised over them)."""
    import torch

    seen = torch.ones(w.shape[-2:], dtype=torch.bool, device=w.device).tril()
    kept = w * seen
    return kept / kept.sum(dim=-1, keepdim=True)


def _rebuilt(
    spec: AttentionSpec, module: torch.nn.MultiheadAttention, inputs: dict[str, torch.Tensor], w: torch.Tensor
) -> torch.Tensor:
    """out_proj(concat over heads of w_h @ V_h) as (N, L, E), in float64, from per-head weights
    (N, num_heads, L, S')."""
    import torch

    e, heads, hd = spec.embed_dim, spec.num_heads, spec.head_dim
    w_v = module.in_proj_weight[2 * e :] if spec.same_embed_dim else module.v_proj_weight
    b_v = None if not spec.bias else module.in_proj_bias[2 * e :]
    value = _batch_first(spec, inputs["value"]).double()
    v = value @ w_v.double().T + (0 if b_v is None else b_v.double())
    n = v.shape[0]
    if spec.add_bias_kv:
        v = torch.cat([v, module.bias_v.double().expand(n, 1, e)], dim=1)
    v_h = v.view(n, -1, heads, hd).transpose(1, 2)
    if spec.add_zero_attn:
        v_h = torch.cat([v_h, torch.zeros(n, heads, 1, hd, dtype=v_h.dtype, device=v_h.device)], dim=2)
    joined = (w.double() @ v_h).transpose(1, 2).reshape(n, spec.target_len, e)
    out_proj = module.out_proj
    return joined @ out_proj.weight.double().T + (0 if out_proj.bias is None else out_proj.bias.double())


def _output(
    spec: AttentionSpec,
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    results: dict[str, torch.Tensor],
    per_head: Any,
) -> Claim:
    claim = (
        "attn_output = out_proj(concat over heads of weights_h @ V_h), V_h = head h's "
        "head_dim columns of value @ W_vᵀ + b_v"
    )
    hidden = not spec.need_weights and _fused_hides_added_keys(spec)
    if hidden:
        claim += (
            f"; need_weights=False with is_causal: the {spec.extra_keys} added key(s) fall under "
            "scaled_dot_product_attention's causal triangle over all S' keys (query i sees key j ≤ i)"
        )
    if per_head is None:
        return Claim("output_is_weights_at_v", claim, None, NO_VALUES)
    w = _heads(spec, per_head).double()
    rebuilt = _rebuilt(spec, module, inputs, _fast_path_weights(spec, w) if hidden else w)
    got = _batch_first(spec, results["attn_output"]).double()
    diff = float((got - rebuilt).abs().max())
    scale = max(1.0, float(got.abs().max()))
    return Claim(
        "output_is_weights_at_v",
        claim,
        diff <= TOLERANCE[spec.dtype.value] * scale * 10,
        f"largest difference {diff:.2g}",
    )


def _ops(run: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What ``run`` returns and the aten operators it dispatched, in order."""
    from torch.utils._python_dispatch import TorchDispatchMode

    names: list[str] = []

    class Record(TorchDispatchMode):  # type: ignore[misc]
        def __torch_dispatch__(self, func: Any, _types: Any, args: Any = (), kwargs: Any = None) -> Any:
            names.append(f"aten.{func.overloadpacket.__name__}")
            return func(*args, **(kwargs or {}))

    with Record():
        result = run()
    return result, names


ATTENTION_KERNELS = ("scaled_dot_product", "_native_multi_head_attention")


def _path(
    spec: AttentionSpec, module: torch.nn.Module, inputs: dict[str, torch.Tensor], values: bool, per_head: Any
) -> Claim:
    def run(need: bool) -> Any:
        return call(
            module,
            inputs,
            need_weights=need,
            average_attn_weights=spec.average_attn_weights,
            is_causal=spec.is_causal,
        )

    (with_out, with_w), with_ops = _ops(lambda: run(True))
    (without_out, without_w), without_ops = _ops(lambda: run(False))
    fused = sorted({op for op in without_ops if any(k in op for k in ATTENTION_KERNELS)})
    weighted = sorted({op for op in with_ops if any(k in op for k in ("softmax", "bmm", *ATTENTION_KERNELS))})
    native = any("_native_multi_head_attention" in op for op in with_ops)
    held = without_w is None and with_w is not None and bool(fused)
    if not native:
        held = held and not any("softmax" in op for op in without_ops)
    evidence = (
        f"need_weights=False ran {', '.join(fused) or 'no fused kernel'} and returned None; "
        f"need_weights=True ran {', '.join(weighted)}"
    )
    if native:
        evidence += " (torch's inference fast path, both times)"
    claim = (
        "need_weights=False returns no weights and runs the fused scaled_dot_product_attention "
        "(the fast path); need_weights=True forms them with softmax"
    )
    hidden = _fused_hides_added_keys(spec)
    if hidden:
        claim += (
            f"; with is_causal the fast path draws the causal triangle over all S' keys, so query i sees "
            f"the {spec.extra_keys} added key(s) only where j ≤ i, unlike need_weights=True"
        )
    if values and held:
        expected = with_out.double()
        if hidden and per_head is not None:
            w = _fast_path_weights(spec, _heads(spec, per_head).double())
            rebuilt = _rebuilt(spec, module, inputs, w)
            expected = rebuilt.squeeze(0) if spec.unbatched else _batch_first(spec, rebuilt)
        diff = float((expected - without_out.double()).abs().max())
        held = diff <= TOLERANCE[spec.dtype.value] * max(1.0, float(with_out.abs().max())) * 10
        evidence += f"; attn_output differs by {diff:.2g}"
        if hidden:
            added = float((with_out.double() - without_out.double()).abs().max())
            evidence += f" from that (by {added:.2g} from need_weights=True's)"
    return Claim("need_weights_false_is_fused", claim, held, evidence)
