"""--explain, --lengths, --unroll on the command line: errors naming the flag, JSON keys, table sections."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


def test_no_new_keys_without_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert not {"relations", "layout", "packed", "unroll"} & set(data)
    assert data["config"]["lengths"] is None


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "rnn", "--layers", "2", "--bidir", "--proj-size", "7", "--explain", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True
    relations = {r["expression"]: r for r in data["relations"]}
    first = relations["output[-1, :, :H_out] == h_n[-2]"]
    assert first["numeric"] == "output[-1, :, :7] == h_n[-2]"
    assert first["holds"] is True and first["expected"] is True and first["exact"] is True
    backward = relations["output[0, :, H_out:] == h_n[-1]"]
    assert backward["numeric"] == "output[0, :, 7:] == h_n[-1]" and backward["holds"] is True
    mistake = relations["output[-1, :, H_out:] == h_n[-1]"]
    assert mistake["holds"] is False and mistake["expected"] is False
    assert all(isinstance(r["holds"], bool) for r in data["relations"])
    layout = data["layout"]
    assert layout["h_n"]["view"] == "h_n.view(num_layers, D, N, H_out)"
    assert layout["h_n"]["view_numeric"] == "h_n.view(2, 2, 3, 7)"
    assert layout["h_n"]["grid"] == [[0, 1], [2, 3]]
    assert layout["c_n"]["view_numeric"] == "c_n.view(2, 2, 3, 30)"
    assert layout["feature_sizes"] == {"H_out": ["h_0", "output", "h_n"], "H_cell": ["c_0", "c_n"]}


def test_explain_on_meta_says_null(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--bidir", "--device", "meta", "--explain", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["relations"] and all(r["holds"] is None for r in data["relations"])
    assert all("no values" in r["note"] for r in data["relations"])
    code, out, _ = run_cli(capsys, "rnn", "--bidir", "--device", "meta", "--explain")
    assert "meta tensors carry no values" in out
    assert "✓ output" not in out


def test_lengths_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "rnn", "--kind", "gru", "--bidir", "--lengths", "4,2,3", "--seq-len", "5", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    packed = data["packed"]
    assert data["config"]["lengths"] == [4, 2, 3]
    assert data["symbols"]["N"] == 3  # N from the number of lengths
    assert packed["data_shape"] == [9, 50]
    assert packed["batch_sizes"] == [3, 3, 2, 1]
    assert packed["output_data_shape"] == [9, 60]
    assert packed["padded_output_shape"] == [4, 3, 60]  # max(lengths), not L = 5
    assert packed["padded_output_shape_total_length"] == [5, 3, 60]
    assert packed["sum_lengths"] == 9
    relations = {r["expression"]: r["holds"] for r in packed["relations"]}
    assert relations["output[lengths - 1, torch.arange(N), :H_out] == h_n[-2]"] is True
    assert relations["output[-1, :, :H_out] == h_n[-2]"] is False


def test_unroll_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rnn", "--layers", "2", "--batch-first", "--unroll", "--format", "json")
    assert code == 0
    unroll = json.loads(out)["unroll"]
    assert unroll["steps"] == 5
    assert unroll["method"] == "module"
    assert set(unroll["max_abs_diff"]) == {"output", "h_n", "c_n"}
    assert unroll["agree"] is True
    shapes = {s["name"]: s["shape"] for s in unroll["step_shapes"]}
    assert shapes == {"input_t": [3, 1, 50], "output_t": [3, 1, 30], "h": [2, 3, 30], "c": [2, 3, 30]}
    assert len(unroll["per_step_max_abs_diff"]) == 5


def test_table_sections_fit_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    from torchshape import inspect
    from torchshape.families.rnn.packed import packed_code
    from torchshape.render import render_table

    for settings in (
        {"num_layers": 2, "bidirectional": True, "explain": True, "unroll": True},
        {"kind": "gru", "lengths": [5, 3, 2], "batch_first": True, "explain": True},
    ):
        report = inspect(**settings)
        text = render_table(report)
        # 80 columns, or as wide as the longest line of code, which is never broken
        code = packed_code(report.spec) if report.spec.lengths is not None else []
        assert max(len(line) for line in text.splitlines()) <= max([80, *(len(line) for line in code)])
        assert all(line in text.splitlines() for line in code)
        assert "✗" not in text


def test_lengths_with_explain_says_which_call_each_block_is_about(capsys: pytest.CaptureFixture[str]) -> None:
    """The same expression holds for the plain call and not for the packed one: each block names its call."""
    from torchshape import inspect
    from torchshape.render import render_table

    report = inspect(kind="gru", lengths=[5, 2, 3], explain=True)
    text = " ".join(render_table(report, width=400).split())
    plain = "output vs h_n (--explain) of the plain call on the padded input (the table's):"
    packed = "padded output vs h_n of the packed call (pack_padded_sequence):"
    assert plain in text and packed in text
    assert text.index(plain) < text.index("✓ output[-1, :, :H_out] == h_n[-1]") < text.index(packed)
    assert text.index(packed) < text.index("≠ output[-1, :, :H_out] == h_n[-1]")
    # the footer's MAC count is the packed call's: sum(lengths) = 10 steps, not L·N = 15
    assert report.totals is not None and report.totals.macs == 10 * (3 * 30 * 50 + 3 * 30 * 30)
    assert (
        "over sum(lengths) = 10 real steps of the packed call "
        "(the plain call on the padded input runs L·N = 15)" in text
    )
    code, out, _ = run_cli(
        capsys, "rnn", "--kind", "gru", "--lengths", "5,2,3", "--explain", "--format", "json"
    )
    data = json.loads(out)
    assert code == 0
    assert {r["call"] for r in data["relations"]} == {"plain"}
    assert {r["call"] for r in data["packed"]["relations"]} == {"packed"}
    # without --lengths there is one call, and the heading stays as it was
    assert "plain call" not in render_table(inspect(kind="gru", explain=True))
