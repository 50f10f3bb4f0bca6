"""One forward pass of a family's module at the user's own sizes: the torch side every layer
family's probe shares (rnn's runs at reduced sizes on the CPU where meta was asked)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from torchshape import guard
from torchshape.explain import Claim
from torchshape.given import adopt, fed
from torchshape.options import SEED
from torchshape.probe import ProbeRun, resolve_device
from torchshape.threads import few_threads

if TYPE_CHECKING:
    import torch

Check = tuple[bool | None, str]  # a claim checked on values: holds (None: could not tell), the evidence


@dataclass
class ForwardPass:
    """One forward pass of a family's module at the user's own sizes, as torch ran it."""

    device: torch.device
    module: torch.nn.Module
    inputs: dict[str, torch.Tensor]
    results: dict[str, torch.Tensor]  # empty when torch refused
    shapes: dict[str, tuple[int, ...]]  # every tensor fed and returned, by name
    error: str | None  # torch's own first line when it refused the inputs

    @property
    def parameters(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's shape, by name, as the module torch built has them."""
        return {name: tuple(p.shape) for name, p in self.module.named_parameters()}

    def checked(self, spec: Any, claims: list[Claim], check: Callable[..., Check]) -> tuple[Claim, ...]:
        """--explain's claims checked on this pass's values, each by ``check(spec, this pass, claim)``;
        unchecked when torch refused, and on meta, which has no values."""
        if self.error is None and spec.device != "meta":
            claims = guard.interruptible(spec, self._check_each, spec, claims, check)
        elif spec.device == "meta":
            claims = [replace(c, evidence="no values on meta") for c in claims]
        return tuple(claims)

    def _check_each(self, spec: Any, claims: list[Claim], check: Callable[..., Check]) -> list[Claim]:
        done = []
        for claim in claims:
            holds, evidence = check(spec, self, claim)
            done.append(replace(claim, holds=holds, evidence=evidence))
        return done

    def run(self, spec: Any, sizes: Any, analysis: Any, parameters: dict[str, tuple[int, ...]]) -> ProbeRun:
        """The ``ProbeRun`` of this pass: it ran at the user's sizes, so nothing is reduced."""
        import torch

        return ProbeRun(
            device=str(self.device),
            dtype=spec.dtype.value,
            torch_version=torch.__version__,
            spec=spec,
            sizes=sizes,
            shapes=self.shapes,
            error=self.error,
            reduced=False,
            analysis=analysis,
            parameters=parameters,
        )


@contextmanager
def forward_pass(
    spec: Any,
    build: Callable[..., torch.nn.Module],
    make_inputs: Callable[..., dict[str, torch.Tensor]],
    forward: Callable[[torch.nn.Module, dict[str, torch.Tensor]], dict[str, torch.Tensor]],
) -> Iterator[ForwardPass]:
    """Build, feed and call a family's module at the user's sizes, on its device (meta too,
    where torch's meta kernels give the shapes); the body checks --explain on the same pass.

    Seeded, in inference mode, Ctrl-C-able (``guard.interruptible``), a small pass on one CPU
    thread. torch's refusal of the inputs becomes ``error``, not an exception.
    """
    import torch

    device = resolve_device(spec.device)
    dtype = getattr(torch, spec.dtype.value)
    with torch.random.fork_rng(devices=[]), torch.inference_mode(), few_threads(spec):
        torch.manual_seed(SEED)
        module = adopt(guard.interruptible(spec, build, spec, device, dtype))
        inputs = fed(guard.interruptible(spec, make_inputs, spec, device, dtype))
        shapes = {name: tuple(t.shape) for name, t in inputs.items()}
        error = None
        results: dict[str, torch.Tensor] = {}
        try:
            results = guard.interruptible(spec, forward, module, inputs)
        except (RuntimeError, ValueError) as exc:  # torch's own refusal, shown as it worded it
            error = str(exc).strip().splitlines()[0]
        shapes.update({name: tuple(t.shape) for name, t in results.items()})
        yield ForwardPass(device, module, inputs, results, shapes, error)
