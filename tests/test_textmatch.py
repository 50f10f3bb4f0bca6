"""The matcher that compares docs and goldens with real output: a figure torch computes may
differ in its last bits on another torch or CPU (even be exactly 0); a shape or a count may not."""

from __future__ import annotations

from tests.textmatch import same_line, same_text


def test_zero_is_a_number() -> None:
    shown = "max |step loop − one call|: output 3.58e-07, h_n 2.38e-07"
    assert same_line("max |step loop − one call|: output 0, h_n 1.19e-07", shown)
    assert same_line("output, per step: 0 1.19e-07 0", "output, per step: 2.38e-07 3.58e-07 2.38e-07")


def test_whole_numbers_and_words_must_be_equal() -> None:
    assert not same_line("(4, 8, 29, 20)", "(4, 8, 28, 20)")
    assert not same_line("parameters 20,001", "parameters 20,000")
    assert not same_line("output 3.58e-07", "h_n 3.58e-07")
    assert not same_line("output 0.5", "output 3.58e-07")  # not noise: a real difference


def test_whole_outputs_line_by_line() -> None:
    assert same_text("a 1.0e-07\nb (4, 8)\n", "a 0\nb (4, 8)\n")
    assert not same_text("a 1.0e-07\nb (4, 8)\n", "a 0\nb (4, 8)\nc\n")
