"""What ``torchshape expr`` agrees to evaluate: the expression is parsed with ``ast`` and every
node is checked against an allow-list before anything runs. No torch here, and never ``eval``.

Allowed: the tensors given with ``--tensor`` and names assigned earlier in the expression
(``a = ...; a.view(-1)``), literals of bounded size, tuples, lists, slices and ``...``,
arithmetic and comparison, ``torch.X`` and ``F.X`` of the lists in ``allowed``
(``torch.nn.functional.X`` too), the tensor methods and attributes there, and a few builtins.
Refused (exit 2, naming the part): any other name or attribute, every dunder and private name,
imports, lambdas, comprehensions, f-strings, ``**kwargs``, assignments other than to plain
names, literals and nesting beyond the limits.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.expr.allowed import (
    F_FUNCTIONS,
    OTHER_ATTRIBUTES,
    TENSOR_ATTRIBUTES,
    TENSOR_METHODS,
    TORCH_DTYPES,
    TORCH_FUNCTIONS,
)

EXPRESSION = "EXPRESSION"  # how a refusal names the argument

MAX_LENGTH = 4000  # characters of the expression
MAX_DEPTH = 40  # nested nodes
MAX_INT = 2**63  # a literal integer's magnitude: int64's range
MAX_STRING = 256  # characters of a string literal (an einsum equation)
MAX_ITEMS = 10_000  # elements of a list or tuple made by `*` or list()/tuple()/tolist()


BUILTINS = frozenset({"len", "int", "float", "bool", "tuple", "list", "min", "max", "abs", "slice", "range"})
MODULES = {"torch": "torch", "F": "torch.nn.functional"}

# The binary and comparison operators allowed: each node's symbol and function (``evaluate`` runs
# them). Every unary operator is allowed too (-, +, ~, not); ``is`` and ``in`` are not.
OPERATORS: dict[type[ast.AST], tuple[str, Callable[[Any, Any], Any]]] = {
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
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}
_PLAIN: tuple[type[ast.AST], ...] = (ast.Load, ast.Store, ast.unaryop, *OPERATORS)
# What each refused kind of node is called in a refusal.
_CALLED = {
    "Lambda": "a lambda",
    **dict.fromkeys(("ListComp", "SetComp", "DictComp"), "a comprehension"),
    "GeneratorExp": "a generator expression",
    **dict.fromkeys(("Import", "ImportFrom"), "an import"),
    "JoinedStr": "an f-string",
    "NamedExpr": "an assignment expression (:=)",
    "Await": "await",
    **dict.fromkeys(("Yield", "YieldFrom"), "yield"),
    "IfExp": "a conditional expression",
    "BoolOp": "and/or",
    "Dict": "a dict",
    "Set": "a set",
    **dict.fromkeys(("FunctionDef", "AsyncFunctionDef"), "a function definition"),
    "ClassDef": "a class definition",
    "Delete": "del",
    "Global": "global",
    "Nonlocal": "nonlocal",
    "With": "with",
    **dict.fromkeys(("For", "While"), "a loop"),
    "If": "if",
    "Try": "try",
    "Raise": "raise",
    "Assert": "assert",
    "Return": "return",
    "AugAssign": "an in-place assignment",
    "AnnAssign": "an annotated assignment",
}
ALLOWED_WHAT = "torchshape expr evaluates tensors, literals, torch/F functions and tensor methods only"


class Refused(UsageError):
    """The expression holds something outside the allow-list (exit 2); nothing has run."""

    def __init__(self, message: str) -> None:
        super().__init__(EXPRESSION, f"refused: {message}; {ALLOWED_WHAT}")


@dataclass(frozen=True)
class Checked:
    """An expression that passed the allow-list: its statements and its source."""

    source: str
    tree: ast.Module
    assigned: tuple[str, ...]  # names the expression assigns, in order


def _segment(source: str, node: ast.AST) -> str:
    found = ast.get_source_segment(source, node)
    text = found if found is not None else ast.unparse(node)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(node: ast.AST) -> str | None:
    """``torch.nn.functional.linear`` -> its dotted name; None for anything but names and dots."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def module_function(node: ast.AST) -> tuple[str, str] | None:
    """``torch.cat`` -> ("torch", "cat"); ``F.linear``, ``torch.nn.functional.linear`` -> ("F", "linear")."""
    dotted = _dotted(node)
    if dotted is None or "." not in dotted:
        return None
    head, _, name = dotted.rpartition(".")
    if head == "torch":
        return "torch", name
    if head in ("F", "torch.nn.functional", "nn.functional"):
        return "F", name
    return None


