"""The contract between the core and a family, one protocol per role, checked by mypy.

A family folder provides one module per role (``request``, ``spec``, ``counts``, ``probe``,
``report``, ``torch_side``, ``present``, ``snippet``; optionally ``html``). Its ``family.py`` names
them in ``Folder(...)`` under ``TYPE_CHECKING``: mypy then checks each module against its role's
protocol, so a family missing a hook (``present.json_extra`` or ``spec.command_line`` deleted)
fails ``mypy --strict``, not the run. At run time the core still imports each module on first
use (``FolderFamily``), keeping ``--help`` free of torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch
    from rich.console import RenderableType
    from rich.text import Text

    from torchshape.diagram import Diagram
    from torchshape.facts import Totals
    from torchshape.families.diagnosis import Diagnosis, Earlier
    from torchshape.families.layers import Known, Layer, LayerCall
    from torchshape.options import Shown
    from torchshape.probe import ProbeRun
    from torchshape.report import Report
    from torchshape.view import ParametersSection


class Request(Protocol):
    """One validation step: raw settings (text from the command line, values from Python) become
    the family's spec; ``names`` says what messages call each setting (flags or arguments)."""

    def make_spec(self, *, names: Mapping[str, str] | None = None, **raw: Any) -> Any: ...


class Counts(Protocol):
    """Pure arithmetic at the user's sizes (no torch): the guard, the spinner and timing ask it."""

    def totals(self, spec: Any, /) -> Totals: ...
    def estimated_seconds(self, spec: Any, /) -> float: ...


class Limits(Protocol):
    """The guard's refusal of a tensor past what torch can address (usually in ``counts``)."""

    def check_addressable(self, spec: Any, /) -> None: ...


class Probe(Protocol):
    """The torch side's checked run: ``run(spec, explain=..., ...)``, the family's own switches."""

    @property
    def run(self) -> Callable[..., ProbeRun]: ...


class Builder(Protocol):
    """The report: each formula beside the tensor torch fed or returned."""

    def build_report(self, spec: Any, probe: ProbeRun, /) -> Report: ...


class TorchSide(Protocol):
    """Build, feed and call the module (``--time`` runs these again)."""

    def build_module(self, spec: Any, device: torch.device, dtype: torch.dtype, /) -> torch.nn.Module: ...
    def make_inputs(self, spec: Any, device: torch.device, dtype: torch.dtype, /) -> Any: ...
    def forward(self, module: torch.nn.Module, inputs: Any, /) -> Any: ...


class Present(Protocol):
    """How the family's report reads: sections, footer, --params, JSON keys, CSV rows."""

    def sections(self, report: Report, /) -> list[RenderableType]: ...
    def footer(self, report: Report, totals: Totals, /) -> list[Text]: ...
    def params(self, report: Report, /) -> ParametersSection: ...
    def json_extra(self, report: Report, /) -> dict[str, Any]: ...
    def csv_rows(self, report: Report, /) -> list[list[str]]: ...


class Written(Protocol):
    """The family's ``spec`` module writes a request back: ``command_line(spec, fmt, **flags)``, the
    command that asks for that spec and the run's switches again ("Reproduce with")."""

    @property
    def command_line(self) -> Callable[..., str]: ...


class Snippet(Protocol):
    """--format python: a script that rebuilds the module and checks every shape."""

    def render_python(self, report: Report, shown: Shown, /) -> str: ...


class Html(Protocol):
    """A notebook's view: the family's sections as HTML fragments."""

    def sections(self, report: Report, /) -> list[str]: ...


class LayerAdapter(Protocol):
    """A family's ``adapter.py``: the torch.nn classes it claims inside a user's model (a subclass
    that keeps its class's forward too), what its formulas say about one call, and the call as the
    family's spec for ``--layer``. Listed in ``families.ADAPTERS``; the model family asks
    ``families.claim(module)`` and knows no family by name."""

    CLASSES: tuple[type, ...]  # the torch.nn classes this family describes
    SUPPORTED: str  # how --layer's message names them: "conv (nn.Conv1d/2d/3d, ...)"
    OWN_WEIGHTS: bool  # --layer runs the family on the layer's own weights and inputs

    def known(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], /) -> Known | None: ...
    def layer(self, module: Any, call: LayerCall, /) -> Layer | None: ...

    # When the model fails in the layer: what it expects of its input, the constructor arguments
    # that rebuild it, the changed arguments to try, and its family's own diagnosis (None: none)
    def expects(self, module: Any, /) -> str | None: ...
    def arguments(self, module: Any, /) -> dict[str, Any] | None: ...
    def proposals(self, module: Any, arrived: Any, /) -> list[tuple[str, dict[str, Any]]] | None: ...
    def diagnose(
        self, base: Diagnosis, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], earlier: Earlier, /
    ) -> Diagnosis | None: ...


@dataclass(frozen=True)
class Folder:
    """A family folder's modules, each checked against its role. ``torch_side`` is None for a
    family that builds no module of its own (``model`` traces the user's); ``diagram`` and
    ``html`` are None where the family has no --diagram or HTML sections of its own."""

    request: Request | None  # None: the family checks its settings in its own command (model, expr)
    spec: Written  # "Reproduce with": the spec written back as the command that asks for it
    counts: Counts
    limits: Limits
    probe: Probe
    report: Builder
    torch_side: TorchSide | None
    present: Present
    snippet: Snippet
    diagram: Callable[[Report], Diagram | None] | None  # --diagram: the checked picture
    html: Html | None
