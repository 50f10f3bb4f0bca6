"""--time, the MAC count behind its FLOP/s, and the probe that answers meta requests in constant time."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from tests.conftest import run_cli, run_python, wrong_rnn_formula
from torchshape import inspect, make_spec
from torchshape.api import with_timing
from torchshape.families.rnn import formulas
from torchshape.families.rnn.probe_sizes import probe_spec
from torchshape.families.rnn.sizes import macs
from torchshape.timing import TimingSettings

# --- --time on the command line -------------------------------------------------------------


def test_time_reports_every_repeat_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["rnn", "--kind", "gru", "--bidir", "--time", "--repeats", "4", "--warmup", "1"]
    args += ["--format", "json"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    timing = json.loads(out)["timing"]
    assert list(timing)[:5] == ["median_ms", "min_ms", "max_ms", "repeats", "flops_per_s"]
    assert timing["repeats"] == 4 and len(timing["times_ms"]) == 4 and timing["warmup"] == 1
    assert all(t > 0 for t in timing["times_ms"])
    assert timing["min_ms"] == min(timing["times_ms"]) and timing["max_ms"] == max(timing["times_ms"])
    assert timing["min_ms"] <= timing["median_ms"] <= timing["max_ms"]
    assert timing["clock"] == "time.perf_counter" and timing["device"] == "cpu"
    # GRU 50 → 30, bidirectional, L·N = 15 steps: 2 directions × 15 × (3·30·50 + 3·30·30)
    assert timing["macs"] == 2 * 15 * (3 * 30 * 50 + 3 * 30 * 30)
    assert timing["flops_per_s"] == pytest.approx(2 * timing["macs"] / (timing["median_ms"] / 1000))


def test_without_time_json_timing_is_null(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--format", "json")
    assert code == 0
    assert json.loads(out)["timing"] is None


def test_time_adds_a_footer_to_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--time", "--repeats", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[-3].startswith("time: median ") and "(2 repeats, 3 warm-up)" in lines[-3]
    assert lines[-2].strip() == "forward pass on cpu (float32), timed with time.perf_counter"
    assert lines[-1].strip().endswith("FLOP/s at the median: 2 × 144,000 matmul MACs")
    code, out, _ = run_cli(capsys, "rnn")
    assert "time:" not in out


def test_timing_settings_are_checked_in_the_api_too() -> None:
    from torchshape import UsageError

    with pytest.raises(UsageError, match="--repeats"):
        TimingSettings(repeats=0)
    with pytest.raises(UsageError, match="--time"):  # meta ran a probe: nothing to time
        with_timing(inspect(device="meta"))


def test_nothing_is_timed_when_torch_refused_the_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_h0 = wrong_rnn_formula(monkeypatch, "h_0", lambda dims: (*dims[:-1], "H_in"))
    monkeypatch.setattr("torchshape.families.rnn.torch_side.tensor_formulas", wrong_h0)
    report = with_timing(inspect(kind="gru"))
    assert report.probe.error is not None and report.timing is None


@pytest.mark.cuda
def test_time_on_cuda_uses_cuda_events(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["rnn", "--device", "cuda", "--time", "--repeats", "3", "--format", "json"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    timing = json.loads(out)["timing"]
    assert timing["clock"] == "torch.cuda.Event" and timing["device"].startswith("cuda")
    assert len(timing["times_ms"]) == 3 and all(t > 0 for t in timing["times_ms"])


# --- the MAC count, checked against torch's FLOP counter over an explicit decomposition -------


def _weight(module: torch.nn.Module, name: str) -> torch.Tensor:
    value: torch.Tensor = getattr(module, name)
    return value


def decomposed_forward(module: Any, x: torch.Tensor) -> torch.Tensor:
    """The module's forward pass as explicit matrix products, one time step at a time (h_0 = c_0 = 0)."""
    kind = type(module).__name__
    directions = 2 if module.bidirectional else 1
    h_out = module.proj_size or module.hidden_size
    layer_input = x  # (L, N, features)
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh = _weight(module, f"weight_ih_{suffix}"), _weight(module, f"weight_hh_{suffix}")
            b_ih = _weight(module, f"bias_ih_{suffix}") if module.bias else 0
            b_hh = _weight(module, f"bias_hh_{suffix}") if module.bias else 0
            n = x.shape[1]
            h = x.new_zeros(n, h_out)
            c = x.new_zeros(n, module.hidden_size)
            steps = range(x.shape[0])
            out = [h] * x.shape[0]
            for t in reversed(steps) if direction else steps:
                gi = layer_input[t] @ w_ih.T + b_ih
                gh = h @ w_hh.T + b_hh
                if kind == "RNN":
                    act = torch.tanh if module.nonlinearity == "tanh" else torch.relu
                    h = act(gi + gh)
                elif kind == "GRU":
                    ir, iz, i_n = gi.chunk(3, dim=1)
                    hr, hz, h_n = gh.chunk(3, dim=1)
                    r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
                    h = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
                else:
                    i, f, g, o = (gi + gh).chunk(4, dim=1)
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                    h = torch.sigmoid(o) * torch.tanh(c)
                    if module.proj_size:
                        h = h @ _weight(module, f"weight_hr_{suffix}").T
                out[t] = h
            outputs.append(torch.stack(out))
        layer_input = torch.cat(outputs, dim=2)
    return layer_input


