"""--format svg --diagram: the drawing as a vector image (shapes and text, sized to its content).

The same data and legend (``diagram_legend``) as the text drawing, drawn with rectangles,
lines and circles; readable at 100%. Knows the kinds of ``torchshape.diagram``, no family.
"""

from __future__ import annotations

from html import escape

from torchshape.diagram import AxisDiagram, Diagram, LanesDiagram, MaskDiagram
from torchshape.render import diagram_legend as legend

FONT = 'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace"'
HOLDS = {True: "#2e7d32", False: "#c62828", None: "#b8860b"}
FORWARD, BACKWARD = "#1565c0", "#ef6c00"
MARGIN = 16
LINE = 18  # legend line height
CHAR = 7.8  # width of one character at 13px, for sizing


class _Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.width = 0.0
        self.height = 0.0

    def _grow(self, x: float, y: float) -> None:
        self.width, self.height = max(self.width, x), max(self.height, y)

    def text(
        self,
        x: float,
        y: float,
        body: str,
        *,
        size: int = 13,
        fill: str = "#222",
        anchor: str = "start",
        weight: str = "normal",
    ) -> None:
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" {FONT} font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}">{escape(body)}</text>'
        )
        width = len(body) * CHAR * size / 13
        right = x + (width / 2 if anchor == "middle" else 0 if anchor == "end" else width)
        self._grow(right, y + 4)

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str = "#fff",
        stroke: str = "#444",
        dash: bool = False,
        rx: int = 4,
        width: float = 1.2,
    ) -> None:
        extra = ' stroke-dasharray="3,2"' if dash else ""
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width}"{extra}/>'
        )
        self._grow(x + w, y + h)

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        stroke: str = "#444",
        width: float = 1.5,
        arrow: bool = False,
        dash: bool = False,
    ) -> None:
        extra = ' marker-end="url(#arrow)"' if arrow else ""
        extra += ' stroke-dasharray="4,3"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{width}"{extra}/>'
        )
        self._grow(max(x1, x2), max(y1, y2))

    def circle(self, x: float, y: float, r: float, fill: str) -> None:
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"/>')

    def document(self, title: str) -> str:
        w, h = int(self.width + MARGIN), int(self.height + MARGIN)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">\n'
            f"<title>{escape(title)}</title>\n"
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>\n'
            f'<rect width="{w}" height="{h}" fill="#ffffff"/>\n'
        )
        return head + "\n".join(self.parts) + "\n</svg>\n"


def render_diagram_svg(diagram: Diagram) -> str:
    canvas = _Canvas()
    if isinstance(diagram, LanesDiagram):
        y, lines_below = _lanes(canvas, diagram), legend.lanes_legend(diagram)
    elif isinstance(diagram, MaskDiagram):  # the glyphs' line of the legend: drawn as swatches by _mask
        y, lines_below = _mask(canvas, diagram), legend.mask_legend(diagram)[1:]
    else:
        y, lines_below = _axis(canvas, diagram), [legend.axis_summary(diagram), *legend.axis_legend(diagram)]
    for line in lines_below:
        fill = {"✓": HOLDS[True], "✗": HOLDS[False], "?": HOLDS[None]}.get(line[:1], "#333")
        canvas.text(MARGIN, y, line, size=12, fill=fill)
        y += LINE
    return canvas.document(f"torchshape --diagram: {diagram.title}")


def _placed(
    cells: list[int | None], x: float, pitch: float, gap: float
) -> tuple[dict[int, float], list[float]]:
    """Left to right from ``x``: each shown position's x, ``pitch`` apart, and the x of each gap
    (a None among ``cells``), ``gap`` wide."""
    xs: dict[int, float] = {}
    gaps: list[float] = []
    for cell in cells:
        if cell is None:
            gaps.append(x)
            x += gap
        else:
            xs[cell] = x
            x += pitch
    return xs, gaps


_CELL_W = 70  # a step's cell in the unrolled lanes


