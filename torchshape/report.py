"""Plain data that renderers turn into text: formulas side by side with what torch returned.

Every family fills the same ``Report`` (``torchshape.families.*.report``); renderers read it.
A Report shows itself through them: ``print(report)`` the table, a rich console the coloured
table, a notebook the HTML, ``repr`` one line; ``to_dict``/``to_json``/``to_markdown`` name the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from torchshape.facts import LegendEntry, NoSymbols, ParameterRow, Symbols, TensorFormula, Timing, Totals
from torchshape.probe import ProbeRun

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

SCHEMA_VERSION = 1


def _render(module: str) -> Any:
    """A renderer's module, found when a report is shown. The renderers import this module, so
    this one names them, at call time, instead of importing them (no import cycle)."""
    return importlib.import_module(f"torchshape.render.{module}")


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

    family: str  # the family (and command) it belongs to: rnn, conv, pool
    spec: Any  # the family's checked spec: ``module_call``, ``as_dict()``, ``device``, ``dtype``
    symbols: Any  # the value of every symbol at the user's sizes (``.as_dict()``)
    legend: list[LegendEntry]
    rows: list[TensorRow]
    notes: list[str]
    probe: ProbeRun
    call: str  # how the module is called, in the names the table uses
    ran: str  # one sentence saying exactly what was run, for the table footer and JSON
    parameters: list[ParameterRow] = field(default_factory=list)  # formulas beside named_parameters()
    totals: Totals | None = None  # parameters, MACs and bytes at the user's sizes
    timing: Timing | None = None  # --time: the forward pass, timed on its device
    # one layer of a bigger model (``torchshape model --layer``): which layer of which model, and
    # what its first call saw; renderers show it above the module. None: a standalone inspection.
    title: str | None = None
    # the run's switches it was asked for (explain, diagram, rnn's unroll), as ``run_spec`` passed
    # them: what "Reproduce with" asks for again, read here rather than guessed from the probe
    switches: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every tensor and parameter agreed with its formula and torch raised nothing."""
        return (
            self.probe.error is None
            and all(row.verified for row in self.rows)
            and all(p.verified for p in self.parameters)
            and (self.probe.analysis is None or self.probe.analysis.ok)
            and (self.probe.diagram is None or self.probe.diagram.holds is not False)
        )

    # -- how a report shows itself

    def __repr__(self) -> str:
        """``<Report model Sequential: 4 layers, 54,170 params, ✓>``."""
        layers = getattr(self.probe.analysis, "layers", None)
        if isinstance(layers, tuple):  # a model's trace: its module calls below the model
            count = sum(1 for layer in layers if getattr(layer, "depth", 0) > 0)
            counted = f"{count} layer{'s' if count != 1 else ''}"
        else:
            counted = f"{len(self.rows)} tensor{'s' if len(self.rows) != 1 else ''}"
        mark = ("✓*" if self.probe.reduced else "✓") if self.ok else "✗"
        params = self.totals.params if self.totals is not None else sum(p.numel for p in self.parameters)
        return f"<Report {self.family} {self.spec.module_call}: {counted}, {params:,} params, {mark}>"

    def __str__(self) -> str:
        """The table as plain text, no colour: what ``torchshape ... --format table`` writes to a file."""
        return cast("str", _render("table").render_table(self))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The coloured table in a rich console (``rich.print(report)``, IPython with rich)."""
        yield _render("table").table_renderable(self)

    def _repr_html_(self) -> str:
        """Jupyter's view: an HTML table, a long model trace folded by depth."""
        return self.to_html()

    def to_html(self) -> str:
        return cast("str", _render("html").render_html(self))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as Python data (``--format json``; docs/json.md)."""
        return cast("dict[str, Any]", _render("json_format").to_dict(self))

    def to_json(self) -> str:
        return cast("str", _render("json_format").render_json(self))

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown (``--format markdown``), for an issue or a design doc."""
        return cast("str", _render("markdown").render_markdown(self))


@dataclass(frozen=True, repr=False)
class Summary(Report):
    """``torchshape.summary``'s result: the model's Report, and its totals under torchinfo's
    names (docs/python-api.md, "Coming from torchinfo"). Bytes at the dtypes that ran."""

    total_params: int = 0  # every parameter tensor once: shared (tied) weights count once
    trainable_params: int = 0  # those with requires_grad
    total_mult_adds: int = 0  # MACs of the layers whose formulas give them (no bias additions)
    total_input: int = 0  # bytes of the inputs fed
    total_output_bytes: int = 0  # outputs of every leaf layer with parameters, x2 for gradients
    total_param_bytes: int = 0


