"""One layer of a model as a family's spec: its constructor settings, read from the live module,
and the sizes of the input it was called with (``torchshape model --layer``, ``inspect_module``).

The family that claims the module (``families.claim``: its class, or a subclass that keeps its
forward) reads it in its ``adapter.py``, through its own ``make_spec``, so a layer read from a
module passes the same checks as the family's command line.
"""

from __future__ import annotations

from typing import Any

from torchshape import families
from torchshape.errors import UsageError
from torchshape.families.layers import Layer, LayerCall

__all__ = ["Layer", "class_text", "read_layer", "reads_own_weights", "supported"]


def supported() -> str:
    """The families --layer takes and their layers, in the registry's order."""
    words = [adapter.SUPPORTED for adapter in families.adapters()]
    return ", ".join(words[:-1]) + " and " + words[-1]


def reads_own_weights(module: Any) -> bool:
    """Whether a family runs ``module`` on its own weights and inputs (rnn, conv, pool)."""
    adapter = families.claim(module)
    return adapter is not None and adapter.OWN_WEIGHTS


def class_text(module: Any) -> str:
    """``nn.BatchNorm2d`` for torch's layers, the class's own name for the user's."""
    kind = type(module)
    return ("an nn." if kind.__module__.startswith("torch.nn.") else "a ") + kind.__qualname__


def _device_and_dtype(module: Any, x: Any) -> tuple[str, str]:
    """Where the layer's weights live and in what dtype; a layer without weights: its input's."""
    where = next(iter(module.parameters()), x)
    device = where.device
    return ("cpu" if device.type == "cpu" else str(device)), str(where.dtype).removeprefix("torch.")


def read_layer(
    module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], *, flag: str, name: str, explain: bool
) -> Layer:
    """``module`` called with ``args``/``kwargs`` as its family's spec; ``UsageError`` naming ``flag``
    when no family describes it or it was called in a way the family does not take. A layer whose
    ``inputs`` is None runs on its family's own weights, at the call's settings and sizes."""
    adapter = families.claim(module)
    if adapter is not None and not adapter.OWN_WEIGHTS:
        try:
            found = adapter.layer(module, LayerCall(args, kwargs, None, "", "", flag, name, explain))
        except (ValueError, TypeError, AttributeError, IndexError, KeyError):
            found = None
        if found is not None:
            return found
    if adapter is None or not adapter.OWN_WEIGHTS:
        raise UsageError(
            flag,
            f"{name} is {class_text(module)}, which no torchshape family describes; "
            f"{flag} takes {supported()}",
        )
    x = args[0] if args else kwargs.get("input")
    if type(x).__name__ == "PackedSequence":
        raise UsageError(
            flag,
            f"{name} was called with a PackedSequence; a layer is read from a padded tensor only "
            "for now (torchshape rnn --lengths shows the packed call)",
        )
    if not all(hasattr(x, attribute) for attribute in ("shape", "dim", "dtype")):  # a tensor
        raise UsageError(flag, f"{name} was called without a tensor as its input ({type(x).__name__})")
    device, dtype = _device_and_dtype(module, x)
    layer = adapter.layer(module, LayerCall(args, kwargs, x, device, dtype, flag, name, explain))
    if layer is None:
        raise UsageError(flag, f"{name} is {class_text(module)}, which {flag} cannot read")
    return layer
