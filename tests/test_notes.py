"""The warnings under the table appear exactly where a configuration invites the mistake."""

from __future__ import annotations

from torchshape.families.rnn.formulas import legend, notes
from torchshape.families.rnn.request import make_spec


def _has(spec_notes: list[str], text: str) -> bool:
    return any(text in note for note in spec_notes)


def test_batch_first_note_only_when_batch_first() -> None:
    assert _has(notes(make_spec(batch_first=True)), "batch_first applies to input and output only")
    assert not _has(notes(make_spec()), "batch_first")


def test_proj_size_note_names_both_sizes() -> None:
    text = notes(make_spec(proj_size=10))
    assert _has(text, "h and output use H_out = proj_size; c keeps H_cell")
    assert not _has(notes(make_spec()), "proj_size")


def test_dropout_with_one_layer_does_nothing() -> None:
    assert _has(notes(make_spec(dropout=0.5)), "with one layer it does nothing")
    assert not _has(notes(make_spec(dropout=0.5, num_layers=2)), "with one layer")


def test_unbatched_drops_n_everywhere() -> None:
    text = notes(make_spec(unbatched=True))
    assert _has(text, "N is dropped from every tensor")
    assert "N" not in [entry.symbol for entry in legend(make_spec(unbatched=True))]
    assert _has(notes(make_spec(unbatched=True, batch_first=True)), "batch_first has no effect on unbatched")


def test_legend_says_why() -> None:
    by_symbol = {e.symbol: e for e in legend(make_spec(bidirectional=True, proj_size=7))}
    assert by_symbol["D"].value == 2 and "--bidir" in by_symbol["D"].meaning
    assert by_symbol["H_out"].value == 7 and "--proj-size" in by_symbol["H_out"].meaning
