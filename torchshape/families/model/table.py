"""``torchshape model``'s settings table: its positional TARGET, its flags and their ``--help``, from
which its command and its "Reproduce with" line are made. No torch and no typer: light enough
for ``torchshape --help``."""

from __future__ import annotations

from torchshape.settings import (
    DEBUG,
    DEVICE,
    DTYPE,
    FORMAT,
    OUTPUT,
    PARAMS,
    Role,
    Setting,
    argument,
    many,
    option,
    switch,
)

SETTINGS: tuple[Setting, ...] = (
    argument(
        "target",
        "TARGET",
        "path/to/file.py:Name or package.module:Name: an nn.Module class, a function returning "
        "a module, or a module object. Importing it runs its code, as python file.py would.",
    ),
    many(
        "inputs",
        "--input",
        "[NAME=]SHAPE[:DTYPE[:LOW-HIGH]]",
        "One per positional argument of forward, in order: 4,10:int64 or 4,7; NAME=SHAPE for a "
        "keyword argument. DTYPE defaults to --dtype; integers are 0 ≤ v < the num_embeddings "
        "of the embedding they feed unless LOW-HIGH is given.",
    ),
    many(
        "args",
        "--arg",
        "NAME=VALUE",
        "A keyword for the class or function; VALUE is a Python literal (ast.literal_eval).",
    ),
    DEVICE,
    DTYPE,
    option(
        "depth",
        "--depth",
        "INT",
        "Show layers down to this depth (0: the model itself); totals are always the whole model.",
    ),
    option(
        "layer",
        "--layer",
        "PATH",
        "Zoom in on one layer (a path from the trace, such as encoder.rnn): its family's full "
        "report (rnn, conv or pool), run on its own weights and the input of its first call.",
        role=Role.RUN,
    ),
    switch(
        "explain", "--explain", "With --layer: the family's --explain, on the layer's tensors.", role=Role.RUN
    ),
    switch(
        "grad",
        "--grad",
        "Run the forward with autograd on, as in training: what backward needs is kept, and "
        "the memory estimate counts it. Without it the forward runs under torch.no_grad(), as "
        "the peers run it.",
    ),
    switch(
        "ops",
        "--ops",
        "Show the operations of your model's own code as rows under the module that ran them "
        "(view, permute, cat, matmul, F.*, indexing), with their file and line. JSON always has them.",
    ),
    FORMAT,
    OUTPUT,
    DEBUG,
    PARAMS,
)
