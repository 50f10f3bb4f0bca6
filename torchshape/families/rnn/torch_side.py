"""The torch side shared by every forward pass: the device, the module, its inputs, the call.

``probe`` runs the checked forward pass with these, ``explain_probe`` the extra modules
of --explain and --unroll, ``torchshape.timing`` the timed ones.
torch is imported inside each function.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape.families.rnn.formulas import symbols, tensor_formulas
from torchshape.families.rnn.spec import RNNSpec
from torchshape.quiet import quiet

if TYPE_CHECKING:
    import torch


def build_module(spec: RNNSpec, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The nn.RNN / nn.GRU / nn.LSTM (or nn.RNNCell / nn.GRUCell / nn.LSTMCell) that ``spec`` describes."""
    import torch

    kwargs: dict[str, Any] = {"bias": spec.bias, "device": device, "dtype": dtype}
    if not spec.kind.is_cell:
        kwargs |= {
            "num_layers": spec.num_layers,
            "batch_first": spec.batch_first,
            "dropout": spec.dropout,
            "bidirectional": spec.bidirectional,
        }
    if spec.proj_size:
        kwargs["proj_size"] = spec.proj_size
    if spec.nonlinearity is not None:
        kwargs["nonlinearity"] = spec.nonlinearity.value
    module_class = getattr(torch.nn, spec.kind.module_name)
    with quiet():  # torch warns about dropout with one layer; torchshape says so in its notes
        module: torch.nn.Module = module_class(spec.input_size, spec.hidden_size, **kwargs)
    return module.eval()


def one_layer(
    spec: RNNSpec, module: torch.nn.Module, layer: int, input_size: int, direction: int | None = None
) -> torch.nn.Module:
    """Layer ``layer`` of ``module`` on its own, a one-layer module sharing its weights: with both
    directions, or only ``direction`` (1: backward, weights ``*_reverse``)."""
    alone = replace(
        spec,
        input_size=input_size,
        num_layers=1,
        bidirectional=spec.bidirectional and direction is None,
        dropout=0.0,
        lengths=None,
    )
    weight = module.weight_ih_l0
    sub = build_module(alone, weight.device, weight.dtype)
    suffix = "_reverse" if direction == 1 else ""
    sub.load_state_dict(
        {
            name: getattr(module, name.replace("_l0", f"_l{layer}") + suffix)
            for name, _ in sub.named_parameters()
        }
    )
    return sub


def make_inputs(spec: RNNSpec, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """input, h_0 (and c_0), each shaped by the formulas: torch checks them when it runs."""
    import torch

    sym = symbols(spec)
    return {
        f.name: torch.randn(f.shape(sym), device=device, dtype=dtype) for f in tensor_formulas(spec) if f.fed
    }


def forward(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Call the module as users do; name every returned tensor."""
    import torch

    returned = module(inputs["input"], hidden(inputs))
    if isinstance(module, torch.nn.RNNCellBase):  # one step: h_1, or the tuple (h_1, c_1)
        return split_state(returned, "1")
    output, state = returned
    return {"output": output, **split_state(state)}


def hidden(inputs: dict[str, torch.Tensor], rows: slice | None = None) -> Any:
    """The initial state as the module takes it: h_0, or (h_0, c_0); only ``rows`` of it if given."""
    h_0, c_0 = inputs["h_0"], inputs.get("c_0")
    if rows is not None:
        h_0, c_0 = h_0[rows], None if c_0 is None else c_0[rows]
    return h_0 if c_0 is None else (h_0, c_0)


def split_state(state: Any, step: str = "n") -> dict[str, torch.Tensor]:
    """The final state a module returned, by name: h_n (and c_n); a cell's h_1 (and c_1)."""
    if isinstance(state, tuple):
        return {f"h_{step}": state[0], f"c_{step}": state[1]}
    return {f"h_{step}": state}


def close(a: torch.Tensor, b: torch.Tensor, tolerance: tuple[float, float]) -> bool:
    """The same shape, and the same values within ``tolerance`` (rtol, atol)."""
    import torch

    rtol, atol = tolerance
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.numel() == 0:
        return 0.0
    return float((a.double() - b.double()).abs().max().item())
