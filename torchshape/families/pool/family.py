"""The pool family as the core sees it (``torchshape.families.base.Family``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.families.pool import counts
from torchshape.families.pool.spec import PoolSpec

if TYPE_CHECKING:
    import torch
    from rich.console import RenderableType
    from rich.text import Text

    from torchshape.options import Format, Shown
    from torchshape.report import Report
    from torchshape.view import ParametersSection


class PoolFamily:
    name = "pool"

    # -- spec side
    def macs(self, spec: PoolSpec) -> int:
        return 0  # a pool multiplies nothing; see counts.py

    def estimated_seconds(self, spec: PoolSpec) -> float:
        return counts.estimated_seconds(spec)

    def peak_bytes(self, spec: PoolSpec) -> int:
        return counts.totals(spec).peak_bytes_estimate

    def check_addressable(self, spec: PoolSpec) -> None:
        counts.check_addressable(spec)

    # -- torch side
    def inspect(self, spec: PoolSpec, **options: Any) -> Report:
        from torchshape.families.pool import probe
        from torchshape.families.pool.report import build_report

        return build_report(spec, probe.run(spec, **options))

    def build(self, spec: PoolSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
        from torchshape.families.pool.torch_side import build_module

        return build_module(spec, device, dtype)

    def inputs(self, spec: PoolSpec, device: torch.device, dtype: torch.dtype) -> Any:
        from torchshape.families.pool.torch_side import make_inputs

        return make_inputs(spec, device, dtype)

    def forward(self, module: torch.nn.Module, inputs: Any) -> Any:
        from torchshape.families.pool.torch_side import forward

        return forward(module, inputs)

    # -- presentation
    def sections(self, report: Report) -> list[RenderableType]:
        from torchshape.families.pool.present import sections

        return sections(report)

    def footer(self, report: Report) -> list[Text]:
        from torchshape.families.pool.present import footer

        return footer(report)

    def parameters_section(self, report: Report) -> ParametersSection:
        from torchshape.families.pool.present import params

        return params(report)

    def json_extra(self, report: Report) -> dict[str, Any]:
        from torchshape.families.pool.present import json_extra

        return json_extra(report)

    def csv_rows(self, report: Report) -> list[list[str]]:
        from torchshape.families.pool.present import csv_rows

        return csv_rows(report)

    def python(self, report: Report, shown: Shown) -> str:
        from torchshape.families.pool.snippet import render_python

        return render_python(report, shown)

    def command_line(self, report: Report, fmt: Format, shown: Shown) -> str:
        from torchshape.families.pool.present import command

        return command(report, fmt, shown)


FAMILY = PoolFamily()
