"""The README reads in a minute: what torchshape is, the Quick start near the top, one example
output, a table of the commands with their guides; the long examples live in docs/, still checked."""

from __future__ import annotations

import re
from pathlib import Path

from torchshape import families

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLE = re.compile(r"<!-- torchshape-example(?: exit=\d+)?: (\S+)")
LIMIT_BYTES = 12 * 1024
QUICK_START_BY_LINE = 60


def test_the_readme_is_short() -> None:
    assert len(README.read_bytes()) <= LIMIT_BYTES


def test_the_quick_start_comes_first() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("## Quick start")
    assert start < QUICK_START_BY_LINE
    section = "\n".join(lines[start : start + 12])
    assert "pip install . && torchshape" in section
    assert 'pip install ".[test]" && python -m pytest' in section


def test_the_readme_shows_one_example() -> None:
    assert len(EXAMPLE.findall(README.read_text(encoding="utf-8"))) == 1


def test_every_command_is_in_the_table_with_its_guide() -> None:
    text = README.read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `torchshape ")]
    for name in families.COMMANDS:
        row = next((line for line in table if line.startswith(f"| `torchshape {name}")), None)
        assert row is not None, name
        assert f"(docs/{name}.md)" in row


def test_every_command_has_a_checked_example_in_the_docs() -> None:
    shown = set()
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        shown.update(EXAMPLE.findall(page.read_text(encoding="utf-8")))
    assert set(families.COMMANDS) <= shown
