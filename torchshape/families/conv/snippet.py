"""``--format python``: a script that builds the same module with plain torch and asserts its shapes."""

from __future__ import annotations

from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report


def render_python(report: Report, shown: Shown) -> str:
    spec = report.spec
    name = "conv_transpose" if spec.transposed else "conv"
    rows = {row.name: row for row in report.rows}
    fn = "empty" if spec.device == "meta" else "randn"
    about = (
        "Builds the module torchshape inspected, feeds it an input of the shape in its table,",
        *script.MODULE_ABOUT[1:],
    )
    lines = script.head(report, shown, about)
    lines += [
        script.constructor(name, spec.module_name, [*spec.arguments(), "device=device", "dtype=dtype"]),
        f"input = torch.{fn}({', '.join(map(str, rows['input'].expected))}, device=device, dtype=dtype)",
        "",
        "with torch.no_grad():",
        f"    output = {name}(input"
        + ("" if spec.output_size is None else f", output_size={list(spec.output_size)}")
        + ")",
        "",
        f"assert input.shape == {tuple(rows['input'].expected)}, input.shape",
        f"assert output.shape == {tuple(rows['output'].expected)}, output.shape",
    ]
    if shown.params:
        lines += script.parameters_check(report, name)
    return "\n".join(lines + script.END)
