"""Parameters, MACs and bytes agree with torch.

Ground truth is built here with plain torch calls: the module's own
``named_parameters()``, the tensors a forward pass returns, and
``torch.utils.flop_counter.FlopCounterMode`` run over an explicit decomposition of
each cell into matrix products (FlopCounterMode sees nothing inside the float32 and
bfloat16 nn.LSTM that the CPU runs on oneDNN; tests/test_flop_counter.py measures what
it counts on the modules themselves). The decomposition is itself checked against the
module's outputs.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from tests.conftest import run_python
from tests.strategies import cell_settings, settings
from tests.truth import torch_module
from torchshape import inspect, make_spec
from torchshape.cli import main
from torchshape.families.rnn.counts import totals
from torchshape.families.rnn.formulas import symbols
from torchshape.families.rnn.probe import META_PARAMETER_LAYERS
from torchshape.families.rnn.sizes import init_bound, parameter_formulas


def run_module(module: Any, raw: dict[str, Any], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Feed the module input, h_0 (and c_0) and name everything it took and returned."""
    L, H_in, H = raw["seq_len"], raw["input_size"], raw["hidden_size"]
    H_out = raw.get("proj_size") or H
    rows = (2 if raw["bidirectional"] else 1) * raw["num_layers"]
    if raw["unbatched"]:
        x = torch.randn(L, H_in, dtype=dtype)
        h0, c0 = torch.randn(rows, H_out, dtype=dtype), torch.randn(rows, H, dtype=dtype)
    else:
        N = raw["batch"]
        x = torch.randn(*((N, L) if raw["batch_first"] else (L, N)), H_in, dtype=dtype)
        h0, c0 = torch.randn(rows, N, H_out, dtype=dtype), torch.randn(rows, N, H, dtype=dtype)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if raw["kind"] == "lstm":
            output, (h_n, c_n) = module(x, (h0, c0))
            return {"input": x, "h_0": h0, "c_0": c0, "output": output, "h_n": h_n, "c_n": c_n}
        output, h_n = module(x, h0)
        return {"input": x, "h_0": h0, "output": output, "h_n": h_n}


# --- parameters ---------------------------------------------------------------


