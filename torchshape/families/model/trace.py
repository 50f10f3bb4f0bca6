"""The trace as plain data: one ``LayerCall`` per module call, in call order. No torch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from torchshape.shapes import shape_text

if TYPE_CHECKING:
    from torchshape.families.diagnosis import Diagnosis
    from torchshape.families.model.diagnose import Unpacked
    from torchshape.families.model.suspect import Suspicion


@dataclass(frozen=True)
class Output:
    """One tensor a call returned, named as PyTorch names it, with its formula where one is known."""

    name: str
    shape: tuple[int, ...]
    formula: str | None = None  # None: no formula for this layer
    expected: tuple[int, ...] | None = None  # the formula at the observed sizes
    # a recurrent layer on meta: the shape came from the formula, which held (True) or not
    # when torch ran the layer at small sizes on the CPU; None: torch ran this very call
    small_run: bool | None = None

    @property
    def verified(self) -> bool | None:
        """True: torch's shape is the formula's; False: it is not; None: no formula."""
        if self.formula is None:
            return None
        return self.expected == self.shape and self.small_run is not False

    @property
    def from_formula(self) -> bool:
        """The shape is the formula's, checked at small sizes (✓*), not this call's."""
        return self.small_run is not None


@dataclass(frozen=True)
class LayerCall:
    """One call of one module (or ``calls`` identical consecutive calls)."""

    path: str  # from named_modules(); "" for the model itself
    type: str  # nn.LSTM, or the user's class name
    module: str  # its constructor as code: nn.LSTM(32, 64, batch_first=True)
    depth: int  # 0 the model, 1 its children, ...
    inputs: tuple[tuple[str, tuple[int, ...]], ...]
    outputs: tuple[Output, ...]
    params: int  # parameters of this module, its children's included
    macs: int | None  # per call, where the formulas give them
    calls: int = 1
    failed: bool = False  # the call raised (the model's own error)
    op: bool = False  # an operation of the model's own code (view, cat, F.linear), not a module
    where: str | None = None  # an operation's file:line
    rule: str | None = None  # an operation's shapes in and out: "cat(dim=-1): (2, 7) + (2, 5) → (2, 12)"
    # the MACs its family's formula gives (nn.Linear, convolutions, nn.MultiheadAttention), to set
    # beside ``macs``, the count of the operations it ran; None: no formula, or no count to check
    macs_formula: int | None = None

    @property
    def macs_checked(self) -> bool | None:
        """True: the family's MAC formula gives the operations' count; False: it does not (the
        operations' count stands); None: nothing to check."""
        if self.macs_formula is None or self.macs is None:
            return None
        return self.macs_formula == self.macs

    @property
    def verified(self) -> bool | None:
        marks = [o.verified for o in self.outputs if o.verified is not None]
        if self.failed or False in marks:
            return False
        return True if marks else None

    @property
    def shown_path(self) -> str:
        return self.path or "(model)"

    def key(self) -> tuple[object, ...]:
        outputs = tuple((o.name, o.shape) for o in self.outputs)
        return (self.path, self.type, self.where, self.inputs, outputs, self.failed)


@dataclass(frozen=True)
class Trace:
    """Every call of the forward pass, and the model's totals."""

    layers: tuple[LayerCall, ...]
    params: int
    trainable: int
    param_bytes: int
    macs: int  # every operation's (``ops.OpCounter``), recurrent layers by their formulas
    input_bytes: int = 0
    leaf_output_bytes: int = 0  # every leaf layer's outputs, all calls
    output_bytes: int = 0  # what the model itself returned
    buffer_bytes: int = 0  # the model's buffers (running statistics, masks)
    # the most bytes of tensors made by the forward that were alive at once (``ops.OpCounter``)
    activation_peak_bytes: int = 0
    grad: bool = False  # the forward ran with autograd on (--grad): what backward needs stays alive
    # ATen operations that multiply matrices but have no MAC formula, ran outside recurrent
    # layers: name -> calls. Non-empty: the MACs are a lower bound.
    uncounted: tuple[tuple[str, int], ...] = ()
    measured_peak_bytes: int | None = None  # the real run's peak, measured (``measure.Measure``)
    # the inputs (by their place among the --input flags) that an embedding read as they came,
    # and the smallest num_embeddings of those embeddings
    feeds: tuple[tuple[int, int], ...] = ()
    warned: tuple[str, ...] = ()  # what the model and torch warned during the trace, once each
    error: str | None = None  # the model's own error: one line
    diagnosis: Diagnosis | None = None  # where forward raised: the layer, what it needs, checked fixes
    warnings: tuple[Suspicion, ...] = ()  # calls torch accepted that usually mean a mistake
    # the inputs that forward unpacked as if tuples (``x, y = pair`` given one tensor), ``tensor``
    # their place among the inputs (positional, then keywords)
    unpacked: tuple[Unpacked, ...] = ()

    @property
    def memory_bytes(self) -> int:
        """The peak estimate, one computation for the report and the guard: the parameters, the
        buffers, the inputs and the most bytes of the forward's own tensors alive at once."""
        return self.param_bytes + self.buffer_bytes + self.input_bytes + self.activation_peak_bytes

    @property
    def macs_complete(self) -> bool:
        """Every operation of the whole forward was counted: it ran to the end, and no operation
        without a formula multiplied matrices."""
        return self.diagnosis is None and self.error is None and not self.uncounted

    @property
    def ok(self) -> bool:
        return self.error is None and all(layer.verified is not False for layer in self.layers)

    @property
    def failure(self) -> str | None:
        """One line when forward raised: the model failed in PATH (TYPE)."""
        if self.diagnosis is None:
            return None
        if self.diagnosis.reads_values is not None:  # it read a meta tensor's values
            place = (self.diagnosis.where or "").partition(": ")[0]
            at = f" at {place}" if place else f" in {self.diagnosis.shown_layer}"
            return (
                f"--device meta: the model failed{at} ({self.diagnosis.message}): meta tensors hold "
                "no values; use --device cpu"
            )
        return f"the model failed in {self.diagnosis.shown_layer} ({self.diagnosis.type})"

    @property
    def mismatches(self) -> list[str]:
        lines = []
        for layer in self.layers:
            for out in layer.outputs:
                if out.verified is False:
                    lines.append(
                        f"✗ MISMATCH {layer.shown_path} ({layer.type}) {out.name}: "
                        f"formula {out.formula} gives "
                        f"{shape_text(out.expected)}, torch returned {shape_text(out.shape)}"
                    )
        return lines


def collapse(calls: list[LayerCall]) -> list[LayerCall]:
    """Identical consecutive calls (same path, same shapes) as one row with their count."""
    rows: list[LayerCall] = []
    for call in calls:
        if rows and rows[-1].key() == call.key():
            rows[-1] = replace(rows[-1], calls=rows[-1].calls + 1)
        else:
            rows.append(call)
    return rows
