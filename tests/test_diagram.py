"""--diagram: the drawing's data checked against torch, and the SVG rendered by a real renderer.

For rnn, each h_n row the JSON places at a cell is compared with that layer and direction's
output at the cell's step, computed here by running every layer on its own (one-layer modules
with the same weights), since a lower layer's h is not a slice of ``output``. For conv and
pool, the windows drawn must be as many as torch's output on the axis, and the unreached
cells the formula's remainder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import run_cli
from torchshape.api import inspect, inspect_conv, inspect_pool
from torchshape.cli import app
from torchshape.options import SEED
from torchshape.render import render, to_dict

DOCS = Path(__file__).resolve().parent.parent / "docs"


@st.composite
def rnn_settings(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["lstm", "gru", "rnn"]))
    hidden = draw(st.integers(2, 6))
    out: dict[str, Any] = {
        "kind": kind,
        "input_size": draw(st.integers(1, 5)),
        "hidden_size": hidden,
        "num_layers": draw(st.integers(1, 3)),
        "bidirectional": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "seq_len": draw(st.integers(1, 12)),
    }
    if kind == "lstm" and draw(st.booleans()):
        out["proj_size"] = draw(st.integers(1, hidden - 1))
    shape = draw(st.sampled_from(["batched", "unbatched", "lengths"]))
    if shape == "unbatched":
        out["unbatched"] = True
    elif shape == "lengths":
        lengths = draw(st.lists(st.integers(1, out["seq_len"]), min_size=1, max_size=4))
        out["lengths"] = ",".join(map(str, lengths))
        out["seq_len"] = max(lengths)
    else:
        out["batch"] = draw(st.integers(1, 3))
    return out


def _layers(report: Any) -> tuple[dict[str, torch.Tensor], list[torch.Tensor]]:
    """The module the report ran (same seed, same weights), its results, and every layer's output."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from torchshape.families.rnn.torch_side import build_module, make_inputs

    spec = report.spec
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(SEED)
        module = build_module(spec, torch.device("cpu"), torch.float32)
        inputs = make_inputs(spec, torch.device("cpu"), torch.float32)

        def call(m: torch.nn.Module, x: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
            if spec.lengths is None:
                out, final = m(x, state)
                return out, final
            packed = pack_padded_sequence(
                x, list(spec.lengths), batch_first=spec.batch_first, enforce_sorted=False
            )
            out, final = m(packed, state)
            out, _ = pad_packed_sequence(out, batch_first=spec.batch_first, total_length=spec.seq_len)
            return out, final

        h_0, c_0 = inputs["h_0"], inputs.get("c_0")
        output, final = call(module, inputs["input"], (h_0, c_0) if c_0 is not None else h_0)
        h_n = final[0] if isinstance(final, tuple) else final
        D = 2 if spec.bidirectional else 1
        outs = []
        x = inputs["input"]
        for k in range(spec.num_layers):
            one = getattr(torch.nn, spec.kind.module_name)(
                x.shape[-1],
                spec.hidden_size,
                1,
                batch_first=spec.batch_first,
                bidirectional=spec.bidirectional,
                **({"proj_size": spec.proj_size} if spec.proj_size else {}),
            ).eval()
            one.load_state_dict(
                {n: getattr(module, n.replace("_l0", f"_l{k}")) for n, _ in one.named_parameters()}
            )
            rows = slice(D * k, D * k + D)
            x, _ = call(one, x, (h_0[rows], c_0[rows]) if c_0 is not None else h_0[rows])
            outs.append(x)
    return {"output": output, "h_n": h_n}, outs


@settings(max_examples=25, deadline=None)
@given(rnn_settings())
def test_each_h_n_drawn_is_the_output_slice_of_its_cell(config: dict[str, Any]) -> None:
    report = inspect(diagram=True, **config)
    drawn = to_dict(report)["diagram"]
    spec = report.spec
    results, layers = _layers(report)
    time_dim = 1 if spec.batch_first and not spec.unbatched else 0
    H = spec.proj_size or spec.hidden_size
    seen = set()
    for cell in drawn["cells"]:
        d = drawn["directions"].index(cell["direction"])
        at = layers[cell["layer"]].select(time_dim, cell["step"])[..., d * H : (d + 1) * H]
        for role in cell["roles"]:
            assert role["holds"] is True, (cell, config)
            if role["role"] == "output":
                assert cell["layer"] == spec.num_layers - 1
                top = results["output"].select(time_dim, cell["step"])[..., slice(*role["features"])]
                assert torch.allclose(top, at, atol=1e-5)
            elif role["role"] == "h_n":
                row = results["h_n"][role["index"]]
                sequences = role.get("sequences") or range(row.shape[0] if row.dim() == 2 else 1)
                if row.dim() == 1:
                    assert torch.allclose(row, at, atol=1e-5)
                else:
                    for n in sequences:
                        assert torch.allclose(row[n], at[n], atol=1e-5), (cell, role, config)
                        seen.add((role["index"], n))
                if row.dim() == 1:
                    seen.add((role["index"], 0))
    D = 2 if spec.bidirectional else 1
    batch = 1 if spec.unbatched else results["h_n"].shape[1]
    assert seen == {(k, n) for k in range(D * spec.num_layers) for n in range(batch)}  # every row drawn


def _axis_of(report: Any, axis: str) -> int:
    spec = report.spec
    names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[spec.dims]
    output = next(row for row in report.rows if row.name == "output").actual
    return int(output[(1 if spec.unbatched else 2) + names.index(axis)])


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(3, 60),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    padding=st.integers(0, 2),
)
def test_conv_windows_are_torchs_output_and_the_rest_is_the_remainder(
    size: int, kernel: int, stride: int, dilation: int, padding: int
) -> None:
    span = dilation * (kernel - 1) + 1
    padding = min(padding, kernel // 2)
    assume(size + 2 * padding >= span)
    report = inspect_conv(
        dims=1, size=size, kernel_size=kernel, stride=stride, dilation=dilation, padding=padding, diagram=True
    )
    drawn = to_dict(report)["diagram"]
    out = _axis_of(report, drawn["axis"])
    assert drawn["holds"] is True and len(drawn["windows"]) == out == drawn["out"]
    remainder = size + 2 * padding - ((out - 1) * stride + span)
    unreached = drawn["unreached"]
    assert (unreached[1] - unreached[0] if unreached else 0) == remainder
    assert all(
        w["end"] - w["start"] == span and w["start"] == i * stride - padding
        for i, w in enumerate(drawn["windows"])
    )


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(2, 40),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 4),
    padding=st.integers(0, 2),
    ceil_mode=st.booleans(),
)
def test_pool_windows_are_torchs_output(
    size: int, kernel: int, stride: int, padding: int, ceil_mode: bool
) -> None:
    padding = min(padding, kernel // 2)
    assume(size + 2 * padding >= kernel)
    report = inspect_pool(
        kind="max",
        dims=1,
        size=size,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        diagram=True,
    )
    drawn = to_dict(report)["diagram"]
    out = _axis_of(report, drawn["axis"])
    counted = [w for w in drawn["windows"] if w.get("extra") != "dropped"]
    assert drawn["holds"] is True and len(counted) == out == drawn["out"]
    remainder = size + 2 * padding - ((out - 1) * stride + kernel)
    unreached = drawn["unreached"]
    assert (unreached[1] - unreached[0] if unreached else 0) == max(0, remainder)


def test_transposed_draws_the_output_padding_cells() -> None:
    report = inspect_conv(
        transposed=True, kernel_size=3, stride=2, padding=1, output_padding=1, size=(10, 10), diagram=True
    )
    drawn = to_dict(report)["diagram"]
    assert drawn["transposed"] and drawn["size"] == _axis_of(report, drawn["axis"]) == 20
    assert drawn["output_padding"] == [19, 20] and drawn["windows_total"] == 10


def test_csv_and_python_refuse_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("csv", "python"):
        code, out, err = run_cli(capsys, "pool", "--diagram", "--format", fmt)
        assert code == 2 and not out
        assert f"--diagram: not with --format {fmt}" in err


def test_a_cell_has_nothing_to_unroll(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "rnn", "--kind", "lstm-cell", "--diagram")
    assert code == 2 and "--diagram: --kind lstm-cell takes one step" in err


def test_large_l_draws_first_and_last_steps() -> None:
    report = inspect(seq_len=1000, diagram=True)
    drawn = to_dict(report)["diagram"]
    assert drawn["shown_steps"] == [0, 1, 2, 997, 998, 999]
    assert "┄" in render(report, "table")


EXAMPLES = {
    "rnn": ["rnn", "--kind", "lstm", "--layers", "2", "--bidir"],
    "rnn-lengths": ["rnn", "--kind", "gru", "--seq-len", "12", "--lengths", "12,7,3", "--batch-first"],
    "conv": ["conv", "--padding", "0", "--size", "32,25"],
    "conv-transposed": ["conv", "--transposed", "--stride", "2", "--output-padding", "1", "--size", "10"],
    "pool": ["pool", "--kind", "max", "--size", "8,7", "--kernel-size", "2", "--ceil-mode"],
    "attention": ["attention", "--causal", "--key-padding-mask", "--target-len", "9", "--source-len", "7"],
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_svg_renders_to_png(name: str, tmp_path: Path, regen_golden: bool) -> None:
    """rsvg-convert (Debian's librsvg2-bin; .ci/run installs it) renders each drawing;
    with --regen-golden the PNGs are written to docs/diagram-NAME.png."""
    renderer = shutil.which("rsvg-convert")
    if renderer is None:
        if os.environ.get("CI") == "true":
            pytest.fail("rsvg-convert is missing under CI=true: .ci/run installs librsvg2-bin")
        pytest.skip("rsvg-convert not installed (apt-get install librsvg2-bin); CI=true makes this a failure")
    result = CliRunner().invoke(app, [*EXAMPLES[name], "--diagram", "--format", "svg"])
    assert result.exit_code == 0, result.output
    assert "<rect" in result.output and "<text" in result.output
    svg = tmp_path / f"{name}.svg"
    svg.write_text(result.output, encoding="utf-8")
    png = DOCS / f"diagram-{name}.png" if regen_golden else tmp_path / f"{name}.png"
    done = subprocess.run([renderer, str(svg), "-o", str(png)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
