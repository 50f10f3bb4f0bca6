"""--explain's hand-off of an encoder's final state to a decoder, against torch itself.

The test builds the encoder and its decoders with plain torch calls, concatenates the
directions its own way (a (num_layers, D, N, H) reshape of h_n), and holds every
hand-off line torchshape prints against those tensors and against torch's own errors.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from typing import Any

import pytest
import torch
from hypothesis import given

from tests.strategies import settings
from tests.test_explain import by_layer, close, forward, run_analyse, sizes
from tests.truth import torch_module
from torchshape import inspect, make_spec
from torchshape.cli import main
from torchshape.families.rnn import explain_probe, handoff


def decoder(raw: dict[str, Any], width: int, layers: int) -> torch.nn.Module:
    """A unidirectional decoder built by the test: h width·H_out wide, c width·H_cell wide."""
    proj = raw.get("proj_size") or 0
    changed = {
        **raw,
        "hidden_size": width * raw["hidden_size"],
        "num_layers": layers,
        "bidirectional": False,
        "dropout": 0.0,
    }
    changed["proj_size"] = width * proj
    module: torch.nn.Module = torch_module(changed)
    return module


def run_decoder(module: torch.nn.Module, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None) -> Any:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return module(x, (h, c) if c is not None else h)


def torch_error(module: torch.nn.Module, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None) -> str:
    with pytest.raises(RuntimeError) as info:
        run_decoder(module, x, h, c)
    return f"RuntimeError: {str(info.value).strip().splitlines()[0]}"


def concatenated(raw: dict[str, Any], state: torch.Tensor) -> torch.Tensor:
    """Per layer, forward then backward side by side: (num_layers, N, 2·H), no N unbatched."""
    v = by_layer(raw, state)  # (num_layers, D, N, H)
    out = torch.cat([v[:, d] for d in range(v.shape[1])], dim=-1)
    return out.squeeze(1) if raw["unbatched"] else out


@given(settings(max_size=8, max_layers=3))
def test_handoff_against_torch(raw: dict[str, Any]) -> None:
    spec = make_spec(**raw)
    module, inputs, results = forward(raw)
    analysis = run_analyse(spec, module, inputs, results, explain=True)
    assert analysis is not None
    s = sizes(raw)
    bidir, layers, lstm = raw["bidirectional"], s["num_layers"], raw["kind"] == "lstm"
    if not bidir and layers == 1:
        assert analysis.handoff is None  # h_n already fits a decoder as it is
    else:
        check_handoff(raw, analysis, inputs, results, s, bidir, layers, lstm)


def check_handoff(
    raw: dict[str, Any],
    analysis: Any,
    inputs: dict[str, Any],
    results: dict[str, Any],
    s: dict[str, int],
    bidir: bool,
    layers: int,
    lstm: bool,
) -> None:
    """Every hand-off claim against the test's own reshapes, concatenations and decoders."""
    handoff = analysis.handoff
    assert handoff is not None and handoff.ok
    checks = {c.relation.expression: c for c in handoff.relations}
    # every relation the rules claim holds on torch's values; every listed mistake does not
    # (the plain view may equal h_cat by coincidence of the values: checked below, the test's way)
    view_key = "h_n.view(num_layers, N, 2*H_out) == h_cat"
    for check in handoff.relations:
        if check.relation.expression != view_key:
            assert check.holds is check.relation.expected, check.relation.expression
        assert check.numeric_agrees is not False
    x, h_n, c_n = inputs["input"], results["h_n"], results.get("c_n")
    batch = () if raw["unbatched"] else (s["N"],)
    # the code, run by the test, gives what the test computes its own way
    namespace: dict[str, Any] = {"torch": torch, **s, **results}
    for line in handoff.code:
        if " = nn." not in line:
            name, expression = line.split(" = ", 1)
            namespace[name] = eval(expression, {"__builtins__": {}}, namespace)
    if bidir:
        h_cat = concatenated(raw, h_n)
        assert h_cat.shape == (layers, *batch, 2 * s["H_out"])
        assert torch.equal(namespace["h_cat"], h_cat)
        assert close(
            namespace["h_mean"], by_layer(raw, h_n).mean(dim=1).reshape(layers, *batch, -1), raw["dtype"]
        )
        c_cat = concatenated(raw, c_n) if c_n is not None else None
        if c_cat is not None:
            assert c_cat.shape == (layers, *batch, 2 * s["H_cell"])
            assert torch.equal(namespace["c_cat"], c_cat)
        # a unidirectional decoder, hidden 2·H_out (LSTM with proj_size: 2·H_cell, proj 2·H_out), takes it
        _, state = run_decoder(decoder(raw, 2, layers), x, h_cat, c_cat)
        decoded = state[0] if lstm else state
        assert decoded.shape == h_cat.shape
        wide = "(num_layers, 2*H_out)" if raw["unbatched"] else "(num_layers, N, 2*H_out)"
        assert checks[f"h_cat.shape == {wide}"].holds is True
        # the tempting mistakes: the plain view mixes sequences; h_n as it is, torch refuses
        plain = h_n.reshape(layers, *batch, 2 * s["H_out"])
        if raw["unbatched"] or s["N"] == 1:
            assert torch.equal(plain, h_cat)  # nothing between a layer's two rows
            assert view_key not in checks
        else:
            # a mistake in general; with ReLU states of zeros it may hold by coincidence, and then
            # torchshape must say so (holds: true, expected: false), as the test's own values show
            assert checks[view_key].relation.expected is False
            assert checks[view_key].holds is torch.equal(plain, h_cat)
        same = decoder(raw, 1, layers)
        refused = [c for c in handoff.relations if c.evidence]
        assert [c.relation.expected for c in refused] == [False]
        assert refused[0].evidence == torch_error(same, x, h_n, c_n)
        if raw["unbatched"]:
            assert checks["h_n.view(num_layers, 2*H_out) == h_cat"].holds is True
    else:
        # stacked, one direction: h_n fits a decoder of the same layers; a one-layer one wants h_n[-1:]
        _, state = run_decoder(decoder(raw, 1, layers), x, h_n, c_n)
        assert (state[0] if lstm else state).shape == h_n.shape
        one = decoder(raw, 1, 1)
        _, state = run_decoder(one, x, h_n[-1:], None if c_n is None else c_n[-1:])
        assert (state[0] if lstm else state).shape == (1, *batch, s["H_out"])
        errors = [torch_error(one, x, h_n, c_n)]
        errors.append(torch_error(one, x, h_n[-1], None if c_n is None else c_n[-1]))
        assert [c.evidence or None for c in handoff.relations if not c.relation.expected] == errors


