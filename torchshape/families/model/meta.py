"""Recurrent layers on the meta device, answered by their verified formulas.

On meta, torch runs a recurrent layer one time step at a time through Python-level
decompositions: a minute or more for a large LSTM. So on meta each recurrent layer and cell
of the user's model gets a stand-in ``forward`` for the trace. The stand-in checks its input
as torch does (the input's dimensions, input_size, the hidden state's shape), so a broken
model still fails at the right layer, and returns meta tensors of the shapes the rnn family's
formulas give. Those formulas are checked first: the same kind of layer, with the same
structure (layers, directions, projection, batch_first) but small sizes, runs on the CPU, and
its shapes must equal the formulas' at those sizes (the rnn family's probe sizes, as in
``torchshape rnn --device meta``). The trace marks these outputs ✓*.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from torchshape import families

if TYPE_CHECKING:
    from torch import nn


class Answered:
    """Which module calls a stand-in answered, and whether each one's formulas held at small sizes."""

    def __init__(self) -> None:
        self.verified: dict[int, bool] = {}  # id(module) -> the small-size check held
        self._checked: dict[Any, bool] = {}

    def check(self, module: nn.Module, adapter: Any, spec: Any) -> bool:
        """Run the layer at small sizes on the CPU: do torch's shapes equal the formulas'?"""
        small = adapter.small(spec)
        if small not in self._checked:
            from torchshape.families.model.ops import outside

            with outside():  # torchshape's own check: not the model's memory or MACs
                self._checked[small] = _small_run_agrees(module, adapter, small)
        return self._checked[small]


@contextmanager
def recurrent_stand_ins(model: nn.Module) -> Iterator[Answered]:
    """Give every recurrent layer and cell of ``model`` a formula-answered forward while inside."""
    from torch import nn

    answered = Answered()
    replaced = []
    for module in model.modules():
        if isinstance(module, (nn.RNNBase, nn.RNNCellBase)) and "forward" not in vars(module):
            module.forward = _stand_in(module, answered)
            replaced.append(module)
    try:
        yield answered
    finally:
        for module in replaced:
            del module.forward


def _stand_in(module: nn.Module, answered: Answered) -> Callable[..., Any]:
    import torch
    from torch import nn
    from torch.nn.utils.rnn import PackedSequence

    cell = isinstance(module, nn.RNNCellBase)
    lstm = isinstance(module, (nn.LSTM, nn.LSTMCell))
    adapter: Any = families.claim(module, any_forward=True)  # the rnn family's: spec, outputs, sizes

    def forward(input: Any, hx: Any = None) -> Any:
        packed = isinstance(input, PackedSequence)
        x = input.data if packed else input
        spec = adapter.spec_of(module, (input,))
        if spec is None:
            dims = "1-D or 2-D" if cell else "2-D or 3-D"
            name = type(module).__name__
            raise ValueError(f"{name}: Expected input to be {dims}, got {x.dim()}-D instead")
        if x.shape[-1] != module.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {module.input_size}, got {x.shape[-1]}"
            )
        outputs = {o.name: o.expected for o in adapter.outputs(spec)}
        if hx is not None:
            states = (hx if isinstance(hx, tuple) else (hx,)) if lstm else (hx,)
            names = ("h_1", "c_1") if cell else ("h_n", "c_n")
            for name, given in zip(names, states, strict=False):
                want = outputs[name]
                if tuple(given.shape) != want:
                    label = "hidden" if not lstm else f"hidden[{names.index(name)}]"
                    raise RuntimeError(f"Expected {label} size {want}, got {list(given.shape)}")
        answered.verified[id(module)] = answered.check(module, adapter, spec)

        def empty(name: str) -> torch.Tensor:
            return torch.empty(outputs[name], dtype=x.dtype, device=x.device)

        if cell:
            return (empty("h_1"), empty("c_1")) if lstm else empty("h_1")
        state = (empty("h_n"), empty("c_n")) if lstm else empty("h_n")
        if packed:
            data = empty("output.data")
            return PackedSequence(
                data, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            ), state
        return empty("output"), state

    return forward


