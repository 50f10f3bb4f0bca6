"""``torchshape model TARGET``: a per-layer trace of the user's own model, its command made from its
settings table (``table.SETTINGS``). No torch here."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import typer

from torchshape.command import deliver, table_command
from torchshape.families.model.table import LAYER_FAMILIES, SETTINGS

if TYPE_CHECKING:
    from torchshape.report import Report

KINDS: frozenset[str] = frozenset()
# Shown under ``torchshape model --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape model tests/models/seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64",
    "torchshape model tests/models/crnn.py:CRNN --input 2,1,32,100 --depth 1",
    "torchshape model tests/models/cell_loop.py:CellLoop --input 6,3,8 --arg hidden_size=16",
    "torchshape model tests/models/crnn.py:CRNN --input 2,1,32,100 --layer rnn --explain",
)


def _run(
    ctx: typer.Context,
    *,
    target: str,
    inputs: list[str] | None,
    args: list[str] | None,
    device: str,
    dtype: str,
    depth: str | None,
    layer: str | None,
    explain: bool,
    grad: bool,
    ops: bool,
    output_format: str | None,
    output: str | None,
    params: bool,
) -> None:
    """The trace, or with --layer one layer's family report, checked and delivered."""
    from torchshape.families.model.spec import make_spec
    from torchshape.options import Format, parse_format

    spec = make_spec(
        target, inputs or [], args or [], depth=depth, device=device, dtype=dtype, grad=grad, ops=ops
    )
    if layer is None and explain:
        from torchshape.errors import UsageError

        why = f"needs --layer PATH: it checks one layer's relations ({LAYER_FAMILIES})"
        raise UsageError("--explain", why)
    if layer is None and parse_format(output_format, output) is Format.PYTHON:
        from torchshape.errors import UsageError
        from torchshape.families.model.snippet import REFUSAL

        raise UsageError("--format", f"python {REFUSAL}")

    from torchshape import guard

    guard.check(spec)  # inputs torch cannot address, or that do not fit in free memory: refused first
    inspect: Callable[[], Report]
    if layer is not None:
        from torchshape.families.model.layer_probe import inspect_layer

        inspect = partial(inspect_layer, spec, layer, explain=explain)
    else:
        from torchshape.families.model.family import FAMILY

        inspect = partial(FAMILY.inspect, spec)
    deliver(ctx, spec, inspect, output_format=output_format, output=output, params=params, explain=explain)


model = table_command(
    "model",
    SETTINGS,
    "Trace your own model: every module call's shapes, with its formula where torchshape knows one.",
    _run,
)
