"""``--diagram``: the picture of one configuration, as plain data every renderer draws.

A family computes its diagram from its spec (pure, no torch) and its torch side fills in
what the forward pass said about each mapping (``holds``: True, False, or None where no
values exist, on meta). Renderers (``torchshape.render.diagram_text``, ``diagram_svg``) know
the kinds of diagram below and no family:

- ``LanesDiagram``: a recurrent layer unrolled over time, one lane per layer and direction;
- ``AxisDiagram``: one spatial axis of a sliding window as a row of cells;
- ``MaskDiagram``: attention's L × S grid for one sequence and head, each cell allowed or
  masked (by the attention mask, the key padding mask, or both).

A new kind is one more dataclass here with its ``kind`` and ``as_dict``, and one more branch
in each renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torchshape.attributes import json_object

if TYPE_CHECKING:
    from torchshape.report import Report

# Past this many time steps, a lane shows its first and last steps with a marked gap.
MAX_STEPS_SHOWN = 8
EDGE_STEPS = 3
# Windows listed in the JSON; the drawing shows the first ones and the last.
MAX_WINDOWS_LISTED = 1024


@dataclass(frozen=True)
class Role:
    """What one cell is to the tensors the module returns.

    ``output``: its h is ``output``'s ``features`` at its step (top layer only);
    ``h_n`` / ``c_n``: its final state is row ``index``, for ``sequences`` (None: every one).
    """

    role: str  # "output", "h_n", "c_n"
    index: int | None = None  # the row of h_n / c_n
    features: tuple[int, int] | None = None  # output: [start, end) of the last dimension
    sequences: tuple[int, ...] | None = None  # --lengths: the sequences whose state ends here
    holds: bool | None = None  # the forward pass agreed; None: not evaluated (no values on meta)

    def as_dict(self) -> dict[str, Any]:
        given = json_object(self, "role index features sequences")
        return {key: value for key, value in given.items() if value is not None} | {"holds": self.holds}


@dataclass(frozen=True)
class LaneCell:
    """One cell of the unrolled network: layer, direction and time step."""

    layer: int
    direction: str  # "forward" or "backward"
    step: int
    roles: tuple[Role, ...] = ()

    def role(self, name: str) -> Role | None:
        return next((r for r in self.roles if r.role == name), None)

    def as_dict(self) -> dict[str, Any]:
        return json_object(self)


@dataclass(frozen=True)
class LanesDiagram:
    """A recurrent layer unrolled: time across, a lane per (layer, direction), input below."""

    title: str  # the module call
    steps: int  # L
    shown_steps: tuple[int, ...]  # the steps drawn, in order; a gap wherever two are not adjacent
    layers: int
    directions: tuple[str, ...]  # ("forward",) or ("forward", "backward")
    cells: tuple[LaneCell, ...]  # one per (layer, direction, shown step)
    input_label: str  # how one step of the input reads: input[t], input[:, t]
    output_label: str  # output[t], output[:, t]
    output_shape: str  # (L, N, D·H_out) = (5, 3, 60)
    state_labels: tuple[str, ...]  # h_n (D·num_layers, N, H_out) = (4, 3, 30), c_n ...
    half: int  # H_out: the width of each direction's half of output
    lengths: tuple[int, ...] | None = None  # --lengths: each sequence's real steps
    checked: str = ""  # what the forward pass checked, one sentence
    kind: str = field(default="lanes", init=False)

    def cell(self, layer: int, direction: str, step: int) -> LaneCell:
        for c in self.cells:
            if (c.layer, c.direction, c.step) == (layer, direction, step):
                return c
        raise KeyError((layer, direction, step))

    @property
    def holds(self) -> bool:
        """No mapping drawn was refuted by torch."""
        return all(r.holds is not False for c in self.cells for r in c.roles)

    def as_dict(self) -> dict[str, Any]:
        output = {"label": self.output_label, "shape": self.output_shape, "half": self.half}
        return (
            json_object(self, "kind steps shown_steps layers directions")
            | {"output": output, "input": self.input_label, "states": list(self.state_labels)}
            | json_object(self, "lengths holds checked cells")
        )


@dataclass(frozen=True)
class AxisWindow:
    """One window on the drawn axis: the positions it reads (or writes, transposed).

    ``start`` and ``end`` ([start, end)) are in input positions, negative in the left
    padding; ``taps`` every ``dilation``-th position from ``start``.
    """

    index: int
    start: int
    end: int
    taps: tuple[int, ...]
    extra: str | None = None  # "ceil_mode": the window rounding up adds; "dropped": torch drops it

    def as_dict(self) -> dict[str, Any]:
        out = json_object(self, "index start end taps")
        if self.extra is not None:
            out["extra"] = self.extra
        return out


@dataclass(frozen=True)
class AxisDiagram:
    """One spatial axis as a row of cells: padding, the windows, what no window reaches.

    Positions are input positions (a transposed convolution: output positions, where each
    window is what one input position writes). ``first``/``last`` bound the row drawn.
    """

    title: str
    axis: str  # L, H, W or D
    size: int  # the cells of the row: input size (transposed: output size)
    kernel_size: int
    stride: int | None  # None: an adaptive pool (each window its own start and end)
    dilation: int
    out: int  # the formula's output size on this axis: the number of windows (transposed: size)
    torch_out: int | None  # torch's output size on this axis; None where it refused
    windows: tuple[AxisWindow, ...]  # every window, up to MAX_WINDOWS_LISTED (and a ceil_mode extra)
    windows_total: int
    transposed: bool = False
    pad_before: int = 0  # padding (transposed: positions cropped) before and after
    pad_after: int = 0
    unreached: tuple[int, int] | None = None  # [start, end): past the last window, padding included
    unreached_input: int = 0  # of them, positions of the input itself
    output_padding: tuple[int, int] | None = None  # transposed: [start, end) of the cells it adds
    unread: tuple[int, ...] = ()  # every input position no window reads (the --explain fact)
    unread_text: str = ""  # the same in words: "positions 2, 5, 8, 11 (4 of 12) read by no window: ..."
    formula: str = ""  # the axis' output formula with its numbers
    note: str = ""
    kind: str = field(default="axis", init=False)

    @property
    def holds(self) -> bool | None:
        """The windows drawn (transposed: the cells) are as many as torch's output on the axis."""
        if self.torch_out is None:
            return None
        return self.torch_out == (self.size if self.transposed else self.out)

    def as_dict(self) -> dict[str, Any]:
        return (
            json_object(self, "kind axis transposed size")
            | {"padding": [self.pad_before, self.pad_after]}
            | json_object(self, "kernel_size stride dilation out torch_out holds formula windows_total")
            | json_object(self, "windows unreached unreached_input unread output_padding note")
        )


