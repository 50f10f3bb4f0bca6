"""The README's --explain, --lengths and --unroll examples are what torchshape prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.textmatch import same_line, same_lines
from torchshape.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Output vs h_n, packed batches, step by step"


def examples() -> list[tuple[list[str], list[str]]]:
    """Each console block of the section: the command's arguments and the lines shown after '…'."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    out = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        lines = block.splitlines()
        assert lines[0].startswith("$ torchshape ") and lines[1] == "…"
        out.append((lines[0].split()[2:], lines[2:]))
    return out


def test_the_section_has_an_example_of_each_flag() -> None:
    flags = {flag for args, _ in examples() for flag in args}
    assert {"--explain", "--lengths", "--unroll"} <= flags


EXAMPLES = examples()


@pytest.mark.parametrize(("args", "shown"), EXAMPLES, ids=[" ".join(args) for args, _ in EXAMPLES])
def test_readme_example_is_real_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], shown: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(args) == 0
    printed = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    start = printed.index(shown[0])
    # floats computed by torch within a tolerance, every other word exactly
    assert same_lines(printed[start : start + len(shown)], shown), printed[start : start + len(shown)]


@pytest.mark.parametrize(
    ("actual", "expected", "same"),
    [
        ("max |Δ|: output 2.38e-07, h_n 0", "max |Δ|: output 3.58e-07, h_n 0", True),
        ("max |Δ|: output 2.38e-07, h_n 0", "max |Δ|: output 2.38e-07, h_n 1", False),  # integers exact
        ("output 0.5", "output 0.6", False),  # a real difference
        ("(5, 3, 60)", "(5, 3, 30)", False),
        ("rtol 1e-05", "rtol 1e-05 more", False),
    ],
)
def test_the_comparison_tolerates_only_float_noise(actual: str, expected: str, same: bool) -> None:
    assert same_line(actual, expected) is same
