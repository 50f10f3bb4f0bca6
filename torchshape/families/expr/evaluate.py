"""The torch side of ``torchshape expr``: walk the checked expression, run every operation with
torch, and beside each one the rule of ``formulas`` for the same operands (``calls`` picks the
rule; ``operation`` runs one operation and records it).

Only what ``safety`` let through reaches here, and each node is evaluated by hand: a name is
looked up, ``torch.X``/``F.X`` and tensor methods are fetched by their allowed names from the
objects they belong to, nothing is passed to ``eval``. Every sub-expression that gives a tensor
(or ``.item()``'s number) becomes a ``Step``, innermost first; the first one torch refuses
stops the walk and becomes the ``Failure``.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional

from torchshape.errors import UsageError
from torchshape.families.expr import formulas as rules
from torchshape.families.expr import indexing, products, reductions, reshape
from torchshape.families.expr.allowed import (
    F_FUNCTIONS,
    TENSOR_ATTRIBUTES,
    TENSOR_METHODS,
    TORCH_DTYPES,
    TORCH_FUNCTIONS,
)
from torchshape.families.expr.formulas import NoRule, Outcome, T
from torchshape.families.expr.operation import Operations, Stop, Walk, meta_copy, tensor_pairs
from torchshape.families.expr.safety import BUILTINS, EXPRESSION, MAX_ITEMS, OPERATORS, module_function

_BUILTINS: dict[str, Callable[..., Any]] = {name: getattr(builtins, name) for name in BUILTINS}


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


def _and_then(before: Any, fn: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    return bool(before) and fn(left, right)


class Evaluator(Operations):
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
        super().__init__(source, record=record)
        self.tree = tree
        self.env = dict(env)
        self.explain = explain

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
            self._fail(target, ValueError(f"{len(target.elts)} names for {len(values)} values"))
        for element, one in zip(target.elts, values, strict=True):
            self._bind(element, one)

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
                        node, lambda: getattr(owner, name), lambda: self._attribute_rule(owner, name)
                    )
                return getattr(owner, name)
        elif isinstance(owner, torch.Size) and name == "numel":
            return _Method(owner, name)
        elif isinstance(owner, tuple) and name in ("values", "indices") and hasattr(owner, name):
            return getattr(owner, name)
        what = type(owner).__name__
        self._fail(node, AttributeError(f"{what} has no attribute {name} that torchshape evaluates"))

    def _attribute_rule(self, x: torch.Tensor, name: str) -> Outcome:
        if name in ("T", "H") and x.dim() == 2:
            return reshape.transpose(self.describe(x), 0, 1)
        if name in ("mT", "mH") and x.dim() >= 2:
            return reshape.transpose(self.describe(x), -2, -1)
        raise NoRule(name)

    def _Call(self, node: ast.Call) -> Any:
        func = self.eval(node.func)
        args = self._elements(node.args)
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg is not None}
        if isinstance(func, _Builtin):
            return self._builtin(node, func.name, args, kwargs)
        self.walk.operands = [self.describe(a) for a in args]
        if isinstance(func, _Method) and isinstance(func.owner, torch.Tensor):
            name, owner = func.name, func.owner
            self.walk.operands = [self.describe(owner), *self.walk.operands]
            if name == "to" and any(isinstance(a, (str, torch.device)) for a in [*args, *kwargs.values()]):
                raise UsageError(EXPRESSION, f"refused: {self.text(node)}: moving between devices")
            if name == "tolist" and owner.numel() > MAX_ITEMS:
                raise UsageError(EXPRESSION, f"refused: .tolist() of {owner.numel():,} elements")
            return self._operation(
                node,
                lambda: func(*args, **kwargs),
                lambda: self.method_rule(name, owner, node, args, kwargs),
                lambda: getattr(meta_copy(owner), name)(*meta_copy(args), **meta_copy(kwargs)),
            )
        if isinstance(func, _Function):
            return self._operation(
                node,
                lambda: func(*args, **kwargs),
                lambda: self.function_rule(func.module, func.name, node, args, kwargs),
                lambda: func(*meta_copy(args), **meta_copy(kwargs)),
            )
        if isinstance(func, _Method):
            return self._python(node, lambda: func(*args, **kwargs))
        self._fail(node, TypeError(f"{self.text(node.func)} is not callable"))

    def _builtin(self, node: ast.Call, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if name in ("list", "tuple") and args:
            items = self._sequence(args[0], f"{name}()")
            return items if name == "list" else tuple(items)
        if name == "range":
            return self._python(node, lambda: range(*args))
        function = _BUILTINS[name]
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
        return self._binary(node, node.left, node.right, type(node.op), left, right)

    def _binary(
        self, node: ast.AST, first: ast.expr, second: ast.expr, op: type[ast.AST], left: Any, right: Any
    ) -> Any:
        """``left op right``: Python's where neither is a tensor, else torch's beside the rule."""
        symbol, fn = OPERATORS[op]
        if not isinstance(left, torch.Tensor) and not isinstance(right, torch.Tensor):
            self._check_python_size(node, symbol, left, right)
            return self._python(node, partial(fn, left, right))
        labels = [self.label(first), self.label(second)]

        def rule() -> Outcome:
            a, b = self.describe(left), self.describe(right)
            if symbol == "@":
                if not (isinstance(a, T) and isinstance(b, T)):
                    raise NoRule("@")
                return products.matmul(a, b, labels[0], labels[1], "@")
            return rules.elementwise(symbol, [a, b], labels)

        self.walk.operands = [self.describe(left), self.describe(right)]
        self._paired = tensor_pairs(labels, [left, right])
        return self._operation(node, partial(fn, left, right), rule)

    def _check_python_size(self, node: ast.AST, symbol: str, left: Any, right: Any) -> None:
        """Python numbers and sequences stay small: no 10**10**10, no [0] * 10**9."""
        ints = isinstance(left, int) and isinstance(right, int)
        power = symbol == "**" and ints and right > 0 and abs(left) > 1 and right * math.log2(abs(left)) > 64
        if power or (symbol == "<<" and ints and right > 64):
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
        return self._operation(
            node, lambda: fn(value), lambda: reductions.same_shape(self.describe(value), "neg")
        )

    def _Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        if len(node.ops) == 1:
            right = self.eval(node.comparators[0])
            return self._binary(node, node.left, node.comparators[0], type(node.ops[0]), left, right)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):  # a < b < c: Python's `and`
            right = self.eval(comparator)
            fn = OPERATORS[type(op)][1]
            result = self._python(node, partial(_and_then, result, fn, left, right))
            left = right
        return result

    def _Subscript(self, node: ast.Subscript) -> Any:
        value = self.eval(node.value)
        index = self.eval(node.slice)
        if isinstance(value, torch.Tensor):
            label = self.label(node.value)
            self.walk.operands = [self.describe(value)]
            found = self._operation(
                node,
                lambda: value[index],
                lambda: indexing.index(self.describe(value), self.describe(index), label),
            )
            if self.explain and isinstance(found, torch.Tensor):
                self.values_view(node, value, index, tuple(found.shape))
            return found
        return self._python(node, lambda: value[index])