def row_at_your_sizes(
    name: str,
    formula: str,
    expected: tuple[int, ...],
    actual: tuple[int, ...] | None,
    *,
    fed: bool,
    error: str | None,
) -> TensorRow:
    """A tensor of a forward pass that ran at the user's own sizes (on meta too, for kernels
    that run there): verified when torch's shape is the formula's, and for what torch
    returned, when torch raised nothing."""
    return TensorRow(
        name=name,
        formula=formula,
        expected=expected,
        actual=actual,
        probe_shape=actual,
        measured=tuple(True for _ in expected),
        verified=actual == expected and (fed or error is None),
        role="in" if fed else "out",
    )


def fed_report(
    spec: Any,
    probe: ProbeRun,
    fed: Iterable[tuple[str, str, tuple[int, ...]]],
    notes: list[str],
    *,
    call: str,
    ran: str,
    totals: Totals,
) -> Report:
    """The report of a family with no formulas of its own (model, expr): its rows are the tensors
    it was fed (name, the flag that gave it, shape); what it found is the probe's analysis."""
    rows = [row_at_your_sizes(name, given, shape, shape, fed=True, error=None) for name, given, shape in fed]
    return Report(
        family=spec.family,
        spec=spec,
        symbols=NoSymbols(),
        legend=[],
        rows=rows,
        notes=notes,
        probe=probe,
        call=call,
        ran=ran,
        totals=totals,
    )


def real_pass(probe: ProbeRun) -> str:
    """The sentence for a real forward pass: ``real forward pass on cpu (float32), torch 2.13.0``."""
    return f"real forward pass on {probe.device} ({probe.dtype}), torch {probe.torch_version}"


# What a layer family's report says of a forward pass on meta at the user's sizes.
META = "meta: shapes from torch's meta kernels, no values"


def meta_or_real_pass(probe: ProbeRun, kernels: str = "") -> str:
    """One sentence saying exactly what was run: on meta at the user's sizes, or a real pass.
    ``kernels``: which of torch's meta kernels gave the shapes, where the family names them."""
    if probe.device == "meta" and kernels:
        return (
            f"forward pass on meta at your sizes: torch {probe.torch_version}'s {kernels} "
            f"gave every shape ({probe.dtype}); no values were computed"
        )
    if probe.device == "meta":
        return f"{META}; torch {probe.torch_version} ran the module on meta at your sizes ({probe.dtype})"
    return real_pass(probe)


class Formulas(Protocol):
    """A layer family's pure formulas (its ``formulas`` module), as its report reads them."""

    def symbols(self, spec: Any, /) -> Symbols: ...
    def tensor_formulas(self, spec: Any, /) -> list[TensorFormula]: ...
    def legend(self, spec: Any, /) -> list[LegendEntry]: ...
    def notes(self, spec: Any, /) -> list[str]: ...


def layer_report(
    spec: Any,
    probe: ProbeRun,
    formulas: Formulas,
    call: str,
    totals: Totals,
    parameters: list[ParameterRow] | None = None,
    *,
    ran: str | None = None,
) -> Report:
    """A layer family's report: each tensor formula beside the tensor torch was fed
    (``TensorFormula.fed``) or returned, at the user's sizes (on meta too), or where the forward
    pass ran at smaller sizes (``probe.reduced``: rnn on meta), at those; ``parameters``: None
    for a family that has none (pools); ``ran``: where the family says more than ``meta_or_real_pass``."""
    sym = formulas.symbols(spec)
    tensors = formulas.tensor_formulas(spec)
    rows = [
        row_at_your_sizes(
            f.name, f.formula, f.shape(sym), probe.shapes.get(f.name), fed=f.fed, error=probe.error
        )
        for f in tensors
    ]
    if probe.reduced:
        at_probe = {f.name: f.shape(probe.sizes) for f in formulas.tensor_formulas(probe.spec)}
        rows = [
            replace(
                row,
                actual=None,
                verified=row.probe_shape == at_probe[f.name] and (f.fed or probe.error is None),
                measured=tuple(sym[d] == probe.sizes[d] for d in f.dims),
            )
            for f, row in zip(tensors, rows, strict=True)
        ]
    return Report(
        family=spec.family,
        spec=spec,
        symbols=sym,
        legend=formulas.legend(spec),
        rows=rows,
        notes=formulas.notes(spec),
        probe=probe,
        call=call,
        ran=meta_or_real_pass(probe) if ran is None else ran,
        parameters=parameters or [],
        totals=totals,
    )