def _parse(source: str) -> ast.Module:
    """The statements of ``source``; a usage error or ``Refused`` where there are none to check."""
    if not source.strip():
        raise UsageError(EXPRESSION, 'is empty; give a tensor expression such as "a[:, 0]"')
    if len(source) > MAX_LENGTH:
        raise Refused(f"the expression is {len(source):,} characters long, more than {MAX_LENGTH:,}")
    if "\x00" in source:
        raise Refused("a NUL character")
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise UsageError(EXPRESSION, f"is not valid Python{where}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise Refused(f"nesting deeper than {MAX_DEPTH} levels") from None
    if not tree.body:
        raise UsageError(EXPRESSION, "holds no expression")
    return tree


def check_expression(source: str, given: tuple[str, ...]) -> Checked:
    """The expression parsed and checked against the allow-list, or ``Refused`` naming the part.

    ``given``: the names of the --tensor tensors. Nothing is evaluated here.
    """
    tree = _parse(source)
    names = set(given)
    assigned: list[str] = []
    for index, statement in enumerate(tree.body):
        last = index == len(tree.body) - 1
        if isinstance(statement, ast.Expr):
            _check(statement.value, source, names, 1)
        elif isinstance(statement, ast.Assign) and not last:
            _check(statement.value, source, names, 1)
            for target in statement.targets:
                for name in _targets(target, source):
                    names.add(name)
                    assigned.append(name)
        elif isinstance(statement, ast.Assign):
            raise UsageError(
                EXPRESSION, f"ends in an assignment ({_segment(source, statement)}); end with the expression"
            )
        else:
            what = _CALLED.get(type(statement).__name__, f"a {type(statement).__name__} statement")
            raise Refused(f"{what} ({_segment(source, statement)})")
    return Checked(source=source, tree=tree, assigned=tuple(assigned))


def _targets(target: ast.AST, source: str) -> list[str]:
    if isinstance(target, ast.Name):
        _check_name(target.id, target, source)
        if target.id in MODULES or target.id in BUILTINS:
            raise Refused(f"assigning to {target.id} ({_segment(source, target)})")
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _targets(element, source)]
    raise Refused(f"an assignment to something other than a name ({_segment(source, target)})")


def _check_name(name: str, node: ast.AST, source: str) -> None:
    if name.startswith("_"):
        raise Refused(f"the private or dunder name {name} ({_segment(source, node)})")


def _check(node: ast.AST, source: str, names: set[str], depth: int) -> None:
    """Refuse ``node`` or anything in it that is not on the allow-list."""
    if depth > MAX_DEPTH:
        raise Refused(f"nesting deeper than {MAX_DEPTH} levels ({_segment(source, node)})")
    if isinstance(node, ast.Constant):
        _check_constant(node, source)
    elif isinstance(node, ast.Name):
        _check_name(node.id, node, source)
        if node.id not in names and node.id not in MODULES and node.id not in BUILTINS:
            raise Refused(
                f"the name {node.id}, which is no --tensor, no name assigned before it, and not torch, F "
                f"or an allowed builtin ({', '.join(sorted(BUILTINS))})"
            )
    elif isinstance(node, ast.Attribute):
        _check_attribute(node, source, names, depth)
    elif isinstance(node, ast.Call):
        _check_call(node, source, names, depth)
    elif isinstance(node, ast.Starred):
        _check(node.value, source, names, depth + 1)
    elif isinstance(
        node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Subscript, ast.Slice, ast.Tuple, ast.List)
    ):
        _check_parts(node, source, names, depth)
    else:
        what = _CALLED.get(type(node).__name__, f"the syntax {type(node).__name__}")
        raise Refused(f"{what} ({_segment(source, node)})")


def _check_parts(node: ast.AST, source: str, names: set[str], depth: int) -> None:
    """An operator, subscript, slice or literal list: its size where it has one, then its parts."""
    if isinstance(node, ast.BinOp):
        _check_size(node, source)
    if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) > MAX_ITEMS:
        raise Refused(f"a literal of {len(node.elts):,} items, more than {MAX_ITEMS:,}")
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, _PLAIN):
            _check(child, source, names, depth + 1)


