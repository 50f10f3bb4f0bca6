"""Which rule of the formulas answers which call: a tensor method, a torch function, a factory or
an ``F`` function, with its arguments as the rules see them. No torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torchshape.families.expr import formulas as rules
from torchshape.families.expr import indexing, products, reductions, reshape
from torchshape.families.expr.allowed import words
from torchshape.families.expr.formulas import Dtype, NoRule, Outcome, T, shape_text

FACTORIES = words(
    """zeros ones empty randn rand full randint arange tensor as_tensor zeros_like ones_like empty_like
    randn_like rand_like full_like eye linspace"""
)
ELEMENTWISE = {  # the method, and the operator or torch function it is
    "add": "+",
    **dict.fromkeys(("sub", "subtract"), "-"),
    **dict.fromkeys(("mul", "multiply"), "*"),
    **dict.fromkeys(("div", "true_divide"), "/"),
    "floor_divide": "//",
    **dict.fromkeys(("remainder", "fmod"), "%"),
    "pow": "**",
    **{name: name for name in words("maximum minimum logical_and logical_or logical_xor")},
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "bitwise_and": "&",
    "bitwise_or": "|",
    "bitwise_xor": "^",
}
REDUCTIONS = words("sum mean prod amax amin argmax argmin any all std var logsumexp count_nonzero norm")
CASTS = frozenset(rules.CAST_METHODS)
LIST_FUNCTIONS = frozenset({"cat", "concat", "concatenate", "stack", "einsum", "where"})
SAME_SHAPE = reductions.FLOAT_MATH | reductions.KEEP_DTYPE


def _dtype_kw(kw: dict[str, Any]) -> str | None:
    d = kw.get("dtype")
    return d.name if isinstance(d, Dtype) else None


def _arg(args: list[Any], kw: dict[str, Any], position: int, name: str, default: Any = None) -> Any:
    if name in kw:
        return kw[name]
    return args[position] if len(args) > position else default


def _tensor(value: Any, name: str) -> T:
    """``value``, a tensor; anything else leaves the call to torch alone (no rule)."""
    if not isinstance(value, T):
        raise NoRule(name)
    return value


def _sizes(args: list[Any], kw: dict[str, Any], name: str) -> list[Any]:
    """Sizes given one by one, as one sequence (``view(2, 3)``, ``view((2, 3))``) or by keyword."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return list(args[0])
    return list(kw.get(name, args))


Rule = Callable[[str, T, list[Any], dict[str, Any], str], Outcome]


