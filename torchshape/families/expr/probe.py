"""Run the expression with torch: make the --tensor tensors, pick the device, walk the expression,
and where torch refused a sub-expression, try the fixes and keep those torch accepts.

The device: on meta every shape comes at any size in constant time, and no values exist. Where
the values matter (a boolean mask, an index tensor, ``.item()``, ``nonzero``, --explain) the
expression runs on the CPU. ``--device`` chooses instead.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import replace
from typing import Any

import torch

from torchshape.errors import EnvironmentProblem, UsageError
from torchshape.families.expr.allowed import words
from torchshape.families.expr.counts import check_addressable
from torchshape.families.expr.evaluate import Evaluator
from torchshape.families.expr.formulas import Shape, T
from torchshape.families.expr.operation import BEYOND_CPU, CPU_TENSOR_LIMIT, Walk, key, tensors_of
from torchshape.families.expr.safety import check_expression
from torchshape.families.expr.spec import ExprSpec, Given, Symbols
from torchshape.families.expr.steps import ExprRun, Failure, Fix, Step
from torchshape.options import INTEGER_DTYPES, SEED
from torchshape.probe import ProbeRun, resolve_device

# Operations whose result depends on values, not shapes alone: the CPU runs them.
VALUE_METHODS = words("item tolist nonzero argwhere masked_select unique one_hot repeat_interleave bincount")
VALUE_BUILTINS = words("int float bool")
MAX_FIXES = 3


def values_needed(spec: ExprSpec) -> str | None:
    """Why this expression needs values (so the CPU), or None when shapes suffice (meta)."""
    if spec.explain:
        return "--explain shows values"
    for one in spec.tensors:
        if one.dtype == "bool":
            return f"{one.name} is a bool tensor (a mask selects by its values)"
        if one.low is not None:
            return f"{one.name} has a value range"
    for node in ast.walk(spec.checked.tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in VALUE_METHODS or (isinstance(func, ast.Name) and name in VALUE_BUILTINS):
                return f"{name} reads values"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return "not reads a value"
        if isinstance(node, ast.Subscript) and any(  # an index of more than literals: perhaps a tensor
            isinstance(part, (ast.Name, ast.Call, ast.Compare, ast.List)) for part in ast.walk(node.slice)
        ):
            return "an index tensor's values pick the elements (and torch checks their range)"
    return None


def make_tensor(one: Given, spec: ExprSpec, device: torch.device, generator: torch.Generator | None) -> Any:
    def single() -> torch.Tensor:
        dtype = getattr(torch, one.dtype)
        if device.type == "meta":
            return torch.empty(one.shape, dtype=dtype, device=device)
        if one.dtype == "bool":
            return torch.randint(0, 2, one.shape, generator=generator).bool().to(device)
        if one.dtype in INTEGER_DTYPES:
            low = one.low if one.low is not None else 0
            return torch.randint(low, spec.high(one), one.shape, generator=generator, dtype=dtype).to(device)
        return torch.randn(one.shape, generator=generator).to(dtype=dtype, device=device)

    return single() if one.count is None else [single() for _ in range(one.count)]


def environment(spec: ExprSpec, device: torch.device) -> dict[str, Any]:
    """The --tensor tensors on ``device``, the same values every run (seeded)."""
    generator = torch.Generator().manual_seed(SEED) if device.type != "meta" else None
    return {one.name: make_tensor(one, spec, device, generator) for one in spec.tensors}


def _fits_cpu(spec: ExprSpec) -> bool:
    return all(one.bytes // (one.count or 1) <= CPU_TENSOR_LIMIT for one in spec.tensors)


def choose_device(spec: ExprSpec) -> tuple[str, str]:
    """Where the expression runs and why."""
    if spec.device != "auto":
        return spec.device, f"--device {spec.device}"
    reason = values_needed(spec)
    if reason is None:
        return "meta", "shapes alone decide every step: on meta, no memory, any size"
    if not _fits_cpu(spec):
        return "meta", f"values would matter ({reason}), but the tensors are too large for the CPU; on meta"
    return "cpu", f"on the CPU: {reason}"


def evaluate(spec: ExprSpec, source: str, tree: ast.Module, device: torch.device, **options: Any) -> Walk:
    return Evaluator(source, tree, environment(spec, device), **options).run(device)


def run(spec: ExprSpec, **options: Any) -> ProbeRun:
    """The walk of the expression, its fixes where torch refused, and --explain's values views."""
    check_addressable(spec)  # a tensor no device can hold, meta included
    name, why = choose_device(spec)
    if name != "meta" and not name.startswith("cpu"):
        resolve_device(name)
    device = torch.device(name)
    if device.type == "cpu" and not _fits_cpu(spec):
        raise EnvironmentProblem(f"--device {name}: a --tensor is larger than {BEYOND_CPU}")
    checked = spec.checked
    walk = evaluate(spec, checked.source, checked.tree, device, explain=spec.explain)
    again = _again_on_cpu(spec, walk) if spec.device == "auto" and device.type == "meta" else None
    if again is not None:
        device, why = torch.device("cpu"), again
        walk = evaluate(spec, checked.source, checked.tree, device, explain=spec.explain)
    failure = walk.failure
    if failure is not None:
        failure = _with_fixes(spec, walk, failure, device)
    analysis = ExprRun(
        steps=tuple(walk.steps),
        result=None if failure is not None else _result(walk, checked.source),
        failure=failure,
        device=str(device),
        why_device=why,
        values=tuple(walk.values),
        explain=spec.explain,
        diagram=spec.diagram,
    )
    shapes = {one.name: one.shape if one.count is None else (one.count, *one.shape) for one in spec.tensors}
    result_dtype = analysis.result.dtype if analysis.result is not None else ""
    return ProbeRun(
        device=str(device),
        dtype=result_dtype,
        torch_version=torch.__version__,
        spec=spec,
        sizes=Symbols(),
        shapes=shapes,
        error=None,
        reduced=False,
        analysis=analysis,
    )


