"""Start-up of the ``torchshape`` command: what it waits for besides torch, cut short.

Two things, measured with ``python -X importtime`` and ``benchmarks/run.py``:

``skip_pydantic``: typer (0.2x) coerces every option value through a pydantic
``TypeAdapter``, and importing pydantic costs 0.1 to 0.2 s, a tenth of the torch
import every ``torchshape rnn`` already waits for. torchshape's options are strings that
``make_spec`` checks itself, and flags; a value that already has its option's
type (``str``, ``bool``) is returned as it is, which is what pydantic returns for
it too. Any other value, or annotation, goes typer's usual way; with a typer
whose internals differ this does nothing.

``pause_gc``: the command is a short-lived process, and Python's cyclic garbage
collector spends 0.1 to 0.3 s walking torch's objects while torch is imported
and after. Reference counting still frees every tensor; a forward pass leaves
no cycles behind (checked over thousands of ``--time`` repeats).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any


def pause_gc() -> None:
    """No cyclic garbage collection for the rest of this (short-lived) process."""
    gc.disable()


def skip_pydantic() -> None:
    """Let ``str`` and ``bool`` options skip pydantic for values of their own type (idempotent)."""
    try:
        from typer import _coercion, core

        original = core.build_runtime_param  # type: ignore[attr-defined]
        runtime_param: Any = _coercion.RuntimeParam
    except (ImportError, AttributeError):  # another typer: leave it as it is
        return
    if getattr(original, "_torchshape", False):
        return

    @dataclass(frozen=True)
    class SameType(runtime_param):  # type: ignore[misc]
        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if type(value) is self.annotation:
                return value
            return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        if descriptor.annotation in (str, bool) and descriptor.file_annotation is None:
            info = descriptor.parameter_info
            if getattr(info, "parser", None) is None:
                return SameType(parameter_info=info, annotation=descriptor.annotation, descriptor=descriptor)
        return original(descriptor)

    build_runtime_param._torchshape = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param  # type: ignore[attr-defined]
