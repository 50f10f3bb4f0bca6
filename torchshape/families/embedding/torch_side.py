"""The torch side shared by every forward pass: the module, its indices, the call.

``probe`` runs the checked forward pass with these, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.families.embedding.formulas import symbols, tensor_formulas
from torchshape.families.embedding.spec import EmbeddingSpec

if TYPE_CHECKING:
    import torch


def module_kwargs(spec: EmbeddingSpec) -> dict[str, Any]:
    """The constructor's keyword arguments, as ``EmbeddingSpec.module_call`` writes them."""
    kwargs: dict[str, Any] = {"padding_idx": spec.padding_idx, "max_norm": spec.max_norm}
    if spec.bag:
        kwargs["mode"] = spec.mode.value
        kwargs["include_last_offset"] = spec.include_last_offset
    return kwargs


def build_module(spec: EmbeddingSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.Embedding or nn.EmbeddingBag that ``spec`` describes (on meta: nothing allocated)."""
    import torch

    module_class = getattr(torch.nn, spec.module_name)
    kwargs = module_kwargs(spec)
    if device.type == "meta":
        # no values on meta, so no N(0, 1) to draw: the first normal_ on meta costs about a second
        kwargs["_weight"] = torch.empty((spec.num_embeddings, spec.embedding_dim), device=device, dtype=dtype)
    module: torch.nn.Module = module_class(
        spec.num_embeddings, spec.embedding_dim, device=device, dtype=dtype, **kwargs
    )
    return module.eval()


def make_inputs(spec: EmbeddingSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Indices drawn from 0 to num_embeddings − 1 (int64), shaped by the formulas; the offsets as
    given; per_sample_weights from U(0, 1) in the weight's dtype."""
    import torch

    sym = symbols(spec)
    shapes = {f.name: f.shape(sym) for f in tensor_formulas(spec)}
    meta = device.type == "meta"
    if meta:
        indices = torch.empty(shapes["input"], device=device, dtype=torch.long)
    else:
        indices = torch.randint(0, spec.num_embeddings, shapes["input"], device=device, dtype=torch.long)
    inputs = {"input": indices}
    if spec.offsets is not None:
        inputs["offsets"] = torch.tensor(spec.offsets, dtype=torch.long).to(device)
    if spec.per_sample_weights:
        shape = shapes["per_sample_weights"]
        made = torch.empty(shape, device=device, dtype=dtype) if meta else torch.rand(shape, device=device)
        inputs["per_sample_weights"] = made.to(dtype)
    return inputs


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Call the module as users do."""
    if "offsets" in inputs or "per_sample_weights" in inputs:
        output = module(
            inputs["input"],
            offsets=inputs.get("offsets"),
            per_sample_weights=inputs.get("per_sample_weights"),
        )
    else:
        output = module(inputs["input"])
    return {"output": output}
