"""The torch side shared by every forward pass: the module, its input, the call.

``probe`` runs the checked forward pass with these, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.errors import UsageError
from torchshape.families.pool.formulas import symbols, tensor_formulas
from torchshape.families.pool.spec import FLAGS, Kind, PoolSpec

if TYPE_CHECKING:
    import torch


def module_class(spec: PoolSpec) -> Any:
    """torch.nn's class for this pool; refused (exit 2) when this torch lacks it (LPPool3d before 2.2)."""
    import torch

    found = getattr(torch.nn, spec.module_name, None)
    if found is None:
        raise UsageError(
            FLAGS["dims"],
            f"torch {torch.__version__} has no nn.{spec.module_name}; use --dims 1 or 2 with --kind lp",
        )
    return found


def module_arguments(spec: PoolSpec) -> tuple[list[Any], dict[str, Any]]:
    """The constructor's arguments, as ``PoolSpec.module_call`` writes them."""
    if spec.kind.adaptive:
        size: Any = spec.output_size_given[0] if spec.dims == 1 else spec.output_size_given
        return [size], {"return_indices": True} if spec.return_indices else {}

    def axis_value(values: tuple[int, ...]) -> Any:
        # a 1-d pool takes ints: LPPool1d multiplies by kernel_size and fails on a tuple
        return values[0] if spec.dims == 1 else values

    args: list[Any] = [spec.norm_type] if spec.kind is Kind.LP else []
    args.append(axis_value(spec.kernel_size))
    kwargs: dict[str, Any] = {"stride": axis_value(spec.stride), "ceil_mode": spec.ceil_mode}
    if spec.has("padding"):
        kwargs["padding"] = axis_value(spec.padding)
    if spec.has("dilation"):
        kwargs["dilation"] = axis_value(spec.dilation)
    if spec.has("count_include_pad"):
        kwargs["count_include_pad"] = spec.count_include_pad
    if spec.return_indices:
        kwargs["return_indices"] = True
    return args, kwargs


def build_module(spec: PoolSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.*Pool*d that ``spec`` describes (a pool has no weights: device and dtype go to its input)."""
    args, kwargs = module_arguments(spec)
    module: torch.nn.Module = module_class(spec)(*args, **kwargs)
    return module.eval()


def make_inputs(spec: PoolSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The input, shaped by the formula: torch checks it when it runs."""
    import torch

    shape = tensor_formulas(spec)[0].shape(symbols(spec))
    return {"input": torch.randn(shape, device=device, dtype=dtype)}


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Call the module as users do; name every returned tensor."""
    result = module(inputs["input"])
    if isinstance(result, tuple):
        return {"output": result[0], "indices": result[1]}
    return {"output": result}
