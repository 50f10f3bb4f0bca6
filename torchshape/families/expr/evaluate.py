"""The torch side of ``torchshape expr``: walk the checked expression, run every operation with
torch, and beside each one the rule of ``formulas`` for the same operands.

Only what ``safety`` let through reaches here, and each node is evaluated by hand: a name is
looked up, ``torch.X``/``F.X`` and tensor methods are fetched by their allowed names from the
objects they belong to, nothing is passed to ``eval``. Every sub-expression that gives a tensor
(or ``.item()``'s number) becomes a ``Step``, innermost first; the first one torch refuses
stops the walk and becomes the ``Failure``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import torch
import torch.nn.functional

from torchshape.errors import EnvironmentProblem, UsageError
from torchshape.families.expr import formulas as rules
from torchshape.families.expr.formulas import Dtype, NoRule, Outcome, T
from torchshape.families.expr.safety import (
    EXPRESSION,
    F_FUNCTIONS,
    MAX_ITEMS,
    TENSOR_ATTRIBUTES,
    TENSOR_METHODS,
    TORCH_DTYPES,
    TORCH_FUNCTIONS,
    module_function,
)
from torchshape.families.expr.steps import Failure, Step, ValuesView

Shape = tuple[int, ...]
VALUES_LIMIT = 64  # --explain numbers the elements of inputs this small
# On the CPU, where values are computed, no tensor may be larger than this (shapes alone need
# no memory: --device meta).
CPU_TENSOR_LIMIT = 2**30
_BINARY: dict[type[ast.AST], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
    ast.MatMult: ("@", operator.matmul),
    ast.BitAnd: ("&", operator.and_),
    ast.BitOr: ("|", operator.or_),
    ast.BitXor: ("^", operator.xor),
    ast.LShift: ("<<", operator.lshift),
    ast.RShift: (">>", operator.rshift),
}
_COMPARE: dict[type[ast.AST], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}


@dataclass
class Walk:
    """What one evaluation found."""

    steps: list[Step] = field(default_factory=list)
    values: list[ValuesView] = field(default_factory=list)
    operands: list[Any] = field(
        default_factory=list
    )  # the failing operation's operands, as the rules see them
    result: Any = None
    failure: Failure | None = None
    failed_node: ast.AST | None = None
    failed_outcome: Outcome | None = None


class Stop(Exception):
    """The walk stops at the first refusal."""


@dataclass(frozen=True)
class _Function:
    module: str  # "torch" or "F"
    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = torch if self.module == "torch" else torch.nn.functional
        return getattr(owner, self.name)(*args, **kwargs)


@dataclass(frozen=True)
class _Method:
    owner: Any
    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.owner, self.name)(*args, **kwargs)


@dataclass(frozen=True)
class _Builtin:
    name: str


@dataclass(frozen=True)
class _Module:
    name: str


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _on_meta(value: Any) -> Any:
    """``value`` with every tensor in it replaced by a meta tensor of its shape, dtype and strides."""
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_on_meta(v) for v in value)
    if isinstance(value, dict):
        return {k: _on_meta(v) for k, v in value.items()}
    return value


def _pairs(labels: list[str], values: list[Any]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple(
        (label, tuple(v.shape))
        for label, v in zip(labels, values, strict=True)
        if isinstance(v, torch.Tensor)
    )


def _and_then(before: Any, fn: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    return bool(before) and fn(left, right)


def _values_text(value: Any) -> str:
    data = value.tolist() if isinstance(value, torch.Tensor) else value
    return repr(data)


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


class Evaluator:
    """Evaluates a checked expression on ``env``'s tensors, recording a step per sub-expression."""

    def __init__(
        self,
        source: str,
        tree: ast.Module,
        env: dict[str, Any],
        *,
        record: bool = True,
        explain: bool = False,
    ) -> None:
        self.source = source
        self.tree = tree
        self.env = dict(env)
        self.record = record
        self.explain = explain
        self.walk = Walk()
        self.cpu = True
        self._paired: tuple[tuple[str, tuple[int, ...]], ...] = ()  # a binary operation's tensors

    # -- the walk --------------------------------------------------------------------------

    def run(self, device: torch.device) -> Walk:
        self.cpu = device.type == "cpu"
        try:
            with torch.device(device), torch.no_grad():
                for statement in self.tree.body:
                    if isinstance(statement, ast.Assign):
                        value = self.eval(statement.value)
                        for target in statement.targets:
                            self._bind(target, value)
                    elif isinstance(statement, ast.Expr):
                        self.walk.result = self.eval(statement.value)
        except Stop:
            pass
        return self.walk

    def _bind(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
            return
        assert isinstance(target, (ast.Tuple, ast.List))
        values = self._sequence(value, "unpacking")
        if len(values) != len(target.elts):
            self._fail_python(target, ValueError(f"{len(target.elts)} names for {len(values)} values"))
        for element, one in zip(target.elts, values, strict=True):
            self._bind(element, one)

    def text(self, node: ast.AST) -> str:
        found = ast.get_source_segment(self.source, node)
        return " ".join((found if found is not None else ast.unparse(node)).split())

    def label(self, node: ast.AST) -> str:
        text = self.text(node)
        return text if len(text) <= 24 else text[:21] + "..."

    def eval(self, node: ast.AST) -> Any:
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:  # safety refuses it first; a second guard
            raise UsageError(EXPRESSION, f"refused: {type(node).__name__}")
        return handler(node)

    # -- leaves ----------------------------------------------------------------------------

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in ("torch", "F"):
            return _Module(node.id)
        return _Builtin(node.id)

    def _Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self._elements(node.elts))

    def _List(self, node: ast.List) -> Any:
        return self._elements(node.elts)

    def _elements(self, nodes: list[ast.expr]) -> list[Any]:
        out: list[Any] = []
        for element in nodes:
            if isinstance(element, ast.Starred):
                out += self._sequence(self.eval(element.value), "*")
            else:
                out.append(self.eval(element))
        return out

    def _Slice(self, node: ast.Slice) -> Any:
        parts = [None if n is None else self.eval(n) for n in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def _sequence(self, value: Any, what: str) -> list[Any]:
        if isinstance(value, torch.Tensor):
            if value.dim() == 0:
                raise UsageError(EXPRESSION, f"{what}: a 0-d tensor has no elements to unpack")
            if value.shape[0] > MAX_ITEMS:
                raise UsageError(EXPRESSION, f"refused: {what} of a tensor of {value.shape[0]:,} rows")
        if isinstance(value, range) and len(value) > MAX_ITEMS:
            raise UsageError(EXPRESSION, f"refused: {what} of a range of {len(value):,} numbers")
        try:
            return list(value)
        except TypeError as exc:
            raise UsageError(EXPRESSION, f"{what}: {exc}") from None

    # -- attributes and calls --------------------------------------------------------------

    def _Attribute(self, node: ast.Attribute) -> Any:
        found = module_function(node)
        if found is not None:
            module, name = found
            if module == "torch" and name in TORCH_DTYPES:
                return getattr(torch, name)
            if (module == "torch" and name in TORCH_FUNCTIONS) or (module == "F" and name in F_FUNCTIONS):
                return _Function(module, name)
            raise UsageError(EXPRESSION, f"refused: {self.text(node)}")
        owner = self.eval(node.value)
        name = node.attr
        if isinstance(owner, torch.Tensor):
            if name in TENSOR_METHODS:
                return _Method(owner, name)
            if name in TENSOR_ATTRIBUTES:
                if name in ("T", "mT", "H", "mH"):
                    return self._operation(
                        node, lambda: getattr(owner, name), self._attribute_rule(owner, name)
                    )
                return getattr(owner, name)
        elif isinstance(owner, torch.Size) and name == "numel":
            return _Method(owner, name)
        elif isinstance(owner, tuple) and name in ("values", "indices") and hasattr(owner, name):
            return getattr(owner, name)
        what = type(owner).__name__
        self._fail_python(node, AttributeError(f"{what} has no attribute {name} that torchshape evaluates"))

    def _attribute_rule(self, x: torch.Tensor, name: str) -> Callable[[], Outcome]:
        def rule() -> Outcome:
            t = self.describe(x)
            if name in ("T", "H") and x.dim() == 2:
                return rules.transpose(t, 0, 1, "")
            if name in ("mT", "mH") and x.dim() >= 2:
                return rules.transpose(t, -2, -1, "")
            raise NoRule(name)

        return rule

    def _Call(self, node: ast.Call) -> Any:
        func = self.eval(node.func)
        args = self._elements(node.args)
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg is not None}
        if isinstance(func, _Builtin):
            return self._builtin(node, func.name, args, kwargs)
        self.walk.operands = [self.describe(a) for a in args]
        if isinstance(func, _Method) and isinstance(func.owner, torch.Tensor):
            name = func.name
            owner = func.owner
            self.walk.operands = [self.describe(owner), *self.walk.operands]
            if name == "to" and any(isinstance(a, (str, torch.device)) for a in [*args, *kwargs.values()]):
                raise UsageError(EXPRESSION, f"refused: {self.text(node)}: moving between devices")
            if name == "tolist" and owner.numel() > MAX_ITEMS:
                raise UsageError(EXPRESSION, f"refused: .tolist() of {owner.numel():,} elements")
            return self._operation(
                node,
                lambda: func(*args, **kwargs),
                lambda: self.method_rule(name, owner, node, args, kwargs),
                lambda: getattr(_on_meta(owner), name)(*_on_meta(args), **_on_meta(kwargs)),
            )
        if isinstance(func, _Function):
            return self._operation(
                node,
                lambda: func(*args, **kwargs),
                lambda: self.function_rule(func.module, func.name, node, args, kwargs),
                lambda: func(*_on_meta(args), **_on_meta(kwargs)),
            )
        if isinstance(func, _Method):
            return self._python(node, lambda: func(*args, **kwargs))
        self._fail_python(node, TypeError(f"{self.text(node.func)} is not callable"))

    def _builtin(self, node: ast.Call, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if name in ("list", "tuple") and args:
            items = self._sequence(args[0], f"{name}()")
            return items if name == "list" else tuple(items)
        if name == "range":
            return self._python(node, lambda: range(*args))
        functions: dict[str, Callable[..., Any]] = {
            "len": len,
            "int": int,
            "float": float,
            "bool": bool,
            "min": min,
            "max": max,
            "abs": abs,
            "slice": slice,
            "list": list,
            "tuple": tuple,
        }
        function = functions[name]
        if name in ("int", "float", "bool") and args and isinstance(args[0], torch.Tensor):
            tensor_value = args[0]
            return self._operation(
                node,
                lambda: function(tensor_value),
                lambda: rules.item(self.describe(tensor_value), self.label(node.args[0])),
            )
        if name in ("min", "max") and len(args) == 1:
            self._sequence(args[0], f"{name}()")
        return self._python(node, lambda: function(*args, **kwargs))

    # -- operators -------------------------------------------------------------------------

    def _BinOp(self, node: ast.BinOp) -> Any:
        left = self.eval(node.left)
        right = self.eval(node.right)
        symbol, fn = _BINARY[type(node.op)]
        if not isinstance(left, torch.Tensor) and not isinstance(right, torch.Tensor):
            self._check_python_size(node, symbol, left, right)
            return self._python(node, lambda: fn(left, right))
        labels = [self.label(node.left), self.label(node.right)]

        def rule() -> Outcome:
            a, b = self.describe(left), self.describe(right)
            if symbol == "@":
                if not (isinstance(a, T) and isinstance(b, T)):
                    raise NoRule("@")
                return rules.matmul(a, b, labels[0], labels[1], "@")
            return rules.elementwise(symbol, [a, b], labels)

        self.walk.operands = [self.describe(left), self.describe(right)]
        self._paired = _pairs(labels, [left, right])
        return self._operation(node, lambda: fn(left, right), rule)

    def _check_python_size(self, node: ast.AST, symbol: str, left: Any, right: Any) -> None:
        """Python numbers and sequences stay small: no 10**10**10, no [0] * 10**9."""
        ints = isinstance(left, int) and isinstance(right, int)
        if symbol == "**" and ints and right > 0 and abs(left) > 1 and right * math.log2(abs(left)) > 64:
            raise UsageError(EXPRESSION, f"refused: {self.text(node)} is a huge number (beyond 2^64)")
        if symbol == "<<" and ints and right > 64:
            raise UsageError(EXPRESSION, f"refused: {self.text(node)} is a huge number (beyond 2^64)")
        if symbol == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, (list, tuple, str))
                    and isinstance(times, int)
                    and len(seq) * times > MAX_ITEMS
                ):
                    raise UsageError(
                        EXPRESSION, f"refused: {self.text(node)} makes more than {MAX_ITEMS:,} items"
                    )

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        fns: dict[type[ast.AST], Callable[[Any], Any]] = {
            ast.USub: operator.neg,
            ast.UAdd: operator.pos,
            ast.Invert: operator.invert,
            ast.Not: operator.not_,
        }
        fn = fns[type(node.op)]
        if not isinstance(value, torch.Tensor):
            return self._python(node, lambda: fn(value))
        if isinstance(node.op, ast.Not):
            return self._operation(
                node, lambda: fn(value), lambda: rules.item(self.describe(value), self.label(node.operand))
            )
        return self._operation(node, lambda: fn(value), lambda: rules.same_shape(self.describe(value), "neg"))

    def _Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        if len(node.ops) == 1:
            return self._compare(node, node.left, node.comparators[0], type(node.ops[0]), left)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):  # a < b < c: Python's `and`
            right = self.eval(comparator)
            fn = _COMPARE[type(op)][1]
            result = self._python(node, partial(_and_then, result, fn, left, right))
            left = right
        return result

    def _compare(self, node: ast.AST, first: ast.expr, second: ast.expr, op: type[ast.AST], left: Any) -> Any:
        right = self.eval(second)
        symbol, fn = _COMPARE[op]
        if not isinstance(left, torch.Tensor) and not isinstance(right, torch.Tensor):
            return self._python(node, partial(fn, left, right))
        labels = [self.label(first), self.label(second)]
        self.walk.operands = [self.describe(left), self.describe(right)]
        self._paired = _pairs(labels, [left, right])
        return self._operation(
            node,
            partial(fn, left, right),
            lambda: rules.elementwise(symbol, [self.describe(left), self.describe(right)], labels),
        )

    def _Subscript(self, node: ast.Subscript) -> Any:
        value = self.eval(node.value)
        index = self.eval(node.slice)
        if isinstance(value, torch.Tensor):
            label = self.label(node.value)
            self.walk.operands = [self.describe(value)]
            found = self._operation(
                node,
                lambda: value[index],
                lambda: rules.index(self.describe(value), self.describe(index), label),
            )
            if self.explain and isinstance(found, torch.Tensor):
                self._values_view(node, value, index, tuple(found.shape))
            return found
        return self._python(node, lambda: value[index])

    def _values_view(self, node: ast.Subscript, value: torch.Tensor, index: Any, shape: Shape) -> None:
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
        if value.numel() > VALUES_LIMIT:
            self.walk.values.append(
                ValuesView(
                    self.text(node),
                    "",
                    shown,
                    "",
                    shape,
                    True,
                    note=f"{self.label(node.value)} has {value.numel():,} elements; the values view "
                    "shows up to "
                    f"{VALUES_LIMIT}: try smaller sizes",
                )
            )
            return
        numbered = torch.arange(value.numel()).view(value.shape)
        picked = numbered[index]
        self.walk.values.append(
            ValuesView(
                self.text(node),
                _values_text(numbered),
                shown,
                _values_text(picked),
                shape,
                tuple(picked.shape) == shape,
            )
        )

    # -- running one operation -------------------------------------------------------------

    def _python(self, node: ast.AST, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (
            TypeError,
            ValueError,
            IndexError,
            KeyError,
            ZeroDivisionError,
            OverflowError,
            AttributeError,
        ) as exc:
            self._fail_python(node, exc)

    def _fail_python(self, node: ast.AST, exc: BaseException) -> Any:
        self.walk.failure = Failure(
            expression=self.text(node),
            message=first_line(exc),
            error_type=type(exc).__name__,
            kind="python",
            rule="",
            predicted=None,
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
            self.walk.failure = Failure(
                expression=self.text(node),
                message=first_line(exc),
                error_type=type(exc).__name__,
                kind=outcome.kind if outcome is not None else "torch",
                rule=outcome.text if outcome is not None else "",
                predicted=None if outcome is None else outcome.error,
                node=key(node),
            )
            self.walk.failed_node = node
            self.walk.failed_outcome = outcome
            raise Stop from None
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
                    f"{self.text(node)} would hold {math.prod(shape):,} elements "
                    f"{rules.shape_text(shape)} on the "
                    f"CPU, more than the {CPU_TENSOR_LIMIT // 2**30} GiB torchshape expr computes values "
                    "for; "
                    "use --device meta to see every shape without values"
                )

    def _step(self, node: ast.AST, value: Any, outcome: Outcome | None) -> Step | None:
        text = self.text(node)
        kind = outcome.kind if outcome is not None else "torch"
        rule = outcome.text if outcome is not None else "no rule here: torch's result, unchecked"
        if isinstance(value, torch.Tensor):
            shape, dtype = tuple(value.shape), dtype_name(value.dtype)
            if outcome is None:
                return Step(text, kind, rule, shape, dtype, node=key(node))
            holds = (
                not outcome.error
                and outcome.shape == shape
                and (outcome.dtype is None or outcome.dtype == dtype)
            )
            expected = "" if holds else self._expected(outcome)
            return Step(text, kind, rule, shape, dtype, holds=holds, expected=expected, node=key(node))
        if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
            shapes = tuple(tuple(v.shape) for v in value)
            first = dtype_name(value[0].dtype)
            dtype = ", ".join(dict.fromkeys(dtype_name(v.dtype) for v in value))  # max(dim): values, indices
            if outcome is None:
                return Step(text, kind, rule, None, dtype, shapes=shapes, node=key(node))
            holds = not outcome.error and outcome.shapes == shapes and (outcome.dtype in (None, first))
            expected = "" if holds else self._expected(outcome)
            return Step(
                text, kind, rule, None, dtype, shapes=shapes, holds=holds, expected=expected, node=key(node)
            )
        if isinstance(value, (bool, int, float, complex)) and outcome is not None:  # .item(), int(t)
            dtype = f"{type(value).__name__} (Python)"
            holds = None if outcome is None else (not outcome.error and outcome.dtype == dtype)
            return Step(text, kind, rule, None, dtype, holds=holds, value=repr(value), node=key(node))
        return None

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
            count = None
            if value.dtype == torch.bool and value.device.type != "meta":
                count = int(value.sum())
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


# -- which rule, for which call -------------------------------------------------------------

FACTORIES = frozenset(
    {"zeros", "ones", "empty", "randn", "rand", "full", "randint", "arange", "tensor", "as_tensor"}
)
FACTORIES |= {
    "zeros_like",
    "ones_like",
    "empty_like",
    "randn_like",
    "rand_like",
    "full_like",
    "eye",
    "linspace",
}
ELEMENTWISE = {
    "add": "+",
    "sub": "-",
    "subtract": "-",
    "mul": "*",
    "multiply": "*",
    "div": "/",
    "true_divide": "/",
    "floor_divide": "//",
    "remainder": "%",
    "fmod": "%",
    "pow": "**",
    "maximum": "maximum",
    "minimum": "minimum",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "logical_and": "logical_and",
    "logical_or": "logical_or",
    "logical_xor": "logical_xor",
    "bitwise_and": "&",
    "bitwise_or": "|",
    "bitwise_xor": "^",
}
REDUCTIONS = frozenset(
    {"sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "any", "all", "std", "var"}
)
REDUCTIONS |= {"logsumexp", "count_nonzero", "norm"}
CASTS = frozenset(rules.CAST_METHODS)
LIST_FUNCTIONS = frozenset({"cat", "concat", "concatenate", "stack", "einsum", "where"})
SAME_SHAPE = rules.FLOAT_MATH | rules.KEEP_DTYPE


def _dtype_kw(kw: dict[str, Any]) -> str | None:
    d = kw.get("dtype")
    return d.name if isinstance(d, Dtype) else None


def _arg(args: list[Any], kw: dict[str, Any], position: int, name: str, default: Any = None) -> Any:
    if name in kw:
        return kw[name]
    return args[position] if len(args) > position else default


def tensor_rule(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """The rule of ``x.NAME(*args, **kw)`` (and of ``torch.NAME(x, ...)``)."""
    if name in ("view", "reshape"):
        if args and isinstance(args[0], Dtype):
            raise NoRule("view(dtype)")
        sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        sizes = list(kw.get("shape", sizes))
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
            raise NoRule(name)
        return rules.view(x, [int(n) for n in sizes], name, label)
    if name in ("view_as", "reshape_as", "expand_as", "type_as"):
        other = args[0] if args else kw.get("other")
        if not isinstance(other, T):
            raise NoRule(name)
        if name == "type_as":
            return rules.cast(x, other.dtype, f".type_as({other.dtype} tensor)")
        if name == "expand_as":
            return rules.expand(x, list(other.shape), label)
        return rules.view(x, list(other.shape), name.removesuffix("_as"), label)
    if name in ("flatten", "ravel"):
        if name == "ravel":
            return rules.flatten(x, 0, -1, label)
        return rules.flatten(x, _arg(args, kw, 0, "start_dim", 0), _arg(args, kw, 1, "end_dim", -1), label)
    if name == "unflatten":
        sizes = _arg(args, kw, 1, "sizes")
        if not isinstance(sizes, (tuple, list)):
            raise NoRule(name)
        return rules.unflatten(x, _arg(args, kw, 0, "dim"), list(sizes), label)
    if name == "squeeze":
        return rules.squeeze(x, _arg(args, kw, 0, "dim"), label)
    if name == "unsqueeze":
        return rules.unsqueeze(x, _arg(args, kw, 0, "dim"), label)
    if name in ("transpose", "swapaxes", "swapdims"):
        return rules.transpose(x, _arg(args, kw, 0, "dim0"), _arg(args, kw, 1, "dim1"), label)
    if name == "t":
        if x.ndim > 2:
            return rules.Outcome(
                "transpose",
                f"t() expects a tensor with ≤ 2 dims; {label} has {x.ndim} (use .mT or transpose)",
                error=True,
            )
        return rules.transpose(x, 0, -1, label) if x.ndim == 2 else rules.same_shape(x, "t")
    if name == "permute":
        if not args and "dims" not in kw:
            raise NoRule(name)  # torch's own TypeError: no dims given
        dims = (
            list(args[0])
            if len(args) == 1 and isinstance(args[0], (tuple, list))
            else list(kw.get("dims", args))
        )
        return rules.permute(x, dims, label)
    if name in ("expand", "repeat", "broadcast_to", "tile"):
        sizes = (
            list(args[0])
            if len(args) == 1 and isinstance(args[0], (tuple, list))
            else list(kw.get("size", args))
        )
        if not all(isinstance(n, int) for n in sizes):
            raise NoRule(name)
        if name == "tile":
            sizes = [1] * (x.ndim - len(sizes)) + sizes
            return rules.repeat(x, sizes, label)
        return rules.repeat(x, sizes, label) if name == "repeat" else rules.expand(x, sizes, label)
    if name in ("contiguous", "clone", "detach"):
        contiguous = x.stride == rules.contiguous_strides(x.shape) if x.stride else True
        if name == "contiguous":
            how = (
                "already contiguous: the same tensor"
                if contiguous
                else (
                    f"copies into memory order: strides {rules.shape_text(x.stride)} → "
                    f"{rules.shape_text(rules.contiguous_strides(x.shape))}"
                )
            )
            return rules.Outcome(
                "contiguous",
                f"contiguous keeps the shape {rules.shape_text(x.shape)}; {how}",
                x.shape,
                x.dtype,
            )
        return rules.same_shape(x, name)
    if name in ("split", "chunk", "unbind", "tensor_split"):
        if name == "tensor_split":
            raise NoRule(name)
        if name == "unbind":
            return rules.split(x, None, _arg(args, kw, 0, "dim", 0), "unbind")
        first = _arg(args, kw, 0, "chunks" if name == "chunk" else "split_size_or_sections")
        return rules.split(x, first, _arg(args, kw, 1, "dim", 0), name)
    if name in ("max", "min") and (args or "dim" in kw):
        other = args[0] if args else None
        if isinstance(other, T):
            return rules.elementwise("maximum", [x, other], [label, "other"])
        return rules.max_with_dim(
            x, name, _arg(args, kw, 0, "dim"), bool(_arg(args, kw, 1, "keepdim", False))
        )
    if name in ("max", "min"):
        return rules.reduce(x, "amax", None, False, label)
    if name in REDUCTIONS:
        if name == "norm" and args:
            raise NoRule(name)
        keepdim = bool(_arg(args, kw, 1, "keepdim", False))
        if name in ("std", "var") and "correction" in kw:
            keepdim = bool(kw.get("keepdim", False))
        return rules.reduce(x, name, _arg(args, kw, 0, "dim"), keepdim, label)
    if name in ("softmax", "log_softmax", "cumsum", "cumprod"):
        d = _arg(args, kw, 0, "dim")
        if _dtype_kw(kw):
            raise NoRule(name)
        if name in ("cumsum", "cumprod") and rules.category(x.dtype) < 2:
            return rules.Outcome(
                "reduction",
                f"{name} along dim {d} keeps the shape {rules.shape_text(x.shape)}; integers accumulate "
                "in int64",
                x.shape,
                "int64",
            )
        return rules.same_shape(x, name, d)
    if name in CASTS:
        return rules.cast(x, rules.CAST_METHODS[name], f".{name}()")
    if name in ("type", "to"):
        target = _arg(args, kw, 0, "dtype")
        if isinstance(target, T) and name == "to":
            return rules.cast(x, target.dtype, ".to(a tensor)")
        if not isinstance(target, Dtype):
            raise NoRule(name)
        return rules.cast(x, target.name, f".{name}(torch.{target.name})")
    if name == "item":
        return rules.item(x, label)
    if name in ELEMENTWISE:
        other = _arg(args, kw, 0, "other")
        return rules.elementwise(ELEMENTWISE[name], [x, other], [label, "other"])
    if name in ("matmul", "mm", "bmm", "mv", "dot"):
        other = args[0] if args else None
        if not isinstance(other, T):
            raise NoRule(name)
        return rules.matmul(x, other, label, "other", name)
    if name == "masked_fill":
        mask = _arg(args, kw, 0, "mask")
        if not isinstance(mask, T):
            raise NoRule(name)
        shape, how = rules.broadcast([x.shape, mask.shape], [label, "mask"])
        if shape is None:
            return rules.Outcome(
                "broadcasting",
                f"the mask {rules.shape_text(mask.shape)} must broadcast to {rules.shape_text(x.shape)}: "
                f"{how}",
                error=True,
            )
        if shape != x.shape:
            return rules.Outcome(
                "broadcasting",
                f"the mask {rules.shape_text(mask.shape)} broadcasts to {rules.shape_text(shape)}, not "
                f"the input's {rules.shape_text(x.shape)}",
                error=True,
            )
        return rules.Outcome(
            "broadcasting",
            f"masked_fill keeps {rules.shape_text(x.shape)}; the mask {rules.shape_text(mask.shape)} "
            f"broadcasts to it: {how}",
            x.shape,
            x.dtype,
        )
    if name in SAME_SHAPE:
        return rules.same_shape(x, name)
    raise NoRule(name)  # size(), dim(), stride(), tolist(), ...: no tensor, or no rule here


def factory_rule(name: str, args: list[Any], kw: dict[str, Any]) -> Outcome:
    dtype = _dtype_kw(kw)
    if name in ("tensor", "as_tensor"):
        data = args[0] if args else kw.get("data")
        if isinstance(data, T):
            raise NoRule(name)
        return rules.tensor(data, dtype)
    if name.endswith("_like"):
        x = args[0] if args else None
        if not isinstance(x, T):
            raise NoRule(name)
        return rules.like(x, name, dtype)
    if name == "arange":
        return rules.arange(args, dtype)
    if name == "linspace":
        steps = _arg(args, kw, 2, "steps")
        if not isinstance(steps, int):
            raise NoRule(name)
        return rules.filled(name, [steps], dtype)
    if name == "eye":
        n = args[0] if args else None
        m = args[1] if len(args) > 1 else kw.get("m", n)
        if not isinstance(n, int) or not isinstance(m, int):
            raise NoRule(name)
        return rules.filled(name, [n, m], dtype)
    if name == "full":
        size = args[0] if args else kw.get("size")
        fill = _arg(args, kw, 1, "fill_value")
        if not isinstance(size, (tuple, list)):
            raise NoRule(name)
        return rules.filled(name, list(size), dtype, fill)
    if name == "randint":
        size = args[-1] if args and isinstance(args[-1], (tuple, list)) else kw.get("size")
        if not isinstance(size, (tuple, list)):
            raise NoRule(name)
        return rules.filled(name, list(size), dtype)
    sizes = (
        list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(kw.get("size", args))
    )
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
        raise NoRule(name)
    return rules.filled(name, sizes, dtype)


def torch_rule(name: str, args: list[Any], kw: dict[str, Any], labels: list[str]) -> Outcome:
    """``torch.NAME(...)`` where the first argument is not a tensor: lists of tensors, einsum."""
    if name in ("cat", "concat", "concatenate", "stack"):
        tensors = args[0] if args else kw.get("tensors")
        if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, T) for t in tensors):
            raise NoRule(name)
        d = _arg(args, kw, 1, "dim", 0)
        return rules.cat(list(tensors), d, "stack" if name == "stack" else "cat")
    if name == "einsum":
        equation = args[0] if args else None
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        if not isinstance(equation, str) or not all(isinstance(o, T) for o in operands):
            raise NoRule(name)
        return rules.einsum(equation, operands)
    if name == "where" and len(args) == 3 and isinstance(args[0], T):
        shape, how = rules.broadcast(
            [a.shape for a in args if isinstance(a, T)],
            ["condition", "input", "other"][: sum(isinstance(a, T) for a in args)],
        )
        if shape is None:
            return rules.Outcome("broadcasting", f"where: condition, input and other {how}", error=True)
        dtype, why = rules.result_type(args[1:])
        return rules.Outcome(
            "broadcasting",
            f"where broadcasts condition, input and other: {how} → {rules.shape_text(shape)}; {why}",
            shape,
            dtype,
        )
    if name == "result_type":
        raise NoRule(name)
    if name in ELEMENTWISE and len(args) >= 2:
        return rules.elementwise(ELEMENTWISE[name], args[:2], labels[:2])
    raise NoRule(name)


def functional_rule(name: str, args: list[Any], kw: dict[str, Any], labels: list[str]) -> Outcome:
    x = args[0] if args else kw.get("input")
    if not isinstance(x, T):
        raise NoRule(name)
    label = labels[0] if labels else "input"
    if name == "linear":
        w = _arg(args, kw, 1, "weight")
        b = _arg(args, kw, 2, "bias")
        if not isinstance(w, T):
            raise NoRule(name)
        return rules.linear(
            x, w, b if isinstance(b, T) else None, label, labels[1] if len(labels) > 1 else "weight"
        )
    if name in ("conv1d", "conv2d", "conv3d"):
        w = _arg(args, kw, 1, "weight")
        if not isinstance(w, T):
            raise NoRule(name)
        return rules.conv(
            x,
            w,
            int(name[4]),
            _arg(args, kw, 3, "stride", 1),
            _arg(args, kw, 4, "padding", 0),
            _arg(args, kw, 5, "dilation", 1),
            _arg(args, kw, 6, "groups", 1),
            label,
        )
    if name in ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d"):
        dims = int(name[-2])
        maximum = name.startswith("max")
        dilation = _arg(args, kw, 4, "dilation", 1) if maximum else 1
        ceil = _arg(args, kw, 5 if maximum else 4, "ceil_mode", False)
        return rules.pool(
            x,
            name,
            dims,
            _arg(args, kw, 1, "kernel_size"),
            _arg(args, kw, 2, "stride"),
            _arg(args, kw, 3, "padding", 0),
            dilation,
            bool(ceil),
        )
    if name in ("softmax", "log_softmax"):
        d = _arg(args, kw, 1, "dim")
        if d is None or _dtype_kw(kw):
            raise NoRule(name)
        return rules.same_shape(x, name, d)
    if name in SAME_SHAPE or name in ("dropout",):
        return rules.same_shape(x, "clone" if name == "dropout" else name)
    raise NoRule(name)
