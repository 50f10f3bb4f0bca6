"""The JSON contract: one object, stable key order, documented in docs/json.md."""

from __future__ import annotations

import json
import math
from typing import Any, cast

from torchshape import families
from torchshape.diagram import diagram_json
from torchshape.options import Shown
from torchshape.render.parameters import parameters_json, totals_json
from torchshape.render.timing import timing_dict
from torchshape.report import SCHEMA_VERSION, Report
from torchshape.view import view


def jsonable(value: Any) -> Any:
    """``value`` as data that strict JSON can carry, whatever the user gave (``--arg`` literals).

    Lists, dicts, strings, booleans, None, integers and finite floats stay as they are; a tuple
    becomes a list. What JSON has no word for is written as Python writes it, as a string:
    ``inf``, ``nan``, ``b'x'``, ``(1+2j)``, ``{1, 2}``, ``Ellipsis``; so is a dict key that is
    no string (``(1, 2)``), where JSON needs one.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key if isinstance(key, str) else _key(key): jsonable(item) for key, item in value.items()}
    return repr(value)


def _key(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return json.dumps(key)  # true, false, null: as json.dumps writes such a key
    if isinstance(key, int):
        return str(key)
    return repr(key)


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (keys in a fixed order), strict JSON (``jsonable``)."""
    from torchshape import __version__

    probe = report.probe
    plain = {
        "schema_version": SCHEMA_VERSION,
        "torchshape_version": __version__,
        "command": report.family,
        "config": report.spec.as_dict(),
        "module": report.spec.module_call,
        "call": report.call,
        **({"title": report.title} if report.title is not None else {}),  # model --layer: which layer
        "symbols": report.symbols.as_dict(),
        "tensors": [
            {
                "name": row.name,
                "formula": row.formula,
                "shape": list(row.shape),
                "verified": row.verified,
                "source": row.source,
                "expected_shape": list(row.expected),
                "probe_shape": None if row.probe_shape is None else list(row.probe_shape),
                "measured_dims": list(measured),
            }
            for row, measured in zip(view(report).rows, (row.measured for row in report.rows), strict=True)
        ],
        "ok": report.ok,
        "notes": list(report.notes),
        "run": {
            "device": probe.device,
            "dtype": probe.dtype,
            "torch_version": probe.torch_version,
            "reduced": probe.reduced,
            "probe_symbols": probe.sizes.as_dict(),
            "error": probe.error,
            "description": report.ran,
        },
        "parameters": parameters_json(report),
        "totals": totals_json(report),
        "timing": timing_dict(report),
        **families.of(report).json_extra(report),  # rnn: relations, layout, handoff, packed, unroll
        **diagram_json(families.of(report).diagram(report)),  # --diagram: the drawing as data
    }
    return cast("dict[str, Any]", jsonable(plain))


def render_json(report: Report, shown: Shown | None = None) -> str:
    """The JSON document. It always carries every parameter, the totals and --time's figures,
    so ``shown`` (--params) changes nothing here."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
