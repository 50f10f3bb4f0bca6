"""``--format python``: a script that builds the same module with plain torch and asserts its shapes."""

from __future__ import annotations

from torchshape.families.attention.spec import AttentionSpec, MaskDType, MaskForm
from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report


def render_python(report: Report, shown: Shown) -> str:
    spec = report.spec
    rows = {row.name: row for row in report.rows}
    fn = "empty" if spec.device == "meta" else "randn"
    lines = script.head(report, shown, script.MODULE_ABOUT)
    lines.append(
        script.constructor("attention", spec.module_name, [*spec.arguments(), "device=device", "dtype=dtype"])
    )
    names = ["query"] if spec.self_attention else ["query", "key", "value"]
    for name in names:
        lines.append(f"{name} = torch.{fn}({_shape(rows[name].expected)}, device=device, dtype=dtype)")
    mask_type = "torch.bool" if spec.mask_dtype is MaskDType.BOOL else "dtype"
    if spec.key_padding_mask:
        lines.append(
            f"key_padding_mask = torch.zeros({_shape(rows['key_padding_mask'].expected)}, device=device, "
            f"dtype={mask_type})  # True / -inf: padding"
        )
    if spec.attn_mask is not MaskForm.NONE:
        lines.append(f"attn_mask = {_attn_mask(spec, _shape(rows['attn_mask'].expected), mask_type)}")
    given = "query, query, query" if spec.self_attention else "query, key, value"
    args = [*given.split(", "), *spec.call_arguments()]
    call = script.call_text("attn_output, attn_output_weights = attention", args, indent="    ")
    lines += ["", "with torch.no_grad():", call, ""]
    for row in report.rows:
        if row.name in ("key", "value") and spec.self_attention:
            continue
        lines.append(f"assert {row.name}.shape == {tuple(row.expected)}, {row.name}.shape")
    if not spec.need_weights:
        lines.append("assert attn_output_weights is None  # need_weights=False")
    if shown.params:
        lines += script.parameters_check(report, "attention")
    return "\n".join(lines + script.END)


def _shape(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))


def _attn_mask(spec: AttentionSpec, shape: str, mask_type: str) -> str:
    """attn_mask's value: zeros, or the causal mask (True, or -inf for a float mask, above the diagonal)."""
    if not spec.is_causal:
        return f"torch.zeros({shape}, device=device, dtype={mask_type})"
    causal = f"torch.ones({spec.target_len}, {spec.source_len}, device=device, dtype=torch.bool).triu(1)"
    if spec.attn_mask is MaskForm.THREE_D:
        causal += f".expand({shape})"
    if spec.mask_dtype is MaskDType.FLOAT:
        causal = f"torch.zeros(1, device=device, dtype=dtype).masked_fill({causal}, float('-inf'))"
    return causal