def _lanes(c: _Canvas, d: LanesDiagram) -> float:
    cell_w, cell_h, gap_w, pitch, lane_h = _CELL_W, 30, 40, 96, 46
    top = d.layers - 1
    c.text(MARGIN, MARGIN + 12, f"{d.title}, unrolled over L = {d.steps} steps", size=15, weight="bold")
    xs, gaps = _placed(legend.with_gaps(d.shown_steps), MARGIN + 200, pitch, gap_w)
    y = MARGIN + 44
    for t, cx in xs.items():
        c.text(cx + cell_w / 2, y, f"t = {t}", anchor="middle", fill="#555")
    for gx in gaps:
        c.text(gx + gap_w / 2 - 12, y, "⋯", fill="#555")
    out_y = y + 16  # output: one bar per direction's half, above the top lanes
    lane_top = _output_bars(c, d, xs, out_y) + 18
    lanes = [(layer, direction) for layer in range(top, -1, -1) for direction in d.directions]
    for row, (layer, direction) in enumerate(lanes):
        ly = lane_top + row * lane_h
        colour = FORWARD if direction == "forward" else BACKWARD
        arrow = "▶" if direction == "forward" else "◀"
        c.text(MARGIN, ly + 20, f"layer {layer} {direction} {arrow}", fill=colour, weight="bold")
        ordered = sorted(xs.items())
        for i, (t, cx) in enumerate(ordered):
            role = d.cell(layer, direction, t).role("h_n")
            fill = (
                "#ffffff"
                if role is None
                else {True: "#c8e6c9", False: "#ffcdd2", None: "#fff3c4"}[role.holds]
            )
            stroke = colour if role is None else HOLDS[role.holds]
            c.rect(cx, ly, cell_w, cell_h, fill=fill, stroke=stroke, width=1.2 if role is None else 2.2)
            if role is not None:
                mark = {True: "", False: " ✗", None: " ?"}[role.holds]
                c.text(
                    cx + cell_w / 2,
                    ly + 20,
                    f"h_n[{role.index}]{mark}",
                    anchor="middle",
                    size=12,
                    fill=HOLDS[role.holds],
                    weight="bold",
                )
            if i + 1 < len(ordered):
                nx = ordered[i + 1][1]
                dashed = ordered[i + 1][0] != t + 1
                start, end = (cx + cell_w, nx - 2) if direction == "forward" else (nx, cx + cell_w + 2)
                c.line(start, ly + cell_h / 2, end, ly + cell_h / 2, stroke=colour, arrow=True, dash=dashed)
            if layer == top:  # this lane's h at every step is its half of output
                i_dir = d.directions.index(direction)
                oy = out_y + i_dir * 30 + 24
                ox = cx + cell_w / 2 + (8 if direction == "backward" else -8)
                c.line(ox, ly, ox, oy + 2, stroke=colour, width=1, arrow=True)
    y = lane_top + len(lanes) * lane_h + 4
    c.text(MARGIN, y + 17, d.input_label, fill="#555")
    for t, cx in xs.items():
        c.rect(cx, y, cell_w, 24, fill="#eeeeee", stroke="#777", rx=2)
        c.text(cx + cell_w / 2, y + 17, f"x{t}" if t < 1000 else "x", anchor="middle", size=11, fill="#555")
        c.line(cx + cell_w / 2, y, cx + cell_w / 2, y - 10, stroke="#777", width=1, arrow=True)
    return _lengths(c, d, xs, y + 36) + 10


def _output_bars(c: _Canvas, d: LanesDiagram, xs: dict[int, float], y: int) -> int:
    """``output``'s bars from ``y`` down, one per direction's half; where they end."""
    for i, direction in enumerate(d.directions):
        colour = FORWARD if direction == "forward" else BACKWARD
        label = f"{d.output_label}[..., {d.half * i}:{d.half * (i + 1)}]"
        c.text(MARGIN, y + 17, label, fill=colour)
        for t, cx in xs.items():
            role = d.cell(d.layers - 1, direction, t).role("output")
            stroke = HOLDS[role.holds] if role is not None and role.holds is False else colour
            c.rect(cx, y, _CELL_W, 24, fill="#f5f5f5", stroke=stroke, rx=2)
            short = "fwd" if direction == "forward" else "bwd"
            c.text(cx + _CELL_W / 2, y + 17, short, anchor="middle", size=11, fill=colour)
        y += 30
    return y


def _lengths(c: _Canvas, d: LanesDiagram, xs: dict[int, float], y: int) -> int:
    """With lengths, a row per sequence (the first 8) from ``y`` down, its last step marked; where
    they end."""
    if d.lengths is None:
        return y
    for n, length in enumerate(d.lengths[:8]):
        c.text(MARGIN, y + 14, f"sequence {n} (length {length})", size=12, fill="#333")
        for t, cx in xs.items():
            if t == length - 1:
                c.rect(cx + 20, y + 2, _CELL_W - 40, 16, fill=HOLDS[True], stroke=HOLDS[True], rx=8)
            elif t < length:
                c.rect(cx + 20, y + 2, _CELL_W - 40, 16, fill="#90a4ae", stroke="#90a4ae", rx=2)
            else:
                c.rect(cx + 20, y + 2, _CELL_W - 40, 16, fill="#ffffff", stroke="#bbb", dash=True, rx=2)
        y += 22
    return y + 10


