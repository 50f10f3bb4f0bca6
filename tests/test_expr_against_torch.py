"""``torchshape expr`` against torch: hypothesis draws broadcasting, matmul, basic and advanced
indexing, view/reshape (after transpose too), cat/stack/split/chunk and reductions over random
shapes and dtypes. For each, torch itself runs the expression here (the test's own ``eval`` of
the expression it wrote, on the same tensors); then every step torchshape shows must hold
(its rule gave torch's shape and dtype), the result must be torch's, and where torch raises,
torchshape must name a failing step whose rule said torch would refuse.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from torchshape.api import expr
from torchshape.families.expr.probe import environment
from torchshape.families.expr.spec import make_spec

DTYPES = ["float32", "float32", "float64", "float16", "int64", "int32", "bool", "uint8"]


def torch_says(expression: str, tensors: dict[str, str], device: str) -> tuple[Any, BaseException | None]:
    """What torch itself gives for the expression on the tensors torchshape makes."""
    spec = make_spec(expression, [f"{k}={v}" for k, v in tensors.items()], device=device)
    env = environment(spec, torch.device(device))
    scope = {"torch": torch, "F": torch.nn.functional, "len": len, **env}
    try:
        with torch.device(device), torch.no_grad():
            return eval(expression, scope), None  # the test's own expression, written here
    except Exception as exc:
        return None, exc


def check(expression: str, device: str = "auto", **tensors: str) -> None:
    """Every step holds, the result is torch's; where torch raises, the failure is named and foreseen."""
    report = expr(expression, device=device, **tensors)
    run = report.probe.analysis
    value, error = torch_says(expression, tensors, run.device)
    for step in run.steps:
        assert step.holds is True, (expression, tensors, step)
    if error is not None:
        assert run.failure is not None, (expression, tensors, error)
        assert run.failure.message == str(error).strip().splitlines()[0], (expression, run.failure)
        assert run.failure.predicted is True, (expression, tensors, run.failure)
        assert not report.ok
        for fix in run.failure.fixes:  # each fix torchshape offers, run here by torch itself
            fixed, refused = torch_says(fix.expression, tensors, run.device)
            assert refused is None, (fix, refused)
            assert tuple(fixed.shape) == fix.shape, (fix, fixed.shape)
        return
    assert run.failure is None, (expression, tensors, run.failure)
    assert report.ok
    result = run.result
    assert result is not None and result.holds is True, (expression, result)
    if isinstance(value, torch.Tensor):
        assert result.shape == tuple(value.shape), (expression, result, value.shape)
        assert result.dtype == str(value.dtype).removeprefix("torch."), (expression, result, value.dtype)
    else:
        assert result.shapes == tuple(tuple(v.shape) for v in value), (expression, result)


def text(shape: tuple[int, ...], dtype: str = "float32") -> str:
    return (",".join(map(str, shape)) or "()") + f":{dtype}"


sizes = st.integers(1, 4)
shapes = st.lists(sizes, min_size=0, max_size=4).map(tuple)


