"""``torchshape model TARGET``: a per-layer trace of the user's own model. No torch here."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from torchshape.command import (
    Debug,
    Device,
    DTypeOption,
    FormatOption,
    OutputOption,
    Params,
    argument,
    deliver,
    option,
    switch,
)

if TYPE_CHECKING:
    from torchshape.report import Report

# Shown under ``torchshape model --help``; a test runs each one and expects exit 0.
EXAMPLES = (
    "torchshape model tests/models/seq2seq.py:Seq2Seq --input 4,10:int64 --input 4,7:int64",
    "torchshape model tests/models/crnn.py:CRNN --input 2,1,32,100 --depth 1",
    "torchshape model tests/models/cell_loop.py:CellLoop --input 6,3,8 --arg hidden_size=16",
    "torchshape model tests/models/crnn.py:CRNN --input 2,1,32,100 --layer rnn --explain",
)
KINDS: frozenset[str] = frozenset()


def model(
    ctx: typer.Context,
    target: Annotated[
        str,
        argument(
            "TARGET",
            "path/to/file.py:Name or package.module:Name: an nn.Module class, a function returning "
            "a module, or a module object. Importing it runs its code, as python file.py would.",
        ),
    ],
    inputs: Annotated[
        Optional[list[str]],
        option(
            "--input",
            "[NAME=]SHAPE[:DTYPE[:LOW-HIGH]]",
            "One per positional argument of forward, in order: 4,10:int64 or 4,7; NAME=SHAPE for a "
            "keyword argument. DTYPE defaults to --dtype; integers are 0 ≤ v < the num_embeddings "
            "of the embedding they feed unless LOW-HIGH is given.",
        ),
    ] = None,
    args: Annotated[
        Optional[list[str]],
        option(
            "--arg",
            "NAME=VALUE",
            "A keyword for the class or function; VALUE is a Python literal (ast.literal_eval).",
        ),
    ] = None,
    device: Device = "cpu",
    dtype: DTypeOption = "float32",
    depth: Annotated[
        Optional[str],
        option(
            "--depth",
            "INT",
            "Show layers down to this depth (0: the model itself); totals are always the whole model.",
        ),
    ] = None,
    layer: Annotated[
        Optional[str],
        option(
            "--layer",
            "PATH",
            "Zoom in on one layer (a path from the trace, such as encoder.rnn): its family's full "
            "report (rnn, conv or pool), run on its own weights and the input of its first call.",
        ),
    ] = None,
    explain: Annotated[
        bool, switch("--explain", "With --layer: the family's --explain, on the layer's tensors.")
    ] = False,
    grad: Annotated[
        bool,
        switch(
            "--grad",
            "Run the forward with autograd on, as in training: what backward needs is kept, and "
            "the memory estimate counts it. Without it the forward runs under torch.no_grad(), as "
            "the peers run it.",
        ),
    ] = False,
    ops: Annotated[
        bool,
        switch(
            "--ops",
            "Show the operations of your model's own code as rows under the module that ran them "
            "(view, permute, cat, matmul, F.*, indexing), with their file and line. JSON always has them.",
        ),
    ] = False,
    output_format: FormatOption = None,
    output: OutputOption = None,
    debug: Debug = False,
    params: Params = False,
) -> None:
    """Trace your own model: every module call's shapes, with its formula where torchshape knows one."""
    from torchshape.families.model.spec import make_spec
    from torchshape.options import Format, parse_format

    spec = make_spec(
        target, inputs or [], args or [], depth=depth, device=device, dtype=dtype, grad=grad, ops=ops
    )
    if layer is None and explain:
        from torchshape.errors import UsageError

        raise UsageError("--explain", "needs --layer PATH: it checks one layer's relations (rnn, conv, pool)")
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
