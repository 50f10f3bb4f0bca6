"""``torchshape expr``'s settings table: its positional EXPRESSION, its flags and their ``--help``,
from which its command and its "Reproduce with" line are made. No torch and no typer: light
enough for ``torchshape --help``."""

from __future__ import annotations

from torchshape.settings import DEBUG, FORMAT, OUTPUT, Role, Setting, argument, many, option, switch

SETTINGS: tuple[Setting, ...] = (
    argument(
        "expression",
        "EXPRESSION",
        "A tensor expression in Python: a[:, 0], x @ W.T, torch.cat(xs, 1), a.view(-1, 4).float(); "
        "statements separated by ; may assign names (b = a.T; b.reshape(-1)). Parsed with ast "
        "and checked against an allow-list; never passed to eval. One that starts with - goes after --.",
    ),
    many(
        "tensors",
        "--tensor",
        "NAME=SHAPE[:DTYPE[:LOW-HIGH]]",
        "A tensor the expression names: a=3,4; idx=5:int64:0-2 (values 0 ≤ v < 2); m=3,4:bool; "
        "b=() for 0-d; xs=[1,3]*5 for a list of five. DTYPE defaults to float32; integers are "
        "0 ≤ v < the smallest size of the other tensors unless LOW-HIGH is given.",
    ),
    option(
        "device",
        "--device",
        "DEVICE",
        "auto: meta (shapes at any size, no memory), or the CPU where values matter (masks, "
        "index tensors, .item(), nonzero, --explain); or cpu, cuda, cuda:N, mps, meta.",
        "auto",
    ),
    FORMAT,
    OUTPUT,
    switch(
        "explain",
        "--explain",
        "Show which elements each index tensor picks, on the input numbered 0, 1, 2, ... (CPU).",
        role=Role.BOTH,
    ),
    switch(
        "diagram",
        "--diagram",
        "Draw each broadcast: the shapes right-aligned, a column per dimension, where a 1 or a "
        "missing dim was stretched, the result torch gave.",
        role=Role.BOTH,
    ),
    DEBUG,
)
