"""What ``--explain``, ``--lengths`` and ``--unroll`` claim for one configuration.

Pure rules, no torch, in the PyTorch docs' symbols: which indexing expressions
relate ``output`` to ``h_n`` (and which common guesses do not), how ``h_n`` is laid
out, the shapes of a packed batch, and the per-step shapes of a step-by-step loop.
``torchshape.families.rnn.explain_probe`` checks every claim on a real forward pass; the result
types carry both the claim and what torch did. The relations are in ``relations``, the hand-off
to a decoder in ``handoff``, the packed batch in ``packed`` and the step loop in ``unroll``; the
layout of h_n, the flags' checks and the whole analysis are here.

    output[-1, :, :H_out] == h_n[-1]     unidirectional: the top layer's last step
    output[-1, :, :H_out] == h_n[-2]     bidirectional: the top layer's forward direction
    output[0, :, H_out:] == h_n[-1]      bidirectional: the backward direction ends at step 0
    h_n.view(num_layers, D, N, H_out)[layer, direction] is h_n[D·layer + direction]
    packed: output[lengths - 1, torch.arange(N), :H_out] == h_n[-D]   (not output[-1])
"""

from __future__ import annotations

from dataclasses import dataclass

from torchshape.errors import UsageError
from torchshape.families.rnn.cells import reject_sequence_analyses
from torchshape.families.rnn.formulas import tensor_formulas
from torchshape.families.rnn.handoff import HandoffResult
from torchshape.families.rnn.packed import PackedResult
from torchshape.families.rnn.relations import RelationCheck, Writer
from torchshape.families.rnn.spec import FLAGS, RNNSpec
from torchshape.families.rnn.unroll import UnrollResult

# A step-by-step loop makes one call per time step; past this many it stops being
# an explanation and becomes a wait.
MAX_UNROLL_STEPS = 4096


def check_options(spec: RNNSpec, *, explain: bool = False, unroll: bool = False) -> None:
    """Refuse combinations that cannot be answered meaningfully, naming the flag."""
    if spec.kind.is_cell:
        reject_sequence_analyses(spec.kind, explain=explain, unroll=unroll, seq_len=spec.seq_len)
    if not unroll:
        return
    if spec.device == "meta":
        raise UsageError(
            "--unroll",
            "needs values to compare, and meta tensors have none; use --device cpu (or cuda)",
        )
    if spec.lengths is not None:
        raise UsageError(
            "--unroll",
            f"not with {FLAGS['lengths']}: a step loop over a padded batch runs every sequence to L; "
            "drop one of the two",
        )
    if spec.seq_len > MAX_UNROLL_STEPS:
        raise UsageError(
            "--unroll",
            f"L = {spec.seq_len} steps would take {spec.seq_len} calls; "
            f"use --seq-len {MAX_UNROLL_STEPS} or less",
        )


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Which index of h_n (or c_n) holds each layer and direction."""

    tensor: str  # h_n or c_n
    view: str  # h_n.view(num_layers, D, N, H_out)
    view_numeric: str
    directions: tuple[str, ...]
    grid: tuple[tuple[int, ...], ...]  # grid[layer][direction] = index along h_n's first dimension


def layouts(spec: RNNSpec) -> list[Layout]:
    """h_n (and c_n) as ``view(num_layers, D, N, ·)[layer, direction]``: index D·layer + direction."""
    w = Writer(spec)
    sym = w.sym
    directions = ("forward", "backward") if spec.bidirectional else ("forward",)
    grid = tuple(tuple(sym["D"] * layer + d for d in range(sym["D"])) for layer in range(sym["num_layers"]))
    tensors = [("h_n", "H_out")] + ([("c_n", "H_cell")] if spec.kind.has_cell_state else [])
    return [Layout(name, *w.write(w.view(name, feature)), directions, grid) for name, feature in tensors]


def feature_sizes(spec: RNNSpec) -> dict[str, list[str]]:
    """Which tensors end in H_out and which in H_cell (they differ only with proj_size)."""
    out: dict[str, list[str]] = {"H_out": [], "H_cell": []}
    for f in tensor_formulas(spec):
        last = f.dims[-1].split("·")[-1]
        if last in out:
            out[last].append(f.name)
    return out


# ---------------------------------------------------------------- all of it


@dataclass(frozen=True)
class Analysis:
    """What --explain, --lengths and --unroll found; None for a part not asked for."""

    relations: list[RelationCheck] | None = None
    layouts: list[Layout] | None = None
    feature_sizes: dict[str, list[str]] | None = None
    packed: PackedResult | None = None
    unroll: UnrollResult | None = None
    values: bool = True  # False on meta: no values, so no relation was evaluated
    handoff: HandoffResult | None = None  # --explain, bidirectional or stacked: h_n to a decoder

    @property
    def ok(self) -> bool:
        return (
            all(r.ok for r in self.relations or [])
            and (self.packed is None or self.packed.ok)
            and (self.unroll is None or self.unroll.ok)
            and (self.handoff is None or self.handoff.ok)
        )
