"""The torch side: build the module, run one forward pass at the user's sizes, return what torch gave.

On the meta device too: torch's meta kernels for nn.MultiheadAttention (the projections, bmm,
softmax, scaled_dot_product_attention) compute shapes in constant time, whatever L, S, N and E
(a 128 k-token context with E 8192 and 64 heads takes milliseconds, per-head weights included),
so the module runs there at exactly the user's sizes and the ✓ means torch's meta kernels agreed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from torchshape import guard
from torchshape.diagram import MaskDiagram
from torchshape.families.attention.counts import diagram_bytes
from torchshape.families.attention.formulas import symbols
from torchshape.families.attention.spec import AttentionSpec
from torchshape.families.attention.torch_side import build_module, forward, make_inputs
from torchshape.forward import forward_pass
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


@quiet()
def run(spec: AttentionSpec, *, explain: bool = False, diagram: bool = False) -> ProbeRun:
    """Build the module ``spec`` describes and run one forward pass on its device."""
    # refuse what cannot fit (--diagram's second pass included) before anything is allocated
    guard.check(spec, diagram_bytes=diagram_bytes(spec) if diagram else 0)
    from torchshape.families.attention.explain_probe import analyse

    with forward_pass(spec, build_module, make_inputs, forward) as done:
        analysis = (
            analyse(spec, done.module, done.inputs, done.results) if explain and done.error is None else None
        )
        parameters = done.parameters
        drawn = None
        if diagram:
            from torchshape.families.attention.diagram import plan

            drawn = plan(spec)
            if done.error is None and done.inputs["query"].device.type != "meta":
                drawn = check_mask(spec, drawn, done.module, done.inputs)
    run = done.run(spec, symbols(spec), analysis, parameters)
    return run if drawn is None else replace(run, diagram=drawn)


def check_mask(
    spec: AttentionSpec, drawn: MaskDiagram, module: torch.nn.Module, inputs: dict[str, torch.Tensor]
) -> MaskDiagram:
    """Where torch's weights are exactly 0, for the sequence and head drawn: at every position a
    mask it was fed hides, and nowhere else; and the masks fed are the ones drawn."""
    import torch

    from torchshape.families.attention.torch_side import call

    with torch.no_grad():
        _, weights = call(
            module, inputs, need_weights=True, average_attn_weights=False, is_causal=spec.is_causal
        )
    assert weights is not None
    n, head = drawn.sequence, drawn.head
    grid = weights[head] if n is None else weights[n, head]  # (L, S')
    fed = torch.zeros(grid.shape, dtype=torch.bool, device=grid.device)
    s = spec.source_len

    def hidden(mask: torch.Tensor) -> torch.Tensor:
        return mask if mask.dtype == torch.bool else torch.isneginf(mask)

    if "attn_mask" in inputs:
        mask = hidden(inputs["attn_mask"])
        if mask.dim() == 3:
            mask = mask[head if n is None else n * spec.num_heads + head]
        fed[:, :s] |= mask
    if "key_padding_mask" in inputs:
        padding = hidden(inputs["key_padding_mask"])
        fed[:, :s] |= padding if n is None else padding[n]
    zero = grid == 0
    cells = tuple(replace(c, zero=bool(zero[c.query, c.key])) for c in drawn.cells)
    same_masks = all(bool(fed[c.query, c.key]) == bool(c.masked_by) for c in drawn.cells)
    checked = (
        "weights = 0 exactly where a mask fed hides the position, "
        f"{'head 0' if n is None else f'sequence {n}, head {head}'}, every query and key "
        "(per-head weights of the same call)"
    )
    return replace(drawn, cells=cells, all_hold=bool(torch.equal(zero, fed)) and same_masks, checked=checked)
