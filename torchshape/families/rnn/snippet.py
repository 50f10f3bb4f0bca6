"""Python: a self-contained PyTorch script that builds the same module and asserts every shape.

The script needs torch and nothing else. It runs at the sizes you gave, on your
device, except for ``--device meta``: no forward pass runs on meta, so the script
runs on the CPU instead (still at your sizes; it says so in a comment).

It is the computation the report verified, not a summary of it: with ``--lengths``
it packs, runs and unpacks; with ``--explain`` it asserts every relation the report
claimed (and that the listed mistakes fail where torch showed they do); with
``--unroll`` it runs the step loop and asserts it matches the one call.
"""

from __future__ import annotations

from torchshape.families.rnn.explain import Analysis
from torchshape.families.rnn.snippet_checks import analysis_lines, assert_shape, assignment, shape_args
from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report

ON_CPU = (
    "# torchshape was asked about --device meta, where no forward pass runs; this script",
    "# runs on the CPU instead, at your full sizes (large sizes take time and memory).",
)


def render_python(report: Report, shown: Shown | None = None) -> str:
    """The script, as text. Run it with ``python``: it exits 0 when every check passes.

    ``shown.params`` (``--params``): the script also asserts every parameter.
    """
    shown = shown or Shown()
    spec = report.spec
    module = spec.kind.value.replace("-", "_")  # the name the call line uses: lstm, gru_cell, ...
    fed = [row for row in report.rows if row.role == "in"]
    returned = [row for row in report.rows if row.role == "out"]
    analysis = report.probe.analysis

    device = "cpu" if spec.device == "meta" else spec.device
    notes = _what_else(analysis, shown)
    lines = script.head(report, shown, script.MODULE_ABOUT, meta=ON_CPU, device=device, notes=notes)
    lines += assignment(module, spec.module_call)
    lines += [
        f"{row.name} = torch.randn({shape_args(row.expected)}, device=device, dtype=dtype)" for row in fed
    ]
    lines += [
        "",
        "with torch.no_grad():",
        f"    {report.call}",  # output, (h_n, c_n) = lstm(input, (h_0, c_0)); h_1 = gru_cell(input, h_0)
        "",
        f"# torch itself refuses {'an h_0 or c_0' if spec.kind.has_cell_state else 'an h_0'} of the wrong "
        "shape; every shape is checked here too.",
    ]
    lines += [assert_shape(row.name, row.expected) for row in [*fed, *returned]]
    lines += ["", 'print("every shape matches")']
    if analysis is not None:
        lines += analysis_lines(report, analysis, module)
    if shown.params:
        lines += _parameter_lines(report, module)
    return "\n".join(lines) + "\n"


def _what_else(analysis: Analysis | None, shown: Shown) -> list[str]:
    """The docstring's line on what the flags add, as the script checks them."""
    parts = []
    if analysis is not None:
        flagged = {
            "the relations --explain claimed": analysis.relations,
            "the hand-off to a decoder": analysis.handoff,
            "the step loop of --unroll": analysis.unroll,
            "the packed batch of --lengths": analysis.packed,
        }
        parts = [words for words, part in flagged.items() if part is not None]
    if shown.params:
        parts.append("every parameter of --params")
    if not parts:
        return []
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return [f"Also runs and checks {listed}."]


# ---------------------------------------------------------------- --params


def _parameter_lines(report: Report, module: str) -> list[str]:
    """Every row of the parameter table against named_parameters() of the very module the script built."""
    rows = report.parameters
    total = report.totals.params if report.totals is not None else sum(row.numel for row in rows)
    lines = [
        "",
        "# --params: every parameter torchshape listed, by name and shape, and their total",
        f"parameters = dict({module}.named_parameters())",
        f"assert len(parameters) == {len(rows)}, sorted(parameters)  # and each is named below",
    ]
    for row in rows:
        lines.append(assert_shape(f'parameters["{row.name}"]', row.shape))
    lines += [
        f"total = sum(p.numel() for p in {module}.parameters())",
        f"assert total == {total}, total",
        f'print("parameters: {len(rows)} named, {total:,} in all, as named_parameters() has them")',
    ]
    return lines
