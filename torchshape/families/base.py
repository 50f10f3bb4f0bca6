"""What a family gives the core: one small protocol.

The spec side is pure (no torch): the counts the guard, the spinner and timing need.
The torch side builds, feeds and calls the module and runs the checked forward pass.
The presentation side says how the family's own sections, footer, JSON keys, CSV rows and
python script read, and "Reproduce with" writes the report's request back through the family's
spec; renderers call it and know no family by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, runtime_checkable

from torchshape.facts import NoSymbols as NoSymbols  # model's and expr's specs name it from here

if TYPE_CHECKING:
    import torch
    from rich.console import RenderableType
    from rich.text import Text

    from torchshape.diagram import Diagram
    from torchshape.families.contract import (
        Builder,
        Counts,
        Html,
        Limits,
        Present,
        Probe,
        Request,
        Snippet,
        TorchSide,
        Written,
    )
    from torchshape.options import Format, Shown
    from torchshape.report import Report
    from torchshape.view import ParametersSection


@runtime_checkable
class Family(Protocol):
    name: str  # the command: rnn, conv, pool

    # -- spec side: pure arithmetic at the user's sizes
    def macs(self, spec: Any) -> int: ...
    def estimated_seconds(self, spec: Any) -> float: ...
    def peak_bytes(self, spec: Any) -> int: ...
    def check_addressable(self, spec: Any) -> None: ...

    # -- request: the family's settings checked into its spec, then its run's switches
    def make_spec(self, *, names: Mapping[str, str] | None = None, **raw: Any) -> Any: ...
    def check_switches(self, spec: Any, **switches: Any) -> None: ...

    # -- torch side
    def inspect(self, spec: Any, **options: Any) -> Report: ...
    def build(self, spec: Any, device: torch.device, dtype: torch.dtype) -> torch.nn.Module: ...
    def inputs(self, spec: Any, device: torch.device, dtype: torch.dtype) -> Any: ...
    def forward(self, module: torch.nn.Module, inputs: Any) -> Any: ...

    # -- presentation
    def sections(self, report: Report) -> list[RenderableType]: ...
    def footer(self, report: Report) -> list[Text]: ...
    def parameters_section(self, report: Report) -> ParametersSection: ...
    def json_extra(self, report: Report) -> dict[str, Any]: ...
    def csv_rows(self, report: Report) -> list[list[str]]: ...
    def python(self, report: Report, shown: Shown) -> str: ...
    def command_line(self, report: Report, fmt: Format, shown: Shown) -> str: ...
    def diagram(self, report: Report) -> Diagram | None: ...
    def html_sections(self, report: Report) -> list[str] | None: ...


class FolderFamily:
    """A family whose hooks live in its folder, one module per role (``contract.Folder``):

    - ``counts``: ``totals(spec)`` (its ``macs`` and ``peak_bytes_estimate``),
      ``estimated_seconds(spec)``, ``check_addressable(spec)`` (or ``LIMITS``, another module);
    - ``probe``: ``run(spec, **options)`` and ``report``: ``build_report(spec, run)``;
    - ``torch_side``: ``build_module``, ``make_inputs``, ``forward``;
    - ``present``: ``sections``, ``footer``, ``params``, ``json_extra``, ``csv_rows``,
      and optionally ``diagram`` (--diagram); ``snippet``: ``render_python``; ``spec``:
      ``command_line`` ("Reproduce with", from the report's spec and switches);
      optionally ``html``: ``sections`` as HTML (a notebook's view of the report).

    Each module is imported when its hook is first asked for, so the core's imports stay
    light (``--help`` loads no family) and the torch side loads only to run. The family's
    ``family.py`` names its modules in ``contract.Folder(...)``, which mypy checks.
    """

    LIMITS: ClassVar[str] = "counts"  # the module with ``check_addressable``

    def __init__(self, name: str) -> None:
        self.name = name  # the command, and the folder torchshape/families/NAME/

    def _module(self, leaf: str) -> ModuleType:
        return importlib.import_module(f"torchshape.families.{self.name}.{leaf}")

    def _counts(self) -> Counts:
        return cast("Counts", self._module("counts"))

    def _torch_side(self) -> TorchSide:
        return cast("TorchSide", self._module("torch_side"))

    def _present(self) -> Present:
        return cast("Present", self._module("present"))

    # -- request
    def make_spec(self, *, names: Mapping[str, str] | None = None, **raw: Any) -> Any:
        return cast("Request", self._module("request")).make_spec(names=names, **raw)

    def check_switches(self, spec: Any, **switches: Any) -> None:
        """Refuse a run's switch (--explain, --diagram) this spec cannot answer; none by default."""

    # -- spec side
    def macs(self, spec: Any) -> int:
        return self._counts().totals(spec).macs

    def estimated_seconds(self, spec: Any) -> float:
        return self._counts().estimated_seconds(spec)

    def peak_bytes(self, spec: Any) -> int:
        return self._counts().totals(spec).peak_bytes_estimate

    def check_addressable(self, spec: Any) -> None:
        cast("Limits", self._module(self.LIMITS)).check_addressable(spec)

    # -- torch side
    def inspect(self, spec: Any, **options: Any) -> Report:
        from dataclasses import replace

        run = cast("Probe", self._module("probe")).run(spec, **options)
        report = cast("Builder", self._module("report")).build_report(spec, run)
        return replace(report, switches=dict(options))  # what was asked, for "Reproduce with"

    def build(self, spec: Any, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
        return self._torch_side().build_module(spec, device, dtype)

    def inputs(self, spec: Any, device: torch.device, dtype: torch.dtype) -> Any:
        return self._torch_side().make_inputs(spec, device, dtype)

    def forward(self, module: torch.nn.Module, inputs: Any) -> Any:
        return self._torch_side().forward(module, inputs)

    # -- presentation
    def sections(self, report: Report) -> list[RenderableType]:
        return self._present().sections(report)

    def footer(self, report: Report) -> list[Text]:
        """The family's lines under the table; none for a report without totals."""
        return [] if report.totals is None else self._present().footer(report, report.totals)

    def parameters_section(self, report: Report) -> ParametersSection:
        return self._present().params(report)

    def json_extra(self, report: Report) -> dict[str, Any]:
        return self._present().json_extra(report)

    def csv_rows(self, report: Report) -> list[list[str]]:
        return self._present().csv_rows(report)

    def python(self, report: Report, shown: Shown) -> str:
        return cast("Snippet", self._module("snippet")).render_python(report, shown)

    def command_line(self, report: Report, fmt: Format, shown: Shown) -> str:
        """ "Reproduce with": the request the report carries (its spec and the switches the run
        was asked for) written back as flags, and the output's (--params, --time, --output)."""
        timing = None if report.timing is None else (report.timing.repeats, report.timing.warmup)
        return cast("Written", self._module("spec")).command_line(
            report.spec, fmt, **report.switches, params=shown.params, timing=timing, output=shown.output
        )

    def diagram(self, report: Report) -> Diagram | None:
        """--diagram: ``present.diagram(report)``, an optional hook; None without it."""
        hook = getattr(self._present(), "diagram", None)
        found: Diagram | None = hook(report) if hook is not None else None
        return found

    def html_sections(self, report: Report) -> list[str] | None:
        """The family's sections as HTML fragments: ``html.sections(report)``, an optional module;
        None without it (the HTML renderer shows the terminal's sections as text)."""
        try:
            module = self._module("html")
        except ModuleNotFoundError as missing:
            if missing.name != f"torchshape.families.{self.name}.html":
                raise
            return None
        return cast("Html", module).sections(report)
