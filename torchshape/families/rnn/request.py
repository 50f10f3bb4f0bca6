"""One validation step: raw settings from the command line or the Python call become a checked spec.

No torch here. ``make_spec`` turns raw values into a frozen ``RNNSpec`` or raises
``UsageError`` naming the flag (``names=FLAGS``) or the Python argument at fault.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.rnn.cells import reject_layer_settings
from torchshape.families.rnn.python_names import in_python_terms
from torchshape.families.rnn.spec import (
    DEFAULTS,
    FLAGS,
    MAX_LAYERS,
    MAX_SIZE,
    Kind,
    Nonlinearity,
    RNNSpec,
    choice,
    usage_error,
    whole_number,
)
from torchshape.options import DEVICE_PATTERN, DType


def make_spec(*, unroll: bool = False, names: Mapping[str, str] | None = None, **raw: Any) -> RNNSpec:
    """Validate raw settings (missing ones take ``DEFAULTS``) into an ``RNNSpec``.

    Raises ``UsageError`` for any bad value or combination, naming the Python argument
    (``proj_size=3: ...``); the command line passes ``names=FLAGS`` to name its flags.
    ``unroll``: the spec is for ``--unroll``, where a cell takes ``seq_len`` (L steps,
    the layers' default without it); otherwise a cell has ``seq_len`` 1 and refuses it.
    """
    if names == FLAGS:  # the command line: its messages already name the flags
        return _make_spec(raw, unroll)
    try:
        return _make_spec(raw, unroll)
    except UsageError as error:
        raise in_python_terms(error, raw) from None


def _make_spec(raw: dict[str, Any], unroll: bool) -> RNNSpec:
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    batch_given = raw.get("batch") is not None
    seq_len_given = raw.get("seq_len") is not None
    values = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}

    kind: Kind = choice(Kind, "kind", values["kind"])
    input_size = whole_number("input_size", values["input_size"])
    hidden_size = whole_number("hidden_size", values["hidden_size"])
    num_layers = whole_number("num_layers", values["num_layers"], maximum=MAX_LAYERS)
    seq_len = whole_number("seq_len", values["seq_len"])
    batch = whole_number("batch", values["batch"])
    proj_size = whole_number("proj_size", values["proj_size"], minimum=0)
    dtype: DType = choice(DType, "dtype", values["dtype"])

    dropout = values["dropout"]
    try:
        dropout = float(dropout)
    except (TypeError, ValueError):
        raise usage_error("dropout", f"{dropout!r} is not a number; use a probability in [0, 1)") from None
    if not (math.isfinite(dropout) and 0.0 <= dropout < 1.0):
        raise usage_error("dropout", f"{dropout:g} is outside [0, 1); use a probability such as 0.2")

    if kind.is_cell:
        reject_layer_settings(
            kind,
            num_layers=num_layers,
            seq_len_given=seq_len_given,
            bidirectional=bool(values["bidirectional"]),
            batch_first=bool(values["batch_first"]),
            proj_size=proj_size,
            dropout=dropout,
            lengths_given=values["lengths"] is not None,
            unroll=unroll,
        )
        if not unroll:
            seq_len = 1  # a cell takes one time step; with --unroll, L is how many it is looped over

    nonlinearity = values["nonlinearity"]
    if nonlinearity is not None:
        nonlinearity = choice(Nonlinearity, "nonlinearity", nonlinearity)
        if not kind.has_nonlinearity:
            raise usage_error(
                "nonlinearity",
                f"only --kind rnn and rnn-cell have a nonlinearity; nn.{kind.module_name} has fixed gates",
            )

    if proj_size:
        if kind is not Kind.LSTM:
            raise usage_error(
                "proj_size", f"only --kind lstm supports a projection; nn.{kind.module_name} has none"
            )
        if proj_size >= hidden_size:
            raise usage_error(
                "proj_size",
                f"{proj_size} must be smaller than --hidden-size ({hidden_size}); use 0 for none",
            )

    unbatched = bool(values["unbatched"])
    if unbatched and batch_given:
        raise usage_error("batch", "unbatched input has no batch dimension; drop --batch or --unbatched")

    device = str(values["device"]).strip().lower()
    if not DEVICE_PATTERN.match(device):
        raise usage_error(
            "device", f"{values['device']!r} is not a device; use cpu, cuda, cuda:N, mps or meta"
        )

    if unbatched and values["lengths"] is not None:
        raise usage_error("lengths", "unbatched input has no batch to pack; drop --unbatched or --lengths")
    lengths = _lengths(
        values["lengths"], seq_len=seq_len if seq_len_given else None, batch=batch if batch_given else None
    )
    if lengths is not None:
        batch = len(lengths)  # without --batch, N is the number of lengths
        if not seq_len_given:
            seq_len = max(lengths)  # without --seq-len, the longest sequence says how long the batch is

    return RNNSpec(
        kind=kind,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        seq_len=seq_len,
        batch=batch,
        bidirectional=bool(values["bidirectional"]),
        batch_first=bool(values["batch_first"]),
        proj_size=proj_size,
        bias=bool(values["bias"]),
        dropout=dropout,
        nonlinearity=nonlinearity,
        unbatched=unbatched,
        device=device,
        dtype=dtype,
        lengths=lengths,
    )


def _lengths(value: Any, *, seq_len: int | None, batch: int | None) -> tuple[int, ...] | None:
    """``--lengths 5,3,2``: one length per sequence, N of them when --batch is given.

    Lengths are separated by commas (spaces around them are allowed); an empty item or
    lengths separated by spaces only is refused. Each is from 1 to L when ``--seq-len``
    gives L; without it, L is max(lengths).
    """
    if value is None:
        return None
    items: list[Any]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise usage_error("lengths", "no lengths given; give one per sequence, such as 5,3,2")
        items = [item.strip() for item in text.split(",")]
        if "" in items:
            raise usage_error(
                "lengths",
                f"an empty length in {value!r}; give one whole number per sequence, such as 5,3,2",
            )
        for item in items:
            if re.fullmatch(r"[+-]?\d+(\s+[+-]?\d+)+", item):
                fixed = ",".join(item.split())
                raise usage_error("lengths", f"separate lengths with commas, not spaces: {fixed}")
    else:
        try:
            items = list(value)
        except TypeError:
            items = [value]
    if not items:
        raise usage_error("lengths", "no lengths given; give one per sequence, such as 5,3,2")
    longest = MAX_SIZE if seq_len is None else seq_len
    out: list[int] = []
    for item in items:
        if isinstance(item, bool) or not (
            isinstance(item, int)
            or (isinstance(item, float) and item.is_integer())
            or (isinstance(item, str) and re.fullmatch(r"[+-]?\d{1,30}", item))
        ):
            raise usage_error("lengths", f"{item!r} is not a whole number; give lengths such as 5,3,2")
        number = int(item)
        if number < 1:
            bound = "1 or more" if seq_len is None else f"from 1 to L = {seq_len}"
            raise usage_error("lengths", f"{number} is out of range; every length must be {bound}")
        if number > longest:
            if seq_len is None:
                raise usage_error(
                    "lengths", f"{number} is out of range; every length must be from 1 to {MAX_SIZE}"
                )
            raise usage_error(
                "lengths",
                f"{number} is longer than --seq-len ({seq_len}); every length must be from 1 to L, "
                "so raise --seq-len, drop it (L is then the longest length), or shorten the sequence",
            )
        out.append(number)
    if batch is not None and len(out) != batch:
        raise usage_error(
            "lengths",
            f"{len(out)} length(s) for --batch {batch}; give exactly one per sequence, or drop --batch",
        )
    return tuple(out)
