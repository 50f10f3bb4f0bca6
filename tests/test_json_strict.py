"""``--format json`` is strict JSON whatever ``--arg`` literals the user gives: no NaN or
Infinity, no TypeError for bytes, complex numbers, sets, Ellipsis or tuple keys."""

from __future__ import annotations

import ast
import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_model import MODELS

TARGET = f"{MODELS}/hostile.py:TakesAnything"


def run(*args: str) -> tuple[int, str, str]:
    """``torchshape model TARGET --input 2,4 --device meta --format json ARGS`` in this process."""
    import contextlib
    import io

    from torchshape.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["model", TARGET, "--input", "2,4", "--device", "meta", "--format", "json", *args])
    return code, out.getvalue(), err.getvalue()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def strict(text: str) -> Any:
    """``json.loads`` that refuses NaN, Infinity and -Infinity, as every strict parser does."""
    return json.loads(text, parse_constant=_refuse_constant)


hashable = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.complex_numbers(allow_nan=False, max_magnitude=1e300),
)
literals = st.recursive(
    hashable | st.just(...),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.frozensets(hashable, max_size=3).map(set),
        st.dictionaries(hashable, children, max_size=3),
        st.dictionaries(st.tuples(hashable, hashable), children, max_size=2),
    ),
    max_leaves=8,
)


def _same(written: Any, value: Any) -> bool:
    """What the JSON says is the literal: itself where JSON has it, else Python's own text."""
    if value is None or isinstance(value, (bool, int, str)):
        return bool(written == value)
    if isinstance(value, float):
        return bool(written == value) if math.isfinite(value) else written == repr(value)
    if isinstance(value, (list, tuple)):
        return isinstance(written, list) and all(_same(w, v) for w, v in zip(written, value, strict=True))
    if isinstance(value, dict):
        return isinstance(written, dict) and len(written) == len(value)
    return bool(written == repr(value))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(literals)
def test_any_arg_literal_gives_strict_json(value: Any) -> None:
    text = repr(value)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        readable = False
    else:
        readable = True
    status, out, err = run("--arg", f"k={text}")
    if not readable:  # Python cannot read its own text back (a complex with a nan part): refused
        assert (status, out) == (2, "") and err.count("\n") == 1, err
    else:
        assert (status, err) == (0, ""), err
        report = strict(out)
        assert _same(report["config"]["args"]["k"], ast.literal_eval(text)), (report["config"]["args"], text)


def test_non_finite_numbers_are_strings() -> None:
    for text, written in (("1e309", "inf"), ("-1e309", "-inf"), ("(1e309, 2)", ["inf", 2])):
        status, out, _ = run("--arg", f"k={text}")
        assert status == 0
        assert strict(out)["config"]["args"]["k"] == written


def test_literals_json_has_no_word_for_are_their_python_text() -> None:
    cases = {"b'x'": "b'x'", "1j": "1j", "{1, 2}": "{1, 2}", "...": "Ellipsis", "{(1, 2): 3}": {"(1, 2)": 3}}
    for text, written in cases.items():
        status, out, err = run("--arg", f"k={text}")
        assert (status, err) == (0, ""), (text, err)
        assert strict(out)["config"]["args"]["k"] == written, text
