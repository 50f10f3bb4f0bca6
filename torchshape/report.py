"""Plain data that renderers turn into text: formulas side by side with what torch returned."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchshape.families.rnn import cells
from torchshape.families.rnn.counts import ParameterRow, Totals, parameter_rows, totals
from torchshape.families.rnn.formulas import LegendEntry, Symbols, legend, notes, symbols, tensor_formulas
from torchshape.families.rnn.probe import ProbeRun
from torchshape.families.rnn.spec import RNNSpec
from torchshape.timing import Timing

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TensorRow:
    """One tensor: its formula, the shape that formula gives, and what torch did with it."""

    name: str
    formula: str
    expected: tuple[int, ...]  # the formula at the user's sizes
    actual: tuple[int, ...] | None  # torch's shape at the user's sizes; None if not measured there
    probe_shape: tuple[int, ...] | None  # what the forward pass had, at the sizes it ran
    measured: tuple[bool, ...]  # per dimension: did the forward pass run at the user's value?
    verified: bool  # torch agreed with the formula (at the sizes it ran)
    role: str  # "in" (built from the formula and accepted by torch) or "out" (returned by torch)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape to show: torch's own where it ran at the user's sizes."""
        return self.actual if self.actual is not None else self.expected


@dataclass(frozen=True)
class Report:
    """Everything one inspection found."""

    spec: RNNSpec
    symbols: Symbols
    legend: list[LegendEntry]
    rows: list[TensorRow]
    notes: list[str]
    probe: ProbeRun
    parameters: list[ParameterRow] = field(default_factory=list)  # formulas beside named_parameters()
    totals: Totals | None = None  # parameters, MACs and bytes at the user's sizes
    timing: Timing | None = None  # --time: the forward pass, timed on its device

    @property
    def ok(self) -> bool:
        """True when every tensor and parameter agreed with its formula and torch raised nothing."""
        return (
            self.probe.error is None
            and all(row.verified for row in self.rows)
            and all(p.verified for p in self.parameters)
            and (self.probe.analysis is None or self.probe.analysis.ok)
        )

    @property
    def call(self) -> str:
        """How the module is called, in the names the table uses."""
        if self.spec.kind.is_cell:
            return cells.call(self.spec)
        if self.spec.kind.has_cell_state:
            return "output, (h_n, c_n) = lstm(input, (h_0, c_0))"
        return f"output, h_n = {self.spec.kind.value}(input, h_0)"

    @property
    def ran(self) -> str:
        """One sentence saying exactly what was run, for the table footer and JSON."""
        probe = self.probe
        if probe.reduced:
            sizes = ", ".join(f"{k}={v}" for k, v in probe.sizes.as_dict().items() if k in _SIZE_SYMBOLS)
            return (
                f"meta: no forward pass runs on meta; torch {probe.torch_version} ran the same "
                f"module on {probe.device} ({probe.dtype}) at probe sizes {sizes}; shapes at your "
                "sizes come from the formulas that run verified"
            )
        return f"real forward pass on {probe.device} ({probe.dtype}), torch {probe.torch_version}"


_SIZE_SYMBOLS = ("L", "N", "H_in", "H_cell", "H_out", "num_layers")


def build_report(spec: RNNSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned."""
    sym = symbols(spec)
    formulas = tensor_formulas(spec)
    probe_formulas = {f.name: f for f in tensor_formulas(probe.spec)}
    rows = []
    for f in formulas:
        probe_shape = probe.shapes.get(f.name)
        at_probe = probe_formulas[f.name].shape(probe.sizes)
        measured = tuple(d.value(sym) == d.value(probe.sizes) for d in f.dims)
        verified = probe_shape == at_probe and (f.name not in ("output", "h_n", "c_n") or probe.error is None)
        exact = not probe.reduced
        rows.append(
            TensorRow(
                name=f.name,
                formula=f.formula,
                expected=f.shape(sym),
                actual=probe_shape if exact else None,
                probe_shape=probe_shape,
                measured=measured if probe.reduced else tuple(True for _ in f.dims),
                verified=verified,
                role="in" if f.name in ("input", "h_0", "c_0") else "out",
            )
        )
    return Report(
        spec=spec,
        symbols=sym,
        legend=legend(spec),
        rows=rows,
        notes=notes(spec),
        probe=probe,
        parameters=parameter_rows(spec, probe.parameters, probe.parameter_layers),
        totals=totals(spec),
    )
