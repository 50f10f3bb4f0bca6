"""--diagram for convolutions: one spatial axis as a row of cells, pure (no torch).

The padding, every window with its stride and dilation, the input positions no window
reaches; for a transposed convolution, where each input position writes, the positions
padding crops and the cells output_padding adds. The probe fills in torch's output size
on that axis, so the drawing says whether the windows are as many as torch's outputs.
"""

from __future__ import annotations

from torchshape.diagram import AxisDiagram
from torchshape.families.conv.formulas import dim_formulas, pads
from torchshape.families.conv.spec import ConvSpec
from torchshape.families.spatial_diagram import pick_axis, sliding_diagram, transposed_diagram


def plan(spec: ConvSpec, output: tuple[int, ...] | None = None) -> AxisDiagram:
    """The axis with the most to show; ``output`` is torch's output shape (None: refused)."""
    first = 1 if spec.unbatched else 2
    drawn = []
    for i, (axis, rule) in enumerate(zip(spec.axes, dim_formulas(spec), strict=True)):
        torch_out = None if output is None else output[first + i]
        formula = f"{rule.symbol} = {rule.numeric}"
        k, s, d, size = spec.kernel_size[i], spec.stride[i], spec.dilation[i], spec.size[i]
        if spec.transposed:
            p, op = spec.int_padding[i], spec.output_padding[i]
            drawn.append(
                transposed_diagram(
                    spec.module_call, axis, size, k, s, p, d, op, torch_out=torch_out, formula=formula
                )
            )
        else:
            drawn.append(
                sliding_diagram(
                    spec.module_call,
                    axis,
                    size,
                    pads(spec)[i],
                    k,
                    s,
                    d,
                    torch_out=torch_out,
                    formula=formula,
                    padding_mode=spec.padding_mode.value,
                )
            )
    return pick_axis(drawn)
