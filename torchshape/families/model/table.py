"""``torchshape model``'s settings table: its positional TARGET, its flags and their ``--help``, from
which its command and its "Reproduce with" line are made. No torch and no typer: light enough
for ``torchshape --help``."""

from __future__ import annotations

from torchshape import families
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

# The families --layer reads a layer of, from the registry's adapters: "rnn, conv, ... or norm".
LAYER_FAMILIES = ", ".join(list(families.ADAPTERS)[:-1]) + " or " + list(families.ADAPTERS)[-1]

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
        f"report ({LAYER_FAMILIES}), at the settings and input of its first call, on the layer's "
        "own weights where the family runs the layer itself.",
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
