"""The rules of reductions (sum, mean, argmax, max with a dim, ...) and of one-input functions that
keep the shape. No torch.
"""

from __future__ import annotations

from typing import Any

from torchshape.families.expr.allowed import words
from torchshape.families.expr.formulas import DEFAULT_FLOAT, Outcome, T, category, shape_text
from torchshape.families.expr.reshape import wrap_dim

# -- reductions ----------------------------------------------------------------------------

INT_TO_LONG = frozenset({"sum", "prod", "cumsum", "cumprod", "count_nonzero"})
FLOAT_ONLY = frozenset({"mean", "std", "var", "norm"})
INDEX_OF = frozenset({"argmax", "argmin"})
TO_BOOL = frozenset({"any", "all"})


def _reduced_dtype(x: T, op: str) -> tuple[str, str]:
    """The dtype a reduction gives, and the sentence that says why."""
    if op in INT_TO_LONG and category(x.dtype) < 2:
        return "int64", f"{op} of {x.dtype} accumulates in int64"
    if op == "logsumexp" and category(x.dtype) < 2:
        return DEFAULT_FLOAT, f"logsumexp of {x.dtype} computes in the default float, {DEFAULT_FLOAT}"
    if op in INDEX_OF or op == "count_nonzero":
        return "int64", "indices are int64"
    if op in TO_BOOL:
        dtype = "uint8" if x.dtype == "uint8" else "bool"
        return dtype, f"{op} gives {dtype}" + (" (uint8 stays uint8)" if dtype == "uint8" else "")
    return x.dtype, f"keeps {x.dtype}"


def reduce(x: T, op: str, d: Any, keepdim: bool, label: str) -> Outcome:
    """``sum``, ``mean``, ``amax``, ``argmax``, ``any`` ... with ``dim`` and ``keepdim``."""
    kind = "reduction"
    if op in FLOAT_ONLY and category(x.dtype) < 2:
        said = f"{op} needs a floating point or complex input; {label} is {x.dtype} (cast first: .float())"
        return Outcome(kind, said, error=True)
    if op in INDEX_OF and x.dtype == "bool":
        return Outcome(
            kind, f"{op} does not take bool input; {label} is bool (cast first: .int())", error=True
        )
    dtype, why = _reduced_dtype(x, op)
    if d is None:
        if keepdim and op not in INDEX_OF:
            shape = tuple(1 for _ in x.shape)
            return Outcome(
                kind, f"{op} over every dim, keepdim=True → {shape_text(shape)}; {why}", shape, dtype
            )
        shape = tuple(1 for _ in x.shape) if keepdim else ()
        return Outcome(kind, f"{op} over every dim → {shape_text(shape)} (a 0-d tensor); {why}", shape, dtype)
    try:
        dims = sorted({wrap_dim(k, x.ndim) for k in (d if isinstance(d, (tuple, list)) else [d])})
    except IndexError as exc:
        return Outcome(kind, str(exc), error=True)
    if x.ndim == 0:
        return Outcome(kind, f"{op} of a 0-d tensor → (); {why}", (), dtype)
    if keepdim:
        shape = tuple(1 if k in dims else n for k, n in enumerate(x.shape))
        how = f"dim {', '.join(map(str, dims))} becomes 1 (keepdim=True)"
    else:
        shape = tuple(n for k, n in enumerate(x.shape) if k not in dims)
        how = f"dim {', '.join(map(str, dims))} ({', '.join(str(x.shape[k]) for k in dims)}) is removed"
    return Outcome(
        kind, f"{op} over dim {', '.join(map(str, dims))}: {how} → {shape_text(shape)}; {why}", shape, dtype
    )


def max_with_dim(x: T, op: str, d: Any, keepdim: bool) -> Outcome:
    """``x.max(dim)``: a (values, indices) pair, both of the reduced shape."""
    inner = reduce(x, "amax", d, keepdim, "")
    if inner.error or inner.shape is None:
        return inner
    reduced = inner.text.split(": ", 1)[1].split(";")[0]  # amax's "dim 1 (4) is removed → (3,)"
    why = f"{op}(dim) returns (values, indices): {reduced}; values {x.dtype}, indices int64"
    return Outcome("reduction", why, shapes=(inner.shape, inner.shape), dtype=x.dtype)


# -- one-input functions --------------------------------------------------------------------

# these compute in floating point: an integer input gives the default float dtype
FLOAT_MATH = words(
    """
    exp expm1 log log10 log1p log2 sin cos tan sinh cosh tanh sigmoid sqrt rsqrt reciprocal softmax
    log_softmax gelu silu elu selu softplus logsigmoid
    """
)
KEEP_DTYPE = words(
    """
    abs neg relu relu6 leaky_relu hardtanh clone detach contiguous sign square floor ceil round trunc
    flip fliplr flipud roll tril triu clamp clip
    """
)


def same_shape(x: T, op: str, d: Any = None) -> Outcome:
    kind = "elementwise"
    if d is not None:
        try:
            wrap_dim(d, x.ndim)
        except IndexError as exc:
            return Outcome(kind, str(exc), error=True)
    if op in FLOAT_MATH and category(x.dtype) < 2:
        if op in ("softmax", "log_softmax", "gelu", "silu", "elu", "selu", "softplus", "logsigmoid"):
            return Outcome(
                kind, f"{op} needs a floating point input; got {x.dtype} (cast first: .float())", error=True
            )
        return Outcome(
            kind,
            f"{op} keeps the shape {shape_text(x.shape)}; an integer input computes in the default float, "
            f"{DEFAULT_FLOAT}",
            x.shape,
            DEFAULT_FLOAT,
        )
    where = f" along dim {d}" if d is not None else ""
    return Outcome(
        kind, f"{op}{where} keeps the shape {shape_text(x.shape)} and dtype {x.dtype}", x.shape, x.dtype
    )
