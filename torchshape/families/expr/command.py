"""``torchshape expr EXPRESSION --tensor NAME=SHAPE``: the shape and dtype of a tensor expression,
a row per sub-expression with its rule, checked by torch; its command made from its settings
table (``table.SETTINGS``). No torch here.

The expression is checked against the allow-list (``safety``) in ``make_spec``, before torch is
imported: a refused one exits 2 having run nothing.
"""

from __future__ import annotations

from typing import Any

import typer

from torchshape.command import deliver, table_command
from torchshape.families.expr.table import SETTINGS

KINDS: frozenset[str] = frozenset()
# Shown under ``torchshape expr --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape expr 'a[:, 0]' --tensor a=3,4",
    "torchshape expr 'x @ W.T + b' --tensor x=32,784 --tensor W=10,784 --tensor b=10",
    "torchshape expr 'a[idx, :, idx]' --tensor a=5,6,7 --tensor idx=4:int64 --explain",
    "torchshape expr 'x.transpose(0, 1).reshape(-1)' --tensor x=1000000,1000000",
    "torchshape expr 'torch.cat(inputs).view(len(inputs), 1, -1)' --tensor 'inputs=[1,3]*5'",
)


def _run(
    ctx: typer.Context,
    *,
    expression: str,
    tensors: list[str] | None,
    device: str,
    explain: bool,
    diagram: bool,
    **output: Any,
) -> None:
    """The expression and its tensors checked into a spec, run and delivered (``output``: where
    and in which format, --output and --format)."""
    from torchshape.families.expr.spec import make_spec

    spec = make_spec(expression, tensors or (), device=device, explain=explain, diagram=diagram)

    from torchshape.api import expr as run_expr

    deliver(ctx, spec, lambda: run_expr(spec), explain=explain, diagram=diagram, **output)


expr = table_command(
    "expr",
    SETTINGS,
    "The shape and dtype of a tensor expression, each sub-expression with its rule, checked by torch.",
    _run,
)
