"""The torch side: build the embedding, run one forward pass at the user's sizes, check --explain.

On ``--device meta`` the module runs on meta at the user's sizes: torch's meta kernels give
the output's shape in constant time (a 128 k-token context of a 10^9-row table at once),
and ``--explain``'s claims, which need values, are left unevaluated. Each claim that needs
a module of its own (padding_idx's gradient, max_norm's in-place change, the index range)
gets a fresh one, seeded as the checked one, and its own forward pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape import contain, guard
from torchshape.explain import Claim
from torchshape.families.embedding.explain import MAX_CHECKED_BAGS, Analysis, findings
from torchshape.families.embedding.formulas import bag_spans, empty_bags, symbols
from torchshape.families.embedding.spec import EmbeddingSpec, Mode
from torchshape.families.embedding.torch_side import build_module, forward, make_inputs
from torchshape.forward import Check, ForwardPass, forward_pass
from torchshape.options import SEED
from torchshape.probe import ProbeRun
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch

# The bag check gathers B·K·embedding_dim values at once: past this many it is skipped.
MAX_CHECKED_VALUES = 50_000_000


@quiet()
def run(spec: EmbeddingSpec, *, explain: bool = False) -> ProbeRun:
    guard.check(spec)  # before torch is imported on the CPU: refuse what cannot fit
    with forward_pass(spec, build_module, make_inputs, forward) as done:
        found = done.checked(spec, findings(spec), check) if explain else None
        parameters = done.parameters
    analysis = Analysis(findings=found, values=spec.device != "meta")
    return done.run(spec, symbols(spec), analysis, parameters)


def check(spec: EmbeddingSpec, done: ForwardPass, finding: Claim) -> Check:
    return CHECKS[finding.topic](spec, done.module, done.inputs, done.results)


def _fresh(spec: EmbeddingSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """A module built as the checked one was (same seed, so the same weight), outside inference mode."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        return build_module(spec, device, dtype)


def _tolerance(dtype: torch.dtype, terms: int) -> float:
    import torch

    base = 1e-5 if dtype in (torch.float32, torch.float64) else 2e-2
    return float(base * max(1.0, float(terms) ** 0.5))


