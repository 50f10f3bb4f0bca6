"""--diagram as text: box-drawing characters in rich styles, for the terminal and markdown.

Every glyph here has a one-character fallback in ``torchshape.terminal.ASCII``, so the
drawing keeps its columns where a terminal cannot carry it; colour shows only on a terminal
(the table's console decides). Knows the kinds of ``torchshape.diagram``, no family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from torchshape.diagram import AxisDiagram, AxisWindow, Diagram, LanesDiagram, MaskCell, MaskDiagram
from torchshape.render import diagram_legend as legend
from torchshape.render.diagram_legend import GAP, INPUT, PADDING, REACH, TAP, UP
from torchshape.render.text import code_text, hanging

if TYPE_CHECKING:
    from rich.console import RenderableType


def _style(holds: bool | None) -> str:
    return {True: "green", False: "bold red", None: "yellow"}[holds]


def diagram_renderables(diagram: Diagram) -> list[RenderableType]:
    """The drawing (never wrapped: its columns are the picture), then its legend (wrapped prose)."""
    if isinstance(diagram, LanesDiagram):
        drawing, lines_below = lanes_text(diagram), legend.lanes_legend(diagram)
    elif isinstance(diagram, MaskDiagram):
        drawing, lines_below = mask_text(diagram), legend.mask_legend(diagram)
    else:
        drawing, lines_below = axis_text(diagram), legend.axis_legend(diagram)
    picture = code_text("")
    picture.append_text(drawing)
    picture.no_wrap = True
    picture.overflow = "ignore"
    lines: list[RenderableType] = [picture, Text("")]
    lines += [hanging(line, style=_line_style(line)) for line in lines_below]
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

    cols = legend.with_gaps(d.shown_steps)  # None: a gap, steps not drawn
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
        _length_rows(text, d.lengths, seq_rows, cols, (width, column))
    return text


def _length_rows(
    text: Text, lengths: tuple[int, ...], labels: list[str], cols: list[int | None], widths: tuple[int, int]
) -> None:
    """A row per sequence (one per label), its steps read, its last one marked, the padding dim."""
    width, column = widths
    for label, length in zip(labels, lengths, strict=False):
        text.append("\n" + f"{label:<{width}}")
        for t in cols:
            if t is None:
                text.append("  " + GAP + "  ", style="dim")
                continue
            glyph, style = (
                (TAP, "green") if t == length - 1 else (INPUT, "") if t < length else (PADDING, "dim")
            )
            text.append(f"{glyph:^{column}}", style=style)
    if len(lengths) > len(labels):
        text.append(f"\n… and {len(lengths) - len(labels)} more sequences")


# ---------------------------------------------------------------- axis


def axis_text(d: AxisDiagram) -> Text:
    cells = legend.shown_positions(d)
    numbers = [str(p) for p in cells if p is not None]
    cw = max(3, max(len(n) for n in numbers) + 1)
    label_w = 14
    text = Text()
    text.append(f"{d.title}: axis {d.axis}", style="bold")
    text.append("\n" + legend.axis_summary(d))
    text.append("\n\n" + f"{'position':<{label_w}}", style="dim")
    for p in cells:
        text.append(f"{GAP:^{cw}}" if p is None else f"{p:>{cw - 1}} ", style="dim")
    text.append("\n" + f"{'output' if d.transposed else 'input':<{label_w}}", style="cyan")
    for p in cells:
        text.append(*_cell(d, p, cw))
    windows = legend.drawn_windows(d)
    left_out = legend.windows_left_out(d, windows)
    for i, w in enumerate(windows):
        if i == legend.FIRST_WINDOWS and left_out:
            text.append(f"\n{'⋮':<{label_w}}{left_out}", style="dim")
        name = f"{'from in ' if d.transposed else 'window '}{w.index}"
        style = {"ceil_mode": "magenta", "dropped": "dim"}.get(w.extra or "", "")
        text.append("\n" + f"{name:<{label_w}}", style=style)
        for p in cells:
            _window_cell(text, w, p, cw, style)
        text.append(WINDOW_NOTES.get(w.extra or "", ""), style=style)
    if d.unreached is not None or d.unread:
        unread = [p for p in cells if p is not None and legend.unread_cell(d, p)]
        _marked_row(text, f"{'no window':<{label_w}}", cells, cw, unread, "red")
    if d.output_padding is not None:
        added = [p for p in cells if p is not None and d.output_padding[0] <= p < d.output_padding[1]]
        _marked_row(text, f"{'output_padding':<{label_w}}", cells, cw, added, "magenta")
    return text


WINDOW_NOTES = {
    "ceil_mode": "  ceil_mode's extra window, kept",
    "dropped": "  ceil_mode's extra window, dropped: it starts in the padding",
}


def _window_cell(text: Text, w: AxisWindow, p: int | None, cw: int, style: str) -> None:
    """Position ``p`` in window ``w``'s row: a tap, the reach between taps, or blank."""
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


def _marked_row(
    text: Text, label: str, cells: list[int | None], cw: int, marked: list[int], style: str
) -> None:
    """A row that points up at the ``marked`` positions, all in ``style``."""
    text.append("\n" + label, style=style)
    for p in cells:
        text.append(f"{UP:>{cw - 1}} " if p in marked else " " * cw, style=style)


def _cell(d: AxisDiagram, p: int | None, cw: int) -> tuple[str, str]:
    if p is None:
        return f"{GAP:^{cw}}", "dim"
    if d.output_padding is not None and d.output_padding[0] <= p < d.output_padding[1]:
        return f"{legend.ADDED:>{cw - 1}} ", "magenta"
    if 0 <= p < d.size:
        return f"{INPUT:>{cw - 1}} ", "red" if p in d.unread else ""
    return f"{PADDING:>{cw - 1}} ", "dim"


# ---------------------------------------------------------------- mask

ROW_GAP = "⋮"


def mask_glyph(cell: MaskCell) -> tuple[str, str]:
    """The glyph of one (query, key) position and its style: red where torch disagreed."""
    masks = set(cell.masked_by)
    glyph = (
        legend.BY_BOTH
        if len(masks) == 2
        else legend.BY_PADDING
        if "key_padding_mask" in masks
        else legend.BY_MASK
        if masks
        else legend.ALLOWED
    )
    if cell.holds is False:
        return glyph, "bold red"
    return glyph, "green" if not masks else "yellow" if "key_padding_mask" in masks else "dim"


def mask_text(d: MaskDiagram) -> Text:
    keys = legend.with_gaps(d.shown_keys)
    queries = legend.with_gaps(d.shown_queries)
    cw = max(2, len(str(max(d.shown_keys))) + 1)
    label_w = len(f"query {max(d.shown_queries)}") + 2
    text = Text(legend.mask_heading(d) + "\n", style="bold")
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