def _small_run_agrees(module: nn.Module, adapter: Any, small: Any) -> bool:
    """A layer of ``module``'s type and structure at ``small``'s sizes, on the CPU: do torch's
    shapes equal the formulas'? A packed call is checked packed, at small lengths."""
    import torch
    from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

    from torchshape.families.diagnosis import rebuild
    from torchshape.families.model.names import name_outputs

    padded_input = adapter.padded_input(small)
    sizes: dict[str, Any] = {"input_size": small.input_size, "hidden_size": small.hidden_size}
    if not small.kind.is_cell:
        sizes["num_layers"] = small.num_layers
        if small.proj_size:
            sizes["proj_size"] = small.proj_size
    with torch.random.fork_rng(devices=[]), torch.no_grad(), torch.device("cpu"):
        layer = rebuild(module, adapter.arguments(module), sizes)
        x: torch.Tensor | PackedSequence = torch.randn(padded_input)
        if small.lengths is not None:
            lengths = [max(1, small.seq_len - i) for i in range(small.batch)]
            x = pack_padded_sequence(x, torch.tensor(lengths), batch_first=small.batch_first)
            small = replace(small, lengths=tuple(lengths))
        got = dict(name_outputs(layer, layer(x)))
    expected = {o.name: o.expected for o in adapter.outputs(small)}
    return got.keys() == expected.keys() and all(tuple(t.shape) == expected[n] for n, t in got.items())


# The values of a small integer or bool --input on meta (lengths, masks), drawn on the CPU.
VALUES = "_torchshape_values"
SMALL_VALUES = 1 << 20


def keep_values(meta: Any, values: Any) -> None:
    """Let a tensor on meta carry its values on the CPU, for code that reads them."""
    setattr(meta, VALUES, values)


@contextmanager
def lengths_on_cpu() -> Iterator[None]:
    """Code that reads values on meta: ``pack_padded_sequence`` wants its lengths as a CPU tensor,
    transformers asks whether a mask is all ones. An --input that carries its values
    (``keep_values``) gives them, and so does every tensor computed from such tensors alone
    (``.to``, ``torch.sort``, ``mask == 0``): the same function runs on the values beside it."""
    import torch
    from torch.overrides import TorchFunctionMode

    class Lengths(TorchFunctionMode):  # type: ignore[misc]
        def __torch_function__(
            self, func: Any, _types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
        ) -> Any:
            kwargs = kwargs or {}
            name = getattr(func, "__name__", "")
            if name == "arange":  # position ids, permutations: small ones get their values too
                return _keep_small(func(*args, **kwargs), lambda: func(*args, **{**kwargs, "device": "cpu"}))
            if not any(hasattr(a, VALUES) for a in (*args, *kwargs.values())):
                return func(*args, **kwargs)
            if name == "_pack_padded_sequence":
                return func(args[0], _values_of(args[1]), *args[2:], **kwargs)
            try:
                twin = func(*(_values_of(a) for a in args), **{k: _values_of(v) for k, v in kwargs.items()})
            except Exception:  # mixed with meta tensors that carry no values: none
                twin = None
            try:
                out = func(*args, **kwargs)
            except (RuntimeError, NotImplementedError):  # it asked for the values: the twin's
                if twin is not None and not _on_meta(twin):
                    return twin  # a CPU tensor (.cpu()), a Python value (bool(), .item(), .tolist())
                raise
            if name in ("to", "type", "cuda") and isinstance(out, torch.Tensor):  # moved, the values stay
                twin = _values_of(args[0]).to(dtype=out.dtype)
            outs, twins = (out, twin) if isinstance(out, (tuple, list)) else ((out,), (twin,))
            for made, values in zip(outs, twins, strict=False):
                _keep_cpu_values(made, values)
            return out

    with Lengths():
        yield


def _values_of(value: Any) -> Any:
    return getattr(value, VALUES, value)


def _on_meta(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor) and value.device.type == "meta"


def _keep_small(out: Any, on_cpu: Callable[[], Any]) -> Any:
    """``out``, carrying its values (``on_cpu()``) where it is a small tensor on meta."""
    if _on_meta(out) and out.numel() <= SMALL_VALUES:
        keep_values(out, on_cpu())
    return out


def _keep_cpu_values(made: Any, values: Any) -> None:
    """``made`` on meta carries ``values`` where they are a CPU tensor."""
    import torch

    if _on_meta(made) and isinstance(values, torch.Tensor) and values.device.type == "cpu":
        keep_values(made, values)