# Past this many queries or keys, the grid shows the first and the last ones with a gap.
MAX_MASK_SHOWN = 16
EDGE_MASK = 6


@dataclass(frozen=True)
class MaskCell:
    """One (query, key) position of the weights: what masks it, and whether torch gave it 0."""

    query: int
    key: int
    masked_by: tuple[str, ...]  # "attn_mask", "key_padding_mask"; () where it is allowed
    zero: bool | None = None  # torch's weight here is exactly 0; None: not evaluated

    @property
    def holds(self) -> bool | None:
        """Masked exactly where torch gave weight 0."""
        return None if self.zero is None else self.zero == bool(self.masked_by)

    def as_dict(self) -> dict[str, Any]:
        return json_object(self)


@dataclass(frozen=True)
class MaskDiagram:
    """The weights' L × S' grid of one sequence and head: which positions the masks hide,
    combined as torch combines them (either one hides a position), and where torch gave 0."""

    title: str  # the module call
    target_len: int  # L: rows
    keys: int  # S': columns, S plus the keys add_bias_kv and add_zero_attn append
    extra_keys: int  # of them, the appended ones (never masked)
    sequence: int | None  # the sequence drawn; None: unbatched
    sequences: int  # N
    head: int  # the head drawn
    heads_differ: bool  # a 3-D attn_mask: each sequence and head has its own
    masks: tuple[str, ...]  # what the call was given: "attn_mask" (causal or not), "key_padding_mask"
    causal: bool
    shown_queries: tuple[int, ...]
    shown_keys: tuple[int, ...]
    cells: tuple[MaskCell, ...]  # one per (shown query, shown key)
    all_hold: bool | None = None  # every cell of the grid, shown or not, checked on torch
    checked: str = ""
    kind: str = field(default="mask", init=False)

    def cell(self, query: int, key: int) -> MaskCell:
        for c in self.cells:
            if (c.query, c.key) == (query, key):
                return c
        raise KeyError((query, key))

    @property
    def holds(self) -> bool | None:
        return self.all_hold

    def as_dict(self) -> dict[str, Any]:
        return json_object(
            self,
            "kind target_len keys extra_keys sequence sequences head heads_differ masks causal"
            " shown_queries shown_keys holds checked cells",
        )


def shown_edges(count: int) -> tuple[int, ...]:
    """Every index up to MAX_MASK_SHOWN; beyond, the first and the last EDGE_MASK."""
    if count <= MAX_MASK_SHOWN:
        return tuple(range(count))
    return (*range(EDGE_MASK), *range(count - EDGE_MASK, count))


Diagram = LanesDiagram | AxisDiagram | MaskDiagram


def shown_steps(steps: int, also: tuple[int, ...] = ()) -> tuple[int, ...]:
    """The time steps a lane draws: all of them up to MAX_STEPS_SHOWN, else the first and last
    EDGE_STEPS and the steps in ``also`` (each sequence's last real step, with --lengths)."""
    if steps <= MAX_STEPS_SHOWN:
        return tuple(range(steps))
    edges = set(range(EDGE_STEPS)) | set(range(steps - EDGE_STEPS, steps))
    return tuple(sorted(edges | {t for t in also if 0 <= t < steps}))


def diagram_json(diagram: Diagram | None) -> dict[str, Any]:
    """The JSON's ``diagram`` key, present only with --diagram."""
    return {} if diagram is None else {"diagram": diagram.as_dict()}


def checked(report: Report) -> Diagram | None:
    """--diagram: the drawing the probe checked on the forward pass; None without the flag."""
    found: Diagram | None = report.probe.diagram
    return found
