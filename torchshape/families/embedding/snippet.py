"""Python: a self-contained PyTorch script that builds the same embedding and asserts every shape.

It needs torch and nothing else and runs where torchshape ran, at the sizes you gave:
on meta too, since torch's meta kernels give shapes at any size in constant time.
"""

from __future__ import annotations

from torchshape.families.embedding.formulas import empty_bags, rule
from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report


def render_python(report: Report, shown: Shown | None = None) -> str:
    shown = shown or Shown()
    spec = report.spec
    meta = spec.device == "meta"
    shapes = {row.name: row.expected for row in report.rows}
    name = "bag" if spec.bag else "embedding"
    index = (
        f"torch.empty({script.shape_tuple(shapes['input'])}, dtype=torch.long, device=device)"
        if meta
        else f"torch.randint(0, {spec.num_embeddings}, {script.shape_tuple(shapes['input'])}, device=device)"
    )
    about = (
        f"Builds the {spec.module_name} torchshape inspected, feeds it indices of the input's shape from",
        "its table, and checks every shape.",
    )
    lines = script.head(report, shown, about, meta=script.ON_META_KERNELS)
    lines += [f"{name} = {spec.module_call[:-1]}, device=device, dtype=dtype)", f"input = {index}"]
    if spec.offsets is not None:
        lines.append(f"offsets = torch.tensor({list(spec.offsets)}, dtype=torch.long, device=device)")
    if spec.per_sample_weights:
        maker = "torch.empty" if meta else "torch.rand"
        lines.append(
            f"per_sample_weights = {maker}({script.shape_tuple(shapes['per_sample_weights'])}, "
            "device=device, dtype=dtype)"
        )
    lines += ["", "with torch.no_grad():", f"    {report.call}", ""]
    for row in report.rows:
        lines.append(f"assert {row.name}.shape == {script.shape_tuple(row.expected)}, {row.name}.shape")
    lines.append(f"assert {name}.weight.shape == ({spec.num_embeddings}, {spec.embedding_dim})")
    lines.append("")
    found = rule(spec)
    lines += [f"# {found.formula}", f"#   {found.numeric}"]
    if not meta and spec.padding_row is not None and spec.max_norm is None:
        lines += ["", "# the padding_idx row is zeros", f"assert not {name}.weight[{spec.padding_row}].any()"]
    empty = empty_bags(spec)
    if not meta and empty:
        lines += ["", "# an empty bag gives a row of zeros", f"assert not output[{empty}].any()"]
    return "\n".join(lines + script.END)