@settings(max_examples=25)
@given(
    kind=st.sampled_from(["gru", "lstm", "rnn"]),
    input_size=st.integers(1, 6),
    hidden_size=st.integers(2, 6),
    num_layers=st.integers(1, 3),
    seq_len=st.integers(1, 4),
    batch=st.integers(1, 3),
    bidirectional=st.booleans(),
    bias=st.booleans(),
    unbatched=st.booleans(),
    proj=st.booleans(),
    relu=st.booleans(),
)
def test_mac_count_matches_torch_flop_counter(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    seq_len: int,
    batch: int,
    bidirectional: bool,
    bias: bool,
    unbatched: bool,
    proj: bool,
    relu: bool,
) -> None:
    proj_size = hidden_size - 1 if proj and kind == "lstm" else 0
    nonlinearity = "relu" if relu and kind == "rnn" else None
    spec = make_spec(
        kind=kind,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        seq_len=seq_len,
        batch=None if unbatched else batch,
        bidirectional=bidirectional,
        bias=bias,
        unbatched=unbatched,
        proj_size=proj_size,
        nonlinearity=nonlinearity,
    )
    kwargs: dict[str, Any] = {"num_layers": num_layers, "bidirectional": bidirectional, "bias": bias}
    if proj_size:
        kwargs["proj_size"] = proj_size
    if nonlinearity:
        kwargs["nonlinearity"] = nonlinearity
    module_class = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}[kind]
    module = module_class(input_size, hidden_size, dtype=torch.float64, **kwargs).eval()
    n = 1 if unbatched else batch
    x = torch.randn(seq_len, n, input_size, dtype=torch.float64)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, _ = module(x[:, 0] if unbatched else x)
        with FlopCounterMode(display=False) as counter:
            got = decomposed_forward(module, x)
    # the decomposition is the module's own computation, so its matrix products are the ones counted
    torch.testing.assert_close(got[:, 0] if unbatched else got, expected)
    assert counter.get_total_flops() == 2 * macs(spec).total


# --- the probe behind --device meta -----------------------------------------------------------

# small sizes often, so that kept sizes meet the stand-ins' products
_sizes = st.one_of(st.integers(1, 16), st.integers(1, 100), st.integers(65, 10**6))


@given(
    seq_len=_sizes,
    batch=_sizes,
    input_size=_sizes,
    hidden_size=st.integers(2, 10**6),
    num_layers=st.one_of(st.integers(1, 9), st.integers(1, 1024)),
    bidirectional=st.booleans(),
    proj=st.data(),
)
def test_probe_keeps_distinct_dimensions_distinct(
    seq_len: int,
    batch: int,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    bidirectional: bool,
    proj: st.DataObject,
) -> None:
    """If two dimensions differ at the user's sizes, they differ in the probe run too.

    Otherwise a formula that used one in place of the other would pass the probe
    and be wrong at the user's sizes.
    """
    proj_size = proj.draw(st.one_of(st.just(0), st.integers(1, hidden_size - 1)))
    spec = make_spec(
        kind="lstm",
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        seq_len=seq_len,
        batch=batch,
        bidirectional=bidirectional,
        proj_size=proj_size,
    )
    probe = probe_spec(spec)

    def dims(s: Any) -> dict[str, int]:
        sym = formulas.symbols(s)
        return {name: sym[name] for name in ("L", "N", "H_in", "H_cell", "H_out", "D·H_out", "D·num_layers")}

    user, small = dims(spec), dims(probe)
    for a in user:
        for b in user:
            if user[a] != user[b]:
                assert small[a] != small[b], (a, b, small)
    assert max(small.values()) <= 2 * 128 and probe.num_layers <= 16


@pytest.mark.parametrize(
    ("raw", "name", "index", "dim"),
    [
        # L = 4 is kept; eight layers run as fewer: D·num_layers must not land on D·L
        (
            {"num_layers": 8, "seq_len": 4, "bidirectional": True},
            "h_n",
            0,
            "D·L",
        ),
        # L = 14 is kept; hidden 4096 runs as a stand-in: D·H_out must not land on L
        (
            {"hidden_size": 4096, "seq_len": 14, "bidirectional": True},
            "output",
            2,
            "L",
        ),
    ],
)
def test_meta_probe_catches_a_confused_dimension(
    monkeypatch: pytest.MonkeyPatch, raw: dict[str, Any], name: str, index: int, dim: str
) -> None:
    wrong_rnn_formula(monkeypatch, name, lambda dims: (*dims[:index], dim, *dims[index + 1 :]))
    report = inspect(kind="lstm", device="meta", **raw)
    assert not report.ok
    assert {row.name for row in report.rows if not row.verified} == {name}


# --- start-up ---------------------------------------------------------------------------------


def test_the_command_imports_no_pydantic_and_pauses_gc() -> None:

    import typer.core

    if not hasattr(typer.core, "build_runtime_param"):
        pytest.skip("this typer coerces options differently")
    code = (
        "import gc, io, sys, contextlib\n"
        "from torchshape import cli\n"
        "sys.argv = ['torchshape', 'rnn', '--kind', 'gru', '--bidir', '--batch', '4']\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        cli.run()\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "assert '(5, 4, 60)' in out.getvalue()  # output: --bidir and --batch arrived\n"
        "print('pydantic' in sys.modules, gc.isenabled())\n"
    )
    result = run_python("-c", code, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_small_forward_passes_run_on_one_thread() -> None:
    from torchshape.threads import few_threads

    before = torch.get_num_threads()
    small = make_spec(kind="lstm", num_layers=2, bidirectional=True)
    with few_threads(small):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    large = make_spec(kind="lstm", input_size=4096, hidden_size=4096, seq_len=100, batch=64)
    with few_threads(large):
        assert torch.get_num_threads() == before


def test_help_loads_only_what_it_shows() -> None:

    code = (
        "import io, sys, contextlib\n"
        "from torchshape.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']); main(['rnn', '--help'])\n"
        "heavy = {'torch', 'torchshape.report', 'torchshape.families.rnn.probe', 'torchshape.timing'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
