"""The shape rules of nn.Embedding and nn.EmbeddingBag, in the PyTorch docs' names. Pure
arithmetic, no torch.

    num_embeddings   rows of weight: indices run from 0 to num_embeddings − 1
    embedding_dim    the length of every row, and the output's last dimension
    *                the index tensor's shape, any number of dimensions (*[0], *[1], ...)
    B, K             a bag's 2-D input: B bags of K indices each
    L, O             a bag's 1-D input: L indices in all, and O = len(offsets)

    nn.Embedding      input (*)           output (*, embedding_dim)      output = weight[input]
    nn.EmbeddingBag   input (B, K)        output (B, embedding_dim)      bag i is input[i]
                      input (L), offsets (O)
                                          output (B, embedding_dim)      B = O, or O − 1 with
                                                                         include_last_offset
    per_sample_weights                    the input's shape (mode 'sum' only)

With a 1-D input, bag i is input[offsets[i]:offsets[i+1]] and the last bag runs to the
input's end L; with include_last_offset the last offset only ends the bag before it, so
there is one bag fewer. A bag with no indices gives a row of zeros, in every mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.embedding.spec import EmbeddingSpec, Mode

# Bags listed one by one in the table before "…"; JSON lists up to MAX_LISTED.
SHOWN_BAGS = 6
MAX_LISTED = 1024


def input_symbols(spec: EmbeddingSpec) -> tuple[str, ...]:
    """The symbol of every dimension of the index tensor."""
    if not spec.bag:
        return tuple(f"*[{i}]" for i in range(len(spec.shape)))
    return ("L",) if spec.one_d else ("B", "K")


def symbols(spec: EmbeddingSpec) -> Symbols:
    values: list[tuple[str, int]] = list(zip(input_symbols(spec), spec.shape, strict=True))
    if spec.one_d:
        assert spec.offsets is not None
        values += [("O", len(spec.offsets)), ("B", spec.bags)]
    values += [("embedding_dim", spec.embedding_dim), ("num_embeddings", spec.num_embeddings)]
    return Symbols(tuple(values))


def tensor_formulas(spec: EmbeddingSpec) -> list[TensorFormula]:
    """Every tensor fed, then the output, in call order."""
    dims = input_symbols(spec)
    if not spec.bag:
        return [
            TensorFormula("input", dims, written="(*)", fed=True),
            TensorFormula("output", (*dims, "embedding_dim"), written="(*, embedding_dim)"),
        ]
    written = "(L)" if spec.one_d else "(B, K)"
    rows = [TensorFormula("input", dims, written=written, fed=True)]
    if spec.one_d:
        rows.append(TensorFormula("offsets", ("O",), written="(O)", fed=True))
    if spec.per_sample_weights:
        rows.append(TensorFormula("per_sample_weights", dims, written=written, fed=True))
    rows.append(TensorFormula("output", ("B", "embedding_dim"), written="(B, embedding_dim)"))
    return rows


@dataclass(frozen=True)
class Rule:
    """How the output's leading size comes about: in the docs' names, then with this run's numbers."""

    formula: str
    numeric: str
    value: int  # B for a bag; the number of indices looked up for nn.Embedding


def rule(spec: EmbeddingSpec) -> Rule:
    if not spec.bag:
        count = math.prod(spec.shape)
        dims = ", ".join(str(n) for n in spec.shape)
        return Rule(
            "output = weight[input]: one row of embedding_dim values per index, (*) → (*, embedding_dim)",
            f"({dims}) → ({dims}{', ' if dims else ''}{spec.embedding_dim}): {count:,} rows looked up",
            count,
        )
    if not spec.one_d:
        return Rule("B = input.shape[0]: bag i is input[i], its K indices", f"B = {spec.bags}", spec.bags)
    assert spec.offsets is not None
    o = len(spec.offsets)
    if spec.include_last_offset:
        return Rule(
            "B = len(offsets) − 1: with include_last_offset the last offset ends the last bag",
            f"B = {o} − 1 = {spec.bags}",
            spec.bags,
        )
    return Rule(
        "B = len(offsets): bag i starts at offsets[i]; the last bag runs to the input's end L",
        f"B = {o}",
        spec.bags,
    )


