"""The torch side of --diagram: every mapping the drawing shows, checked on the forward pass.

Each layer runs again on its own, as a one-layer module with that layer's weights, fed the
layer below's output (with --lengths, packed). A cell's ``output`` role holds when the top
layer's own output at that step is the module's ``output`` there; an ``h_n[k]`` (``c_n[k]``)
role holds when the module's final state row k is that layer and direction's state at the
cell's step: its output slice for h, its own final c for c.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.diagram import LaneCell, LanesDiagram, Role
from torchshape.families.rnn.diagram import plan
from torchshape.families.rnn.formulas import time_dim
from torchshape.families.rnn.spec import RNNSpec
from torchshape.families.rnn.torch_side import close, hidden, one_layer, split_state
from torchshape.families.rnn.unroll import UNROLL_TOLERANCE

if TYPE_CHECKING:
    import torch

CHECKED = (
    "each h_n (c_n) row drawn at a cell is that layer and direction's state there, "
    "and each output half its top lane: checked against every layer run on its own with the same weights"
)
NOT_CHECKED = "not checked: meta tensors carry no values"


def diagram(
    spec: RNNSpec,
    module: torch.nn.Module | None,
    inputs: dict[str, torch.Tensor],
    results: dict[str, torch.Tensor],
    values: bool,
) -> LanesDiagram:
    """The plan of ``spec`` with every role's ``holds`` filled in from torch (None on meta)."""
    drawn = plan(spec)
    if not values or module is None or "output" not in results:
        return replace(drawn, checked=NOT_CHECKED)
    import torch

    with torch.inference_mode():
        returned, per_layer = _run_layers(spec, module, inputs, results)
    tolerance = UNROLL_TOLERANCE[spec.dtype.value]
    dim = time_dim(spec)
    top = spec.num_layers - 1
    cells = []
    for cell in drawn.cells:
        d = drawn.directions.index(cell.direction)
        out, finals = per_layer[cell.layer]
        mine, theirs = out.narrow(dim, cell.step, 1), returned["output"].narrow(dim, cell.step, 1)
        roles = []
        for role in cell.roles:
            if role.role == "output":
                assert role.features is not None
                same = close(_features(mine, role.features), _features(theirs, role.features), tolerance)
                holds = cell.layer == top and same
            else:
                holds = _state_holds(spec, role, d, mine.squeeze(dim), finals, returned, tolerance)
            roles.append(replace(role, holds=holds))
        cells.append(LaneCell(cell.layer, cell.direction, cell.step, tuple(roles)))
    return replace(drawn, cells=tuple(cells), checked=CHECKED)


def _features(tensor: torch.Tensor, features: tuple[int, int]) -> torch.Tensor:
    return tensor[..., features[0] : features[1]]


def _state_holds(
    spec: RNNSpec,
    role: Role,
    d: int,
    step_output: torch.Tensor,
    finals: dict[str, torch.Tensor],
    returned: dict[str, torch.Tensor],
    tolerance: tuple[float, float],
) -> bool:
    """Row ``role.index`` of the returned h_n (c_n) is the state of direction ``d`` at the cell's
    step (its layer's output there: ``step_output``), for the cell's sequences."""
    assert role.index is not None
    row = returned[role.role][role.index]
    if role.role == "h_n":
        half = spec.proj_size or spec.hidden_size
        mine = _features(step_output, (d * half, (d + 1) * half))
    else:  # c never reaches output: the layer's own final c of this direction
        mine = finals["c_n"][d]
    if role.sequences is None:
        return close(mine, row, tolerance)
    return all(close(mine[n], row[n], tolerance) for n in role.sequences)


def _run_layers(
    spec: RNNSpec, module: torch.nn.Module, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[tuple[torch.Tensor, dict[str, torch.Tensor]]]]:
    """What the module returned (with --lengths: its packed call) and each layer run on its own:
    (output, padded to L, and final states) per layer."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    def call(
        m: torch.nn.Module, seq: torch.Tensor, state: Any
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if spec.lengths is None:
            out, final = m(seq, state)
        else:
            packed = pack_padded_sequence(
                seq, list(spec.lengths), batch_first=spec.batch_first, enforce_sorted=False
            )
            packed_out, final = m(packed, state)
            out, _ = pad_packed_sequence(packed_out, batch_first=spec.batch_first, total_length=spec.seq_len)
        return out, split_state(final)

    returned = dict(results)
    if spec.lengths is not None:
        out, finals = call(module, inputs["input"], hidden(inputs))
        returned = {"output": out, **finals}
    D = 2 if spec.bidirectional else 1
    per_layer = []
    layer_input = inputs["input"]
    for k in range(spec.num_layers):
        sub = one_layer(spec, module, k, layer_input.shape[-1])
        out, finals = call(sub, layer_input, hidden(inputs, slice(D * k, D * k + D)))
        per_layer.append((out, finals))
        layer_input = out
    return returned, per_layer
