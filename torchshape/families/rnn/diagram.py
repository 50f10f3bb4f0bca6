"""--diagram for recurrent layers: the unrolled network of this configuration, pure (no torch).

One cell per (layer, direction, step shown). The top layer's cells are ``output``'s halves
([forward | backward], H_out each); the forward lane's last step and the backward lane's
first step hold ``h_n[D·layer + direction]`` (and ``c_n``), as ``--explain``'s grid numbers
them. With --lengths, sequence n's forward state ends at its last real step, lengths[n] − 1.
``diagram_probe`` checks every mapping on the forward pass and fills in ``holds``.
"""

from __future__ import annotations

from torchshape.diagram import LaneCell, LanesDiagram, Role, shown_steps
from torchshape.errors import UsageError
from torchshape.families.rnn.explain import layouts
from torchshape.families.rnn.formulas import symbols, tensor_formulas, time_dim
from torchshape.families.rnn.spec import RNNSpec
from torchshape.shapes import shape_text


def check_diagram(spec: RNNSpec) -> None:
    """A cell takes one step: there is nothing to unroll."""
    if spec.kind.is_cell:
        raise UsageError(
            "--diagram",
            f"--kind {spec.kind.value} takes one step, so there is no network to unroll; "
            f"use --kind {spec.kind.layer.value}",
        )


def _at_step(spec: RNNSpec, tensor: str) -> str:
    return f"{tensor}[:, t]" if time_dim(spec) else f"{tensor}[t]"


def plan(spec: RNNSpec) -> LanesDiagram:
    """The unrolled network as the rules draw it, every ``holds`` None (not yet checked)."""
    sym = symbols(spec)
    h_n = layouts(spec)[0]
    directions, grid = h_n.directions, h_n.grid  # grid[layer][direction] = the row of h_n
    lengths = spec.lengths
    last_steps = tuple(n - 1 for n in lengths) if lengths is not None else (spec.seq_len - 1,)
    steps = shown_steps(spec.seq_len, last_steps)
    states = ("h_n", "c_n") if spec.kind.has_cell_state else ("h_n",)
    cells = []
    for layer in range(spec.num_layers):
        for d, direction in enumerate(directions):
            for t in steps:
                roles = []
                if layer == spec.num_layers - 1:
                    roles.append(Role("output", features=(d * sym["H_out"], (d + 1) * sym["H_out"])))
                # the sequences whose state ends at this step: None for all of them
                ends = (0,) if direction == "backward" else last_steps
                here = tuple(n for n, last in enumerate(ends) if last == t)
                ends_here = None if len(here) == len(ends) else here
                if ends_here != ():
                    roles += [Role(name, index=grid[layer][d], sequences=ends_here) for name in states]
                cells.append(LaneCell(layer, direction, t, tuple(roles)))
    formulas = {f.name: f for f in tensor_formulas(spec)}

    def label(name: str) -> str:
        f = formulas[name]
        return f"{name} {f.formula} = {shape_text(f.shape(sym))}"

    return LanesDiagram(
        title=spec.module_call,
        steps=spec.seq_len,
        shown_steps=steps,
        layers=spec.num_layers,
        directions=directions,
        cells=tuple(cells),
        input_label=_at_step(spec, "input"),
        output_label=_at_step(spec, "output"),
        output_shape=label("output"),
        state_labels=tuple(label(name) for name in states),
        half=sym["H_out"],
        lengths=lengths,
    )
