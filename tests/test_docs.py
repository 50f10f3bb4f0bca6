"""The README, docs/*.md and BENCHMARKS.md hang together: every relative link and #anchor resolves, and the
README links every docs page.

Anchors are GitHub's: the heading's text, lowercase, each space a '-', every punctuation
character other than '-' and '_' dropped; a repeated heading gets '-1', '-2', ...
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
# Checked for links too: written by benchmarks/run.py, linked from the docs
OTHERS = [ROOT / "BENCHMARKS.md"]

FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks and HTML comments."""
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m[0].count("\n"), text, flags=re.S)
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = "".join(c for c in text if c.isalnum() or c in "-_ " or unicodedata.category(c).startswith("M"))
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match[2])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> list[str]:
    """Every link target in the prose: inline links, images and reference definitions."""
    targets = []
    for line in prose_lines(text):
        reference = REFERENCE.match(line)
        if reference:
            targets.append(reference[1])
            continue
        targets += [m[1] for m in LINK.finditer(CODE_SPAN.sub("", line))]
    return targets


def broken_links(doc: Path) -> list[str]:
    """The links in ``doc`` that lead to no file, or to no heading of their Markdown page."""
    broken = []
    for target in links(doc.read_text(encoding="utf-8")):
        if not target or SCHEME.match(target):
            continue  # a web address: not checked here
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif ROOT not in file.parents and file != ROOT:
            broken.append(f"{target}: outside the repository")
        elif anchor:
            if file.suffix != ".md":
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{target}: no heading with the anchor #{anchor}")
    return broken


@pytest.mark.parametrize("doc", DOCUMENTS + OTHERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(doc: Path) -> None:
    assert broken_links(doc) == []


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in links(README.read_text(encoding="utf-8"))
        if not SCHEME.match(target)
    }
    pages = set(DOCUMENTS[1:])
    assert pages, "docs/ has no pages"
    assert sorted(p.name for p in pages - linked) == []


def test_every_docs_page_has_a_title() -> None:
    for doc in DOCUMENTS[1:]:
        assert doc.read_text(encoding="utf-8").startswith("# "), doc.name


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("`--explain`: which part of `output` is `h_n`", "--explain-which-part-of-output-is-h_n"),
        (
            "Hand-off to a decoder: `h_n` as a decoder's initial state",
            "hand-off-to-a-decoder-h_n-as-a-decoders-initial-state",
        ),
        ("`--lengths 4,1,3`: a variable-length batch", "--lengths-413-a-variable-length-batch"),
        ("A cell over a sequence: `--seq-len L --unroll`", "a-cell-over-a-sequence---seq-len-l---unroll"),
        ("Parameters, compute and memory", "parameters-compute-and-memory"),
        ("The campaign: never a traceback", "the-campaign-never-a-traceback"),
        ("LSTM 50→30 [docs](x.md)", "lstm-5030-docs"),
    ],
)
def test_anchors_are_githubs(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_the_checker_finds_a_broken_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "other.md").write_text("# Other\n\n## A part\n\n## A part\n", encoding="utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Title\n\n"
        "[fine](other.md#a-part-1) [fine](#title) [web](https://example.com/x#y)\n"
        "[gone](missing.md) [no anchor](other.md#a-part-2) [self](#nothing)\n"
        "`[in code](missing.md)`\n\n```console\n[in a block](missing.md)\n# not a heading\n```\n"
        "<!-- [in a comment](missing.md) -->\n",
        encoding="utf-8",
    )
    assert broken_links(doc) == [
        "missing.md: no such file",
        "other.md#a-part-2: no heading with the anchor #a-part-2",
        "#nothing: no heading with the anchor #nothing",
    ]
