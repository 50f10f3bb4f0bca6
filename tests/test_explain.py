"""--explain, --lengths and --unroll against torch itself.

Each test builds its module, inputs and results with plain torch calls, indexes them
its own way (a canonical (L, N, D, H_out) view of output, (num_layers, D, N, H_out)
of h_n), and holds torchshape's relations, packed shapes and step-loop differences
against those tensors.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tests.strategies import settings
from tests.truth import torch_module
from torchshape import inspect, make_spec
from torchshape.families.rnn import explain_probe, unroll_probe
from torchshape.families.rnn.explain import check_options
from torchshape.families.rnn.explain_probe import analyse
from torchshape.families.rnn.relations import TOLERANCE, Relation
from torchshape.families.rnn.unroll import UNROLL_TOLERANCE

# ---------------------------------------------------------------- torch, built by the test


def build(raw: dict[str, Any]) -> torch.nn.Module:
    module: torch.nn.Module = torch_module(raw)
    return module


def sizes(raw: dict[str, Any]) -> dict[str, int]:
    proj = raw.get("proj_size") or 0
    return {
        "L": raw["seq_len"],
        "N": 1 if raw["unbatched"] else raw["batch"],
        "H_in": raw["input_size"],
        "H_cell": raw["hidden_size"],
        "H_out": proj or raw["hidden_size"],
        "D": 2 if raw["bidirectional"] else 1,
        "num_layers": raw["num_layers"],
    }


def forward(raw: dict[str, Any]) -> tuple[torch.nn.Module, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The module, random input and initial state, and what one call returns."""
    module = build(raw)
    s = sizes(raw)
    dtype = getattr(torch, raw["dtype"])
    if raw["unbatched"]:
        x = torch.randn(s["L"], s["H_in"], dtype=dtype)
        state_shape: tuple[int, ...] = (s["D"] * s["num_layers"],)
    else:
        x = torch.randn(
            *((s["N"], s["L"]) if raw["batch_first"] else (s["L"], s["N"])), s["H_in"], dtype=dtype
        )
        state_shape = (s["D"] * s["num_layers"], s["N"])
    inputs = {"input": x, "h_0": torch.randn(*state_shape, s["H_out"], dtype=dtype)}
    if raw["kind"] == "lstm":
        inputs["c_0"] = torch.randn(*state_shape, s["H_cell"], dtype=dtype)
    hidden = (inputs["h_0"], inputs["c_0"]) if "c_0" in inputs else inputs["h_0"]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output, state = module(x, hidden)
    results = {"output": output}
    if isinstance(state, tuple):
        results["h_n"], results["c_n"] = state
    else:
        results["h_n"] = state
    return module, inputs, results


def time_major(raw: dict[str, Any], output: torch.Tensor) -> torch.Tensor:
    """output as (L, N, D·H_out) whatever the layout."""
    if raw["unbatched"]:
        return output.unsqueeze(1)
    return output.transpose(0, 1) if raw["batch_first"] else output


def by_layer(raw: dict[str, Any], h_n: torch.Tensor) -> torch.Tensor:
    """h_n as (num_layers, D, N, H)."""
    s = sizes(raw)
    if raw["unbatched"]:
        h_n = h_n.unsqueeze(1)
    return h_n.reshape(s["num_layers"], s["D"], s["N"], h_n.shape[-1])


def close(a: torch.Tensor, b: torch.Tensor, dtype: str) -> bool:
    rtol, atol = TOLERANCE[dtype]
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def at(raw: dict[str, Any], step: str, features: str) -> str:
    if raw["unbatched"]:
        return f"output[{step}, {features}]"
    if raw["batch_first"]:
        return f"output[:, {step}, {features}]"
    return f"output[{step}, :, {features}]"


