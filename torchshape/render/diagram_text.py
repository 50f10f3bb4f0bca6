"""--diagram as text: box-drawing characters in rich styles, for the terminal and markdown.

Every glyph here has a one-character fallback in ``torchshape.terminal.ASCII``, so the
drawing keeps its columns where a terminal cannot carry it; colour shows only on a terminal
(the table's console decides). Knows the kinds of ``torchshape.diagram``, no family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from torchshape.diagram import AxisDiagram, AxisWindow, Diagram, LanesDiagram, MaskCell, MaskDiagram
from torchshape.render.text import code_text, hanging

if TYPE_CHECKING:
    from rich.console import RenderableType

# How many windows are drawn first, before the gap and the last one.
FIRST_WINDOWS = 3
# Past this many cells, the row shows the first windows' cells and the last ones with a gap.
MAX_CELLS = 48

GAP = "┄"
INPUT, PADDING, ADDED = "■", "□", "◆"
TAP, REACH = "●", "─"
UP = "▲"


def mark(holds: bool | None) -> str:
    return {True: "✓", False: "✗", None: "?"}[holds]


def _style(holds: bool | None) -> str:
    return {True: "green", False: "bold red", None: "yellow"}[holds]


def diagram_renderables(diagram: Diagram) -> list[RenderableType]:
    """The drawing (never wrapped: its columns are the picture), then its legend (wrapped prose)."""
    if isinstance(diagram, LanesDiagram):
        drawing, legend = lanes_text(diagram), _lanes_legend(diagram)
    elif isinstance(diagram, MaskDiagram):
        drawing, legend = mask_text(diagram), _mask_legend(diagram)
    else:
        drawing, legend = axis_text(diagram), _axis_legend(diagram)
    picture = code_text("")
    picture.append_text(drawing)
    picture.no_wrap = True
    picture.overflow = "ignore"
    lines: list[RenderableType] = [picture, Text("")]
    lines += [hanging(line, style=_line_style(line)) for line in legend]
    return lines


def _line_style(line: str) -> str:
    return {"✓": "green", "✗": "bold red", "?": "yellow"}.get(line[:1], "")


# ---------------------------------------------------------------- lanes


def lanes_text(d: LanesDiagram) -> Text:
    top = d.layers - 1
    indices = [r.index for c in d.cells for r in c.roles if r.index is not None]
    token = max(8, len(f"h_n[{max(indices, default=0)}]") + 2)
    column = token + 2
    lanes = [(layer, direction) for layer in range(top, -1, -1) for direction in d.directions]
    labels = [
        f"layer {layer} {direction} {'▶' if direction == 'forward' else '◀'}" for layer, direction in lanes
    ]
    out_rows = [
        (f"{d.output_label}[..., {d.half * i}:{d.half * (i + 1)}]", direction)
        for i, direction in enumerate(d.directions)
    ]
    seq_rows = (
        [] if d.lengths is None else [f"sequence {n} ({length})" for n, length in enumerate(d.lengths[:8])]
    )
    width = max(len(text) for text in [*labels, *(t for t, _ in out_rows), d.input_label, *seq_rows]) + 2

    def columns() -> list[int | None]:
        cols: list[int | None] = []
        for i, t in enumerate(d.shown_steps):
            if i and t != d.shown_steps[i - 1] + 1:
                cols.append(None)  # a gap: steps not drawn
            cols.append(t)
        return cols

    cols = columns()
    text = Text()
    text.append(f"{d.title}, unrolled over L = {d.steps} steps", style="bold")
    text.append("\n\n" + " " * width)
    for t in cols:
        text.append(f"{GAP if t is None else f't={t}':^{column if t is not None else 5}}", style="dim")
    for label, direction in out_rows:
        text.append("\n" + f"{label:<{width}}", style="cyan")
        for t in cols:
            if t is None:
                text.append("  " + GAP + "  ", style="dim")
                continue
            role = d.cell(top, direction, t).role("output")
            text.append(f"{UP:^{column}}", style=_style(role.holds if role else None))
        text.append(f"  layer {top} {direction}", style="dim")
    for (layer, direction), label in zip(lanes, labels, strict=True):
        text.append("\n" + f"{label:<{width}}")
        for t in cols:
            if t is None:
                text.append(" " + GAP * 3 + " ", style="dim")
                continue
            role = d.cell(layer, direction, t).role("h_n")
            inside = "" if role is None else f"h_n[{role.index}]"
            arrow_in = "─▶" if direction == "forward" else "◀─"
            text.append(arrow_in if direction == "forward" else "", style="dim")
            text.append(
                f"[{inside:^{token - 2}}]",
                style="bold " + _style(role.holds) if role is not None else "",
            )
            text.append(arrow_in if direction == "backward" else "", style="dim")
    text.append("\n" + f"{d.input_label:<{width}}", style="cyan")
    for t in cols:
        text.append("  " + GAP + "  " if t is None else f"{UP:^{column}}", style="dim")
    if d.lengths is not None:
        for n, label in enumerate(seq_rows):
            text.append("\n" + f"{label:<{width}}")
            for t in cols:
                if t is None:
                    text.append("  " + GAP + "  ", style="dim")
                    continue
                length = d.lengths[n]
                glyph, style = (
                    (TAP, "green") if t == length - 1 else (INPUT, "") if t < length else (PADDING, "dim")
                )
                text.append(f"{glyph:^{column}}", style=style)
        if len(d.lengths) > len(seq_rows):
            text.append(f"\n… and {len(d.lengths) - len(seq_rows)} more sequences")
    return text


def _lanes_legend(d: LanesDiagram) -> list[str]:
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
    if any(t is not None and i and t != d.shown_steps[i - 1] + 1 for i, t in enumerate(d.shown_steps)):
        lines.append(f"{GAP} steps not drawn: L = {d.steps}")
    lines.append(_verdict(d.holds if d.checked and not d.checked.startswith("not") else None, d.checked, d))
    return lines


def _verdict(holds: bool | None, checked: str, d: Diagram) -> str:
    if holds is None:
        return f"? {checked}"
    if holds:
        return f"✓ {checked}"
    return f"✗ torch refutes a mapping drawn (in red): {checked}"


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


def axis_text(d: AxisDiagram) -> Text:
    cells = shown_positions(d)
    numbers = [str(p) for p in cells if p is not None]
    cw = max(3, max(len(n) for n in numbers) + 1)
    label_w = 14
    text = Text()
    text.append(f"{d.title}: axis {d.axis}", style="bold")
    text.append("\n" + _axis_summary(d))
    text.append("\n\n" + f"{'position':<{label_w}}", style="dim")
    for p in cells:
        text.append(f"{GAP:^{cw}}" if p is None else f"{p:>{cw - 1}} ", style="dim")
    text.append("\n" + f"{'output' if d.transposed else 'input':<{label_w}}", style="cyan")
    for p in cells:
        text.append(*_cell(d, p, cw))
    windows = drawn_windows(d)
    left_out = windows_left_out(d, windows)
    for i, w in enumerate(windows):
        if i == FIRST_WINDOWS and left_out:
            text.append(f"\n{'⋮':<{label_w}}{left_out}", style="dim")
        name = f"{'from in ' if d.transposed else 'window '}{w.index}"
        style = {"ceil_mode": "magenta", "dropped": "dim"}.get(w.extra or "", "")
        text.append("\n" + f"{name:<{label_w}}", style=style)
        for p in cells:
            if p is None:
                text.append(f"{GAP:^{cw}}", style="dim")
            elif p in w.taps:
                text.append((REACH if p > w.start else " ") * (cw - 2), style=style)
                text.append(TAP, style=style or "bold")
                text.append(REACH if p < w.end - 1 else " ", style=style)
            elif w.start <= p < w.end:
                text.append(REACH * cw, style=style)
            else:
                text.append(" " * cw)
        if w.extra == "ceil_mode":
            text.append("  ceil_mode's extra window, kept", style=style)
        elif w.extra == "dropped":
            text.append("  ceil_mode's extra window, dropped: it starts in the padding", style=style)
    if d.unreached is not None or d.unread:
        text.append("\n" + f"{'no window':<{label_w}}", style="red")
        for p in cells:
            text.append(f"{UP:>{cw - 1}} " if p is not None and unread_cell(d, p) else " " * cw, style="red")
    if d.output_padding is not None:
        start, end = d.output_padding
        text.append("\n" + f"{'output_padding':<{label_w}}", style="magenta")
        for p in cells:
            text.append(
                f"{UP:>{cw - 1}} " if p is not None and start <= p < end else " " * cw, style="magenta"
            )
    return text


def unread_cell(d: AxisDiagram, p: int) -> bool:
    """An input position no window reads, or a padding position past the last window."""
    if 0 <= p < d.size:
        return p in d.unread
    return d.unreached is not None and d.unreached[0] <= p < d.unreached[1]


def _cell(d: AxisDiagram, p: int | None, cw: int) -> tuple[str, str]:
    if p is None:
        return f"{GAP:^{cw}}", "dim"
    if d.output_padding is not None and d.output_padding[0] <= p < d.output_padding[1]:
        return f"{ADDED:>{cw - 1}} ", "magenta"
    if 0 <= p < d.size:
        return f"{INPUT:>{cw - 1}} ", "red" if p in d.unread else ""
    return f"{PADDING:>{cw - 1}} ", "dim"


def _axis_summary(d: AxisDiagram) -> str:
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


def _axis_legend(d: AxisDiagram) -> list[str]:
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

ALLOWED, BY_MASK, BY_PADDING, BY_BOTH = "■", "·", "░", "▓"
ROW_GAP = "⋮"


def mask_glyph(cell: MaskCell) -> tuple[str, str]:
    """The glyph of one (query, key) position and its style: red where torch disagreed."""
    masks = set(cell.masked_by)
    glyph = (
        BY_BOTH
        if len(masks) == 2
        else BY_PADDING
        if "key_padding_mask" in masks
        else BY_MASK
        if masks
        else ALLOWED
    )
    if cell.holds is False:
        return glyph, "bold red"
    return glyph, "green" if not masks else "yellow" if "key_padding_mask" in masks else "dim"


def with_gaps(shown: tuple[int, ...]) -> list[int | None]:
    """The positions shown, a None where the run skips some (drawn as ⋯)."""
    out: list[int | None] = []
    for i, value in enumerate(shown):
        if i and value != shown[i - 1] + 1:
            out.append(None)
        out.append(value)
    return out


def mask_heading(d: MaskDiagram) -> str:
    whose = "head 0" if d.sequence is None else f"sequence {d.sequence} (of N = {d.sequences}), head {d.head}"
    extra = f" (S + {d.extra_keys})" if d.extra_keys else ""
    return f"{d.title}: the weights of {whose}, L = {d.target_len} queries × {d.keys} keys{extra}"


def mask_text(d: MaskDiagram) -> Text:
    keys = with_gaps(d.shown_keys)
    queries = with_gaps(d.shown_queries)
    cw = max(2, len(str(max(d.shown_keys))) + 1)
    label_w = len(f"query {max(d.shown_queries)}") + 2
    text = Text(mask_heading(d) + "\n", style="bold")
    text.append(f"{'key':>{label_w}}")
    for k in keys:
        text.append(f"{GAP if k is None else k:>{cw}}", style="dim")
    for q in queries:
        text.append("\n")
        if q is None:
            text.append(f"{ROW_GAP:>{label_w}}", style="dim")
            continue
        text.append(f"{f'query {q}':<{label_w}}")
        for k in keys:
            if k is None:
                text.append(f"{GAP:>{cw}}", style="dim")
                continue
            glyph, style = mask_glyph(d.cell(q, k))
            text.append(f"{glyph:>{cw}}", style=style)
    return text


def _mask_legend(d: MaskDiagram) -> list[str]:
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
