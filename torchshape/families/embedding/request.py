"""``make_spec``: an embedding's settings checked into an ``EmbeddingSpec`` by torch's own rules
(tests/test_embedding.py checks them against torch). No torch here."""

from __future__ import annotations

import re
from typing import Any

from torchshape.families.checker import Checker
from torchshape.families.embedding.spec import DEFAULT_SHAPE, DEFAULTS, EmbeddingSpec, Mode, default_shape
from torchshape.families.spatial import MAX_SIZE

# An index tensor of more dimensions than this is refused (torch takes any; a shape check needs few).
MAX_DIMS = 16
# --offsets: at most this many bags.
MAX_OFFSETS = 100_000
# The settings only nn.EmbeddingBag takes.
BAG_ONLY = ("mode", "bags", "bag_size", "offsets", "include_last_offset", "per_sample_weights")
_WHOLE = re.compile(r"[+-]?\d{1,30}")


class _Check(Checker[EmbeddingSpec]):
    DEFAULTS = DEFAULTS

    def say(self, field: str, value: Any = None) -> str:
        """A setting as the caller writes it: ``--mode sum`` or ``mode='sum'``; a switch alone."""
        if value is None:
            return f"{field}=True" if self.python else self.n(field)
        return f"{field}={value!r}" if self.python else f"{self.n(field)} {value}"

    def given(self, field: str) -> bool:
        value = self.raw.get(field)
        return value is not None and value is not False

    def spec(self) -> EmbeddingSpec:
        raw = self.raw
        num_embeddings = self.whole("num_embeddings")
        self.whole("embedding_dim")
        bag = bool(raw.get("bag"))
        if not bag:
            for field in BAG_ONLY:
                if self.given(field):
                    raise self.error(
                        field,
                        f"nn.Embedding has no {field}: it belongs to nn.EmbeddingBag; add {self.say('bag')}",
                    )
        mode = self.choice("mode", Mode)

        offsets: tuple[int, ...] | None = None
        include_last_offset = bool(raw.get("include_last_offset"))
        if not bag:
            shape = DEFAULT_SHAPE
            if raw.get("shape") is not None:
                shape = self.numbers(
                    "shape", raw["shape"], minimum=1, most=MAX_DIMS, example="4,7", empty=True
                )
        elif self.given("offsets"):
            shape, offsets = self._offsets_shape(include_last_offset)
        else:
            if include_last_offset:
                raise self.error(
                    "include_last_offset",
                    f"only with a 1-D input and {self.n('offsets')}: torch ignores it for a 2-D "
                    "input and gives B rows, not B − 1 (pytorch#167974)",
                )
            if raw.get("shape") is not None:
                raise self.error(
                    "shape",
                    f"a bag's 2-D input is (B, K): give {self.n('bags')} and {self.n('bag_size')} "
                    f"(or {self.n('offsets')} for a 1-D input)",
                )
            shape = (self.whole("bags"), self.whole("bag_size"))

        per_sample_weights = bool(raw.get("per_sample_weights"))
        if per_sample_weights and mode is not Mode.SUM:
            raise self.error(
                "per_sample_weights",
                f"only with {self.say('mode', 'sum')}, not {self.say('mode', mode.value)} (torch: "
                "per_sample_weights is only supported for mode='sum')",
            )
        self._padding_idx(num_embeddings)
        self._max_norm()
        self.device()
        self.dtype()
        return self.made(
            EmbeddingSpec,
            shape=shape,
            bag=bag,
            offsets=offsets,
            include_last_offset=include_last_offset,
            per_sample_weights=per_sample_weights,
        )

    def _offsets_shape(self, include_last_offset: bool) -> tuple[tuple[int], tuple[int, ...]]:
        """A 1-D bag input's shape (L,) and its ``offsets``, with an optional ``shape``."""
        for field in ("bags", "bag_size"):
            if self.given(field):
                raise self.error(
                    field,
                    f"a 1-D input with {self.n('offsets')} has no {field}: the offsets set its "
                    f"bags; drop {self.n(field)} (or {self.n('offsets')} for a 2-D input)",
                )
        offsets = self.numbers("offsets", self.raw["offsets"], minimum=0, most=MAX_OFFSETS, example="0,2,5")
        self._check_offsets(offsets)
        length = default_shape(offsets, include_last_offset)[0]
        if self.raw.get("shape") is not None:
            given = self.numbers(
                "shape", self.raw["shape"], minimum=0, most=MAX_DIMS, example="9", empty=True
            )
            if len(given) != 1:
                raise self.error(
                    "shape",
                    f"{len(given)} values; a bag's input with {self.n('offsets')} is 1-D: "
                    "give its length L, one number",
                )
            length = given[0]
            if include_last_offset and length != offsets[-1]:
                raise self.error(
                    "shape",
                    f"with {self.n('include_last_offset')} the last offset is the input's length "
                    f"(torch's docs: the CSR format), so L is {offsets[-1]}, not {length}; torch's "
                    "kernels disagree on indices past the last offset (float32 sum and mean skip "
                    "them, max and float64 add them to the last bag)",
                )
        if offsets[-1] > length:
            raise self.error(
                "offsets",
                f"the last offset {offsets[-1]} is past the input's length L = {length} "
                f"(torch: offsets[-1] can not be greater than input's length {length}); "
                f"use a {self.n('shape')} of at least {offsets[-1]}",
            )
        if length > MAX_SIZE:  # only the default can be: a given L is checked as a number
            raise self.error(
                "offsets",
                f"the last offset {offsets[-1]} leaves no room for the default last bag of "
                f"{length - offsets[-1]} indices (L would be {length}, above {MAX_SIZE}); give "
                f"{self.n('shape')} L",
            )
        return (length,), offsets

    def _check_offsets(self, offsets: tuple[int, ...]) -> None:
        if not offsets:
            raise self.error("offsets", "no offsets; give where each bag starts, such as 0,2,5")
        if offsets[0] != 0:
            raise self.error(
                "offsets",
                f"the first offset is {offsets[0]}, not 0 (torch: offsets[0] has to be 0, i.e., the first "
                "sequence in the mini-batch has to start from position 0)",
            )
        for i in range(1, len(offsets)):
            if offsets[i] < offsets[i - 1]:
                raise self.error(
                    "offsets",
                    f"offset {i} ({offsets[i]}) is less than the one before it ({offsets[i - 1]}); "
                    "offsets are where each bag starts and never decrease",
                )

    def _padding_idx(self, num_embeddings: int) -> int | None:
        value = self.raw.get("padding_idx")
        if value is None:
            return self.keep("padding_idx", None)
        text = str(value).strip()
        if isinstance(value, bool) or not (isinstance(value, int) or _WHOLE.fullmatch(text)):
            raise self.error(
                "padding_idx",
                f"{value!r} is not a whole number; use an index from {-num_embeddings} to "
                f"{num_embeddings - 1}",
            )
        index = int(text)
        if not -num_embeddings <= index < num_embeddings:
            raise self.error(
                "padding_idx",
                f"{index} is out of range for {self.say('num_embeddings', num_embeddings)}: an index "
                f"must be from {-num_embeddings} to {num_embeddings - 1} "
                "(torch: Padding_idx must be within num_embeddings)",
            )
        return self.keep("padding_idx", index)

    def _max_norm(self) -> float | None:
        value = self.raw.get("max_norm")
        if value is None:
            return self.keep("max_norm", None)
        return self.positive("max_norm", value, "use a positive one, such as 1.0")


make_spec = _Check.make_spec
