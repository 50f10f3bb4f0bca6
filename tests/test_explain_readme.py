"""The docs' console excerpts are what torchshape prints.

A console block that opens with ``$ torchshape ARGS`` and then a line ``…`` shows an
excerpt of that command's output: in the README or any docs/*.md page, its lines must
appear together, in order, in the real output (floats within a tolerance). The
--explain, --lengths and --unroll section (docs/rnn.md) must show each of those flags.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.textmatch import same_line, same_lines
from torchshape.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RNN_PAGE = ROOT / "docs" / "rnn.md"
SECTION = "## Output vs h_n, packed batches, step by step"


def excerpts(text: str) -> list[tuple[list[str], list[str]]]:
    """Each console block ``$ torchshape ARGS`` / ``…`` / lines: the arguments and the lines."""
    out = []
    for block in re.findall(r"^```console\n(.*?)^```", text, flags=re.S | re.M):
        lines = block.splitlines()
        if len(lines) >= 3 and lines[0].startswith("$ torchshape ") and lines[1] == "…":
            out.append((lines[0].split()[2:], lines[2:]))
    return out


def section_examples() -> list[tuple[list[str], list[str]]]:
    """The excerpts of the --explain/--lengths/--unroll section, wherever it lives."""
    text = RNN_PAGE.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/rnn.md has no section {SECTION!r}"
    section = text[text.index(SECTION) :]
    end = section.find("\n## ", len(SECTION))
    section = section if end < 0 else section[:end]
    for block in re.findall(r"^```console\n(.*?)^```", section, flags=re.S | re.M):
        lines = block.splitlines()
        assert lines[0].startswith("$ torchshape ") and lines[1] == "…", lines[:2]
    return excerpts(section)


def test_the_section_has_an_example_of_each_flag() -> None:
    flags = {flag for args, _ in section_examples() for flag in args}
    assert {"--explain", "--lengths", "--unroll"} <= flags


def all_examples() -> list[tuple[str, list[str], list[str]]]:
    return [
        (doc.relative_to(ROOT).as_posix(), args, shown)
        for doc in DOCUMENTS
        for args, shown in excerpts(doc.read_text(encoding="utf-8"))
    ]


EXAMPLES = all_examples()


def test_the_section_examples_are_among_those_checked() -> None:
    assert len(section_examples()) >= 5
    checked = [(args, shown) for doc, args, shown in EXAMPLES if doc == "docs/rnn.md"]
    assert all(example in checked for example in section_examples())


@pytest.mark.parametrize(
    ("doc", "args", "shown"), EXAMPLES, ids=[f"{doc}: {' '.join(args)}" for doc, args, _ in EXAMPLES]
)
def test_doc_excerpt_is_real_output(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    doc: str,
    args: list[str],
    shown: list[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(args) == 0
    printed = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    assert shown[0] in printed, f"{doc}: `{shown[0]}` is not in the output of torchshape {' '.join(args)}"
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
