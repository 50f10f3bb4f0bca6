"""What the trace's records say once the forward pass is over: the calls with the operations
between them, which input fed which layer, the MACs, the suspicions and the failure's diagnosis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from torchshape.families.diagnosis import Diagnosis, spatial_dims, type_name
from torchshape.families.model.diagnose import diagnose
from torchshape.families.model.suspect import Suspicion, sequence_first
from torchshape.families.model.trace import LayerCall, Output
from torchshape.shapes import shape_text as _shape_text

if TYPE_CHECKING:
    from torch import nn


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def nbytes(tensors: Iterable[Any]) -> int:
    """The bytes of ``tensors`` (parameters, buffers, inputs, outputs) together."""
    return sum(t.numel() * t.element_size() for t in tensors)


def with_ops(calls: list[LayerCall], records: list[dict[str, Any]], ops: list[Any]) -> list[LayerCall]:
    """The module calls and the operations of the model's own code, in call order; an operation
    one level under the module call that ran it."""
    rows = [(record["seq"], call) for record, call in zip(records, calls, strict=True)]
    for op in ops:
        owner = calls[op.owner] if 0 <= op.owner < len(calls) else None
        outputs = [
            Output("output" if len(op.outputs) == 1 else f"output[{i}]", shape)
            for i, shape in enumerate(op.outputs)
        ]
        rows.append(
            (
                op.seq,
                LayerCall(
                    path=owner.path if owner is not None else "",
                    type=op.name,
                    module=op.name,
                    depth=(owner.depth if owner is not None else 0) + 1,
                    inputs=tuple(("input", shape) for shape in op.inputs),
                    outputs=tuple(outputs),
                    params=0,
                    macs=None,
                    failed=op.failed,
                    op=True,
                    where=op.where,
                    rule=op.rule,
                ),
            )
        )
    return [call for _, call in sorted(rows, key=lambda pair: pair[0])]


def fed_by(records: list[dict[str, Any]], given: list[Any]) -> tuple[tuple[int, int], ...]:
    """(place, num_embeddings): each input an embedding read as it came, with the smallest table."""
    from torch import nn

    tables: dict[int, int] = {}
    for record in records:
        module, args = record["module"], record["args"]
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and args:
            for place, tensor in enumerate(given):
                if args[0] is tensor:
                    size = int(module.num_embeddings)
                    tables[place] = min(size, tables.get(place, size))
    return tuple(sorted(tables.items()))


def inside_suspended(records: list[dict[str, Any]], index: int) -> bool:
    """A call inside a recurrent layer whose formula already counts it (an LSTM's own cells)."""
    parent = records[index]["parent"]
    while parent >= 0:
        if records[parent]["suspends"]:
            return True
        parent = records[parent]["parent"]
    return False


def inclusive_macs(records: list[dict[str, Any]], own: dict[int, int], found: list[Any]) -> list[int | None]:
    """The MACs of each call with everything it called: its operations', and a recurrent layer's
    formula. None for a call that did not finish."""
    totals = [own.get(index, 0) for index in range(len(records))]
    for index, record in enumerate(records):
        if record["suspends"] and found[index] is not None and found[index].macs is not None:
            totals[index] = found[index].macs
    for index in range(len(records) - 1, -1, -1):
        parent = records[index]["parent"]
        if parent >= 0 and not records[parent]["suspends"]:
            totals[parent] += totals[index]
    return [None if record["outputs"] is None else totals[i] for i, record in enumerate(records)]


def formula_macs(records: list[dict[str, Any]], found: list[Any], uncounted: set[int]) -> list[int | None]:
    """The MACs each call's family formula gives, to check against the operations it ran; None
    where there is nothing to check: no formula, a recurrent layer (its formula is the count), a
    call that did not finish, or one that ran an operation without a MAC formula."""
    incomplete = set(uncounted)
    for index in range(len(records) - 1, -1, -1):  # children come after their parent
        parent = records[index]["parent"]
        if index in incomplete and parent >= 0:
            incomplete.add(parent)
    macs: list[int | None] = []
    for index, record in enumerate(records):
        formula = found[index].macs if found[index] is not None else None
        skip = (
            record["suspends"]
            or inside_suspended(records, index)
            or record["outputs"] is None
            or index in incomplete
        )
        macs.append(None if skip else formula)
    return macs


def suspicions(
    records: list[dict[str, Any]], inputs: tuple[Any, ...], paths: dict[int, str]
) -> list[Suspicion]:
    """Calls that torch accepted but that usually mean a mistake (see ``suspect``); one per module.

    The batch size is the N of the first layer whose batch dimension is defined (a batched
    convolution, pool or batch norm, a batch_first recurrent layer or attention), else dim 0 of
    the model's first input. A recurrent layer fed the model's input itself is not suspected:
    that layout is the one the user typed."""
    import torch

    batch, source = _batch_size(records, paths)
    first = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) and inputs[0].dim() > 0 else None
    if batch is None and first is not None:
        batch, source = int(first.shape[0]), f"dim 0 of the model's input {_shape_text(shape_of(first))}"
    found: list[Suspicion] = []
    seen: set[int] = set()
    for record in records:
        module = record["module"]
        if id(module) in seen or record["outputs"] is None or not record["args"]:
            continue
        if any(record["args"][0] is given for given in inputs):
            continue
        suspicion = sequence_first(module, paths.get(id(module), "?"), record["args"], batch, source)
        if suspicion is not None:
            seen.add(id(module))
            found.append(suspicion)
    return found


