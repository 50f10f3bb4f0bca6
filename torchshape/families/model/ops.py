"""Every tensor operation of the forward pass, seen below the modules: the MACs of each one and the
bytes of the tensors alive at once.

A ``TorchDispatchMode`` sees each ATen operation torch runs, whatever called it: an ``nn.Linear``,
a ``Conv1D`` of the user's own that calls ``torch.addmm``, ``F.linear``, ``torch.einsum``,
``F.scaled_dot_product_attention``, a subclass or a parametrized layer. Its MACs are PyTorch's
own ``FlopCounterMode`` formulas halved (a multiply-accumulate is two FLOPs), plus the CPU
attention kernel those formulas leave out. Recurrent layers are counted by the rnn family's
formulas instead (``suspend``): on the CPU their fused kernels hide the matrix products.

The same mode follows memory: every tensor an operation makes (views and in-place results share
their input's memory and are not counted again) is counted until torch frees it, and the
largest sum at any moment is the activations' peak. With autograd on, the tensors kept for
backward stay alive and count; in inference mode they are freed as the forward goes.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes
from torch.utils.flop_counter import flop_registry

# ATen operations that multiply matrices but have no formula here: where one runs outside a
# recurrent layer, the MACs are incomplete and the footer names it.
UNCOUNTED = frozenset(
    {
        "mkldnn_rnn_layer",
        "lstm",
        "gru",
        "rnn_tanh",
        "rnn_relu",
        "lstm_cell",
        "gru_cell",
        "rnn_tanh_cell",
        "rnn_relu_cell",
        "_thnn_fused_lstm_cell",
        "_thnn_fused_gru_cell",
        "_native_multi_head_attention",
        "_transformer_encoder_layer_fwd",
        "_fused_rnn_tanh",
        "mkldnn_linear",
        "mkldnn_convolution",
        "_cudnn_rnn",
        "miopen_rnn",
        "_thnn_differentiable_lstm_cell_backward",
        "linalg_solve",
        "linalg_inv_ex",
        "_linalg_svd",
        "_linalg_eigh",
        "linalg_qr",
        "_fft_r2c",
        "_fft_c2c",
        "_fft_c2r",
    }
)


def _attention_for_cpu(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> int:
    """The CPU kernel of ``F.scaled_dot_product_attention``: (B, H, L, E) queries against
    (B, H, S, E) keys, then (B, H, S, E_v) values: B·H·L·S·(E + E_v) MACs (FlopCounterMode's
    formula for the other attention kernels, halved)."""
    b, h, length, e = (int(d) for d in query.shape)
    source, e_v = int(key.shape[-2]), int(value.shape[-1])
    return b * h * length * source * (e + e_v)


_EXTRA: dict[str, Callable[..., int]] = {
    "_scaled_dot_product_flash_attention_for_cpu": _attention_for_cpu,
}


_ACTIVE: list[OpCounter] = []  # the counters following a forward now


@contextmanager
def outside() -> Iterator[None]:
    """torchshape's own work inside a forward (a formula checked on the CPU at small sizes): not
    the model's operations, neither counted nor followed."""
    active = list(_ACTIVE)
    for counter in active:
        counter.ignoring = True
    try:
        yield
    finally:
        for counter in active:
            counter.ignoring = False


