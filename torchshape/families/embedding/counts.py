"""Parameters, work and memory of one embedding's forward pass. Pure arithmetic, no torch.

Parameters: weight (num_embeddings, embedding_dim), drawn from N(0, 1); the padding_idx row
starts as zeros.

MACs: 0, for nn.Embedding and nn.EmbeddingBag alike. A lookup multiplies nothing, and a bag
adds its rows (mean then divides once per bag, max compares): additions, not the
multiply-accumulates of a matrix product that the MAC count, and --time's FLOP/s, stand for.
torch's own counter, ``torch.utils.flop_counter.FlopCounterMode``, also counts 0 for both,
per_sample_weights included (a test checks it). The footer gives the work instead:

    nn.Embedding     reads ∏* · embedding_dim values
    nn.EmbeddingBag  reads L (or B·K) rows of embedding_dim values and adds (max: compares) them;
                     with per_sample_weights it also multiplies every value by its row's weight

Memory: weight, the int64 indices (and offsets), per_sample_weights and the output exist at
once; a bag also keeps int64 bookkeeping per index (offset2bag) and, for max, per output
element (max_indices). The peak estimate is their sum times PEAK_MARGIN.
"""

from __future__ import annotations

import math

from torchshape.facts import Totals
from torchshape.families import layer_counts
from torchshape.families.embedding.formulas import symbols, tensor_formulas
from torchshape.families.embedding.spec import EmbeddingSpec, Mode
from torchshape.families.layer_counts import PEAK_MARGIN

INDEX_BYTES = 8  # indices and offsets are int64
# Pessimistic rates for the guard's time estimate on one CPU core.
VALUES_PER_SECOND = 2e8  # values read from weight and written to the output
FILLED_PER_SECOND = 1e8  # weight filled with random numbers


def parameter_formulas(spec: EmbeddingSpec) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, formula, shape) of every parameter, in ``named_parameters()`` order."""
    return [("weight", "(num_embeddings, embedding_dim)", (spec.num_embeddings, spec.embedding_dim))]


def parameter_count(spec: EmbeddingSpec) -> int:
    return spec.num_embeddings * spec.embedding_dim


def index_count(spec: EmbeddingSpec) -> int:
    """Indices fed: ∏*, B·K or L."""
    return math.prod(spec.shape)


def output_numel(spec: EmbeddingSpec) -> int:
    rows = spec.bags if spec.bag else index_count(spec)
    return rows * spec.embedding_dim


def values_read(spec: EmbeddingSpec) -> int:
    """Values read from weight: one row per index (a bag's padding_idx entries are read and skipped)."""
    return index_count(spec) * spec.embedding_dim


def input_bytes(spec: EmbeddingSpec) -> int:
    offsets = len(spec.offsets) if spec.offsets is not None else 0
    weights = index_count(spec) * spec.dtype.itemsize if spec.per_sample_weights else 0
    return (index_count(spec) + offsets) * INDEX_BYTES + weights


def totals(spec: EmbeddingSpec) -> Totals:
    itemsize = spec.dtype.itemsize
    params = parameter_count(spec)
    output_bytes = output_numel(spec) * itemsize
    working = 0
    if spec.bag:
        working = index_count(spec) * INDEX_BYTES + spec.bags * INDEX_BYTES
        if spec.mode is Mode.MAX:
            working += output_numel(spec) * INDEX_BYTES
    peak = math.ceil(PEAK_MARGIN * (params * itemsize + input_bytes(spec) + output_bytes + working))
    return layer_counts.totals(spec, params, 0, inputs=input_bytes(spec), outputs=output_bytes, peak=peak)


def estimated_seconds(spec: EmbeddingSpec) -> float:
    moved = values_read(spec) + output_numel(spec) + index_count(spec)
    return parameter_count(spec) / FILLED_PER_SECOND + moved / VALUES_PER_SECOND


def check_addressable(spec: EmbeddingSpec) -> None:
    """Refuse a tensor or the weight whose size in bytes torch cannot represent (on meta too)."""
    from torchshape.guard import check_tensor

    weight = (spec.num_embeddings, spec.embedding_dim)
    flags = "--num-embeddings or --embedding-dim"
    check_tensor("weight", weight, parameter_count(spec), spec.dtype.itemsize, flags)
    sym = symbols(spec)
    for formula in tensor_formulas(spec):
        shape = formula.shape(sym)
        size = INDEX_BYTES if formula.name in ("input", "offsets") else spec.dtype.itemsize
        flags = "--embedding-dim or " if formula.name == "output" else ""
        flags += "--bags or --bag-size" if spec.bag and not spec.one_d else "--shape"
        check_tensor(formula.name, shape, math.prod(shape), size, flags)


def explain_bytes(spec: EmbeddingSpec) -> int:
    """What ``--explain``'s checks allocate beside the forward pass: copies of the weight (max_norm
    renormalises a copy and compares it in float64; a bag is recomputed row by row), measured with
    peak RSS (tests/test_guard_explain.py)."""
    weight = parameter_count(spec) * spec.dtype.itemsize
    copies = 4 if spec.max_norm is not None else 2 if spec.bag else 1
    return copies * weight