SMALL_BYTES = 64 * 2**20  # tensors this small rerun on the CPU for its error message


def _again_on_cpu(spec: ExprSpec, walk: Walk) -> str | None:
    """Why the walk ``--device auto`` ran on meta runs again on the CPU, or None where it stands."""
    failure = walk.failure
    meta_only = failure is not None and (  # meta tensors hold no values
        failure.error_type == "NotImplementedError" or "meta" in failure.message.lower()
    )
    if meta_only and _fits_cpu(spec):
        return "on the CPU: on meta a step found no values to read"
    if sum(one.bytes for one in spec.tensors) > SMALL_BYTES:
        return None
    if any(step.holds is False for step in walk.steps):
        # meta kernels skip some checks of values' dtypes (a float & a float): the CPU's answer counts
        return "on the CPU: on meta torch skipped a check its CPU kernel makes"
    if failure is not None:
        # the message users meet in their own code is the CPU's (meta words some errors differently)
        return "on the CPU: torch refused a step on meta; the CPU's message is the one your code would see"
    return None


def _result(walk: Walk, source: str) -> Step | None:
    """The whole expression's row: the last step when it is the whole expression, else the value."""
    value = walk.result
    whole = " ".join(source.split())
    if walk.steps and isinstance(value, (torch.Tensor, tuple, list, int, float, bool)):
        last = walk.steps[-1]
        last_statement = " ".join((ast.unparse(ast.parse(source).body[-1])).split())
        if last.expression in (whole, last_statement) or _same(last.expression, last_statement):
            return last
    found = tensors_of(value)
    if found is not None:
        shape, shapes, dtype = found
        rule = "a --tensor as given" if shape is not None else f"a {type(value).__name__} of tensors"
        return Step(whole, "value", rule, shape, dtype, shapes=shapes)
    if isinstance(value, torch.Size):
        return Step(
            whole, "python", "torch.Size: the shape as a tuple", None, "torch.Size", value=repr(tuple(value))
        )
    if isinstance(value, (bool, int, float, complex, tuple, list, str)) or value is None:
        return Step(
            whole, "python", "a Python value", None, f"{type(value).__name__} (Python)", value=repr(value)
        )
    if isinstance(value, torch.dtype):
        return Step(whole, "python", "a dtype", None, "torch.dtype", value=str(value))
    return None


def _same(a: str, b: str) -> bool:
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


# -- fixes ------------------------------------------------------------------------------------


def _attr(node: ast.expr, name: str) -> ast.expr:
    return ast.Attribute(value=copy.deepcopy(node), attr=name, ctx=ast.Load())


def _call(node: ast.expr, name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(func=_attr(node, name), args=list(args), keywords=[])


def _transposed(node: ast.expr, ndim: int) -> ast.expr:
    return _attr(node, "T" if ndim == 2 else "mT")


def _unsqueezed(
    node: ast.BinOp | ast.Compare, shapes: list[Any], dims: list[int]
) -> tuple[list[ast.expr], Shape | None]:
    """A broadcast's fixes, the operand with fewer dims unsqueezed at each place, and the larger
    operand's shape, which they must give."""
    left, right = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.left, node.comparators[0])
    target = max((s for s in shapes if s is not None), key=len, default=None)
    found: list[ast.expr] = []
    for side, (operand, ndim) in enumerate(zip((left, right), dims, strict=True)):
        for k in range(ndim + 1) if ndim < len(target or ()) else ():
            fixed = _call(operand, "unsqueeze", ast.Constant(k))
            new_left, new_right = (fixed, right) if side == 0 else (left, fixed)
            rebuilt: ast.expr = (
                ast.BinOp(new_left, node.op, new_right)
                if isinstance(node, ast.BinOp)
                else ast.Compare(new_left, node.ops, [new_right])
            )
            found.append(rebuilt)
    return found, target


def _matmul_call(node: ast.Call, owner: ast.expr, dims: list[int]) -> list[ast.expr]:
    """``torch.matmul(a, b)`` or ``a.matmul(b)`` with b transposed."""
    module_call = isinstance(owner, ast.Name) and owner.id == "torch"
    if module_call and len(node.args) == 2 and dims[1] >= 2:
        return [ast.Call(node.func, [node.args[0], _transposed(node.args[1], dims[1])], node.keywords)]
    if not module_call and node.args and dims[1] >= 2:
        return [ast.Call(node.func, [_transposed(node.args[0], dims[1])], node.keywords)]
    return []


