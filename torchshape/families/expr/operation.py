"""Running one operation of ``torchshape expr`` with torch beside its rule: the walk's record (its
steps, and the failure that stops it), the size checked before the CPU computes, and what the
rules see of a value. ``evaluate.Evaluator`` walks the expression and calls these.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import torch

from torchshape.errors import EnvironmentProblem, UsageError
from torchshape.families.expr import formulas as rules
from torchshape.families.expr.allowed import TENSOR_METHODS
from torchshape.families.expr.calls import (
    FACTORIES,
    LIST_FUNCTIONS,
    factory_rule,
    functional_rule,
    tensor_rule,
    torch_rule,
)
from torchshape.families.expr.formulas import Dtype, NoRule, Outcome, T
from torchshape.families.expr.steps import Failure, Step, ValuesView

Shape = tuple[int, ...]
# On the CPU, where values are computed, no tensor may be larger than this (shapes alone need
# no memory: --device meta).
CPU_TENSOR_LIMIT = 2**30
BEYOND_CPU = (
    f"the {CPU_TENSOR_LIMIT // 2**30} GiB torchshape expr computes values for; use --device meta to see "
    "every shape without values"
)
VALUES_LIMIT = 64  # --explain numbers the elements of inputs this small


@dataclass
class Walk:
    """What one evaluation found."""

    steps: list[Step] = field(default_factory=list)
    values: list[ValuesView] = field(default_factory=list)
    # the failing operation's operands, as the rules see them
    operands: list[Any] = field(default_factory=list)
    result: Any = None
    failure: Failure | None = None
    failed_node: ast.AST | None = None


class Stop(Exception):
    """The walk stops at the first refusal."""


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def key(node: ast.AST) -> tuple[int, int, int, int]:
    return (
        getattr(node, "lineno", 0),
        getattr(node, "col_offset", 0),
        getattr(node, "end_lineno", 0) or 0,
        getattr(node, "end_col_offset", 0) or 0,
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) and text.startswith("'"):
        text = text.strip("'")
    return text.splitlines()[0] if text else type(exc).__name__


def meta_copy(value: Any) -> Any:
    """``value`` with every tensor in it replaced by a meta tensor of its shape, dtype and strides."""
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(meta_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: meta_copy(v) for k, v in value.items()}
    return value


def tensors_of(value: Any) -> tuple[Shape | None, tuple[Shape, ...] | None, str] | None:
    """A tensor's shape and dtype, or a tuple's or list's tensors' shapes and dtypes; None for the rest."""
    if isinstance(value, torch.Tensor):
        return tuple(value.shape), None, dtype_name(value.dtype)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
        dtypes = ", ".join(dict.fromkeys(dtype_name(v.dtype) for v in value))
        return None, tuple(tuple(v.shape) for v in value), dtypes
    return None


def tensor_pairs(labels: list[str], values: list[Any]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple(
        (label, tuple(v.shape))
        for label, v in zip(labels, values, strict=True)
        if isinstance(v, torch.Tensor)
    )


def _values_text(value: Any) -> str:
    data = value.tolist() if isinstance(value, torch.Tensor) else value
    return repr(data)


class Operations:
    """What the evaluator records: every operation run with torch beside its rule."""

    def __init__(self, source: str, *, record: bool) -> None:
        self.source = source
        self.record = record
        self.walk = Walk()
        self.cpu = True
        self._paired: tuple[tuple[str, tuple[int, ...]], ...] = ()  # a binary operation's tensors

    def text(self, node: ast.AST) -> str:
        found = ast.get_source_segment(self.source, node)
        return " ".join((found if found is not None else ast.unparse(node)).split())

    def label(self, node: ast.AST) -> str:
        text = self.text(node)
        return text if len(text) <= 24 else text[:21] + "..."

    # -- running one operation -------------------------------------------------------------

    def _python(self, node: ast.AST, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (TypeError, ValueError, LookupError, ArithmeticError, AttributeError) as exc:  # 1 / 0, [][0]
            self._fail(node, exc)

    def _fail(
        self, node: ast.AST, exc: BaseException, kind: str = "python", outcome: Outcome | None = None
    ) -> NoReturn:
        """Record the failure that stops the walk (``kind``: whose, where no rule's ``outcome`` says)."""
        self.walk.failure = Failure(
            expression=self.text(node),
            message=first_line(exc),
            error_type=type(exc).__name__,
            kind=kind if outcome is None else outcome.kind,
            rule="" if outcome is None else outcome.text,
            predicted=None if outcome is None else outcome.error,
            node=key(node),
        )
        self.walk.failed_node = node
        raise Stop

    def _operation(
        self,
        node: ast.AST,
        run: Callable[[], Any],
        rule: Callable[[], Outcome],
        on_meta: Callable[[], Any] | None = None,
    ) -> Any:
        """Run one operation with torch beside its rule; a step, or the failure that stops the walk.

        On the CPU the result's size is known first: from the rule, or where no rule covers the
        call, from the same call on meta copies of its tensors (``on_meta``)."""
        outcome: Outcome | None
        try:
            outcome = rule()
        except (NoRule, IndexError, ValueError, TypeError, KeyError):
            outcome = None
        if self.cpu and outcome is not None and not outcome.error:
            self._check_size(node, outcome)
        elif self.cpu and on_meta is not None:
            self._check_meta_size(node, on_meta)
        try:
            value = run()
        except Exception as exc:
            if isinstance(exc, (EnvironmentProblem, UsageError)):
                raise
            self._fail(node, exc, "torch", outcome)
        paired, self._paired = self._paired, ()
        if self.record:
            step = self._step(node, value, outcome)
            if step is not None:
                if paired and outcome is not None and outcome.kind in ("broadcasting", "elementwise"):
                    step = replace(step, operands=paired)
                self.walk.steps.append(step)
        return value

    def _check_meta_size(self, node: ast.AST, on_meta: Callable[[], Any]) -> None:
        try:
            with torch.device("meta"):
                found = on_meta()
        except Exception:  # a value-dependent kernel (nonzero): its size is bounded by its inputs
            return
        tensors = found if isinstance(found, (tuple, list)) else [found]
        for one in tensors:
            if isinstance(one, torch.Tensor):
                dtype = dtype_name(one.dtype)
                self._check_size(node, Outcome("torch", "", tuple(one.shape), dtype))

    def _check_size(self, node: ast.AST, outcome: Outcome) -> None:
        shapes = [outcome.shape] if outcome.shape is not None else list(outcome.shapes or ())
        itemsize = rules.ITEMSIZE.get(outcome.dtype or "", 8)
        for shape in shapes:
            if math.prod(shape) * itemsize > CPU_TENSOR_LIMIT:
                raise EnvironmentProblem(
                    f"{self.text(node)} would hold {math.prod(shape):,} elements {rules.shape_text(shape)} "
                    f"on the CPU, more than {BEYOND_CPU}"
                )

    def _step(self, node: ast.AST, value: Any, outcome: Outcome | None) -> Step | None:
        text, where = self.text(node), key(node)
        kind = outcome.kind if outcome is not None else "torch"
        rule = outcome.text if outcome is not None else "no rule here: torch's result, unchecked"
        found = tensors_of(value)
        if found is None:
            if isinstance(value, (bool, int, float, complex)) and outcome is not None:  # .item(), int(t)
                dtype = f"{type(value).__name__} (Python)"
                holds = not outcome.error and outcome.dtype == dtype
                return Step(text, kind, rule, None, dtype, holds=holds, value=repr(value), node=where)
            return None
        shape, shapes, dtype = found
        if outcome is None:
            return Step(text, kind, rule, shape, dtype, shapes=shapes, node=where)
        same = outcome.shape == shape if shapes is None else outcome.shapes == shapes
        holds = not outcome.error and same and outcome.dtype in (None, dtype.split(", ")[0])
        expected = "" if holds else self._expected(outcome)
        return Step(text, kind, rule, shape, dtype, shapes=shapes, holds=holds, expected=expected, node=where)

    @staticmethod
    def _expected(outcome: Outcome) -> str:
        if outcome.error:
            return "the rule says torch refuses"
        said = rules.shape_text(outcome.shape) if outcome.shape is not None else str(outcome.shapes)
        return f"the rule gives {said} {outcome.dtype or ''}".strip()

    # -- what the rules see ----------------------------------------------------------------

    def describe(self, value: Any) -> Any:
        """A value as the rules see it: tensors as ``T``, dtypes as ``Dtype``, the rest as it is."""
        if isinstance(value, torch.Tensor):
            count = int(value.sum()) if value.dtype == torch.bool and value.device.type != "meta" else None
            return T(tuple(value.shape), dtype_name(value.dtype), tuple(value.stride()), count)
        if isinstance(value, torch.dtype):
            return Dtype(dtype_name(value))
        if isinstance(value, torch.Size):
            return tuple(value)
        if isinstance(value, tuple):
            return tuple(self.describe(v) for v in value)
        if isinstance(value, list):
            return [self.describe(v) for v in value]
        return value

    def method_rule(
        self, name: str, x: torch.Tensor, node: ast.Call, args: list[Any], kwargs: dict[str, Any]
    ) -> Outcome:
        t = self.describe(x)
        owner = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        return tensor_rule(name, t, [self.describe(a) for a in args], self._kw(kwargs), self.label(owner))

    def function_rule(
        self, module: str, name: str, node: ast.Call, args: list[Any], kwargs: dict[str, Any]
    ) -> Outcome:
        described = [self.describe(a) for a in args]
        labels = [self.label(a) for a in node.args]
        kw = self._kw(kwargs)
        if module == "F":
            return functional_rule(name, described, kw, labels)
        if name in LIST_FUNCTIONS:
            return torch_rule(name, described, kw, labels)
        if name in FACTORIES:
            return factory_rule(name, described, kw)
        if described and isinstance(described[0], T) and name in TENSOR_METHODS:
            return tensor_rule(name, described[0], described[1:], kw, labels[0] if labels else "")
        return torch_rule(name, described, kw, labels)

    def _kw(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {k: self.describe(v) for k, v in kwargs.items()}

    def values_view(self, node: ast.Subscript, value: torch.Tensor, index: Any, shape: Shape) -> None:
        """--explain: the index applied to the input numbered 0, 1, 2, ...: which elements it picks."""
        items = index if isinstance(index, tuple) else (index,)
        tensors = [item for item in items if isinstance(item, (torch.Tensor, list))]
        if not tensors or value.device.type == "meta":
            return
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        shown = tuple(
            (self.text(part), _values_text(item))
            for part, item in zip(parts, items, strict=False)
            if isinstance(item, (torch.Tensor, list))
        )
        text = self.text(node)
        if value.numel() > VALUES_LIMIT:
            note = (
                f"{self.label(node.value)} has {value.numel():,} elements; the values view shows up to "
                f"{VALUES_LIMIT}: try smaller sizes"
            )
            self.walk.values.append(ValuesView(text, "", shown, "", shape, True, note=note))
            return
        numbered = torch.arange(value.numel()).view(value.shape)
        picked = numbered[index]
        same = tuple(picked.shape) == shape
        self.walk.values.append(
            ValuesView(text, _values_text(numbered), shown, _values_text(picked), shape, same)
        )