@given(settings())
def test_parameter_formulas_equal_named_parameters(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    torch.manual_seed(0)
    module = torch_module(raw)
    truth = [(name, tuple(p.shape)) for name, p in module.named_parameters()]
    sym = symbols(spec)
    assert [(p.name, p.shape(sym)) for p in parameter_formulas(spec)] == truth
    t = totals(spec)
    assert t.params == sum(p.numel() for p in module.parameters())
    assert t.param_bytes == sum(p.numel() * p.element_size() for p in module.parameters())
    # every parameter is drawn from U(−1/√H_cell, 1/√H_cell); bfloat16 rounds up to 2^-8 relative
    b = init_bound(spec)
    values = torch.cat([p.detach().float().flatten() for p in module.parameters()])
    assert values.abs().max().item() <= b * (1 + 2**-7)
    if values.numel() >= 64:
        assert values.abs().max().item() >= b / 2


@given(settings())
def test_bytes_equal_the_tensors_torch_returns(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    dtype = getattr(torch, raw["dtype"])
    tensors = run_module(torch_module(raw), raw, dtype)
    nbytes = {name: t.numel() * t.element_size() for name, t in tensors.items()}
    t = totals(spec)
    assert t.input_bytes == nbytes["input"]
    assert t.output_bytes == nbytes["output"]
    assert t.state_bytes == sum(n for name, n in nbytes.items() if name[0] in "hc")
    assert t.peak_bytes_estimate >= t.param_bytes + sum(nbytes.values())


@given(settings())
def test_report_marks_parameters_verified_by_torch(raw: dict[str, Any]) -> None:
    report = inspect(**raw)
    truth = {name: tuple(p.shape) for name, p in torch_module(raw).named_parameters()}
    assert report.ok
    assert [p.name for p in report.parameters] == list(truth)
    assert {p.name: p.shape for p in report.parameters} == truth
    assert all(p.verified and p.actual == p.shape for p in report.parameters)
    assert sum(p.numel for p in report.parameters) == report.totals.params  # type: ignore[union-attr]


@given(settings(max_size=300, max_layers=9), st.integers(1, 40))
def test_meta_parameters_are_read_at_full_size(raw: dict[str, Any], seq_len: int) -> None:
    report = inspect(**{**raw, "seq_len": seq_len}, device="meta")
    truth = {name: tuple(p.shape) for name, p in torch_module(raw).named_parameters()}
    assert report.ok and report.probe.reduced
    assert {p.name: p.shape for p in report.parameters} == truth
    assert all(p.verified for p in report.parameters)
    # torch built at most META_PARAMETER_LAYERS layers on meta; deeper rows say so
    deeper = {p.name for p in report.parameters if p.source == "formula"}
    assert deeper == {
        name for name in truth if int(name.split("_l")[1].split("_")[0]) >= META_PARAMETER_LAYERS
    }


def test_a_wrong_parameter_formula_is_caught(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check can fail: forget that layers above the first read D·H_out features."""
    from torchshape.families.rnn import sizes

    real = sizes.parameter_formulas

    def broken(spec: Any) -> list[sizes.ParameterFormula]:
        out = []
        for p in real(spec):
            if p.name.startswith("weight_ih") and p.layer > 0:
                p = sizes.ParameterFormula(p.name, p.layer, p.reverse, (p.dims[0], "H_out"))
            out.append(p)
        return out

    monkeypatch.setattr(sizes, "parameter_formulas", broken)
    code = main(["rnn", "--layers", "2", "--bidir", "--params"])
    out = " ".join(capsys.readouterr().out.split())  # the table wraps at 80 columns
    assert code == 1
    assert "✗ MISMATCH weight_ih_l1: formula (4·H_cell, H_out) gives (120, 30); torch has (120, 60)" in out
    assert "✗ torch disagrees, see --params" in out


# --- MACs -----------------------------------------------------------------------


def cell(
    kind: str,
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor | None,
    w: dict[str, torch.Tensor],
    relu: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One step of one cell, every matrix product written out (PyTorch docs' equations)."""
    gi = x @ w["weight_ih"].T
    gh = h @ w["weight_hh"].T
    if "bias_ih" in w:
        gi, gh = gi + w["bias_ih"], gh + w["bias_hh"]
    if kind == "lstm":
        assert c is not None
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        if "weight_hr" in w:
            h = h @ w["weight_hr"].T
        return h, c
    if kind == "gru":
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, None
    return (torch.relu(gi + gh) if relu else torch.tanh(gi + gh)), None


def decomposed_forward(
    module: Any, raw: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The whole module as explicit per-step matrix products, layer by layer, direction by direction."""
    kind, D = raw["kind"], 2 if raw["bidirectional"] else 1
    x, h0, c0 = tensors["input"], tensors["h_0"], tensors.get("c_0")
    if raw["unbatched"]:  # one sequence: a batch of one, so every product is a matrix product
        x, h0 = x.unsqueeze(1), h0.unsqueeze(1)
        c0 = None if c0 is None else c0.unsqueeze(1)
    elif raw["batch_first"]:
        x = x.transpose(0, 1)
    L = x.shape[0]
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    layer_input, h_n, c_n = x, [], []
    for k in range(raw["num_layers"]):
        directions = []
        for d in range(D):
            suffix = f"_l{k}" + ("_reverse" if d else "")
            w = {n: getattr(module, n + suffix) for n in names if hasattr(module, n + suffix)}
            h, c = h0[k * D + d], None if c0 is None else c0[k * D + d]
            steps: list[torch.Tensor] = [h] * L
            for t in range(L) if d == 0 else reversed(range(L)):
                h, c = cell(kind, layer_input[t], h, c, w, raw.get("nonlinearity") == "relu")
                steps[t] = h
            directions.append(torch.stack(steps))
            h_n.append(h)
            if c is not None:
                c_n.append(c)
        layer_input = torch.cat(directions, dim=2)
    out = {"output": layer_input, "h_n": torch.stack(h_n)}
    if c_n:
        out["c_n"] = torch.stack(c_n)
    if raw["unbatched"]:
        out = {name: t.squeeze(1) for name, t in out.items()}
    elif raw["batch_first"]:
        out["output"] = out["output"].transpose(0, 1)
    return out


@given(settings(max_size=12, max_layers=3))
def test_macs_equal_flop_counter_over_the_decomposed_cells(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    torch.manual_seed(0)
    module = torch_module(raw, dtype=torch.float64)
    tensors = run_module(module, raw, torch.float64)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        mine = decomposed_forward(module, raw, tensors)
    # the decomposition is the module: same outputs to rounding
    for name, value in mine.items():
        torch.testing.assert_close(value, tensors[name], rtol=1e-9, atol=1e-9)
    assert set(counter.get_flop_counts()["Global"]) == {torch.ops.aten.mm}
    # FlopCounterMode counts 2 FLOPs (a multiply and an add) per multiply-accumulate
    assert counter.get_total_flops() == 2 * totals(spec).macs


def test_macs_known_value() -> None:
    """A hand count: LSTM 50→30, 2 layers, bidirectional, L = 5, N = 3."""
    spec = make_spec(kind="lstm", num_layers=2, bidirectional=True)
    # per step and direction: layer 0 4·30·50 + 4·30·30, layer 1 4·30·60 + 4·30·30
    assert totals(spec).macs == 5 * 3 * 2 * (6000 + 3600 + 7200 + 3600)


# --- the peak-memory estimate against the operating system's count ---------------

MEASURE = r"""
import ctypes, gc, json, sys, warnings
from torchshape import make_spec
from torchshape.families.rnn import probe
from torchshape.families.rnn.counts import totals

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

warnings.simplefilter("ignore")
out = []
for raw in json.loads(sys.argv[1]):
    spec = make_spec(**raw)
    probe.run(make_spec(**{**raw, "seq_len": 2}))  # one-time allocations of torch itself
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed memory back, so the baseline is honest
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # peak resident memory := current
    before = status("VmRSS:")
    ran = probe.run(spec)  # builds the module and its inputs, runs the forward pass
    out.append(status("VmHWM:") - before)
    del ran
print(json.dumps(out))
"""


def measure_peaks(configs: list[dict[str, Any]]) -> list[int]:
    """Resident memory that real CPU runs (module, inputs, forward) added, one config after another."""
    result = run_python("-c", MEASURE, json.dumps(configs), timeout=120, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    peaks: list[int] = json.loads(result.stdout)
    return peaks


@pytest.mark.skipif(
    not (sys.platform == "linux" and os.access("/proc/self/clear_refs", os.W_OK)),
    reason="needs Linux /proc/self/clear_refs",
)
def test_peak_estimate_covers_the_measured_peak() -> None:
    """The estimate covers what the operating system counted.

    With tensors of 32 MiB and more the C allocator maps and unmaps each one whole,
    and the estimate alone must cover the peak; smaller ones come from the C heap,
    which keeps some freed blocks: there the guard's heap slack is added.
    """
    from torchshape.guard import required_bytes

    large = {
        "kind": "rnn",
        "input_size": 384,
        "hidden_size": 384,
        "num_layers": 2,
        "seq_len": 2000,
        "batch": 16,
    }
    moderate = [
        {"kind": "gru", "input_size": 128, "hidden_size": 128, "num_layers": 2, "bidirectional": True,
         "seq_len": 1000, "batch": 16},
        {"kind": "lstm", "input_size": 128, "hidden_size": 256, "proj_size": 64, "num_layers": 2,
         "seq_len": 1000, "batch": 16},
        {"kind": "lstm", "input_size": 64, "hidden_size": 128, "dtype": "float64",
         "seq_len": 1000, "batch": 16},
    ]  # fmt: skip
    peaks = measure_peaks([large, *moderate])
    assert 0 < peaks[0] <= totals(make_spec(**large)).peak_bytes_estimate
    for raw, used in zip(moderate, peaks[1:], strict=True):
        assert 0 < used <= required_bytes(make_spec(**raw), torch_imported=True), (raw, used)


def test_totals_of_a_huge_configuration_are_exact_integers() -> None:
    spec = make_spec(
        kind="lstm", input_size=4096, hidden_size=4096, num_layers=8, bidirectional=True,
        seq_len=100000, batch=4096,
    )  # fmt: skip
    t = totals(spec)
    # two directions of: layer 0 4·H·(H_in + H + 2 biases), layers 1-7 4·H·(2·H + H + 2)
    assert t.params == 2 * (4 * 4096 * (4096 + 4096 + 2) + 7 * 4 * 4096 * (8192 + 4096 + 2))
    assert t.output_bytes == 100000 * 4096 * 8192 * 4
    assert t.macs == 100000 * 4096 * 2 * 4 * 4096 * (4096 + 4096 + 7 * (8192 + 4096))


# --- the command line ---------------------------------------------------------------


def test_footer_gives_params_macs_and_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rnn", "--kind", "lstm", "--layers", "2", "--bidir"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    head = next(line for line in lines if line.startswith("parameters "))
    assert head.startswith("parameters 41,760 ✓ · 612 K MACs · peak memory ≈ ")
    flat = " ".join(out.split())
    assert "MACs: x·W_ihᵀ, h·W_hhᵀ over L·N = 15 real steps, every layer and direction" in flat
    assert "no bias additions or gate element-wise ops, which torchinfo and thop add" in flat
    assert "float32: parameters 163 KiB, input 2.93 KiB, h/c 5.62 KiB, output 3.52 KiB" in lines
    assert max(len(line) for line in lines) <= 80
    assert "Parameters" not in out  # the parameter table only with --params


def test_params_table_lists_every_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rnn", "--kind", "gru", "--layers", "2", "--bidir", "--no-bias", "--params"])
    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("weight_")}
    assert set(rows) == {
        "weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse",
        "weight_ih_l1", "weight_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
    }  # fmt: skip
    assert rows["weight_ih_l1"] == ["(3·H_cell,", "D·H_out)", "(90,", "60)", "5,400", "✓"]
    assert rows["weight_hh_l0_reverse"] == ["(3·H_cell,", "H_out)", "(90,", "30)", "2,700", "✓"]
    assert "bias" not in out.split("Parameters", 1)[1]
    total = 2 * (90 * 50 + 90 * 30) + 2 * (90 * 60 + 90 * 30)
    assert any(line.split() == ["total", f"{total:,}"] for line in out.splitlines())
    assert "init: every parameter starts as U(−1/√H_cell, 1/√H_cell) = U(−0.1826, 0.1826)" in out
    assert "named_parameters() of the module that ran on cpu" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_json_carries_parameters_and_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rnn", "--kind", "lstm", "--proj-size", "7", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert list(data)[-3:] == ["parameters", "totals", "timing"]
    assert [p["name"] for p in data["parameters"]] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
    ]  # fmt: skip
    assert data["parameters"][4] == {
        "name": "weight_hr_l0", "shape": [7, 30], "formula": "(H_out, H_cell)", "numel": 210,
        "verified": True, "source": "torch",
    }  # fmt: skip
    assert list(data["totals"]) == [
        "params", "macs", "param_bytes", "input_bytes", "state_bytes", "output_bytes", "peak_bytes_estimate",
    ]  # fmt: skip
    t = data["totals"]
    assert t["params"] == sum(p["numel"] for p in data["parameters"]) == 120 * 50 + 120 * 7 + 240 + 210
    assert t["macs"] == 15 * (120 * 50 + 120 * 7 + 7 * 30)
    assert t["param_bytes"] == 4 * t["params"]
    assert t["input_bytes"] == 4 * 5 * 3 * 50 and t["output_bytes"] == 4 * 5 * 3 * 7
    assert t["state_bytes"] == 4 * 2 * (3 * 7 + 3 * 30)


@pytest.mark.cuda
@given(settings())
def test_cuda_parameters_verified(raw: dict[str, Any]) -> None:
    report = inspect(**raw, device="cuda")
    truth = {name: tuple(p.shape) for name, p in torch_module(raw).named_parameters()}
    assert report.ok
    assert {p.name: p.shape for p in report.parameters} == truth


# --- packed batches and cells ----------------------------------------------------


@given(settings(max_size=10, max_layers=2), st.data())
def test_packed_macs_count_real_steps_only(raw: dict[str, Any], data: st.DataObject) -> None:
    """FlopCounterMode over each sequence's own steps equals the MACs of --lengths."""
    assume(not raw["unbatched"])  # no batch to pack
    lengths = data.draw(
        st.lists(st.integers(1, raw["seq_len"]), min_size=raw["batch"], max_size=raw["batch"])
    )
    spec = make_spec(**{**raw, "lengths": ",".join(map(str, lengths))})
    torch.manual_seed(0)
    module = torch_module(raw, dtype=torch.float64)
    tensors = run_module(module, raw, torch.float64)
    x = tensors["input"].transpose(0, 1) if raw["batch_first"] else tensors["input"]
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    hidden = (tensors["h_0"], tensors["c_0"]) if "c_0" in tensors else tensors["h_0"]
    with torch.no_grad():
        _, state = module(packed, hidden)
    h_n = state[0] if isinstance(state, tuple) else state
    one = {**raw, "batch": 1, "batch_first": False}
    flops = 0
    for n, length in enumerate(lengths):
        seq = {"input": x[:length, n : n + 1], "h_0": tensors["h_0"][:, n : n + 1]}
        if "c_0" in tensors:
            seq["c_0"] = tensors["c_0"][:, n : n + 1]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            mine = decomposed_forward(module, {**one, "seq_len": length}, seq)
        # the per-sequence decomposition is the packed module: same final states
        torch.testing.assert_close(mine["h_n"][:, 0], h_n[:, n], rtol=1e-9, atol=1e-9)
        flops += counter.get_total_flops()
    assert flops == 2 * totals(spec).macs
    assert totals(spec).macs * raw["seq_len"] * raw["batch"] == totals(make_spec(**raw)).macs * sum(lengths)


@given(cell_settings())
def test_cell_parameters_and_macs_against_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    kind = raw["kind"].removesuffix("-cell")
    module_class = {"gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell, "rnn": torch.nn.RNNCell}[kind]
    kwargs: dict[str, Any] = {"bias": raw.get("bias", True)}
    if raw.get("nonlinearity"):
        kwargs["nonlinearity"] = raw["nonlinearity"]
    torch.manual_seed(0)
    module = module_class(
        raw.get("input_size", 50), raw.get("hidden_size", 30), dtype=torch.float64, **kwargs
    )
    truth = {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert [p.name for p in parameter_formulas(spec)] == list(truth)
    report = inspect(**raw)
    assert report.ok
    assert {p.name: p.shape for p in report.parameters} == truth
    # MACs: one step as explicit matrix products, checked against the cell's own result
    sym_n = () if spec.unbatched else (spec.batch,)
    x = torch.randn(*sym_n, spec.input_size, dtype=torch.float64)
    h = torch.randn(*sym_n, spec.hidden_size, dtype=torch.float64)
    c = torch.randn(*sym_n, spec.hidden_size, dtype=torch.float64) if kind == "lstm" else None
    w = dict(module.named_parameters())
    with torch.no_grad():
        expected = module(x, (h, c)) if c is not None else module(x, h)
        with FlopCounterMode(display=False) as counter:
            mine, _ = cell(
                kind,
                x.reshape(-1, spec.input_size),
                h.reshape(-1, spec.hidden_size),
                None if c is None else c.reshape(-1, spec.hidden_size),
                w,
                raw.get("nonlinearity") == "relu",
            )
    expected_h = expected[0] if isinstance(expected, tuple) else expected
    torch.testing.assert_close(mine.reshape(expected_h.shape), expected_h, rtol=1e-9, atol=1e-9)
    assert counter.get_total_flops() == 2 * totals(spec).macs
