"""``make_spec``: a recurrent layer's settings checked into an ``RNNSpec``, each message naming
the flag (``in_python_terms`` rewrites it for a Python call). No torch here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.checker import Checker
from torchshape.families.rnn.cells import reject_layer_settings
from torchshape.families.rnn.spec import (
    DEFAULTS,
    FLAGS,
    MAX_LAYERS,
    MAX_SIZE,
    SETTINGS,
    Kind,
    Nonlinearity,
    RNNSpec,
)
from torchshape.python_terms import in_python_terms


def make_spec(*, unroll: bool = False, names: Mapping[str, str] | None = None, **raw: Any) -> RNNSpec:
    """Validate raw settings (missing ones take ``DEFAULTS``) into an ``RNNSpec``.

    Raises ``UsageError`` for any bad value or combination, naming the Python argument
    (``proj_size=3: ...``); the command line passes ``names=FLAGS`` to name its flags.
    ``unroll``: the spec is for ``--unroll``, where a cell takes ``seq_len`` (L steps,
    the layers' default without it); otherwise a cell has ``seq_len`` 1 and refuses it.
    """
    if names == FLAGS:  # the command line: its messages already name the flags
        return _Check(raw, unroll).spec()
    try:
        return _Check(raw, unroll).spec()
    except UsageError as error:
        raise in_python_terms(error, raw, SETTINGS, RNNSpec) from None


class _Check(Checker[RNNSpec]):
    """The rules of the recurrent layers, each message naming the flag (``in_python_terms`` turns
    it into the Python argument's)."""

    DEFAULTS = DEFAULTS

    def __init__(self, raw: dict[str, Any], unroll: bool) -> None:
        super().__init__(FLAGS, raw)
        self.unroll = unroll

    def whole(
        self, field: str, *, minimum: int = 1, maximum: int = MAX_SIZE, value: Any = None, default: Any = None
    ) -> int:
        """A whole number: an int, a float such as 3.0, or its digits as text."""
        value = self.values[field] if value is None else value
        value = default if value is None else value
        number: int
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            digits = value.strip().lstrip("+-")
            if len(digits) > 30:  # Python refuses to parse thousands of digits; all are out of range
                raise self.error(
                    field,
                    f"a number of {len(digits)} digits is out of range; "
                    f"use a whole number from {minimum} to {maximum}",
                )
            number = int(value)
        else:
            raise self.error(field, f"{value!r} is not a whole number; use one from {minimum} to {maximum}")
        if not minimum <= number <= maximum:
            raise self.error(
                field, f"{number} is out of range; use a whole number from {minimum} to {maximum}"
            )
        return self.keep(field, number)

    def spec(self) -> RNNSpec:
        v, unroll = self.values, self.unroll
        kind = self.choice("kind", Kind)
        self.whole("input_size")
        hidden_size = self.whole("hidden_size")
        num_layers = self.whole("num_layers", maximum=MAX_LAYERS)
        seq_len = self.whole("seq_len")
        batch = self.whole("batch")
        proj_size = self.whole("proj_size", minimum=0)
        self.dtype()
        dropout = self.probability("dropout", example="0.2")

        if kind.is_cell:
            reject_layer_settings(
                kind,
                num_layers=num_layers,
                seq_len_given=self.given("seq_len"),
                bidirectional=bool(v["bidirectional"]),
                batch_first=bool(v["batch_first"]),
                proj_size=proj_size,
                dropout=dropout,
                lengths_given=v["lengths"] is not None,
                unroll=unroll,
            )
            if not unroll:
                seq_len = 1  # a cell takes one time step; with --unroll, L is how many it is looped over

        nonlinearity = self.choice("nonlinearity", Nonlinearity) if v["nonlinearity"] is not None else None
        if nonlinearity is not None and not kind.has_nonlinearity:
            raise self.error(
                "nonlinearity",
                f"only --kind rnn and rnn-cell have a nonlinearity; nn.{kind.module_name} has fixed gates",
            )

        if proj_size:
            if kind is not Kind.LSTM:
                raise self.error(
                    "proj_size", f"only --kind lstm supports a projection; nn.{kind.module_name} has none"
                )
            if proj_size >= hidden_size:
                raise self.error(
                    "proj_size",
                    f"{proj_size} must be smaller than --hidden-size ({hidden_size}); use 0 for none",
                )

        unbatched = bool(v["unbatched"])
        self.batch(unbatched)
        self.device()

        if unbatched and v["lengths"] is not None:
            raise self.error("lengths", "unbatched input has no batch to pack; drop --unbatched or --lengths")
        lengths = self._lengths(
            v["lengths"],
            seq_len=seq_len if self.given("seq_len") else None,
            batch=batch if self.given("batch") else None,
        )
        if lengths is not None:
            batch = len(lengths)  # without --batch, N is the number of lengths
            if not self.given("seq_len"):
                seq_len = max(lengths)  # without --seq-len, the longest sequence says how long the batch is
        switches = {field: bool(v[field]) for field in ("bidirectional", "batch_first", "bias")}
        return self.made(
            RNNSpec,
            seq_len=seq_len,
            batch=batch,
            dropout=dropout,
            nonlinearity=nonlinearity,
            unbatched=unbatched,
            lengths=lengths,
            **switches,
        )

    def _lengths(self, value: Any, *, seq_len: int | None, batch: int | None) -> tuple[int, ...] | None:
        """``--lengths 5,3,2``: one length per sequence, N of them when --batch is given.

        Lengths are separated by commas (spaces around them are allowed); an empty item or
        lengths separated by spaces only is refused. Each is from 1 to L when ``--seq-len``
        gives L; without it, L is max(lengths).
        """
        if value is None:
            return None
        items = self._length_items(value)
        if not items:
            raise self.error("lengths", "no lengths given; give one per sequence, such as 5,3,2")
        longest = MAX_SIZE if seq_len is None else seq_len
        out: list[int] = []
        for item in items:
            if isinstance(item, bool) or not (
                isinstance(item, int)
                or (isinstance(item, float) and item.is_integer())
                or (isinstance(item, str) and re.fullmatch(r"[+-]?\d{1,30}", item))
            ):
                raise self.error("lengths", f"{item!r} is not a whole number; give lengths such as 5,3,2")
            number = int(item)
            if number < 1:
                bound = "1 or more" if seq_len is None else f"from 1 to L = {seq_len}"
                raise self.error("lengths", f"{number} is out of range; every length must be {bound}")
            if number > longest:
                if seq_len is None:
                    raise self.error(
                        "lengths", f"{number} is out of range; every length must be from 1 to {MAX_SIZE}"
                    )
                raise self.error(
                    "lengths",
                    f"{number} is longer than --seq-len ({seq_len}); every length must be from 1 to L, "
                    "so raise --seq-len, drop it (L is then the longest length), or shorten the sequence",
                )
            out.append(number)
        if batch is not None and len(out) != batch:
            raise self.error(
                "lengths",
                f"{len(out)} length(s) for --batch {batch}; give exactly one per sequence, or drop --batch",
            )
        return tuple(out)

    def _length_items(self, value: Any) -> list[Any]:
        """``--lengths``' items: a text split at its commas, or a Python value's items."""
        if not isinstance(value, str):
            try:
                return list(value)
            except TypeError:
                return [value]
        text = value.strip()
        items = [item.strip() for item in text.split(",")] if text else []  # blank: no lengths
        if "" in items:
            raise self.error(
                "lengths",
                f"an empty length in {value!r}; give one whole number per sequence, such as 5,3,2",
            )
        for item in items:
            if re.fullmatch(r"[+-]?\d+(\s+[+-]?\d+)+", item):
                fixed = ",".join(item.split())
                raise self.error("lengths", f"separate lengths with commas, not spaces: {fixed}")
        return items
