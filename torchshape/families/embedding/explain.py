"""--explain for embeddings: what each lookup and each bag does, as facts in plain data. Pure, no torch.

Each ``Claim`` states facts that follow from the rules and one claim that the probe
(``torchshape.families.embedding.probe``) checks on torch's values, each on a forward pass
of its own: ``holds`` is True or False there, and None on meta, where no values exist.

- index range: indices run from 0 to num_embeddings − 1; index num_embeddings raises;
- padding_idx: its row is zeros and receives no gradient (checked with a backward pass);
- bags: which indices make up each bag, B = len(offsets) or len(offsets) − 1 with
  include_last_offset; checked by reducing exactly those rows of weight;
- empty bags: a bag with no index gives a row of zeros;
- max_norm: the rows looked up are rescaled to norm max_norm in weight itself, in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape.explain import Claim, all_held
from torchshape.families.embedding.formulas import MAX_LISTED, bag_spans, bags_text, empty_bags, spans_text
from torchshape.families.embedding.spec import EmbeddingSpec, Mode

# The bag check reduces one bag at a time: past this many bags it is skipped.
MAX_CHECKED_BAGS = 4096


@dataclass(frozen=True)
class Analysis:
    """What the embedding's probe checked beyond the shapes."""

    findings: tuple[Claim, ...] | None  # None without --explain
    values: bool  # False on meta

    @property
    def ok(self) -> bool:
        return all_held(self.findings or ())


def index_finding(spec: EmbeddingSpec) -> Claim:
    n = spec.num_embeddings
    return Claim(
        topic="index range",
        facts=(f"weight has num_embeddings = {n} rows: an index is 0 to {n - 1}",),
        claim=f"index {n} (num_embeddings itself, a vocabulary size off by one) makes torch raise",
        data={"first_out_of_range": n},
    )


def padding_finding(spec: EmbeddingSpec) -> Claim:
    row = spec.padding_row
    facts = [f"padding_idx {spec.padding_idx} is row {row} of weight; it starts as zeros"]
    if spec.bag:
        facts.append(
            "in a bag, indices equal to padding_idx are left out: they add nothing, "
            "and mean does not count them"
        )
        claim = (
            f"weight[{row}] is zeros, a bag of only index {row} gives zeros, and after "
            f"output.sum().backward() weight.grad[{row}] is zeros"
        )
    else:
        facts.append("every output position whose index is padding_idx is a row of zeros")
        claim = (
            f"weight[{row}] is zeros, output is zeros wherever input is {row}, and after "
            f"output.sum().backward() weight.grad[{row}] is zeros while the other rows looked up get gradient"
        )
    return Claim(topic="padding_idx", facts=tuple(facts), claim=claim, data={"row": row})


_REDUCE = {Mode.SUM: "sum", Mode.MEAN: "mean", Mode.MAX: "max (per column)"}


def bags_finding(spec: EmbeddingSpec) -> Claim:
    reduce = _REDUCE[spec.mode]
    weighted = " × per_sample_weights" if spec.per_sample_weights else ""
    data: dict[str, Any] = {"B": spec.bags}
    if not spec.one_d:
        facts: tuple[str, ...] = (
            f"2-D input (B, K) = ({spec.shape[0]}, {spec.shape[1]}): bag i is input[i], its K indices",
        )
        claim = f"output[i] is the {reduce} of weight[input[i]]{weighted}, for every bag i"
        return Claim(topic="bags", facts=facts, claim=claim, data=data)
    assert spec.offsets is not None
    spans = bag_spans(spec)
    data["spans"] = [list(s) for s in spans[:MAX_LISTED]]
    o = len(spec.offsets)
    if spec.include_last_offset:
        how = (
            f"include_last_offset: the last offset ({spec.offsets[-1]}) only ends the last bag, "
            f"so B = len(offsets) − 1 = {o} − 1 = {spec.bags}"
        )
        if spec.offsets[-1] < spec.shape[0]:
            how += f"; input positions {spec.offsets[-1]} to {spec.shape[0] - 1} belong to no bag"
    else:
        how = f"every offset starts a bag and the last runs to the input's end L = {spec.shape[0]}: B = {o}"
    facts = (how, f"bags [start, end): {spans_text(spans)}")
    claim = f"output[i] is the {reduce} of weight[input[offsets[i]:end]]{weighted}, for every bag i"
    return Claim(topic="bags", facts=facts, claim=claim, data=data)


def empty_finding(spec: EmbeddingSpec) -> Claim:
    empty = empty_bags(spec)
    return Claim(
        topic="empty bags",
        facts=(f"bag(s) {bags_text(empty)} start and end at the same offset: they hold no index",),
        claim=f"their output rows are all zeros (mode '{spec.mode.value}')",
        data={"bags": empty[:MAX_LISTED]},
    )


def max_norm_finding(spec: EmbeddingSpec) -> Claim:
    assert spec.max_norm is not None
    return Claim(
        topic="max_norm",
        facts=(
            "before the lookup, every row the input names whose 2-norm is above "
            f"max_norm = {spec.max_norm:g} "
            "is scaled down to that norm, in weight itself (in place); other rows are left alone",
        ),
        claim=(
            "after one forward pass, the rows looked up have norm ≤ max_norm, those that were above "
            "it changed in weight in place (direction kept), and every other row is unchanged"
        ),
        data={"max_norm": spec.max_norm},
    )


def findings(spec: EmbeddingSpec) -> list[Claim]:
    """Every finding --explain shows for this configuration, before torch checks them."""
    out = [index_finding(spec)]
    if spec.padding_idx is not None:
        out.append(padding_finding(spec))
    if spec.bag:
        out.append(bags_finding(spec))
        if empty_bags(spec):
            out.append(empty_finding(spec))
    if spec.max_norm is not None:
        out.append(max_norm_finding(spec))
    return out
