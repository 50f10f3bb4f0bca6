"""What the text and SVG drawings of --diagram share: the glyphs, which cells and windows are
drawn, and the legend under each drawing. Knows the kinds of ``torchshape.diagram``, no family.
"""

from __future__ import annotations

from torchshape.diagram import AxisDiagram, AxisWindow, LanesDiagram, MaskDiagram

# How many windows are drawn first, before the gap and the last one.
FIRST_WINDOWS = 3
# Past this many cells, the row shows the first windows' cells and the last ones with a gap.
MAX_CELLS = 48

GAP = "┄"
INPUT, PADDING, ADDED = "■", "□", "◆"
TAP, REACH = "●", "─"
UP = "▲"
ALLOWED, BY_MASK, BY_PADDING, BY_BOTH = "■", "·", "░", "▓"


def mark(holds: bool | None) -> str:
    return {True: "✓", False: "✗", None: "?"}[holds]


def with_gaps(shown: tuple[int, ...]) -> list[int | None]:
    """The positions shown, a None where the run skips some (drawn as ⋯)."""
    out: list[int | None] = []
    for i, value in enumerate(shown):
        if i and value != shown[i - 1] + 1:
            out.append(None)
        out.append(value)
    return out


# ---------------------------------------------------------------- lanes


def lanes_legend(d: LanesDiagram) -> list[str]:
    lines = [
        f"{d.output_shape}: the top layer at every step, [forward | backward] halves of {d.half} each"
        if len(d.directions) == 2
        else f"{d.output_shape}: the top layer at every step"
    ]
    lines.append(f"{d.state_labels[0]}: h_n[k] is drawn at the cell it comes from (k = D·layer + direction)")
    if len(d.state_labels) > 1:
        lines.append(f"{d.state_labels[1]}: c_n[k] is the cell state of the same cell as h_n[k]")
    if d.lengths is not None:
        lines.append(
            f"--lengths: {TAP} a sequence's last real step, where its forward h_n comes from; "
            f"{INPUT} real step; {PADDING} padding (output is 0 there)"
        )
    if None in with_gaps(d.shown_steps):
        lines.append(f"{GAP} steps not drawn: L = {d.steps}")
    holds = d.holds if d.checked and not d.checked.startswith("not") else None
    refuted = "torch refutes a mapping drawn (in red): " if holds is False else ""
    lines.append(f"{mark(holds)} {refuted}{d.checked}")
    return lines


# ---------------------------------------------------------------- axis


def shown_positions(d: AxisDiagram) -> list[int | None]:
    """The cells drawn, left to right (None: a gap), in positions of the drawn row."""
    first, last = -d.pad_before, d.size + d.pad_after
    for w in d.windows:
        first, last = min(first, w.start), max(last, w.end)
    every = list(range(first, last))
    if len(every) <= MAX_CELLS or len(d.windows) <= FIRST_WINDOWS + 1:
        return list(every)
    head_end = d.windows[FIRST_WINDOWS - 1].end
    tail = [w.start for w in drawn_windows(d)[FIRST_WINDOWS:]]
    if d.unreached is not None:
        tail.append(d.unreached[0])
    if d.output_padding is not None:
        tail.append(d.output_padding[0])
    tail_start = min([*tail, last - 8])
    if tail_start <= head_end:
        return list(every)
    return [*range(first, head_end), None, *range(tail_start, last)]


def drawn_windows(d: AxisDiagram) -> list[AxisWindow]:
    """The first windows and the last one (and a ceil_mode extra)."""
    regular = [w for w in d.windows if w.extra is None]
    extra = [w for w in d.windows if w.extra is not None]
    if len(regular) <= FIRST_WINDOWS + 1:
        return regular + extra
    return regular[:FIRST_WINDOWS] + regular[-1:] + extra


def windows_left_out(d: AxisDiagram, windows: list[AxisWindow]) -> str:
    """The windows ``drawn_windows`` leaves out after its first ones, in words ("12 more windows,
    each 2 further"); "" when it leaves none out."""
    regular = [w for w in windows if w.extra is None]
    if len(regular) <= FIRST_WINDOWS or regular[-1].index <= FIRST_WINDOWS:
        return ""
    count = regular[-1].index - FIRST_WINDOWS
    step = f", each {d.stride} further" if d.stride is not None else ""
    return f"{count} more window{'s' if count > 1 else ''}{step}"