def bag_spans(spec: EmbeddingSpec) -> list[tuple[int, int]]:
    """[start, end) of every bag of a 1-D input (none for a 2-D one or nn.Embedding)."""
    return spec.bag_spans() if spec.one_d else []


def empty_bags(spec: EmbeddingSpec) -> list[int]:
    """The bags of a 1-D input that hold no index."""
    return [i for i, (start, end) in enumerate(bag_spans(spec)) if start == end]


def bags_text(bags: list[int]) -> str:
    """The first SHOWN_BAGS of ``bags``, then "…" where there are more."""
    return ", ".join(str(i) for i in bags[:SHOWN_BAGS]) + (", …" if len(bags) > SHOWN_BAGS else "")


def spans_text(spans: list[tuple[int, int]]) -> str:
    def one(i: int, span: tuple[int, int]) -> str:
        return f"{i}: [{span[0]}, {span[1]})" + (" empty" if span[0] == span[1] else "")

    listed = list(enumerate(spans))
    if len(listed) <= SHOWN_BAGS:
        return ", ".join(one(i, s) for i, s in listed)
    head = ", ".join(one(i, s) for i, s in listed[: SHOWN_BAGS - 2])
    return f"{head}, …, {', '.join(one(i, s) for i, s in listed[-2:])}"


# ---------------------------------------------------------------- legend and notes


def legend(spec: EmbeddingSpec) -> list[LegendEntry]:
    """What each symbol is in this run, and where its value comes from."""
    sym = symbols(spec)
    entries = []
    if not spec.bag:
        for i, name in enumerate(input_symbols(spec)):
            entries.append(LegendEntry(name, sym[name], f"index tensor, dimension {i} (--shape)"))
    elif spec.one_d:
        entries.append(LegendEntry("L", sym["L"], "indices in all bags: the 1-D input's length (--shape)"))
        entries.append(LegendEntry("O", sym["O"], "len(offsets) (--offsets)"))
        why = "len(offsets) − 1 (--include-last-offset)" if spec.include_last_offset else "len(offsets)"
        entries.append(LegendEntry("B", sym["B"], f"bags: {why}"))
    else:
        entries.append(LegendEntry("B", sym["B"], "bags (--bags)"))
        entries.append(LegendEntry("K", sym["K"], "indices per bag (--bag-size)"))
    entries.append(LegendEntry("embedding_dim", spec.embedding_dim, "length of every row (--embedding-dim)"))
    entries.append(LegendEntry("num_embeddings", spec.num_embeddings, "rows of weight (--num-embeddings)"))
    return entries


def notes(spec: EmbeddingSpec) -> list[str]:
    """Short warnings where this configuration invites a known mistake."""
    n = spec.num_embeddings
    out = [
        f"Indices must be 0 to num_embeddings − 1 = {n - 1}: index {n} (a vocabulary size off by one) "
        "makes torch raise (--explain shows its error)."
    ]
    if spec.padding_idx is not None:
        what = "is zeros and receives no gradient"
        if spec.bag:
            what += "; in a bag those indices are left out (mean does not count them)"
        out.append(f"padding_idx {spec.padding_idx} is row {spec.padding_row}: it {what}.")
    if spec.max_norm is not None:
        out.append(
            f"max_norm {spec.max_norm:g} rescales, in place, every row the forward pass looks up whose "
            "norm is larger: the weight itself changes (wrap it in torch.no_grad() or clone the weight "
            "if it is used elsewhere)."
        )
    if spec.bag:
        if spec.one_d and spec.include_last_offset:
            out.append("include_last_offset: the last offset ends the last bag, so B = len(offsets) − 1.")
        elif spec.one_d:
            out.append(
                "Without include_last_offset every offset starts a bag and the last bag runs to the "
                "input's end: B = len(offsets)."
            )
        empty = empty_bags(spec)
        if empty:
            zeros = f"their output rows are zeros (mode {spec.mode.value} too)"
            out.append(f"Bag(s) {bags_text(empty)} hold no index: {zeros}.")
        if spec.mode is Mode.MAX:
            out.append("mode 'max' takes the largest value of each column over the bag's rows.")
    return out