class OpCounter(TorchDispatchMode):  # type: ignore[misc]
    """MACs of every operation torch runs while active, and the peak bytes of live tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.macs = 0
        self.uncounted: dict[str, int] = {}  # operation name -> calls, outside recurrent layers
        self.live = 0
        self.peak = 0
        self.suspended = 0  # > 0 inside a layer whose formula counts its MACs
        self.owner: Callable[[], int] = lambda: -1  # the record of the module call running now
        self.by_call: dict[int, int] = {}  # record index -> MACs of the ops it ran itself
        self.uncounted_in: set[int] = set()  # record indices that ran an operation without a formula
        self.ignoring = False  # torchshape's own work between the model's operations
        self._tensors: dict[int, int] = {}  # storage -> live tensors on it
        self._sizes: dict[int, int] = {}  # storage -> its bytes

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Neither count nor follow what runs inside: torchshape's own tensors, not the model's."""
        self.ignoring = True
        try:
            yield
        finally:
            self.ignoring = False

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No torch.compile wrapper around ``__torch_dispatch__``: it would import torch's compiler
        (about 2 s and 70 MB) on the first operation, and nothing here is compiled."""
        return False

    def __enter__(self) -> OpCounter:
        _ACTIVE.append(self)
        entered: OpCounter = super().__enter__()
        return entered

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.remove(self)
        super().__exit__(*exc)

    def __torch_dispatch__(
        self,
        func: Any,
        _types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.ignoring:
            return out
        name = func._overloadpacket.__name__
        if not self.suspended:
            macs = self._macs(func, name, args, kwargs, out)
            if macs:
                self.macs += macs
                owner = self.owner()
                self.by_call[owner] = self.by_call.get(owner, 0) + macs
        self._follow(func, out)
        return out

    def _macs(self, func: Any, name: str, args: Any, kwargs: dict[str, Any], out: Any) -> int:
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            return int(formula(*args, **kwargs, out_val=out)) // 2
        extra = _EXTRA.get(name)
        if extra is not None:
            return extra(*args, **kwargs)
        if name in UNCOUNTED:
            self.uncounted[name] = self.uncounted.get(name, 0) + 1
            self.uncounted_in.add(self.owner())
        return 0

    def _follow(self, func: Any, out: Any) -> None:
        """Count each new storage once, until the last tensor on it is freed: a view or an
        ``_unsafe_view`` of a tensor made here shares its storage; a view or in-place result of
        one made before (a parameter, an input) is not the forward's."""
        returns = func._schema.returns
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for index, tensor in enumerate(outs):
            if not isinstance(tensor, torch.Tensor):
                continue
            try:
                storage = tensor.untyped_storage()
            except (RuntimeError, NotImplementedError):  # a tensor without storage (sparse, nested)
                continue
            new = storage._cdata not in self._tensors
            if new and index < len(returns) and returns[index].alias_info is not None:
                continue  # a view or an in-place result of a tensor made before the forward
            self._hold(tensor, storage)

    def _hold(self, tensor: torch.Tensor, storage: Any) -> None:
        """One more live tensor on ``storage``; a storage not seen before counts from now."""
        key = storage._cdata
        if key not in self._tensors:
            self._tensors[key] = 0
            self._sizes[key] = storage.nbytes()
            self.live += self._sizes[key]
            self.peak = max(self.peak, self.live)
        self._tensors[key] += 1
        weakref.finalize(tensor, self._free, key)

    def linear(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """An ``F.linear`` that ran with this mode aside (``PlainLinear``): its MACs (a row of
        the input against each row of the weight) and its output, a new tensor."""
        if self.ignoring or not isinstance(out, torch.Tensor):
            return
        x = args[0] if args else kwargs.get("input")
        weight = args[1] if len(args) > 1 else kwargs.get("weight")
        if not self.suspended and isinstance(x, torch.Tensor) and isinstance(weight, torch.Tensor):
            macs = x.numel() * (int(weight.shape[0]) if weight.dim() == 2 else 1)
            self.macs += macs
            owner = self.owner()
            self.by_call[owner] = self.by_call.get(owner, 0) + macs
        with suppress(RuntimeError, NotImplementedError):  # a tensor without storage
            self._hold(out, out.untyped_storage())

    def _free(self, key: int) -> None:
        self._tensors[key] -= 1
        if self._tensors[key] == 0:
            self.live -= self._sizes.pop(key)
            del self._tensors[key]


class PlainLinear(TorchFunctionMode):  # type: ignore[misc]
    """``F.linear`` as torch runs it without a dispatch mode. Under one, torch's composite linear
    takes its out-of-place path (``isTensorSubclassLike``): the bias of an input that is not a
    contiguous matrix or 3-d tensor (an LSTM's batch_first output) is added into a second
    output-sized tensor, and a language model's head doubles the peak the model has without
    torchshape. The counter steps aside while torch's kernel runs; it counts the MACs and the
    output itself (``OpCounter.linear``). Entered below the other function modes, so that they
    see the call first."""

    def __init__(self, counter: OpCounter) -> None:
        super().__init__()
        self.counter = counter

    def __torch_function__(
        self, func: Any, _types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if func is not torch._C._nn.linear or self.counter.ignoring:
            return func(*args, **kwargs)
        with _disable_current_modes():
            out = func(*args, **kwargs)
        self.counter.linear(args, kwargs, out)
        return out
