"""What a run allocates besides the forward pass the guard counts, per family: ``--explain``'s checks.

A family whose ``counts`` module has ``explain_bytes(spec)`` says how much its checks add
beside the forward pass; the guard refuses the run when the two together cannot fit
(``check``). ``--diagram``'s own runs (rnn's layer by layer, attention's per-head weights)
are counted by the family's probe (``counts.diagram_bytes``); the other diagrams and the
snippets compute on the report, and ``--time`` runs the same forward pass again, one run at a
time, after the report's tensors are gone: its peak is the forward pass's
(tests/test_guard_paths.py measures each).
"""

from __future__ import annotations

import importlib
from typing import Any

from torchshape import families


def explain_bytes(spec: Any) -> int:
    """Bytes ``--explain``'s checks allocate beside the forward pass (0 where the family does not say)."""
    counts = importlib.import_module(f"torchshape.families.{families.of(spec).name}.counts")
    hook = getattr(counts, "explain_bytes", None)
    return int(hook(spec)) if hook is not None else 0


def check(spec: Any, *, explain: bool) -> None:
    """The guard with --explain's checks counted: refuse (exit 1) what cannot fit, before anything runs."""
    from torchshape import guard

    guard.check(spec, explain_bytes=explain_bytes(spec) if explain else 0)