def expected_relations(
    raw: dict[str, Any], results: dict[str, torch.Tensor]
) -> dict[str, tuple[Any, Any, bool]]:
    """Every relation --explain lists: expression -> (left values, right values, holds per the rules)."""
    s = sizes(raw)
    H, bidir, proj = s["H_out"], raw["bidirectional"], raw.get("proj_size")
    seq = time_major(raw, results["output"])
    h = by_layer(raw, results["h_n"])
    forward_last, backward_first, backward_last = seq[-1, :, :H], seq[0, :, H:], seq[-1, :, H:]
    top_forward, top_backward = h[-1, 0], h[-1, -1]
    view = "h_n.view(num_layers, D, H_out)" if raw["unbatched"] else "h_n.view(num_layers, D, N, H_out)"
    top = "h_n[-2]" if bidir else "h_n[-1]"
    out: dict[str, tuple[Any, Any, bool]] = {
        f"{at(raw, '-1', ':H_out')} == {top}": (forward_last, top_forward, True)
    }
    if bidir:
        out[f"{at(raw, '0', 'H_out:')} == h_n[-1]"] = (backward_first, top_backward, True)
    if bidir or s["num_layers"] > 1:
        out[f"{view}[-1, 0] == {at(raw, '-1', ':H_out')}"] = (top_forward, forward_last, True)
    if bidir:
        out[f"{view}[-1, 1] == {at(raw, '0', 'H_out:')}"] = (top_backward, backward_first, True)
    if proj:
        out["h_n.shape[-1] == H_out"] = (results["h_n"].shape[-1], proj, True)
        out["c_n.shape[-1] == H_cell"] = (results["c_n"].shape[-1], raw["hidden_size"], True)
    if bidir and s["L"] > 1:
        out[f"{at(raw, '-1', 'H_out:')} == h_n[-1]"] = (backward_last, top_backward, False)
    if s["num_layers"] > 1:
        out[f"{at(raw, '-1', ':H_out')} == h_n[0]"] = (forward_last, h[0, 0], False)
    if proj:
        out["h_n.shape[-1] == H_cell"] = (results["h_n"].shape[-1], raw["hidden_size"], False)
    return out


def same_values(picked: Any, mine: Any) -> bool:
    """An expression torchshape wrote picked exactly the values the test picked."""
    if isinstance(mine, torch.Tensor):
        return isinstance(picked, torch.Tensor) and torch.equal(picked.reshape(-1), mine.reshape(-1))
    return bool(picked == mine)


def run_analyse(spec: Any, module: torch.nn.Module, inputs: Any, results: Any, **flags: bool) -> Any:
    """torchshape's checks on the test's own module and tensors, in the grad mode the test ran them."""
    with torch.no_grad():
        return analyse(spec, spec, module, inputs, results, **flags)


def evaluate(expression: str, namespace: dict[str, Any]) -> Any:
    return eval(expression, {"__builtins__": {}}, namespace)


# ---------------------------------------------------------------- --explain


@given(settings(max_size=8, max_layers=3))
def test_relations_against_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    module, inputs, results = forward(raw)
    analysis = run_analyse(spec, module, inputs, results, explain=True)
    assert analysis is not None and analysis.relations is not None
    truth = expected_relations(raw, results)
    assert [c.relation.expression for c in analysis.relations] == list(truth)
    with_symbols = {"torch": torch, **sizes(raw), **results}
    numbers_only = {"torch": torch, **results}  # the numeric form needs no symbol
    for check in analysis.relations:
        rel = check.relation
        left, right, rule = truth[rel.expression]
        assert rel.expected is rule
        # the strings are valid Python that pick the values the test picked
        assert same_values(evaluate(rel.lhs, with_symbols), left)
        assert same_values(evaluate(rel.rhs, with_symbols), right)
        assert same_values(evaluate(rel.lhs_numeric, numbers_only), left)
        assert same_values(evaluate(rel.rhs_numeric, numbers_only), right)
        # holds is torch's answer on these very tensors
        held = close(left, right, raw["dtype"]) if isinstance(left, torch.Tensor) else left == right
        assert check.holds is held
        if rule:
            assert held, rel.expression  # what the rules claim, torch confirms
            assert check.ok


