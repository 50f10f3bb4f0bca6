"""The Python ``inspect_*`` functions are made from each family's settings table: their
signatures, the settings in their docstrings, and the wording of their errors."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_api_errors import FAMILIES
from torchshape.python_terms import python_words
from torchshape.settings import Role

FUNCTIONS = FAMILIES  # each family's inspect function


def table(family: str) -> Any:
    return importlib.import_module(f"torchshape.families.{family}.spec")


@pytest.mark.parametrize("family", sorted(FUNCTIONS))
def test_the_signature_and_the_docstring_list_the_table(family: str) -> None:
    function = FUNCTIONS[family]
    names = [row.name for row in table(family).SETTINGS if row.role is not Role.OUTPUT]
    parameters = inspect.signature(function).parameters
    assert list(parameters) == ["spec", *names]
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY for name in names)
    doc = function.__doc__ or ""
    assert all(f"\n        {name}=" in doc for name in names), doc
    assert "--" not in doc.split("by name, in PyTorch's names")[1].replace("--format", "")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FUNCTIONS)), st.data())
def test_passing_a_shown_default_changes_nothing(family: str, data: st.DataObject) -> None:
    """Each default ``help()`` shows is what the call takes when the setting is left out."""
    function = FUNCTIONS[family]
    shown = {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if name not in ("spec", "device")
    }
    chosen = data.draw(st.lists(st.sampled_from(sorted(shown)), unique=True, min_size=1))
    given_defaults = function(device="meta", **{name: shown[name] for name in chosen})
    assert given_defaults.spec == function(device="meta").spec


def test_flags_become_python_arguments_as_the_table_says() -> None:
    from torchshape.families.norm.spec import NormSpec

    norm = table("norm")
    text = "drop --no-affine, or use --kind layer with --eps 0.5 and --track-running-stats; --format json"
    assert python_words(text, norm.SETTINGS, NormSpec) == (
        "drop affine=False, or use kind='layer' with eps=0.5 and track_running_stats=True; --format json"
    )


@pytest.mark.parametrize("family", sorted(FUNCTIONS))
def test_the_report_carries_the_switches_it_was_asked_for(family: str) -> None:
    """``report.switches`` is what the call asked of the run; "Reproduce with" asks for the same."""
    from torchshape.options import Format, Shown
    from torchshape.render.shown import reproduce

    switches = [row for row in table(family).SETTINGS if row.role in (Role.RUN, Role.BOTH)]
    for on in switches:
        asked = {row.name: row is on for row in switches}
        report = FUNCTIONS[family](**asked)
        assert report.switches == asked
        words = reproduce(report, Format.TABLE, Shown()).split()
        assert [row.flags[0] in words for row in switches] == list(asked.values()), words


def test_a_flag_beside_another_or_before_a_colon_keeps_its_value() -> None:
    from torchshape.families.embedding.spec import SETTINGS, EmbeddingSpec

    text = "With --bag --mode sum: one weight per index; --padding-idx -1 on --device cuda:1."
    assert python_words(text, SETTINGS, EmbeddingSpec) == (
        "With bag=True mode='sum': one weight per index; padding_idx=-1 on device='cuda:1'."
    )
