"""Python: a self-contained PyTorch script that builds the same normalization layer and asserts
every shape, parameter and buffer (and, off meta, the statistics)."""

from __future__ import annotations

from torchshape.families.norm.formulas import buffers, parameters, statistics
from torchshape.families.norm.spec import Kind
from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report


def render_python(report: Report, shown: Shown | None = None) -> str:
    shown = shown or Shown()
    spec = report.spec
    meta = spec.device == "meta"
    call = (
        spec.module_call[:-1] + (", " if spec.module_call[-2] != "(" else "") + "device=device, dtype=dtype)"
    )
    maker = "torch.empty" if meta else "torch.randn"
    about = (
        f"Builds the {spec.module_name} torchshape inspected, feeds it an input of the shape in its",
        "table, and checks every shape.",
    )
    lines = script.head(report, shown, about, meta=(), on_device="")
    lines += [
        f"norm = {call}.train({spec.train})",
        f"input = {maker}({script.shape_tuple(spec.input_shape)}, device=device, dtype=dtype)",
        "",
        "with torch.no_grad():",
        "    output = norm(input)",
        "",
    ]
    for row in report.rows:
        lines.append(f"assert {row.name}.shape == {script.shape_tuple(row.expected)}, {row.name}.shape")
    lines += [
        "",
        "parameters = {name: tuple(p.shape) for name, p in norm.named_parameters()}",
        "buffers = {name: tuple(b.shape) for name, b in norm.named_buffers()}",
    ]
    for what, held in (("parameters", parameters(spec)), ("buffers", buffers(spec))):
        names = ", ".join(f'"{h.name}"' for h in held)
        lines.append(f"assert list({what}) == [{names}], {what}")
        lines += [f'assert {what}["{h.name}"] == {script.shape_tuple(h.shape)}, {what}' for h in held]
    stats = statistics(spec)
    lines += ["", f"# {stats.formula}", f"#   {stats.numeric}"]
    if not meta and not stats.running and stats.values > 1:
        if spec.kind is Kind.RMS:
            lines += [
                "ms = output.double().pow(2).mean(dim=" + repr(stats.dims) + ")",
                "print(ms.min(), ms.max())",
            ]
        else:
            view = (
                "output"
                if spec.kind is not Kind.GROUP
                else f"output.reshape({spec.batch}, {spec.num_groups}, -1)"
            )
            lines += [
                f"var, mean = torch.var_mean({view}.double(), dim={stats.dims!r}, correction=0)",
                "assert mean.abs().max() < 1e-2, mean.abs().max()",
                'print("variance from", var.min().item(), "to", var.max().item())',
            ]
    return "\n".join(lines + script.END)
