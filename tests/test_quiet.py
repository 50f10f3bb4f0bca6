"""A run prints nothing on stderr but torchshape's own lines, and only torch's known notices are silenced."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import run_python
from tests.strategies import settings
from torchshape import quiet
from torchshape.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_a_fresh_machine_without_numpy_gets_a_clean_stderr() -> None:
    """A real process where numpy cannot be imported, as in a new virtual environment."""
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from torchshape.cli import main\n"
        "sys.exit(main(['rnn', '--dropout', '0.3', '--proj-size', '7', '--explain', '--unroll', '--bidir']))"
    )
    result = run_python("-c", code, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    assert "✓ real forward pass" in result.stdout


def _flags(raw: dict[str, Any]) -> list[str]:
    words = ["rnn", "--kind", raw["kind"], "--input-size", str(raw["input_size"])]
    words += ["--hidden-size", str(raw["hidden_size"]), "--layers", str(raw["num_layers"])]
    words += ["--seq-len", str(raw["seq_len"]), "--dropout", str(raw["dropout"]), "--dtype", raw["dtype"]]
    words += [
        flag for flag, key in (("--bidir", "bidirectional"), ("--batch-first", "batch_first")) if raw[key]
    ]
    words += ["--unbatched"] if raw["unbatched"] else ["--batch", str(raw["batch"])]
    words += [] if raw["bias"] else ["--no-bias"]
    words += ["--proj-size", str(raw["proj_size"])] if raw.get("proj_size") else []
    return words


@hypothesis_settings(max_examples=25)
@given(settings(max_layers=3), st.sampled_from([[], ["--explain"], ["--unroll"], ["--params", "--time"]]))
def test_no_warning_escapes_any_run(raw: dict[str, Any], extra: list[str]) -> None:
    """Every warning raised during a run is recorded here: none may reach the user."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # torchshape's narrow filters go in front of this one
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [*_flags(raw), *extra, "--repeats", "1", "--warmup", "0"]
                if "--time" in extra
                else [*_flags(raw), *extra]
            )
    assert (code, err.getvalue()) == (0, "")
    assert [str(w.message) for w in caught] == []


def test_the_filters_are_narrow() -> None:
    """Another warning from torch, or torch's words from another module, still shows."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet.install()
        for message, category, module in (
            (
                "Failed to initialize NumPy: No module named 'numpy'",
                UserWarning,
                "torch._subclasses.functional_tensor",
            ),
            (
                "dropout option adds dropout after all but last recurrent layer, so ...",
                UserWarning,
                "torch.nn.modules.rnn",
            ),
            ("a real problem", UserWarning, "torch.nn.modules.rnn"),
            ("Failed to initialize NumPy", UserWarning, "mypackage"),
            ("Failed to initialize NumPy", DeprecationWarning, "torch"),
        ):
            warnings.warn_explicit(message, category, "file.py", 1, module=module)
    assert [str(w.message) for w in caught] == [
        "a real problem",
        "Failed to initialize NumPy",
        "Failed to initialize NumPy",
    ]


def test_the_python_api_leaves_the_callers_filters_alone() -> None:
    from torchshape import inspect

    before = list(warnings.filters)
    inspect(dropout=0.3)
    assert warnings.filters == before


@pytest.mark.parametrize("message", [m for m, _, _ in quiet.TORCH_NOTICES])
def test_each_notice_is_documented(message: str) -> None:
    doc = quiet.__doc__ or ""
    words = {
        "NumPy": "numpy",
        "dropout": "dropout",
        "projections": "proj_size",
        "contiguous": "contiguous",
        "padding='same'": "padding='same'",
        "cuBLAS": "cuBLAS",
    }
    assert any(key in message and word in doc for key, word in words.items())


@hypothesis_settings(max_examples=25)
@given(
    st.sampled_from(["conv", "pool"]),
    st.integers(1, 3),
    st.integers(1, 5),
    st.integers(1, 3),
    st.sampled_from([[], ["--explain"], ["--params"], ["--device", "meta"]]),
    st.sampled_from([[], ["--padding", "same"], ["--transposed"], ["--kind", "avg"], ["--ceil-mode"]]),
)
def test_no_warning_escapes_conv_or_pool(
    command: str, dims: int, kernel: int, dilation: int, extra: list[str], variant: list[str]
) -> None:
    """Every warning of a conv or pool run is recorded: none may reach the user."""
    args = [command, "--dims", str(dims), "--kernel-size", str(kernel), "--size", "9", *extra]
    if command == "conv":
        args += ["--dilation", str(dilation), "--stride", "1", "--padding", "0"]
        args += [v for v in variant if v in ("--transposed",)] or (variant if "same" in variant else [])
    else:
        args += ["--stride", "1"] + [v for v in variant if v in ("--kind", "avg", "--ceil-mode")]
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    assert code in (0, 2), err.getvalue()
    assert [str(w.message) for w in caught] == []