def unread_cell(d: AxisDiagram, p: int) -> bool:
    """An input position no window reads, or a padding position past the last window."""
    if 0 <= p < d.size:
        return p in d.unread
    return d.unreached is not None and d.unreached[0] <= p < d.unreached[1]


def axis_summary(d: AxisDiagram) -> str:
    pads = (
        f"padding {d.pad_before}"
        if d.pad_before == d.pad_after
        else f"padding {d.pad_before} before, {d.pad_after} after"
    )
    if d.stride is None:
        return f"{d.size} input cells, {d.out} adaptive windows ({d.formula})"
    if d.transposed:
        return (
            f"{d.windows_total} input positions, each writing kernel_size {d.kernel_size} cells "
            f"{d.stride} apart from the last (stride {d.stride}, dilation {d.dilation}); "
            f"{pads} cropped: {d.formula}"
        )
    return (
        f"{d.size} input cells, {pads}, kernel_size {d.kernel_size}, stride {d.stride}, "
        f"dilation {d.dilation}: {d.formula}"
    )


def axis_legend(d: AxisDiagram) -> list[str]:
    what = "output cells" if d.transposed else "windows"
    count = d.size if d.transposed else d.out
    past = any(p is not None and not -d.pad_before <= p < d.size + d.pad_after for p in shown_positions(d))
    beyond = ", or past the end (ceil_mode's last window runs over it; torch leaves it out)" if past else ""
    lines = [
        f"{INPUT} {'output' if d.transposed else 'input'} cell  "
        f"{PADDING} {'cropped by padding' if d.transposed else 'padding'}{beyond}  "
        f"{TAP} a position the window {'writes' if d.transposed else 'reads'} (every dilation-th)"
        + (f"  {ADDED} added by output_padding" if d.output_padding else "")
    ]
    if d.unread_text:
        lines.append(f"{UP} input {d.unread_text}")
    if d.unreached is not None and d.unreached[1] - d.unreached[0] > d.unreached_input:
        start, end = max(d.size, d.unreached[0]), d.unreached[1]
        lines.append(
            f"{UP} no window reaches padding "
            + (f"position {start}" if end - start == 1 else f"positions {start} to {end - 1}")
            + " (the floor's remainder)"
        )
    if d.holds is None:
        lines.append(f"? {count} {what}; torch did not give an output to compare")
    else:
        lines.append(f"{mark(d.holds)} {count} {what}, and torch's output has {d.torch_out} on axis {d.axis}")
    return lines


# ---------------------------------------------------------------- mask


def mask_heading(d: MaskDiagram) -> str:
    whose = "head 0" if d.sequence is None else f"sequence {d.sequence} (of N = {d.sequences}), head {d.head}"
    extra = f" (S + {d.extra_keys})" if d.extra_keys else ""
    return f"{d.title}: the weights of {whose}, L = {d.target_len} queries × {d.keys} keys{extra}"


def mask_legend(d: MaskDiagram) -> list[str]:
    what = "the causal attn_mask (a key after its query)" if d.causal else "attn_mask"
    lines = [
        f"{ALLOWED} weight > 0  {BY_MASK} hidden by {what}  {BY_PADDING} hidden by key_padding_mask  "
        f"{BY_BOTH} by both (torch hides a position either mask hides)"
    ]
    if d.extra_keys:
        lines.append(
            f"keys {d.keys - d.extra_keys} to {d.keys - 1}: appended by add_bias_kv / add_zero_attn, "
            "never masked"
        )
    if d.heads_differ:
        lines.append("a 3-D attn_mask gives each sequence and head its own pattern: this is head 0's")
    if not d.masks:
        lines.append("no mask given: every position gets a weight")
    if d.holds is None:
        lines.append("? not checked: no values on meta")
    elif d.holds:
        lines.append(f"✓ {d.checked}")
    else:
        lines.append(f"✗ torch's weights disagree: {d.checked}")
    return lines