def _index_range(
    spec: EmbeddingSpec, module: Any, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> Check:
    import torch

    x = inputs["input"]
    if x.device.type != "cpu":
        return None, f"not evaluated: on {x.device.type} an index out of range is a device-side assert"
    n = spec.num_embeddings
    bad = torch.tensor([[n]] if spec.bag else [n], dtype=torch.long)
    try:
        forward(_fresh(spec, x.device, module.weight.dtype), {"input": bad})
    except (IndexError, RuntimeError) as exc:
        return True, f"holds: torch raised {type(exc).__name__}: {contain.message(exc)}"
    return False, f"DOES NOT HOLD: torch looked up index {n} without an error"


def _padding(
    spec: EmbeddingSpec, module: Any, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> Check:
    import torch

    row = spec.padding_row
    assert row is not None
    x = inputs["input"]
    with torch.inference_mode(False), torch.enable_grad():
        fresh = _fresh(spec, x.device, module.weight.dtype)
        fed = {name: t.clone() for name, t in inputs.items()}
        index = fed["input"]
        zero_rows: list[int] = []  # bags made of padding_idx only
        if not spec.bag and index.numel():
            index.view(-1)[0] = row
        elif spec.bag and not spec.one_d:
            index[0] = row
            zero_rows = [0]
        elif spec.bag:
            spans = [i for i, (start, end) in enumerate(bag_spans(spec)) if end > start]
            if spans:
                start, end = bag_spans(spec)[spans[0]]
                index[start:end] = row
                zero_rows = [spans[0]]
        starts_zero = bool((fresh.weight[row] == 0).all())
        output = forward(fresh, fed)["output"]
        if spec.bag:
            zero_out = all(bool((output[i] == 0).all()) for i in zero_rows)
        else:
            zero_out = bool((output[index == row] == 0).all())
        output.float().sum().backward()
        grad = fresh.weight.grad
        no_grad = grad is None or bool((grad[row] == 0).all())
        others = [int(i) for i in index.unique().tolist() if int(i) != row]
        gets = not spec.bag and grad is not None and all(bool((grad[i] != 0).any()) for i in others)
    if spec.bag:
        gets = True  # max passes gradient to each column's largest row only: not claimed for bags
    parts = {
        f"weight[{row}] starts as zeros": starts_zero,
        "the padded positions give zeros": zero_out,
        f"weight.grad[{row}] is zeros": no_grad,
        "the other rows looked up get gradient": gets,
    }
    failed = [what for what, held in parts.items() if not held]
    if failed:
        return False, "DOES NOT HOLD: not " + "; not ".join(failed)
    return True, "holds, checked on a forward and backward pass of its own"


def _reduce(spec: EmbeddingSpec, rows: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """One bag's rows (K, E) reduced as torch does, padding_idx rows (``keep`` False) left out."""
    import torch

    rows = rows[keep]
    if rows.shape[0] == 0:
        return torch.zeros(rows.shape[1], dtype=rows.dtype, device=rows.device)
    if spec.mode is Mode.SUM:
        return rows.sum(0)
    if spec.mode is Mode.MEAN:
        return rows.mean(0)
    return rows.amax(0)


def _bags(
    spec: EmbeddingSpec, module: Any, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> Check:
    import torch

    x = inputs["input"]
    if x.numel() * spec.embedding_dim > MAX_CHECKED_VALUES:
        return None, f"not evaluated: more than {MAX_CHECKED_VALUES:,} values to gather"
    weight = module.weight.double()  # after the pass: max_norm has already rescaled it
    rows = weight[x]
    if spec.per_sample_weights:
        rows = rows * inputs["per_sample_weights"].double().unsqueeze(-1)
    keep = x != spec.padding_row if spec.padding_row is not None else torch.ones_like(x, dtype=torch.bool)
    if spec.one_d:
        spans = bag_spans(spec)
        if len(spans) > MAX_CHECKED_BAGS:
            return None, f"not evaluated: more than {MAX_CHECKED_BAGS} bags"
        parts = [_reduce(spec, rows[start:end], keep[start:end]) for start, end in spans]
        width = spec.embedding_dim
        manual = torch.stack(parts) if parts else torch.zeros(0, width, dtype=torch.float64, device=x.device)
        terms = max((end - start for start, end in spans), default=1)
    else:
        if spec.shape[0] > MAX_CHECKED_BAGS:
            return None, f"not evaluated: more than {MAX_CHECKED_BAGS} bags"
        manual = torch.stack([_reduce(spec, rows[i], keep[i]) for i in range(spec.shape[0])])
        terms = spec.shape[1]
    output = results["output"]
    exact = spec.mode is Mode.MAX
    tolerance = 0.0 if exact else _tolerance(output.dtype, terms)
    same = manual.shape == output.shape and bool(
        torch.allclose(manual.to(output.dtype).double(), output.double(), rtol=tolerance, atol=tolerance)
    )
    if not same:
        return False, "DOES NOT HOLD: torch's output differs from the bags reduced by hand"
    return True, "bit for bit" if exact else "within tolerance"


def _empty(
    spec: EmbeddingSpec, module: Any, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> Check:
    output = results["output"]
    zero = all(bool((output[i] == 0).all()) for i in empty_bags(spec))
    return (True, "holds") if zero else (False, "DOES NOT HOLD: an empty bag gave a row that is not zeros")


def _max_norm(
    spec: EmbeddingSpec, module: Any, inputs: dict[str, torch.Tensor], results: dict[str, torch.Tensor]
) -> Check:
    import torch

    assert spec.max_norm is not None
    x = inputs["input"]
    fresh = _fresh(spec, x.device, module.weight.dtype)
    before = fresh.weight.detach().clone()
    forward(fresh, inputs)
    after = fresh.weight.detach()
    looked = torch.zeros(spec.num_embeddings, dtype=torch.bool, device=x.device)
    looked[x.reshape(-1)] = True
    norms = before.double().norm(dim=1)
    above = looked & (norms > spec.max_norm)
    tolerance = _tolerance(after.dtype, 1) * 10
    untouched = bool(torch.equal(after[~above], before[~above]))
    scaled = before.double()[above] * (spec.max_norm / (norms[above] + 1e-7)).unsqueeze(1)
    rescaled = bool(torch.allclose(after.double()[above], scaled, rtol=tolerance, atol=tolerance))
    capped = bool((after.double()[looked].norm(dim=1) <= spec.max_norm * (1 + tolerance)).all())
    count = f"{int(above.sum())} of the {int(looked.sum())} rows looked up were above max_norm"
    if untouched and rescaled and capped:
        return True, f"holds: {count} and were rescaled in place"
    return False, f"DOES NOT HOLD: {count}; torch's weight after the pass is not as claimed"


CHECKS = {
    "index range": _index_range,
    "padding_idx": _padding,
    "bags": _bags,
    "empty bags": _empty,
    "max_norm": _max_norm,
}
