"""One nn.Embedding or nn.EmbeddingBag and the indices it is fed, in PyTorch's names: its settings
table and its checked spec. No torch here (``torchshape embedding --help`` imports this)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from torchshape import settings
from torchshape.options import DType
from torchshape.settings import Given, Rule, option, switch


class Mode(str, Enum):
    """How nn.EmbeddingBag reduces each bag's rows."""

    SUM = "sum"
    MEAN = "mean"
    MAX = "max"


# Defaults: every symbol gets its own number (num_embeddings 100, embedding_dim 16; the index
# tensor (4, 7); a bag's 2-D input B 3, K 5), so a formula that confused two of them would show it.
DEFAULT_SHAPE: tuple[int, ...] = (4, 7)
# A 1-D input's length L without --shape: the last offset with include_last_offset (it ends the
# last bag), else the last offset plus this many indices for the last bag.
DEFAULT_LAST_BAG = 2
# The settings of the command and of the Python call, one row each: the spec's field, the flags,
# --help's metavar and text, the command line's default (``torchshape.settings``).
SETTINGS = settings.table(
    option("num_embeddings", "--num-embeddings", "INT", "num_embeddings: rows of weight.", "100"),
    option("embedding_dim", "--embedding-dim", "INT", "embedding_dim: the length of each row.", "16"),
    option(
        "shape",
        "--shape",
        "INT[,INT...]",
        "The index tensor's shape, any number of dimensions (() for 0-D); with --bag "
        "--offsets the 1-D input's length L. [default: 4,7; with --offsets: the last "
        "offset, plus 2 without --include-last-offset]",
    ),
    option("padding_idx", "--padding-idx", "INT", "padding_idx: a row of zeros that gets no gradient."),
    option("max_norm", "--max-norm", "FLOAT", "max_norm: rows looked up are rescaled to it, in place."),
    switch("bag", "--bag", "nn.EmbeddingBag: reduce each bag of indices to one row.", given=Given.ON),
    option(
        "mode", "--mode", "sum|mean|max", "With --bag: how a bag is reduced. [default: mean]", fallback="mean"
    ),
    option("bags", "--bags", "INT", "With --bag: B, bags of a 2-D input.", "3", given=Given.TYPED),
    option(
        "bag_size",
        "--bag-size",
        "INT",
        "With --bag: K, indices per bag of a 2-D input.",
        "5",
        given=Given.TYPED,
    ),
    option(
        "offsets",
        "--offsets",
        "INT[,INT...]",
        "With --bag: a 1-D input; where each bag starts (the first is 0).",
    ),
    switch(
        "include_last_offset",
        "--include-last-offset",
        "With --offsets: the last offset ends the last bag, so B = len(offsets) − 1.",
        given=Given.ON,
    ),
    switch(
        "per_sample_weights",
        "--per-sample-weights",
        "With --bag --mode sum: one weight per index.",
        given=Given.ON,
    ),
    explain=(
        "The index range, padding_idx's zero row and gradient, each bag, empty bags, "
        "max_norm; checked on forward passes."
    ),
)
# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = settings.flags(SETTINGS)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)


class EmbeddingSpec(settings.Spec, family="embedding"):
    """One embedding (or bag of embeddings) and the index tensor it is fed."""

    num_embeddings: int
    embedding_dim: int
    shape: tuple[int, ...]  # the index tensor's shape: any (Embedding), (B, K) or (L,) (EmbeddingBag)
    padding_idx: int | None  # as given: negative counts from the end, as in torch
    max_norm: float | None
    bag: bool
    mode: Mode  # EmbeddingBag only
    offsets: tuple[int, ...] | None  # EmbeddingBag with a 1-D input; None otherwise
    include_last_offset: bool
    per_sample_weights: bool
    device: str
    dtype: DType

    @property
    def one_d(self) -> bool:
        """A bag fed a 1-D input with offsets."""
        return self.offsets is not None

    @property
    def padding_row(self) -> int | None:
        """The row padding_idx names (torch stores a negative one as num_embeddings + padding_idx)."""
        if self.padding_idx is None:
            return None
        return self.padding_idx + self.num_embeddings if self.padding_idx < 0 else self.padding_idx

    @property
    def bags(self) -> int:
        """B, the output's rows: len(offsets) (− 1 with include_last_offset); 2-D: the input's rows."""
        if self.offsets is None:
            return self.shape[0]
        return len(self.offsets) - 1 if self.include_last_offset else len(self.offsets)

    def bag_spans(self) -> list[tuple[int, int]]:
        """[start, end) of every bag of a 1-D input: offsets[i] to offsets[i+1], the last to L."""
        assert self.offsets is not None
        ends = [*self.offsets[1:], self.shape[0]]
        spans = list(zip(self.offsets, ends, strict=True))
        return spans[:-1] if self.include_last_offset else spans

    @property
    def module_name(self) -> str:
        return "EmbeddingBag" if self.bag else "Embedding"

    def as_dict(self) -> dict[str, Any]:
        """JSON's ``config``, in PyTorch's names."""
        names = ["num_embeddings", "embedding_dim", "shape", "padding_idx", "max_norm", "bag"]
        names += ["mode", "offsets", "include_last_offset", "per_sample_weights"] if self.bag else []
        return settings.config(self, [*names, "device", "dtype"])

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        args = [str(self.num_embeddings), str(self.embedding_dim)]
        if self.max_norm is not None:
            args.append(f"max_norm={self.max_norm!r}")
        if self.bag:
            args.append(f'mode="{self.mode.value}"')
            if self.include_last_offset:
                args.append("include_last_offset=True")
        if self.padding_idx is not None:
            args.append(f"padding_idx={self.padding_idx}")
        return f"nn.{self.module_name}({', '.join(args)})"


def default_shape(offsets: tuple[int, ...] | None, include_last_offset: bool) -> tuple[int, ...]:
    """The input's shape when --shape is not given: ``DEFAULT_SHAPE``, or with --offsets (L,)
    (see ``DEFAULT_LAST_BAG``)."""
    if offsets is None:
        return DEFAULT_SHAPE
    return (offsets[-1] if include_last_offset else offsets[-1] + DEFAULT_LAST_BAG,)


command_line = settings.Command(
    "embedding",
    SETTINGS,
    {
        "mode": Rule(when=lambda spec: spec.bag),
        # a bag's 2-D input (B, K); a 1-D one takes --offsets and, where not the default, its length L
        "bags": Rule(when=lambda spec: spec.bag and not spec.one_d),
        "bag_size": Rule(when=lambda spec: spec.bag and not spec.one_d, value=lambda spec: spec.shape[1]),
        "offsets": Rule(text=settings.listed),
        "shape": Rule(
            when=lambda spec: not spec.bag or spec.one_d,
            default=lambda spec: default_shape(spec.offsets, spec.include_last_offset),
            text=settings.listed,
        ),
    },
    # the bag's settings before the input's shape, which they decide
    order=(
        *("num_embeddings", "embedding_dim", "bag", "mode", "bags", "bag_size", "offsets"),
        *("include_last_offset", "shape", "per_sample_weights", "padding_idx", "max_norm", "device", "dtype"),
    ),
).line
