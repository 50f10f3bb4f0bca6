"""The torch side shared by every forward pass: the module, its inputs and masks, the call.

``probe`` runs the checked forward pass with these, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.families.attention.formulas import symbols, tensor_formulas
from torchshape.families.attention.spec import AttentionSpec, MaskDType, MaskForm
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch

SPEC_ATTRIBUTE = "torchshape_spec"

# How far a value may be from the rule's and still agree: the dtype's rounding over a few sums.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4, "float16": 2e-2, "bfloat16": 5e-2}


def build_module(spec: AttentionSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.MultiheadAttention that ``spec`` describes, in eval mode."""
    import torch

    with quiet():
        module = torch.nn.MultiheadAttention(
            spec.embed_dim,
            spec.num_heads,
            dropout=spec.dropout,
            bias=spec.bias,
            add_bias_kv=spec.add_bias_kv,
            add_zero_attn=spec.add_zero_attn,
            kdim=spec.kdim,
            vdim=spec.vdim,
            batch_first=spec.batch_first,
            device=device,
            dtype=dtype,
        )
    # forward(module, inputs) is all the core passes: the call's settings travel with the module
    setattr(module, SPEC_ATTRIBUTE, spec)
    return module.eval()


def padded_keys(spec: AttentionSpec, sequence: int) -> int:
    """How many keys at the end of ``sequence`` the key_padding_mask marks as padding: sequence n
    has its last min(n + 1, S − 1) keys padded, so no sequence is padding only."""
    return min(sequence + 1, spec.source_len - 1)


def bool_masks(spec: AttentionSpec, device: torch.device) -> dict[str, torch.Tensor]:
    """The masks as bool (True: not allowed): padding at the end of each sequence; the causal
    mask (True above the diagonal); otherwise a pattern that never hides key 0."""
    import torch

    n, big_l, s = (1 if spec.unbatched else spec.batch), spec.target_len, spec.source_len
    out: dict[str, torch.Tensor] = {}
    if spec.key_padding_mask:
        padded = (torch.arange(n, device=device) + 1).clamp(max=s - 1).view(-1, 1)
        kpm = torch.arange(s, device=device).view(1, -1) >= s - padded
        out["key_padding_mask"] = kpm[0] if spec.unbatched else kpm
    if spec.attn_mask is not MaskForm.NONE:
        rows = torch.arange(big_l, device=device).view(-1, 1)
        cols = torch.arange(s, device=device).view(1, -1)
        depth = spec.num_heads * (1 if spec.unbatched else spec.batch)
        if spec.is_causal:
            two = cols > rows
            three = two.expand(depth, big_l, s).clone()
        else:
            two = ((rows + cols) % 3 == 2) & (cols > 0)
            layer = torch.arange(depth, device=device).view(-1, 1, 1)
            three = ((layer + rows + cols) % 3 == 2) & (cols > 0)
        out["attn_mask"] = two if spec.attn_mask is MaskForm.TWO_D else three
    return out


def as_given(spec: AttentionSpec, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A bool mask in the dtype ``spec`` feeds: itself, or -inf where it is True and 0 elsewhere."""
    import torch

    if spec.mask_dtype is MaskDType.BOOL:
        return mask
    zeros = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return zeros.masked_fill(mask, float("-inf"))


def make_inputs(spec: AttentionSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """query, key, value (one tensor with --self) and the masks, shaped by their formulas:
    torch checks them when it runs."""
    import torch

    sym = symbols(spec)
    shapes = {f.name: f.shape(sym) for f in tensor_formulas(spec)}
    meta = device.type == "meta"
    fill = torch.empty if meta else torch.randn
    query = fill(shapes["query"], device=device, dtype=dtype)
    if spec.self_attention:
        inputs = {"query": query, "key": query, "value": query}
    else:
        key = fill(shapes["key"], device=device, dtype=dtype)
        inputs = {"query": query, "key": key, "value": fill(shapes["value"], device=device, dtype=dtype)}
    for name in ("key_padding_mask", "attn_mask"):
        if name not in shapes:
            continue
        if meta:
            mask_type = torch.bool if spec.mask_dtype is MaskDType.BOOL else dtype
            inputs[name] = torch.empty(shapes[name], device=device, dtype=mask_type)
        else:
            inputs[name] = as_given(spec, bool_masks(spec, device)[name], dtype)
    return inputs


def call(
    module: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    *,
    need_weights: bool,
    average_attn_weights: bool,
    is_causal: bool,
    masks: dict[str, Any] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``module(query, key, value, ...)``; torch's own refusals (it asserts) become ValueError."""
    given = inputs if masks is None else {**inputs, **masks}
    try:
        out: tuple[torch.Tensor, torch.Tensor | None] = module(
            inputs["query"],
            inputs["key"],
            inputs["value"],
            key_padding_mask=given.get("key_padding_mask"),
            need_weights=need_weights,
            attn_mask=given.get("attn_mask"),
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
    except AssertionError as exc:  # torch checks mask and input shapes with assertions
        raise ValueError(str(exc)) from None
    return out


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    spec: AttentionSpec = getattr(module, SPEC_ATTRIBUTE)
    with quiet():
        output, weights = call(
            module,
            inputs,
            need_weights=spec.need_weights,
            average_attn_weights=spec.average_attn_weights,
            is_causal=spec.is_causal,
        )
    results = {"attn_output": output}
    if weights is not None:
        results["attn_output_weights"] = weights
    return results
