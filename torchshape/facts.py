"""Plain facts every family states the same way: a symbol's value, a parameter beside
torch's, the totals of a configuration, the timings of --time. No torch, no other
torchshape module."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LegendEntry:
    symbol: str
    value: int
    meaning: str


@dataclass(frozen=True)
class ParameterRow:
    """One parameter: its formula, the shape that gives, and whether torch's agrees."""

    name: str
    formula: str  # "-" for a parameter torch has and the formulas do not
    shape: tuple[int, ...]  # the formula's shape at the user's sizes (torch's if formula-less)
    numel: int
    actual: tuple[int, ...] | None  # torch's shape for this name; None if torch has none
    verified: bool  # torch has a parameter of this name and exactly this shape
    # "torch": named_parameters() of a module torch built; "formula": a layer deeper than
    # the ones built on meta, named and shaped after the last one built
    source: str = "torch"


def parameter_rows(
    formulas: Iterable[tuple[str, str, tuple[int, ...]]], torch_parameters: Mapping[str, tuple[int, ...]]
) -> list[ParameterRow]:
    """Each parameter's (name, formula, shape) beside ``named_parameters()`` of the module torch
    built, then the parameters torch has and the formulas do not."""
    rows = []
    for name, formula, shape in formulas:
        actual = torch_parameters.get(name)
        rows.append(ParameterRow(name, formula, shape, math.prod(shape), actual, actual == shape))
    return rows + unclaimed_rows({row.name for row in rows}, torch_parameters)


def unclaimed_rows(known: set[str], torch_parameters: Mapping[str, tuple[int, ...]]) -> list[ParameterRow]:
    """A row for each parameter torch has and no formula of ``known`` names: never verified."""
    return [
        ParameterRow(name, "-", shape, math.prod(shape), shape, False)
        for name, shape in torch_parameters.items()
        if name not in known
    ]


@dataclass(frozen=True)
class Totals:
    """The counts of one configuration; bytes at the chosen dtype."""

    params: int
    macs: int
    param_bytes: int
    input_bytes: int
    state_bytes: int  # h_0, h_n (and c_0, c_n)
    output_bytes: int
    peak_bytes_estimate: int


@dataclass(frozen=True)
class Timing:
    """Wall time of the forward pass, one figure per repeat, after the warm-up runs."""

    device: str
    dtype: str
    repeats: int
    warmup: int
    clock: str  # "torch.cuda.Event" or "time.perf_counter"
    times_ms: tuple[float, ...]  # one per repeat, in the order they ran
    macs: int  # multiply-accumulates of the matrix products in one forward pass

    @property
    def median_ms(self) -> float:
        import statistics  # not at the top: `torchshape --help` should not pay for it

        return statistics.median(self.times_ms)

    @property
    def min_ms(self) -> float:
        return min(self.times_ms)

    @property
    def max_ms(self) -> float:
        return max(self.times_ms)

    @property
    def flops_per_s(self) -> float:
        """Achieved FLOP/s: two FLOPs per multiply-accumulate, over the median time."""
        return 2 * self.macs / (self.median_ms / 1000) if self.median_ms > 0 else 0.0


@dataclass(frozen=True)
class Symbols:
    """The value of every symbol of a family's tensor formulas, in the table's order, and of the
    expressions the formulas also use (attention's ``N·num_heads``, ``S + 1``). ``values`` are
    the symbols the table lists; ``derived`` also holds symbols a family keeps out of it (a
    recurrent cell's L). A product of symbols (``D·H_out``) and a number (``1``) need no entry."""

    values: tuple[tuple[str, int], ...] = ()
    derived: tuple[tuple[str, int], ...] = ()

    def __getitem__(self, name: str) -> int:
        known = dict(self.values + self.derived)
        if name not in known and "·" in name:
            return math.prod(self[factor] for factor in name.split("·"))
        return int(name) if name.isdigit() else known[name]  # KeyError: a symbol it does not have

    def __getattr__(self, name: str) -> int:
        """``symbols.H_out``: a symbol by its name in the docs, as ``symbols["H_out"]``."""
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no symbol {name!r}; these are {', '.join(self.as_dict())}") from None

    def as_dict(self) -> dict[str, int]:
        return dict(self.values)


@dataclass(frozen=True)
class NoSymbols:
    """The symbols of a family that has none of its own (model, expr): the core's JSON asks for
    ``as_dict``."""

    def as_dict(self) -> dict[str, int]:
        return {}


@dataclass(frozen=True)
class TensorFormula:
    """The shape rule of one tensor a module takes or returns: one symbol per dimension,
    or a product of them (``D·H_out``), or a number (``1``)."""

    name: str  # input, output, h_n, attn_mask, ...
    dims: tuple[str, ...]
    written: str | None = None  # the docs' own writing, where it is not (d1, d2): (*, embedding_dim)
    dtype: str | None = None  # a mask's: bool, or the float dtype that is added
    meaning: str = ""  # what the tensor is, in the family's words
    fed: bool = False  # an input (or mask) torchshape builds; else returned by torch

    @property
    def formula(self) -> str:
        if self.written is not None:
            return self.written
        shape = "(" + ", ".join(self.dims) + ")"
        return shape if self.dtype is None else f"{shape} {self.dtype}"

    def shape(self, sym: Symbols) -> tuple[int, ...]:
        return tuple(sym[name] for name in self.dims)