def _floated(node: ast.Call, owner: ast.expr, name: str) -> list[ast.expr]:
    """The call on its first operand made float."""
    module_call = isinstance(owner, ast.Name) and owner.id in ("torch", "F")
    if module_call and node.args:
        return [ast.Call(node.func, [_call(node.args[0], "float"), *node.args[1:]], node.keywords)]
    if not module_call:
        return [ast.Call(_attr(_call(owner, "float"), name), node.args, node.keywords)]
    return []


def _call_fixes(
    node: ast.Call, func: ast.Attribute, failure: Failure, operands: list[Any], dims: list[int]
) -> list[ast.expr]:
    """The fixes of a failing method or module function call."""
    name, owner = func.attr, func.value
    if name == "view":
        return [
            ast.Call(_attr(owner, "reshape"), node.args, node.keywords),
            ast.Call(_attr(_call(owner, "contiguous"), "view"), node.args, node.keywords),
        ]
    if name in ("matmul", "mm", "bmm") and failure.kind == "matmul" and len(dims) >= 2:
        return _matmul_call(node, owner, dims)
    if (
        name == "linear"
        and failure.kind == "F.linear"
        and len(node.args) >= 2
        and len(dims) >= 2
        and dims[1] == 2
    ):
        return [
            ast.Call(node.func, [node.args[0], _transposed(node.args[1], 2), *node.args[2:]], node.keywords)
        ]
    if name in ("cat", "concat", "concatenate") and failure.kind == "cat" and operands:
        listed = operands[0] if isinstance(operands[0], (list, tuple)) else []
        ndim = len(listed[0].shape) if listed and isinstance(listed[0], T) else 0
        kept = [k for k in node.keywords if k.arg != "dim"]
        return [
            ast.Call(node.func, node.args[:1], [*kept, ast.keyword("dim", ast.Constant(d))])
            for d in range(ndim)
        ]
    if failure.kind in ("reduction", "elementwise") and "floating point" in failure.rule:
        return _floated(node, owner, name)
    return []


def candidates(node: ast.AST, failure: Failure, operands: list[Any]) -> tuple[list[ast.expr], Shape | None]:
    """Rewrites of the failing node that may fix it, and the shape the fixed node must give (None:
    any that torch accepts). A fix of a broadcast must give the larger operand's shape, not some
    other that torch accepts."""
    shapes = [o.shape if isinstance(o, T) else None for o in operands]
    dims = [len(s) if s is not None else 0 for s in shapes]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and len(dims) == 2:
        found: list[ast.expr] = []
        if dims[1] >= 2:
            found.append(ast.BinOp(node.left, ast.MatMult(), _transposed(node.right, dims[1])))
        if dims[0] >= 2:
            found.append(ast.BinOp(_transposed(node.left, dims[0]), ast.MatMult(), node.right))
        return found, None
    if isinstance(node, (ast.BinOp, ast.Compare)) and failure.kind == "broadcasting" and len(shapes) == 2:
        return _unsqueezed(node, shapes, dims)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _call_fixes(node, node.func, failure, operands, dims), None
    return [], None


class _Replace(ast.NodeTransformer):
    def __init__(self, where: tuple[int, int, int, int], kind: type[ast.AST], new: ast.expr) -> None:
        self.where, self.kind, self.new = where, kind, new

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, self.kind) and key(node) == self.where:
            return self.new
        return super().visit(node)


def _with_fixes(spec: ExprSpec, walk: Walk, failure: Failure, device: torch.device) -> Failure:
    """The failure with every candidate fix torch accepted, re-run from the start on the same tensors."""
    node = walk.failed_node
    if node is None or failure.node is None:
        return failure
    fixes: list[Fix] = []
    seen: set[str] = set()
    tried, wanted = candidates(node, failure, walk.operands)
    for new in tried:
        tree = _Replace(failure.node, type(node), new).visit(copy.deepcopy(spec.checked.tree))
        source = "; ".join(ast.unparse(statement) for statement in tree.body)
        if source in seen:
            continue
        seen.add(source)
        try:
            checked = check_expression(source, tuple(one.name for one in spec.tensors))
            trial = evaluate(spec, checked.source, checked.tree, device)
        except (UsageError, EnvironmentProblem):
            continue
        if trial.failure is not None:
            continue
        change = ast.unparse(new)
        step = next((s for s in trial.steps if _same(s.expression, change)), None)
        if wanted is not None and (step is None or step.shape != wanted):
            continue
        result = _result(trial, checked.source)
        fixes.append(
            Fix(
                change=change,
                expression=source,
                shape=None if result is None else result.shape,
                dtype="" if result is None else result.dtype,
            )
        )
        if len(fixes) == MAX_FIXES:
            break
    return replace(failure, fixes=tuple(fixes))
