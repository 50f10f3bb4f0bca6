"""--diagram for attention: the weights' L × S' grid of one sequence and head, pure (no torch).

It marks every position a mask hides, as torch combines the masks (a position either mask
hides gets weight 0), with the masks torchshape feeds (``torch_side.bool_masks``): the key
padding mask hides the last min(n + 1, S − 1) keys of sequence n; the attention mask is the
causal one (a key after its query) or, without --causal, a pattern that never hides key 0.
Keys that add_bias_kv and add_zero_attn append are never masked. The sequence drawn is the
last one, which has the most padding; the head drawn is head 0. The probe fills in where
torch's weights are exactly 0.
"""

from __future__ import annotations

from torchshape.diagram import MaskCell, MaskDiagram, shown_edges
from torchshape.families.attention.spec import AttentionSpec, MaskForm


def masked_by(spec: AttentionSpec, sequence: int, head: int, query: int, key: int) -> tuple[str, ...]:
    """What hides (query, key) for this sequence and head: the masks' names, () where allowed."""
    if key >= spec.source_len:  # the appended keys: torch pads the masks with 'allowed' there
        return ()
    found: list[str] = []
    if spec.attn_mask is not MaskForm.NONE:
        if spec.is_causal:
            hidden = key > query
        else:  # a 3-D mask has its own pattern per sequence and head: shifted by its index
            shift = sequence * spec.num_heads + head if spec.attn_mask is MaskForm.THREE_D else 0
            hidden = (shift + query + key) % 3 == 2 and key > 0
        if hidden:
            found.append("attn_mask")
    if spec.key_padding_mask:
        padded = min(sequence + 1, spec.source_len - 1)
        if key >= spec.source_len - padded:
            found.append("key_padding_mask")
    return tuple(found)


def plan(spec: AttentionSpec) -> MaskDiagram:
    sequences = 1 if spec.unbatched else spec.batch
    sequence = sequences - 1
    keys = spec.source_len + spec.extra_keys
    queries_shown, keys_shown = shown_edges(spec.target_len), shown_edges(keys)
    masks = tuple(
        name
        for name, given in (
            ("attn_mask", spec.attn_mask is not MaskForm.NONE),
            ("key_padding_mask", spec.key_padding_mask),
        )
        if given
    )
    cells = tuple(
        MaskCell(i, j, masked_by(spec, sequence, 0, i, j)) for i in queries_shown for j in keys_shown
    )
    return MaskDiagram(
        title=spec.module_call,
        target_len=spec.target_len,
        keys=keys,
        extra_keys=spec.extra_keys,
        sequence=None if spec.unbatched else sequence,
        sequences=sequences,
        head=0,
        heads_differ=spec.attn_mask is MaskForm.THREE_D and not spec.is_causal,
        masks=masks,
        causal=spec.is_causal,
        shown_queries=queries_shown,
        shown_keys=keys_shown,
        cells=cells,
    )
