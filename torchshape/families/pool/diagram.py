"""--diagram for pools: one spatial axis as a row of cells, pure (no torch).

The padding, every window with its stride and dilation, the extra window ceil_mode adds
(kept, or dropped because it would start in the right padding), the input positions no
window reaches; an adaptive pool's windows with their own starts and ends. The probe
fills in torch's output size on that axis.
"""

from __future__ import annotations

from torchshape.diagram import AxisDiagram
from torchshape.families.pool.formulas import dim_rules
from torchshape.families.pool.spec import PoolSpec
from torchshape.families.spatial import axes
from torchshape.families.spatial_diagram import adaptive_diagram, pick_axis, sliding_diagram


def plan(spec: PoolSpec, output: tuple[int, ...] | None = None) -> AxisDiagram:
    """The axis with the most to show; ``output`` is torch's output shape (None: refused)."""
    first = 1 if spec.unbatched else 2
    drawn = []
    for i, (axis, rule) in enumerate(zip(axes(spec.dims), dim_rules(spec), strict=True)):
        torch_out = None if output is None else output[first + i]
        formula = f"{axis}_out = {rule.numeric}"
        if spec.kind.adaptive:
            drawn.append(
                adaptive_diagram(
                    spec.module_call,
                    axis,
                    spec.size[i],
                    spec.output_size[i],
                    torch_out=torch_out,
                    formula=formula,
                )
            )
            continue
        p = spec.padding[i]
        drawn.append(
            sliding_diagram(
                spec.module_call,
                axis,
                spec.size[i],
                (p, p),
                spec.kernel_size[i],
                spec.stride[i],
                spec.dilation[i],
                ceil_mode=spec.ceil_mode,
                torch_out=torch_out,
                formula=formula,
            )
        )
    return pick_axis(drawn)