def test_the_checker_can_say_false(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claim a decoder of hidden size H_out takes the concatenation: torch refuses, the run fails."""
    real = handoff.handoff

    def wrong(spec: Any) -> Any:
        plan = real(spec)
        decoders = tuple(replace(d, hidden_size=spec.hidden_size) for d in plan.decoders)
        return replace(plan, decoders=decoders)

    monkeypatch.setattr(explain_probe, "handoff", wrong)
    report = inspect(kind="gru", bidirectional=True, num_layers=2, explain=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.handoff is not None
    accepted = [c for c in analysis.handoff.relations if c.relation.lhs.startswith("decoder(")]
    assert accepted and accepted[0].holds is False and accepted[0].relation.expected is True
    assert accepted[0].evidence.startswith("RuntimeError: Expected hidden size")
    assert not report.ok


def test_handoff_on_meta_is_null() -> None:
    report = inspect(
        kind="lstm", bidirectional=True, num_layers=3, hidden_size=4096, device="meta", explain=True
    )
    analysis = report.probe.analysis
    assert report.ok and analysis is not None and analysis.handoff is not None
    assert analysis.handoff.relations and all(c.holds is None for c in analysis.handoff.relations)


def test_handoff_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rnn", "--layers", "2", "--bidir", "--proj-size", "7", "--explain", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True
    handoff = data["handoff"]
    assert handoff["ok"] is True
    assert "decoder = nn.LSTM(H_in, 2*H_cell, num_layers, proj_size=2*H_out)" in handoff["code"]
    assert "decoder = nn.LSTM(50, 60, 2, proj_size=14)" in handoff["code_numeric"]
    rows = {r["expression"]: r for r in handoff["relations"]}
    # the same keys as the other relations, and which section they belong to
    assert set(next(iter(rows.values()))) == set(data["relations"][0]) | {"section"}
    assert all(r["section"] == "handoff" and r["call"] == "plain" for r in rows.values())
    assert rows["h_cat.shape == (num_layers, N, 2*H_out)"]["numeric"] == "h_cat.shape == (2, 3, 14)"
    assert rows["c_cat.shape == (num_layers, N, 2*H_cell)"]["holds"] is True
    accepted = rows["decoder(input, (h_cat, c_cat))[1][0].shape == (num_layers, N, 2*H_out)"]
    assert accepted["holds"] is True and accepted["error"] is None
    refused = rows["decoder_h(input, (h_n, c_n))[1][0].shape == (num_layers, N, H_out)"]
    assert refused["expected"] is False and refused["holds"] is False
    assert refused["error"] == "RuntimeError: Expected hidden[0] size (2, 3, 7), got [4, 3, 7]"
    # one layer, one direction: nothing to hand off
    assert main(["rnn", "--explain", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["handoff"] is None