def _axis(c: _Canvas, d: AxisDiagram) -> float:
    cells = legend.shown_positions(d)
    size = 24
    label_w = 140
    c.text(MARGIN, MARGIN + 12, f"{d.title}: axis {d.axis}", size=15, weight="bold")
    y = MARGIN + 40
    xs, gaps = _placed(cells, MARGIN + label_w, size, size)
    for p, px in xs.items():
        c.text(px + size / 2, y, str(p), anchor="middle", size=10, fill="#666")
    y += 8
    c.text(MARGIN, y + 17, "output" if d.transposed else "input", fill="#00838f", weight="bold")
    for p, px in xs.items():
        if d.output_padding is not None and d.output_padding[0] <= p < d.output_padding[1]:
            c.rect(px + 1, y, size - 2, size, fill="#e1bee7", stroke="#8e24aa", rx=2)
        elif 0 <= p < d.size:
            fill, stroke = ("#ffcdd2", "#c62828") if p in d.unread else ("#e3f2fd", "#1565c0")
            c.rect(px + 1, y, size - 2, size, fill=fill, stroke=stroke, rx=2)
        else:
            c.rect(px + 1, y, size - 2, size, fill="#f5f5f5", stroke="#9e9e9e", dash=True, rx=2)
    for gx in gaps:
        c.text(gx + size / 2, y + 17, "⋯", anchor="middle", fill="#555")
    y += size + 16
    y = _windows(c, d, xs, y)
    if d.unreached is not None or d.unread:
        c.text(MARGIN, y + 12, "no window", size=12, fill="#c62828")
        for p, px in xs.items():
            if legend.unread_cell(d, p):
                c.text(px + size / 2, y + 12, "▲", anchor="middle", size=12, fill="#c62828")
        y += 22
    return y + 16


def _windows(c: _Canvas, d: AxisDiagram, xs: dict[int, float], y: int) -> int:
    """The axis' windows from ``y`` down, each a line over the cells it spans with a dot on each
    tap; where they end."""
    size = 24
    windows = legend.drawn_windows(d)
    left_out = legend.windows_left_out(d, windows)
    for i, w in enumerate(windows):
        if i == legend.FIRST_WINDOWS and left_out:
            c.text(MARGIN, y + 10, f"⋮ {left_out}", size=12, fill="#555")
            y += 22
        colour = {"ceil_mode": "#8e24aa", "dropped": "#9e9e9e"}.get(w.extra or "", "#37474f")
        name = f"{'from input ' if d.transposed else 'window '}{w.index}"
        name += {"ceil_mode": " (ceil_mode)", "dropped": " (dropped)"}.get(w.extra or "", "")
        c.text(MARGIN, y + 10, name, size=12, fill=colour)
        shown = [p for p in range(w.start, w.end) if p in xs]
        if shown:
            start, end = xs[shown[0]] + size / 2, xs[shown[-1]] + size / 2
            c.line(start, y + 6, end, y + 6, stroke=colour, width=2, dash=w.extra == "dropped")
        for p in w.taps:
            if p in xs:
                c.circle(xs[p] + size / 2, y + 6, 5, colour)
        y += 22
    return y


MASK_FILL = {"allowed": "#c8e6c9", "attn_mask": "#eeeeee", "key_padding_mask": "#ffe0b2", "both": "#bdbdbd"}
MASK_STROKE = {"allowed": "#2e7d32", "attn_mask": "#9e9e9e", "key_padding_mask": "#ef6c00", "both": "#616161"}


def _mask(c: _Canvas, d: MaskDiagram) -> float:
    size = 22
    c.text(MARGIN, MARGIN + 12, legend.mask_heading(d), size=15, weight="bold")
    keys = legend.with_gaps(d.shown_keys)
    queries = legend.with_gaps(d.shown_queries)
    x0 = MARGIN + 80
    y: float = MARGIN + 44
    c.text(x0 - 10, y, "key", anchor="end", size=11, fill="#666")
    for i, k in enumerate(keys):
        c.text(
            x0 + i * size + size / 2, y, "⋯" if k is None else str(k), anchor="middle", size=10, fill="#666"
        )
    y += 8
    for q in queries:
        if q is None:
            c.text(x0 - 10, y + 15, "⋮", anchor="end", fill="#555")
            y += size
            continue
        c.text(x0 - 10, y + 15, f"query {q}", anchor="end", size=11, fill="#333")
        for i, k in enumerate(keys):
            x = x0 + i * size
            if k is None:
                c.text(x + size / 2, y + 15, "⋯", anchor="middle", fill="#555")
                continue
            cell = d.cell(q, k)
            masks = set(cell.masked_by)
            kind = "both" if len(masks) == 2 else next(iter(masks)) if masks else "allowed"
            stroke = HOLDS[False] if cell.holds is False else MASK_STROKE[kind]
            c.rect(x + 1, y, size - 2, size - 2, fill=MASK_FILL[kind], stroke=stroke, rx=2)
        y += size
    y += 14
    what = "the causal attn_mask (a key after its query)" if d.causal else "attn_mask"
    lx = float(MARGIN)
    for kind, label in (
        ("allowed", "weight > 0"),
        ("attn_mask", f"hidden by {what}"),
        ("key_padding_mask", "hidden by key_padding_mask"),
        ("both", "by both"),
    ):
        c.rect(lx, y - 11, 14, 14, fill=MASK_FILL[kind], stroke=MASK_STROKE[kind], rx=2)
        c.text(lx + 20, y, label, size=12, fill="#333")
        lx += 20 + len(label) * CHAR * 12 / 13 + 22
    return y + LINE + 4
