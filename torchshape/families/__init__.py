"""The layer families torchshape knows, one folder each, and what each gives the core.

A family folder holds its spec and validation, its pure formulas (no torch), its torch
side (build, inputs, forward), its counts, its notes and --explain rules, and how its
sections read. The core (``torchshape.report``, ``torchshape.render``, the guard, timing,
the CLI's error boundary) asks for these through ``Family`` and knows no family by name:
a family is found by its name (``report.family``, ``spec.family``) and loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from torchshape.families.base import Family

# name -> the module that defines the command line's ``torchshape NAME``: a function NAME,
# its EPILOG (examples) and KINDS (the --kind choices, for advice on stray words). These
# are light (no torch): the command line imports them all to build its parser.
COMMANDS: dict[str, str] = {
    "rnn": "torchshape.families.rnn.command",
    "conv": "torchshape.families.conv.command",
    "pool": "torchshape.families.pool.command",
    "attention": "torchshape.families.attention.command",
    "embedding": "torchshape.families.embedding.command",
    "transformer": "torchshape.families.transformer.command",
    "norm": "torchshape.families.norm.command",
    "model": "torchshape.families.model.command",
    "expr": "torchshape.families.expr.command",
}

# name -> the module that defines FAMILY; loaded on first use (``--help`` loads none).
REGISTRY: dict[str, str] = {
    "rnn": "torchshape.families.rnn.family",
    "conv": "torchshape.families.conv.family",
    "pool": "torchshape.families.pool.family",
    "attention": "torchshape.families.attention.family",
    "embedding": "torchshape.families.embedding.family",
    "transformer": "torchshape.families.transformer.family",
    "norm": "torchshape.families.norm.family",
    "model": "torchshape.families.model.family",
    "expr": "torchshape.families.expr.family",
}

__all__ = ["COMMANDS", "REGISTRY", "Family", "command", "family", "of"]


def command(name: str) -> Any:
    """The module of ``torchshape NAME``'s command (see ``COMMANDS``)."""
    return importlib.import_module(COMMANDS[name])


def family(name: str) -> Family:
    """The family called ``name``."""
    found: Family = importlib.import_module(REGISTRY[name]).FAMILY
    return found


def of(spec_or_report: Any) -> Family:
    """The family of a spec or a report (both carry ``family``, its name)."""
    return family(spec_or_report.family)
