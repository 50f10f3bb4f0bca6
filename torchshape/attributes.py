"""An object's attributes by name, in a fixed order: a layer's constructor arguments, the
keyword arguments a spec builds its module with, and the objects the JSON output holds.

Names are one string, separated by spaces (as ``collections.namedtuple`` takes them), so
that a long list reads as one line of words.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def attributes(obj: Any, names: str) -> dict[str, Any]:
    """``obj``'s attributes ``names``, as they are, in that order."""
    return {name: getattr(obj, name) for name in names.split()}


def json_value(value: Any) -> Any:
    """``value`` as the JSON output holds it: a tuple as a list (its items too), an object with
    an ``as_dict`` by that."""
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    as_dict = getattr(value, "as_dict", None)
    return value if as_dict is None else as_dict()


def json_object(obj: Any, names: str = "") -> dict[str, Any]:
    """``obj``'s attributes ``names`` (where none, every field of the dataclass ``obj``), in that
    order, each as the JSON output holds it."""
    chosen = names.split() or [f.name for f in fields(obj)]
    return {name: json_value(getattr(obj, name)) for name in chosen}