def _view(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """``view``/``reshape`` to sizes, or to the shape of another tensor (``view_as``, ``type_as``...)."""
    if name.endswith("_as"):
        other = _tensor(args[0] if args else kw.get("other"), name)
        if name == "type_as":
            return rules.cast(x, other.dtype, f".type_as({other.dtype} tensor)")
        if name == "expand_as":
            return reshape.expand(x, list(other.shape))
        return reshape.view(x, list(other.shape), name.removesuffix("_as"), label)
    if args and isinstance(args[0], Dtype):
        raise NoRule("view(dtype)")
    sizes = list(kw["shape"]) if "shape" in kw else _sizes(args, kw, "shape")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
        raise NoRule(name)
    return reshape.view(x, [int(n) for n in sizes], name, label)


def _axes(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """Flattening, squeezing and swapping axes."""
    if name == "t" and x.ndim > 2:
        said = f"t() expects a tensor with ≤ 2 dims; {label} has {x.ndim} (use .mT or transpose)"
        return Outcome("transpose", said, error=True)
    if name == "t":
        return reshape.transpose(x, 0, -1) if x.ndim == 2 else reductions.same_shape(x, "t")
    if name == "ravel":
        return reshape.flatten(x, 0, -1)
    if name == "flatten":
        return reshape.flatten(x, _arg(args, kw, 0, "start_dim", 0), _arg(args, kw, 1, "end_dim", -1))
    if name == "unflatten":
        sizes = _arg(args, kw, 1, "sizes")
        if not isinstance(sizes, (tuple, list)):
            raise NoRule(name)
        return reshape.unflatten(x, _arg(args, kw, 0, "dim"), list(sizes))
    if name == "squeeze":
        return reshape.squeeze(x, _arg(args, kw, 0, "dim"))
    if name == "unsqueeze":
        return reshape.unsqueeze(x, _arg(args, kw, 0, "dim"))
    return reshape.transpose(x, _arg(args, kw, 0, "dim0"), _arg(args, kw, 1, "dim1"))


def _sized(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """``expand``, ``repeat``, ``broadcast_to`` and ``tile`` to sizes, ``permute`` to dims."""
    if name == "permute" and not args and "dims" not in kw:
        raise NoRule(name)  # torch's own TypeError: no dims given
    if name == "permute":
        return reshape.permute(x, _sizes(args, kw, "dims"))
    sizes = _sizes(args, kw, "size")
    if not all(isinstance(n, int) for n in sizes):
        raise NoRule(name)
    if name == "tile":
        sizes = [1] * (x.ndim - len(sizes)) + sizes
    return reshape.expand(x, sizes) if name in ("expand", "broadcast_to") else reshape.repeat(x, sizes)


def _contiguous(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    strides = reshape.contiguous_strides(x.shape)
    how = (
        "already contiguous: the same tensor"
        if not x.stride or x.stride == strides
        else f"copies into memory order: strides {shape_text(x.stride)} → {shape_text(strides)}"
    )
    return Outcome("contiguous", f"contiguous keeps the shape {shape_text(x.shape)}; {how}", x.shape, x.dtype)


def _split(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    if name == "unbind":
        return indexing.split(x, None, _arg(args, kw, 0, "dim", 0), "unbind")
    first = _arg(args, kw, 0, "chunks" if name == "chunk" else "split_size_or_sections")
    return indexing.split(x, first, _arg(args, kw, 1, "dim", 0), name)


def _reduction(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """Reductions, ``max``/``min`` (also elementwise against another tensor), and ``softmax``,
    ``log_softmax``, ``cumsum`` and ``cumprod`` along a dim, which keep the shape."""
    if name in ("max", "min") and not args and "dim" not in kw:
        return reductions.reduce(x, "amax", None, False, label)
    if name in ("max", "min") and args and isinstance(args[0], T):  # torch.maximum, elementwise
        return rules.elementwise("maximum", [x, args[0]], [label, "other"])
    if name in ("softmax", "log_softmax", "cumsum", "cumprod"):
        return _along(name, x, _arg(args, kw, 0, "dim"), kw)
    if name == "norm" and args:
        raise NoRule(name)
    keepdim = bool(_arg(args, kw, 1, "keepdim", False))
    if name in ("max", "min"):
        return reductions.max_with_dim(x, name, _arg(args, kw, 0, "dim"), keepdim)
    if name in ("std", "var") and "correction" in kw:
        keepdim = bool(kw.get("keepdim", False))
    return reductions.reduce(x, name, _arg(args, kw, 0, "dim"), keepdim, label)


def _along(name: str, x: T, d: Any, kw: dict[str, Any]) -> Outcome:
    if _dtype_kw(kw):
        raise NoRule(name)
    if name in ("cumsum", "cumprod") and rules.category(x.dtype) < 2:
        said = f"{name} along dim {d} keeps the shape {shape_text(x.shape)}; integers accumulate in int64"
        return Outcome("reduction", said, x.shape, "int64")
    return reductions.same_shape(x, name, d)


def _cast(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """``.float()`` and the like, ``.type(dtype)``, ``.to(dtype)`` and ``.to(tensor)``."""
    if name in CASTS:
        return rules.cast(x, rules.CAST_METHODS[name], f".{name}()")
    target = _arg(args, kw, 0, "dtype")
    if isinstance(target, T) and name == "to":
        return rules.cast(x, target.dtype, ".to(a tensor)")
    if not isinstance(target, Dtype):
        raise NoRule(name)
    return rules.cast(x, target.name, f".{name}(torch.{target.name})")


def _with_other(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """A method of two operands: elementwise, a product, or ``masked_fill`` with its mask."""
    if name in ELEMENTWISE:
        return rules.elementwise(ELEMENTWISE[name], [x, _arg(args, kw, 0, "other")], [label, "other"])
    if name != "masked_fill":
        return products.matmul(x, _tensor(args[0] if args else None, name), label, "other", name)
    mask = _tensor(_arg(args, kw, 0, "mask"), name)
    shape, how = rules.broadcast([x.shape, mask.shape], [label, "mask"])
    the_mask, kept = f"the mask {shape_text(mask.shape)}", shape_text(x.shape)
    if shape is None:
        return Outcome("broadcasting", f"{the_mask} must broadcast to {kept}: {how}", error=True)
    if shape != x.shape:
        why = f"{the_mask} broadcasts to {shape_text(shape)}, not the input's {kept}"
        return Outcome("broadcasting", why, error=True)
    said = f"masked_fill keeps {kept}; {the_mask} broadcasts to it: {how}"
    return Outcome("broadcasting", said, x.shape, x.dtype)


# The rule of each tensor method; a name in two groups takes the later group's rule.
TENSOR_RULES: dict[str, Rule] = {
    **dict.fromkeys(SAME_SHAPE, lambda name, x, args, kw, label: reductions.same_shape(x, name)),
    **dict.fromkeys(("view", "reshape", "view_as", "reshape_as", "expand_as", "type_as"), _view),
    **dict.fromkeys(words("ravel flatten unflatten squeeze unsqueeze transpose swapaxes swapdims t"), _axes),
    **dict.fromkeys(("expand", "repeat", "broadcast_to", "tile", "permute"), _sized),
    **dict.fromkeys(("split", "chunk", "unbind"), _split),
    **dict.fromkeys((*REDUCTIONS, "max", "min", "softmax", "log_softmax", "cumsum", "cumprod"), _reduction),
    **dict.fromkeys((*CASTS, "type", "to"), _cast),
    **dict.fromkeys((*ELEMENTWISE, "matmul", "mm", "bmm", "mv", "dot", "masked_fill"), _with_other),
    "contiguous": _contiguous,
    "item": lambda name, x, args, kw, label: rules.item(x, label),
}


def tensor_rule(name: str, x: T, args: list[Any], kw: dict[str, Any], label: str) -> Outcome:
    """The rule of ``x.NAME(*args, **kw)`` (and of ``torch.NAME(x, ...)``)."""
    rule = TENSOR_RULES.get(name)
    if rule is None:
        raise NoRule(name)  # size(), dim(), stride(), tolist(), ...: no tensor, or no rule here
    return rule(name, x, args, kw, label)


def _factory_sizes(name: str, args: list[Any], kw: dict[str, Any]) -> list[Any] | None:
    """The sizes a factory is given, where its signature puts them; None where they are not sizes."""
    if name == "linspace":
        steps = _arg(args, kw, 2, "steps")
        return [steps] if isinstance(steps, int) else None
    if name == "eye":
        n = args[0] if args else None
        m = args[1] if len(args) > 1 else kw.get("m", n)
        return [n, m] if isinstance(n, int) and isinstance(m, int) else None
    if name == "full":
        size = args[0] if args else kw.get("size")
        return list(size) if isinstance(size, (tuple, list)) else None
    if name == "randint":
        size = args[-1] if args and isinstance(args[-1], (tuple, list)) else kw.get("size")
        return list(size) if isinstance(size, (tuple, list)) else None
    sizes = _sizes(args, kw, "size")
    return sizes if all(isinstance(n, int) and not isinstance(n, bool) for n in sizes) else None


def factory_rule(name: str, args: list[Any], kw: dict[str, Any]) -> Outcome:
    dtype = _dtype_kw(kw)
    if name in ("tensor", "as_tensor"):
        data = args[0] if args else kw.get("data")
        if isinstance(data, T):
            raise NoRule(name)
        return rules.tensor(data, dtype)
    if name.endswith("_like"):
        return rules.like(_tensor(args[0] if args else None, name), name, dtype)
    if name == "arange":
        return rules.arange(args, dtype)
    sizes = _factory_sizes(name, args, kw)
    if sizes is None:
        raise NoRule(name)
    return rules.filled(name, sizes, dtype, _arg(args, kw, 1, "fill_value") if name == "full" else None)


def torch_rule(name: str, args: list[Any], kw: dict[str, Any], labels: list[str]) -> Outcome:
    """``torch.NAME(...)`` where the first argument is not a tensor: lists of tensors, einsum."""
    if name in ("cat", "concat", "concatenate", "stack"):
        tensors = args[0] if args else kw.get("tensors")
        if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, T) for t in tensors):
            raise NoRule(name)
        d = _arg(args, kw, 1, "dim", 0)
        return indexing.cat(list(tensors), d, "stack" if name == "stack" else "cat")
    if name == "einsum":
        equation = args[0] if args else None
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        if not isinstance(equation, str) or not all(isinstance(o, T) for o in operands):
            raise NoRule(name)
        return products.einsum(equation, operands)
    if name == "where" and len(args) == 3 and isinstance(args[0], T):
        shape, how = rules.broadcast(
            [a.shape for a in args if isinstance(a, T)],
            ["condition", "input", "other"][: sum(isinstance(a, T) for a in args)],
        )
        if shape is None:
            return Outcome("broadcasting", f"where: condition, input and other {how}", error=True)
        dtype, why = rules.result_type(args[1:])
        return Outcome(
            "broadcasting",
            f"where broadcasts condition, input and other: {how} → {shape_text(shape)}; {why}",
            shape,
            dtype,
        )
    if name in ELEMENTWISE and len(args) >= 2:
        return rules.elementwise(ELEMENTWISE[name], args[:2], labels[:2])
    raise NoRule(name)


def functional_rule(name: str, args: list[Any], kw: dict[str, Any], labels: list[str]) -> Outcome:
    x = _tensor(args[0] if args else kw.get("input"), name)
    label = labels[0] if labels else "input"
    if name == "linear":
        w = _tensor(_arg(args, kw, 1, "weight"), name)
        b = _arg(args, kw, 2, "bias")
        return products.linear(x, w, b if isinstance(b, T) else None)
    if name in ("conv1d", "conv2d", "conv3d"):
        w = _tensor(_arg(args, kw, 1, "weight"), name)
        return products.conv(
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
        return products.pool(
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
        return reductions.same_shape(x, name, d)
    if name in SAME_SHAPE or name in ("dropout",):
        return reductions.same_shape(x, "clone" if name == "dropout" else name)
    raise NoRule(name)