def _int_literal(node: ast.AST) -> int | None:
    """The value of an integer made of literals only (``10**9``, ``-3``, ``2 * 8``), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _int_literal(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Pow)):
        left, right = _int_literal(node.left), _int_literal(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Pow):
            if right < 0 or (abs(left) > 1 and right * math.log2(abs(left)) > 64):
                return None
            return int(left**right)
        if isinstance(node.op, ast.Mult):
            return left * right if abs(left) < MAX_INT and abs(right) < MAX_INT else None
        return left + right if isinstance(node.op, ast.Add) else left - right
    return None


def _check_size(node: ast.BinOp, source: str) -> None:
    """No huge numbers or sequences out of small literals: 9**9**9, 1 << 10**6, [0] * 10**9."""
    left, right = _int_literal(node.left), _int_literal(node.right)
    huge = f"{_segment(source, node)} would be a huge number (beyond 2^64)"
    if isinstance(node.op, ast.Pow) and left is not None and abs(left) > 1:
        if right is None:
            raise Refused(
                f"{_segment(source, node)}: a power of a literal to an exponent that is not a literal"
            )
        if right > 0 and right * math.log2(abs(left)) > 64:
            raise Refused(huge)
    if isinstance(node.op, ast.LShift) and right is not None and right > 64:
        raise Refused(huge)
    if isinstance(node.op, ast.Mult):
        for seq, times in ((node.left, right), (node.right, left)):
            if isinstance(seq, (ast.List, ast.Tuple, ast.Constant)) and times is not None:
                length = (
                    len(seq.elts)
                    if isinstance(seq, (ast.List, ast.Tuple))
                    else (len(seq.value) if isinstance(seq.value, str) else 0)
                )
                if length * times > MAX_ITEMS:
                    raise Refused(f"{_segment(source, node)} makes more than {MAX_ITEMS:,} items")


def _check_constant(node: ast.Constant, source: str) -> None:
    value = node.value
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise Refused(f"the integer literal {_segment(source, node)}, beyond int64 (|n| ≤ 2^63)")
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise Refused(f"a string literal of {len(value):,} characters, more than {MAX_STRING}")
    if not (value is None or value is Ellipsis or isinstance(value, (int, float, str))):  # bool is an int
        raise Refused(f"the literal {_segment(source, node)} ({type(value).__name__})")


def _check_attribute(node: ast.Attribute, source: str, names: set[str], depth: int) -> None:
    found = module_function(node)
    dotted = _dotted(node)
    if found is not None:
        _check_name(node.attr, node, source)
        module, name = found
        allowed = (TORCH_FUNCTIONS | TORCH_DTYPES) if module == "torch" else F_FUNCTIONS
        if name not in allowed:
            raise Refused(f"{_segment(source, node)}, which is not a {module} function torchshape evaluates")
        return
    if dotted is not None and dotted.split(".")[0] in MODULES:
        _check_name(node.attr, node, source)
        raise Refused(f"{_segment(source, node)}, which is not a function torchshape evaluates")
    _check(node.value, source, names, depth + 1)  # the innermost refused part is named first
    _check_name(node.attr, node, source)
    if node.attr not in TENSOR_METHODS | TENSOR_ATTRIBUTES | OTHER_ATTRIBUTES:
        raise Refused(
            f"the attribute .{node.attr} ({_segment(source, node)}), not a tensor method torchshape evaluates"
        )


def _check_call(node: ast.Call, source: str, names: set[str], depth: int) -> None:
    func = node.func
    if isinstance(func, ast.Name):
        _check_name(func.id, func, source)
        if func.id not in BUILTINS:
            raise Refused(
                f"calling {func.id} ({_segment(source, node)}): not a function torchshape evaluates"
            )
    elif isinstance(func, ast.Attribute):
        _check_attribute(func, source, names, depth + 1)
    else:
        raise Refused(f"calling the result of an expression ({_segment(source, node)})")
    for argument in node.args:
        _check(argument, source, names, depth + 1)
    for keyword in node.keywords:
        if keyword.arg is None:
            raise Refused(f"**keywords ({_segment(source, keyword)})")
        _check_name(keyword.arg, keyword, source)
        _check(keyword.value, source, names, depth + 1)
