"""Python: a self-contained PyTorch script that builds the same pool and asserts every shape.

It needs torch and nothing else and runs where torchshape ran, at the sizes you gave:
on meta too, since torch's pooling meta kernels give shapes at any size in constant time.
"""

from __future__ import annotations

from torchshape.families.pool.explain import unpools
from torchshape.families.pool.formulas import dim_rules
from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report


def render_python(report: Report, shown: Shown | None = None) -> str:
    shown = shown or Shown()
    spec = report.spec
    meta = spec.device == "meta"
    names = [row.name for row in report.rows if row.role == "out"]
    about = (
        "Builds the pool torchshape inspected, feeds it a tensor of the input's shape from its table,",
        "and checks every shape.",
    )
    lines = script.head(report, shown, about, meta=script.ON_META_KERNELS)
    lines += [
        f"pool = {spec.module_call}",
        f"input = torch.randn({', '.join(map(str, report.rows[0].expected))}, device=device, dtype=dtype)",
        "",
        "with torch.no_grad():",
        f"    {', '.join(names)} = pool(input)",
        "",
    ]
    for row in report.rows:
        lines.append(f"assert {row.name}.shape == {script.shape_tuple(row.expected)}, {row.name}.shape")
    lines.append("")
    for rule in dim_rules(spec):
        lines.append(f"# {rule.formula}")
        lines.append(f"#       = {rule.numeric}")
    lines += ["", "assert not list(pool.parameters())  # a pool has no parameters"]
    if spec.return_indices and not meta:
        lines += [
            "",
            "# indices point into each plane of the input, flattened",
            f"flat = input.flatten(-{spec.dims})",
            f"gathered = flat.gather(-1, indices.flatten(-{spec.dims})).reshape(output.shape)",
            "assert torch.equal(gathered, output)",
        ]
        if unpools(spec):
            args = f"{spec.kernel_size}, {spec.stride}, {spec.padding}"
            lines += [
                f"unpool = nn.MaxUnpool{spec.dims}d({args})",
                f"unpooled = unpool(output, indices, output_size=input.shape[-{spec.dims}:])",
                "assert unpooled.shape == input.shape, unpooled.shape",
            ]
    return "\n".join(lines + script.END)