def _batch_size(records: list[dict[str, Any]], paths: dict[int, str]) -> tuple[int | None, str]:
    """N where a layer defines it: dim 0 of a batched convolution, pool or batch norm, of a
    batch_first recurrent layer or attention."""
    import torch
    from torch import nn

    for record in records:
        module, args = record["module"], record["args"]
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor) or record["outputs"] is None:
            continue
        batched = False
        if isinstance(
            module, (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)
        ):
            batched = x.dim() == spatial_dims(module) + 2
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            batched = True
        elif isinstance(module, (nn.RNNBase, nn.MultiheadAttention)):
            batched = bool(module.batch_first) and x.dim() == 3
        if batched:
            path = paths.get(id(module), "?") or "(model)"
            return int(x.shape[0]), f"N = {int(x.shape[0])} that {path} ({type_name(module)}) saw"
    return None, ""


def failure(
    failing: nn.Module,
    where: str,
    records: list[dict[str, Any]],
    failed_index: int,
    error: BaseException,
    paths: dict[int, str],
    finished: list[int],
) -> Diagnosis:
    """The diagnosis of the call that raised, from the calls that finished before it."""
    earlier = []
    earlier_inputs = {}
    for record in records[: max(failed_index, 0)]:
        if record["outputs"] is None:
            continue
        path = paths.get(id(record["module"]), "?")
        earlier.append((path, [shape_of(t) for _, t in record["outputs"]]))
        earlier_inputs[path or "(model)"] = (
            type_name(record["module"]),
            [shape_of(t) for _, t in record["inputs"]],
        )
    args = records[failed_index]["args"] if failed_index >= 0 else ()
    kwargs = records[failed_index]["kwargs"] if failed_index >= 0 else {}
    last = None
    if finished:
        record = records[finished[-1]]
        module = record["module"]
        outputs = ", ".join(_shape_text(shape_of(t)) for _, t in record["outputs"] or [])
        last = f"{paths.get(id(module), '?') or '(model)'} ({type_name(module)}) → {outputs}"
    given = [shape_of(t) for _, t in records[0]["inputs"]] if records else None
    return diagnose(
        failing, where, args, error, earlier, earlier_inputs, kwargs=kwargs, last=last, given=given
    )
