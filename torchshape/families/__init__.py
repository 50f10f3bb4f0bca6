"""The layer families torchshape knows, one folder each, and what each gives the core.

A family folder holds its spec and validation, its pure formulas (no torch), its torch
side (build, inputs, forward), its counts, its notes and --explain rules, and how its
sections read. The core (``torchshape.report``, ``torchshape.render``, the guard, timing,
the CLI's error boundary) asks for these through ``Family`` and knows no family by name:
a family is found by its name (``report.family``, ``spec.family``) and loaded on first use.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from torchshape.families.base import Family

if TYPE_CHECKING:
    from torchshape.families.contract import LayerAdapter

# The families, in the order the command line lists them; each is one folder,
# torchshape/families/NAME/, and is registered here once.
NAMES = ("rnn", "conv", "pool", "attention", "embedding", "transformer", "norm", "model", "expr")

# name -> the module that defines the command line's ``torchshape NAME``: a function NAME,
# its EXAMPLES (under --help) and KINDS (the --kind choices, for advice on stray words). These
# are light (no torch): the command line imports them all to build its parser.
COMMANDS: dict[str, str] = {name: f"torchshape.families.{name}.command" for name in NAMES}

# name -> the module that defines FAMILY; loaded on first use (``--help`` loads none).
REGISTRY: dict[str, str] = {name: f"torchshape.families.{name}.family" for name in NAMES}

# name -> the family's layer adapter (``contract.LayerAdapter``): the torch.nn classes it claims
# inside a user's model, in the order --layer's message lists them. Loaded by the model family.
ADAPTERS: dict[str, str] = {
    name: f"torchshape.families.{name}.adapter"
    for name in ("rnn", "conv", "pool", "attention", "embedding", "transformer", "norm")
}

__all__ = ["ADAPTERS", "COMMANDS", "REGISTRY", "Family", "adapters", "claim", "command", "family", "of"]


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


@cache
def adapters() -> tuple[LayerAdapter, ...]:
    """Every family's layer adapter, in ``ADAPTERS``' order."""
    return tuple(importlib.import_module(path) for path in ADAPTERS.values())


def claim(module: Any, *, any_forward: bool = False) -> LayerAdapter | None:
    """The adapter of the family that claims ``module``: its class or the nearest base class one
    claims, where ``module`` keeps that class's forward (``any_forward``: whatever its forward);
    None: no family describes it."""
    from torchshape.families.layers import claimed_class

    table = {cls: adapter for adapter in adapters() for cls in adapter.CLASSES}
    if any_forward:
        return next((table[cls] for cls in type(module).__mro__ if cls in table), None)
    found = claimed_class(module, table)
    return None if found is None else table[found]