@st.composite
def broadcast_pair(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    a = draw(shapes)
    n = draw(st.integers(0, 4))
    b = []
    for k in range(n):
        back = n - k
        if back <= len(a) and draw(st.integers(0, 5)) > 0:
            b.append(draw(st.sampled_from([a[-back], 1])))
        else:
            b.append(draw(sizes))
    return a, tuple(b)


@given(
    pair=broadcast_pair(),
    op=st.sampled_from(["+", "-", "*", "/", "//", "==", "<", "&"]),
    dtypes=st.tuples(st.sampled_from(DTYPES), st.sampled_from(DTYPES)),
)
def test_broadcasting_and_promotion(pair: tuple[Any, Any], op: str, dtypes: tuple[str, str]) -> None:
    a, b = pair
    if op in ("-",) and "bool" in dtypes:
        op = "+"
    right = text(b, dtypes[1])
    if op == "//" and dtypes[1] not in ("float32", "float64", "float16"):
        right = text(b, "int64") + ":1-4"  # an integer division by zero is a value's error, not a shape's
    check(f"a {op} b", a=text(a, dtypes[0]), b=right)


@given(
    a=shapes,
    dtype=st.sampled_from(DTYPES),
    scalar=st.sampled_from(["2", "2.5", "True", "-1"]),
    op=st.sampled_from(["+", "*", "/", "//", ">"]),
)
def test_python_numbers_promote_by_category(a: tuple[int, ...], dtype: str, scalar: str, op: str) -> None:
    if dtype == "bool" and op == "//":
        op = "+"
    check(f"a {op} {scalar}", a=text(a, dtype))


@st.composite
def matmul_pair(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    da, db = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = draw(sizes)
    a = [draw(sizes) for _ in range(da - 1)] + [k]
    b_inner = k if draw(st.integers(0, 4)) else draw(sizes)
    b = [draw(sizes) for _ in range(max(db - 2, 0))] + ([b_inner, draw(sizes)] if db >= 2 else [b_inner])
    if da >= 3 and db >= 3 and draw(st.booleans()):  # batch dims that broadcast
        b[: max(db - 2, 0)] = [draw(st.sampled_from([1, n])) for n in a[-len(b) : -2][-max(db - 2, 0) :]]
    return tuple(a), tuple(b)


@given(
    pair=matmul_pair(), form=st.sampled_from(["a @ b", "torch.matmul(a, b)", "a.mm(b)", "torch.bmm(a, b)"])
)
def test_matmul(pair: tuple[Any, Any], form: str) -> None:
    a, b = pair
    check(form, a=text(a), b=text(b))


@given(
    x=st.tuples(st.integers(2, 8), st.integers(1, 6)),
    out=st.integers(1, 5),
    transposed=st.booleans(),
    bias=st.booleans(),
)
def test_linear_and_its_fix(x: tuple[int, int], out: int, transposed: bool, bias: bool) -> None:
    w = (x[1], out) if transposed else (out, x[1])
    tensors = {"x": text(x), "W": text(w)}
    call = "F.linear(x, W, b)" if bias else "F.linear(x, W)"
    if bias:
        tensors["b"] = text((out,))
    check(call, **tensors)
    if transposed and x[1] != out:
        report = expr(call, **tensors)
        fixes = report.probe.analysis.failure.fixes
        assert [fix.change for fix in fixes][:1] == [call.replace("W", "W.T", 1)]
        assert fixes[0].shape == (x[0], out)


@given(
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    channels=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    pool=st.sampled_from(["max_pool2d", "avg_pool2d"]),
    ceil=st.booleans(),
)
def test_functional_conv_and_pool(
    size: tuple[int, int],
    channels: tuple[int, int],
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    pool: str,
    ceil: bool,
) -> None:
    x = text((2, channels[0], *size))
    w = text((channels[1], channels[0], kernel, kernel))
    check(f"F.conv2d(x, w, stride={stride}, padding={padding}, dilation={dilation})", x=x, w=w)
    more = f", dilation={dilation}" if pool == "max_pool2d" else ""
    check(f"F.{pool}(x, {kernel}, {stride}, {padding}{more}, ceil_mode={ceil})", x=x)


@st.composite
def indexing(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """``a[...]`` with ints, slices, None, ..., index tensors and masks, on the CPU (values matter)."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    kinds = draw(
        st.lists(
            st.sampled_from(["int", "slice", "slice", "none", "tensor", "tensor", "mask", "ellipsis"]),
            min_size=1,
            max_size=len(shape) + 1,
        )
    )
    if kinds.count("ellipsis") > 1:
        first = kinds.index("ellipsis")
        kinds = [k for i, k in enumerate(kinds) if k != "ellipsis" or i == first]
    consuming = [k for k in kinds if k not in ("none", "ellipsis")]
    while len(consuming) > len(shape):  # keep the index within the dims (a test below goes beyond)
        kinds.remove(consuming.pop())
    after = (
        sum(1 for k in kinds[kinds.index("ellipsis") + 1 :] if k not in ("none", "ellipsis"))
        if "ellipsis" in kinds
        else 0
    )
    tensors = {"a": text(shape)}
    items: list[str] = []
    dim = 0
    for kind in kinds:
        n = shape[dim] if dim < len(shape) else 1
        if kind == "int":
            items.append(
                str(draw(st.integers(-n, n - 1)) if draw(st.integers(0, 9)) else n)
            )  # at times out of range
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            part = f"{'' if start is None else start}:{'' if stop is None else stop}"
            items.append(part + (f":{step}" if step is not None else ""))
        elif kind == "none":
            items.append("None")
        elif kind == "ellipsis":
            items.append("...")
            dim = len(shape) - after
            continue
        elif kind == "tensor":
            name = f"i{len(tensors)}"
            ishape = draw(st.sampled_from([(), (2,), (3,), (2, 1), (1, 3), (2, 3)]))
            tensors[name] = f"{','.join(map(str, ishape)) or '()'}:int64:0-{n}"
            items.append(name)
        else:
            name = f"m{len(tensors)}"
            tensors[name] = text((n,), "bool")
            items.append(name)
        if kind != "none":
            dim += 1
    return f"a[{', '.join(items)}]", tensors


@given(case=indexing())
def test_basic_and_advanced_indexing(case: tuple[str, dict[str, str]]) -> None:
    expression, tensors = case
    check(expression, device="cpu", **tensors)


@pytest.mark.parametrize("index", ["0, 0, 0", "..., 0, ...", "None, 0, 0, 0"])
def test_too_many_indices_and_two_ellipses(index: str) -> None:
    check(f"a[{index}]", device="cpu", a="2,3")


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
    before=st.sampled_from(
        ["", ".transpose(0, -1)", ".permute(*range(a.dim() - 1, -1, -1))", "[:, ::2]", ".mT"]
    ),
    op=st.sampled_from(["view", "reshape"]),
    data=st.data(),
)
def test_view_and_reshape(shape: tuple[int, ...], before: str, op: str, data: st.DataObject) -> None:
    if before in ("[:, ::2]", ".mT") and len(shape) < 2:
        before = ""
    numel = 1
    for n in shape:
        numel *= n
    divisors = [d for d in range(1, numel + 1) if numel % d == 0]
    first = data.draw(st.sampled_from(divisors))
    target = [first, numel // first]
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, 1))] = -1
    if data.draw(st.integers(0, 5)) == 0:
        target = [first + 1, -1] if data.draw(st.booleans()) else [first, numel // first + 1]
    check(f"a{before}.{op}({target[0]}, {target[1]})", a=text(shape))


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    others=st.integers(1, 3),
    op=st.sampled_from(["cat", "stack"]),
    data=st.data(),
)
def test_cat_and_stack(shape: tuple[int, ...], others: int, op: str, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    tensors = {"t0": text(shape)}
    for k in range(1, others + 1):
        other = list(shape)
        if data.draw(st.booleans()):
            other[dim] = data.draw(st.integers(1, 4))  # only the dim cat joins along may differ
        tensors[f"t{k}"] = text(tuple(other))
    names = ", ".join(tensors)
    check(f"torch.{op}([{names}], dim={dim})", **tensors)


@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
    op=st.sampled_from(["split", "chunk", "unbind"]),
    n=st.integers(1, 4),
    data=st.data(),
)
def test_split_chunk_unbind(shape: tuple[int, ...], op: str, n: int, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    call = f"a.unbind({dim})" if op == "unbind" else f"a.{op}({n}, {dim})"
    check(call, a=text(shape))


@given(
    shape=shapes,
    dtype=st.sampled_from(DTYPES),
    op=st.sampled_from(["sum", "mean", "amax", "argmax", "any", "prod", "max"]),
    keepdim=st.booleans(),
    data=st.data(),
)
def test_reductions(shape: tuple[int, ...], dtype: str, op: str, keepdim: bool, data: st.DataObject) -> None:
    if op in ("amax", "max") and dtype == "bool":
        dtype = "int64"
    if not shape or data.draw(st.integers(0, 3)) == 0:
        call = f"a.{op}()"
    else:
        dim = data.draw(st.integers(-len(shape), len(shape) - 1))
        call = f"a.{op}(dim={dim}, keepdim={keepdim})"
    check(call, a=text(shape, dtype))


@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple),
    op=st.sampled_from(["unsqueeze", "squeeze", "transpose", "permute", "flatten", "expand", "repeat", "t"]),
    data=st.data(),
)
def test_shape_changes(shape: tuple[int, ...], op: str, data: st.DataObject) -> None:
    n = len(shape)
    dim = data.draw(st.integers(-n - 2, n + 1))  # at times out of range
    if op == "unsqueeze":
        call = f"a.unsqueeze({dim})"
    elif op == "squeeze":
        call = f"a.squeeze({dim})" if data.draw(st.booleans()) else "a.squeeze()"
    elif op == "transpose":
        call = f"a.transpose({dim}, {data.draw(st.integers(-n, max(n - 1, 0)))})"
    elif op == "permute":
        order = data.draw(st.permutations(list(range(n))))
        if order and data.draw(st.integers(0, 4)) == 0:
            order = [*order[:-1], order[0]]  # a dim twice
        call = f"a.permute({', '.join(map(str, order))})" if order else "a.permute(())"
    elif op == "flatten":
        call = f"a.flatten({data.draw(st.integers(-n, max(n - 1, 0)))}, {dim})"
    elif op == "t":
        call = "a.t()"
    else:
        sizes = [data.draw(st.sampled_from([k, 1, 2, -1])) for k in shape]
        sizes = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))] + sizes
        if op == "repeat":
            sizes = [abs(k) or 1 for k in sizes]
        call = f"a.{op}({', '.join(map(str, sizes))})" if sizes else f"a.{op}(())"
    check(call, a=text(shape))


@given(
    letters=st.lists(st.sampled_from("ijkl"), min_size=1, max_size=3, unique=True),
    others=st.lists(st.sampled_from("ijkl"), min_size=1, max_size=3, unique=True),
    keep=st.sets(st.sampled_from("ijkl")),
    arrow=st.booleans(),
    sizes=st.fixed_dictionaries({c: st.integers(1, 4) for c in "ijkl"}),
    clash=st.booleans(),
)
def test_einsum(
    letters: list[str], others: list[str], keep: set[str], arrow: bool, sizes: dict[str, int], clash: bool
) -> None:
    used = set(letters) | set(others)
    out = "".join(c for c in "ijkl" if c in keep and c in used)
    equation = f"{''.join(letters)},{''.join(others)}" + (f"->{out}" if arrow else "")
    b_sizes = [sizes[c] + (1 if clash and c == others[0] and sizes[c] > 1 else 0) for c in others]
    check(
        f"torch.einsum('{equation}', a, b)", a=text(tuple(sizes[c] for c in letters)), b=text(tuple(b_sizes))
    )


@pytest.mark.parametrize(
    ("expression", "tensors"),
    [
        ("torch.einsum('ij,jk->ik', a, b)", {"a": "3,4", "b": "4,5"}),
        ("torch.einsum('bij,bjk', a, b)", {"a": "2,3,4", "b": "2,4,5"}),
        ("torch.einsum('ii->i', a)", {"a": "3,3"}),
        ("torch.einsum('ij,jk->ik', a, b)", {"a": "3,4", "b": "5,5"}),
        ("F.conv2d(x, w, stride=2, padding=1)", {"x": "1,3,32,32", "w": "8,3,3,3"}),
        ("F.conv2d(x, w)", {"x": "1,4,32,32", "w": "8,3,3,3"}),
        ("F.log_softmax(x, dim=1)", {"x": "4,10"}),
        ("x.unsqueeze(1).expand(-1, 3, -1).repeat(2, 1, 1)", {"x": "4,5"}),
        ("x.flatten(1).unflatten(1, (2, -1))", {"x": "2,3,4"}),
        ("x.squeeze(1).squeeze()", {"x": "3,1,1,2"}),
        ("torch.zeros(2, 3).long() / 2", {}),
        ("torch.arange(10) // 3", {}),
        ("a.type(torch.long).float().half()", {"a": "3"}),
        ("torch.where(m, a, 0.5)", {"m": "3,1:bool", "a": "4"}),
        ("a.masked_fill(m, 0)", {"m": "3,1:bool", "a": "3,4"}),
    ],
)
def test_more_rules(expression: str, tensors: dict[str, str]) -> None:
    check(expression, device="cpu", **tensors)
