"""The torch side shared by every forward pass: the device, the module, its inputs, the call.

``probe`` runs the checked forward pass with these, ``explain_probe`` the extra modules
of --explain and --unroll, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.families.rnn import cells
from torchshape.families.rnn.formulas import symbols, tensor_formulas
from torchshape.families.rnn.spec import RNNSpec
from torchshape.options import SEED
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch

__all__ = ["SEED", "build_module", "forward", "hidden", "make_inputs", "max_abs_diff", "split_state"]


def build_module(spec: RNNSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.RNN / nn.GRU / nn.LSTM that ``spec`` describes."""
    import torch

    if spec.kind.is_cell:
        return cells.build_module(spec, device, dtype)

    kwargs: dict[str, Any] = {
        "num_layers": spec.num_layers,
        "bias": spec.bias,
        "batch_first": spec.batch_first,
        "dropout": spec.dropout,
        "bidirectional": spec.bidirectional,
        "device": device,
        "dtype": dtype,
    }
    if spec.proj_size:
        kwargs["proj_size"] = spec.proj_size
    if spec.nonlinearity is not None:
        kwargs["nonlinearity"] = spec.nonlinearity.value
    module_class = getattr(torch.nn, spec.kind.module_name)
    with quiet():  # torch warns about dropout with one layer; torchshape says so in its notes
        module: torch.nn.Module = module_class(spec.input_size, spec.hidden_size, **kwargs)
    return module.eval()


def make_inputs(spec: RNNSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """input, h_0 (and c_0), each shaped by the formulas: torch checks them when it runs."""
    import torch

    sym = symbols(spec)
    fed = {"input", "h_0", "c_0"}
    return {
        f.name: torch.randn(f.shape(sym), device=device, dtype=dtype)
        for f in tensor_formulas(spec)
        if f.name in fed
    }


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Call the module as users do; name every returned tensor."""
    if cells.is_cell_module(module):
        return cells.forward(module, inputs)
    output, state = module(inputs["input"], hidden(inputs))
    return {"output": output, **split_state(state)}


def hidden(inputs: dict[str, torch.Tensor]) -> Any:
    """The initial state as the module takes it: h_0, or (h_0, c_0)."""
    return (inputs["h_0"], inputs["c_0"]) if "c_0" in inputs else inputs["h_0"]


def split_state(state: Any) -> dict[str, torch.Tensor]:
    """The final state a module returned, by name: h_n (and c_n)."""
    if isinstance(state, tuple):
        return {"h_n": state[0], "c_n": state[1]}
    return {"h_n": state}


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.numel() == 0:
        return 0.0
    return float((a.double() - b.double()).abs().max().item())
