"""The prose around --explain and --lengths names what is printed for this configuration.

Every ``output[...]`` a sentence quotes must be an indexing that the printed expressions
use (sequence-first, batch_first and unbatched index differently), and every ``.view(...)``
a sentence names must be the view the layout shows (unbatched h_n has no N).
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import settings
from torchshape import inspect, make_spec
from torchshape.families.rnn.formulas import notes
from torchshape.render import render_json
from torchshape.render.table import render_table

OUTPUT_FRAGMENT = re.compile(r"output\[([^\[\]]*)\]")
VIEW_FRAGMENT = re.compile(r"\b([hc]_n)\.view\([^()]*\)")


@st.composite
def prose_settings(draw: st.DrawFn) -> dict[str, Any]:
    raw = draw(settings(max_size=6, max_layers=3))
    if not raw["unbatched"] and draw(st.booleans()):
        raw["lengths"] = draw(st.lists(st.integers(1, raw["seq_len"]), min_size=1, max_size=5))
        raw["batch"] = len(raw["lengths"])
    return raw


def printed_expressions(report: Any) -> list[str]:
    """Every expression the sections print: relations (both sides), hand-off code."""
    analysis = report.probe.analysis
    checks = list(analysis.relations or [])
    if analysis.packed is not None:
        checks += analysis.packed.relations
    if getattr(analysis, "handoff", None) is not None:
        checks += analysis.handoff.relations
    out = [side for c in checks for side in (c.relation.expression, c.relation.numeric)]
    if getattr(analysis, "handoff", None) is not None:
        out += list(analysis.handoff.code) + list(analysis.handoff.code_numeric)
    return out


def quoted_in(fragment: str, expressions: list[str]) -> bool:
    """``output[X]`` is the start of (or the whole of) an indexing some expression prints."""
    return any(f"output[{fragment}," in e or f"output[{fragment}]" in e for e in expressions)


@given(prose_settings())
def test_every_quoted_output_index_is_one_the_layout_prints(raw: dict[str, Any]) -> None:
    report = inspect(**raw, explain=True)
    assert report.ok
    expressions = printed_expressions(report)
    data = json.loads(render_json(report))
    relations = list(data["relations"]) + (data["packed"]["relations"] if "packed" in data else [])
    relations += (data["handoff"] or {}).get("relations", [])
    prose = [r["meaning"] for r in relations] + list(report.notes)
    prose.append(render_table(report, width=400))  # packed notes and section heads too
    for text in prose:
        for fragment in OUTPUT_FRAGMENT.findall(text):
            assert quoted_in(fragment, expressions), (fragment, text)


@given(settings(max_size=6, max_layers=3))
def test_every_view_named_in_prose_is_the_printed_layout(raw: dict[str, Any]) -> None:
    report = inspect(**raw, explain=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.layouts is not None
    views = {layout.tensor: layout.view for layout in analysis.layouts}
    prose = list(report.notes) + [c.relation.meaning for c in analysis.relations or []]
    prose += [c.relation.lhs + " " + c.relation.rhs for c in analysis.relations or []]
    for text in prose:
        for match in VIEW_FRAGMENT.finditer(text):
            assert match.group(0) == views[match.group(1)], text


def test_unbatched_bidirectional_note_has_no_n() -> None:
    text = " ".join(notes(make_spec(unbatched=True, bidirectional=True, num_layers=2)))
    assert "N is dropped from every tensor" in text
    assert "h_n.view(num_layers, D, H_out)" in text
    assert "h_n.view(num_layers, D, N, H_out)" not in text
    batched = " ".join(notes(make_spec(bidirectional=True)))
    assert "h_n.view(num_layers, D, N, H_out)" in batched


def test_batch_first_mistakes_quote_the_batch_first_step() -> None:
    report = inspect(kind="gru", bidirectional=True, batch_first=True, lengths=[5, 3, 2], explain=True)
    analysis = report.probe.analysis
    assert analysis is not None and analysis.relations is not None and analysis.packed is not None
    meanings = [c.relation.meaning for c in analysis.relations + analysis.packed.relations]
    mistakes = [m for m in meanings if m.startswith("mistake: output")]
    assert mistakes and all(m.startswith("mistake: output[:, -1]") for m in mistakes)
