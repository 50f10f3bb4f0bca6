"""--explain's common mistakes with attention masks, each run on torch: a 2-D mask given as 3-D,
a 3-D mask without its heads, a key padding mask inverted; each claim keeps torch's own error or
the inequality it showed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torchshape.explain import NO_VALUES, Claim
from torchshape.families.attention.spec import AttentionSpec
from torchshape.families.attention.torch_side import TOLERANCE, as_given, call, padded_keys
from torchshape.families.torch_checks import refusal

if TYPE_CHECKING:
    import torch


def _largest(t: torch.Tensor) -> float:
    return float(t.abs().max()) if t.numel() else 0.0


def _masked(module: torch.nn.Module, inputs: dict[str, torch.Tensor], average: bool, masks: Any) -> Any:
    """The forward pass with these masks alone (not causal), returning the weights."""
    return call(module, inputs, need_weights=True, average_attn_weights=average, is_causal=False, masks=masks)


def mistakes(
    spec: AttentionSpec, module: torch.nn.Module, inputs: dict[str, torch.Tensor], values: bool
) -> list[Claim]:
    import torch

    out: list[Claim] = []
    device, dtype = inputs["query"].device, inputs["query"].dtype
    n, big_l, s, heads = spec.batch, spec.target_len, spec.source_len, spec.num_heads

    def with_mask(mask: torch.Tensor) -> Callable[[], Any]:
        return lambda: _masked(module, inputs, False, {"attn_mask": mask, "key_padding_mask": None})

    if spec.unbatched:
        out.append(
            Claim(
                "mistake_2d_mask_as_3d",
                "a (L, S) mask given as (N, L, S)",
                None,
                "not evaluated: unbatched input has no N",
                mistake=True,
            )
        )
    else:
        two = torch.zeros(big_l, s, dtype=torch.bool, device=device)
        refused = refusal(with_mask(two.expand(n, big_l, s)))
        out.append(
            Claim(
                "mistake_2d_mask_as_3d",
                f"a (L, S) mask given as (N, L, S) = {(n, big_l, s)} is refused: pass it as (L, S), "
                "torch broadcasts it over the batch and the heads",
                refused is not None if heads > 1 else None,
                refused or "num_heads 1: (N, L, S) is (N·num_heads, L, S), which torch accepts",
                mistake=True,
            )
        )
        per_sequence = torch.zeros(n, big_l, s, dtype=torch.bool, device=device)
        for i in range(n):
            p = padded_keys(spec, i)
            if p:
                per_sequence[i, :, s - p :] = True
        refused = refusal(with_mask(per_sequence))
        claim = (
            "a per-sequence attn_mask (N, L, S) without ×num_heads is refused; "
            "mask.repeat_interleave(num_heads, dim=0) gives (N·num_heads, L, S), sequence-major"
        )
        evidence = refused or "num_heads 1: torch accepts it"
        held: bool | None = refused is not None if heads > 1 else None
        if values and held:
            right = per_sequence.repeat_interleave(heads, dim=0)
            _, w = with_mask(as_given(spec, right, dtype))()
            ok = w is not None and all(
                float(_largest(w[i][..., :s][:, per_sequence[i]])) == 0
                for i in range(n)
                if bool(per_sequence[i].any())
            )
            evidence += (
                f"\nwith repeat_interleave each sequence's masked keys get weight 0: {'yes' if ok else 'NO'}"
            )
            if n > 1 and heads > 1 and s > 2:
                _, tiled = with_mask(as_given(spec, per_sequence.repeat(heads, 1, 1), dtype))()
                wrong = tiled is not None and any(
                    float(_largest(tiled[i][..., :s][:, per_sequence[i]])) > 0
                    for i in range(n)
                    if bool(per_sequence[i].any())
                )
                evidence += f"\nwith mask.repeat(num_heads, 1, 1) some do not: {'yes' if wrong else 'NO'}"
                ok = ok and wrong
            held = ok
        out.append(Claim("mistake_3d_mask_without_heads", claim, held, evidence, mistake=True))
    out.append(_inverted_padding(spec, module, inputs, values))
    return out


def _inverted_padding(
    spec: AttentionSpec, module: torch.nn.Module, inputs: dict[str, torch.Tensor], values: bool
) -> Claim:
    """A key_padding_mask inverted (True = keep): torch accepts it and gives other weights."""
    import torch

    n, s = spec.batch, spec.source_len
    claim = (
        "a key_padding_mask with inverted meaning (True = keep) is accepted and gives other weights: "
        "True means ignore"
    )
    if not values:
        return Claim("mistake_inverted_padding", claim, None, NO_VALUES, mistake=True)
    if s < 2:
        return Claim(
            "mistake_inverted_padding", claim, None, "S = 1: there is no padding to invert", mistake=True
        )
    right = torch.zeros(1 if spec.unbatched else n, s, dtype=torch.bool, device=inputs["query"].device)
    for i in range(right.shape[0]):
        right[i, s - padded_keys(spec, i) :] = True
    if spec.unbatched:
        right = right[0]

    def padding(mask: torch.Tensor) -> Any:
        return _masked(module, inputs, True, {"attn_mask": None, "key_padding_mask": mask})

    good, _ = padding(right)
    bad, w = padding(~right)
    diff = float((good.double() - bad.double()).abs().nan_to_num(float("inf")).max())
    lost = float("nan")
    if w is not None:
        shown = w[..., :s]
        lost = _largest(shown[(~right).unsqueeze(-2).expand_as(shown)])
    return Claim(
        "mistake_inverted_padding",
        claim,
        diff > TOLERANCE[spec.dtype.value],
        f"with ~key_padding_mask the real keys get weight {lost:.2g} and attn_output differs by {diff:.2g}",
        mistake=True,
    )