@given(settings(max_size=8, max_layers=3))
def test_explain_end_to_end(raw: dict[str, Any]) -> None:
    report = inspect(**raw, explain=True)
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.relations is not None
    _, _, results = forward(raw)
    assert [c.relation.expression for c in analysis.relations] == list(expected_relations(raw, results))
    assert all(c.holds for c in analysis.relations if c.relation.expected)
    # the layout grid: index D·layer + direction, as h_n.view(num_layers, D, N, H_out) reads it
    s = sizes(raw)
    flat = torch.arange(s["D"] * s["num_layers"])
    assert analysis.layouts is not None
    assert [list(row) for row in analysis.layouts[0].grid] == flat.view(s["num_layers"], s["D"]).tolist()


def test_a_wrong_relation_is_reported_as_not_holding() -> None:
    """Bidirectional: output[-1]'s backward half is not the backward final state; torchshape says false."""
    report = inspect(kind="lstm", bidirectional=True, explain=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.relations is not None
    wrong = {c.relation.expression: c for c in analysis.relations}["output[-1, :, H_out:] == h_n[-1]"]
    assert wrong.relation.expected is False
    assert wrong.holds is False
    assert wrong.max_abs_diff is not None and wrong.max_abs_diff > 0.01
    assert report.ok  # a listed mistake that fails is the expected answer


def test_a_wrong_claim_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The checker can say false: claim the mistake as a rule and torch refutes it (exit 1)."""
    from torchshape.cli import main

    def wrong(spec: Any) -> list[Relation]:
        return [Relation("output[-1, :, H_out:]", "h_n[-1]", "output[-1, :, 30:]", "h_n[-1]", "wrong claim")]

    monkeypatch.setattr(explain_probe, "relations", wrong)
    report = inspect(kind="gru", bidirectional=True, explain=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.relations is not None
    assert analysis.relations[0].holds is False
    assert not report.ok
    code = main(["rnn", "--kind", "gru", "--bidir", "--explain"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "DOES NOT HOLD" in out


def test_meta_reports_null_not_true() -> None:
    report = inspect(
        kind="lstm", num_layers=3, bidirectional=True, hidden_size=4096, device="meta", explain=True
    )
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.relations
    assert all(c.holds is None for c in analysis.relations)
    assert not analysis.values


# ---------------------------------------------------------------- --lengths


@st.composite
def packed_settings(draw: st.DrawFn) -> dict[str, Any]:
    raw = draw(settings(max_size=8, max_layers=3))
    raw["unbatched"] = False
    batch = draw(st.integers(1, 6))
    raw["batch"] = batch
    raw["lengths"] = draw(st.lists(st.integers(1, raw["seq_len"]), min_size=batch, max_size=batch))
    return raw


def packed_truth(raw: dict[str, Any]) -> dict[str, Any]:
    """The packed call, made by the test: shapes, batch_sizes and the tensors."""
    module, inputs, _ = forward({k: v for k, v in raw.items() if k != "lengths"})
    bf = raw["batch_first"]
    packed = pack_padded_sequence(inputs["input"], raw["lengths"], batch_first=bf, enforce_sorted=False)
    hidden = (inputs["h_0"], inputs["c_0"]) if "c_0" in inputs else inputs["h_0"]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        packed_output, state = module(packed, hidden)
    output, _ = pad_packed_sequence(packed_output, batch_first=bf)
    output_total, _ = pad_packed_sequence(packed_output, batch_first=bf, total_length=raw["seq_len"])
    h_n, c_n = state if isinstance(state, tuple) else (state, None)
    return {
        "module": module,
        "inputs": inputs,
        "data": tuple(packed.data.shape),
        "batch_sizes": packed.batch_sizes.tolist(),
        "output.data": tuple(packed_output.data.shape),
        "output": output,
        "output (total_length=L)": tuple(output_total.shape),
        "h_n": h_n,
        "c_n": c_n,
        "results": {"output": output, "h_n": h_n, **({"c_n": c_n} if c_n is not None else {})},
    }


@given(packed_settings())
def test_packed_shapes_against_torch(raw: dict[str, Any]) -> None:
    report = inspect(**raw)
    truth = packed_truth(raw)
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.packed is not None
    packed = analysis.packed
    shapes = {row.name: row for row in packed.shapes}
    assert shapes["data"].measured == shapes["data"].expected == truth["data"]
    assert shapes["output.data"].expected == truth["output.data"]
    assert shapes["output"].expected == tuple(truth["output"].shape)
    assert shapes["output (total_length=L)"].expected == truth["output (total_length=L)"]
    assert shapes["h_n"].expected == tuple(truth["h_n"].shape)
    if truth["c_n"] is not None:
        assert shapes["c_n"].expected == tuple(truth["c_n"].shape)
    assert list(packed.batch_sizes) == truth["batch_sizes"]
    assert packed.sum_lengths == sum(raw["lengths"]) == truth["data"][0]
    # pad_packed_sequence pads to the longest sequence, not to L
    time_axis = 1 if raw["batch_first"] else 0
    assert truth["output"].shape[time_axis] == max(raw["lengths"])


@given(packed_settings())
def test_packed_relations_against_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    truth = packed_truth(raw)
    analysis = run_analyse(spec, truth["module"], truth["inputs"], truth["results"])
    assert analysis is not None and analysis.packed is not None
    s = sizes(raw)
    H, lengths = s["H_out"], raw["lengths"]
    seq = time_major(raw, truth["output"])  # (max(lengths), N, D·H_out)
    h = by_layer(raw, truth["h_n"])
    last_real = torch.stack([seq[n - 1, i, :H] for i, n in enumerate(lengths)])
    checks = {c.relation.expression: c for c in analysis.packed.relations}
    index = "torch.arange(N), lengths - 1" if raw["batch_first"] else "lengths - 1, torch.arange(N)"
    top = "h_n[-2]" if raw["bidirectional"] else "h_n[-1]"
    expected = {f"output[{index}, :H_out] == {top}": (last_real, h[-1, 0], True)}
    if raw["bidirectional"]:
        expected[f"{at(raw, '0', 'H_out:')} == h_n[-1]"] = (seq[0, :, H:], h[-1, 1], True)
    if min(lengths) < max(lengths):
        expected[f"{at(raw, '-1', ':H_out')} == {top}"] = (seq[-1, :, :H], h[-1, 0], False)
    assert list(checks) == list(expected)
    namespace = {"torch": torch, **s, "lengths": torch.tensor(lengths), **truth["results"]}
    for expression, (left, right, rule) in expected.items():
        check = checks[expression]
        assert same_values(evaluate(check.relation.lhs, namespace), left)
        assert same_values(evaluate(check.relation.lhs_numeric, {"torch": torch, **truth["results"]}), left)
        held = close(left, right, raw["dtype"])
        assert check.holds is held
        if rule:
            assert held
    # the classic mistake: output[-1] is zeros for a shorter sequence, so it cannot be h_n
    for i, n in enumerate(lengths):
        if n < max(lengths):
            assert torch.count_nonzero(seq[-1, i]) == 0


def test_packed_needs_no_sorting_and_n_comes_from_the_lengths() -> None:
    report = inspect(kind="lstm", lengths="2,5,3,1", bidirectional=True)
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.packed is not None
    assert report.symbols["N"] == 4
    assert analysis.packed.batch_sizes == (4, 3, 2, 1, 1)
    assert analysis.packed.sum_lengths == 11


def test_packed_on_meta_runs_probe_lengths() -> None:
    report = inspect(kind="gru", seq_len=200, lengths=[200] + [50] * 39, input_size=300, device="meta")
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.packed is not None
    packed = analysis.packed
    shapes = {row.name: row for row in packed.shapes}
    assert shapes["data"].expected == (200 + 50 * 39, 300)
    assert shapes["output"].expected == (200, 40, 30)
    assert all(row.verified and row.measured == row.probe_expected for row in packed.shapes)
    assert len(set(packed.ran_lengths)) > 1  # the probe still packs sequences of different lengths
    assert all(c.holds is None for c in packed.relations)


# ---------------------------------------------------------------- --unroll


def step_loop(
    module: torch.nn.Module, x: torch.Tensor, state: Any, time_axis: int
) -> tuple[torch.Tensor, Any]:
    outs = []
    for t in range(x.shape[time_axis]):
        x_t = x[:, t : t + 1] if time_axis == 1 else x[t : t + 1]
        out_t, state = module(x_t, state)
        outs.append(out_t)
    return torch.cat(outs, dim=time_axis), state


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())


def unroll_settings() -> st.SearchStrategy[dict[str, Any]]:
    return settings(max_size=8, max_layers=3).map(lambda raw: {**raw, "seq_len": min(raw["seq_len"], 6)})


@given(unroll_settings())
def test_unroll_against_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    module, inputs, results = forward(raw)
    analysis = run_analyse(spec, module, inputs, results, unroll=True)
    assert analysis is not None and analysis.unroll is not None
    unroll = analysis.unroll
    time_axis = 1 if raw["batch_first"] and not raw["unbatched"] else 0
    hidden = (inputs["h_0"], inputs["c_0"]) if "c_0" in inputs else inputs["h_0"]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        looped, state = step_loop(module, inputs["input"], hidden, time_axis)
    states = {"h_n": state[0], "c_n": state[1]} if isinstance(state, tuple) else {"h_n": state}
    mine = {"output": max_diff(looped, results["output"])}
    mine.update({k: max_diff(v, results[k]) for k, v in states.items()})
    assert unroll.steps == raw["seq_len"]
    assert set(unroll.max_abs_diff) == set(mine)
    rtol, atol = UNROLL_TOLERANCE[raw["dtype"]]
    assert unroll.agree and unroll.ok
    if not raw["bidirectional"]:
        # the same loop, the same numbers
        assert unroll.max_abs_diff == mine
        assert unroll.naive_max_abs_diff is None
    else:
        # the module called step by step is what torchshape reports as the naive loop
        assert unroll.naive_max_abs_diff == mine
        assert all(d <= atol + rtol * 8 for d in unroll.max_abs_diff.values())
    s = sizes(raw)
    batch = () if raw["unbatched"] else (s["N"],)
    x_t = inputs["input"].narrow(time_axis, 0, 1)
    shapes = {row.name: row for row in unroll.step_shapes}
    assert shapes["input_t"].measured == shapes["input_t"].expected == tuple(x_t.shape)
    rows = 1 if raw["bidirectional"] else s["num_layers"]
    assert shapes["h"].expected == (rows, *batch, s["H_out"])
    assert shapes["output_t"].expected == (*looped.narrow(time_axis, 0, 1).shape[:-1], s["H_out"])
    if "c_n" in results:
        assert shapes["c"].expected == (rows, *batch, s["H_cell"])
    assert all(row.verified for row in unroll.step_shapes)


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_bidirectional_reverse_direction_is_needed(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """The backward loop must step over the reversed sequence: run it forward and the check fails."""
    real = unroll_probe._step_loop

    def forward_only(*args: Any, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, "reverse": False})

    monkeypatch.setattr(unroll_probe, "_step_loop", forward_only)
    report = inspect(kind=kind, bidirectional=True, unroll=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.unroll is not None
    assert not analysis.unroll.agree
    assert analysis.unroll.max_abs_diff["output"] > 0.01
    assert not report.ok


def test_unroll_end_to_end_bidirectional_lstm() -> None:
    report = inspect(
        kind="lstm", num_layers=2, bidirectional=True, proj_size=7, batch_first=True, unroll=True
    )
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.unroll is not None
    unroll = analysis.unroll
    assert unroll.method == "directions"
    assert max(unroll.max_abs_diff.values()) < 1e-5
    assert unroll.naive_max_abs_diff is not None and max(unroll.naive_max_abs_diff.values()) > 0.01


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"device": "meta"}, "--unroll: needs values to compare"),
        ({"lengths": [5, 3, 2]}, "--unroll: not with --lengths"),
        ({"seq_len": 5000}, "--unroll: L = 5000 steps"),
    ],
)
def test_unroll_refuses(settings_: dict[str, Any], message: str) -> None:
    from torchshape import UsageError

    with pytest.raises(UsageError) as info:
        check_options(make_spec(**settings_), unroll=True)
    assert info.value.message.startswith(message)
