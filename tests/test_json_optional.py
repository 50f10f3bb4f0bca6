"""The optional JSON keys appear exactly with their flags, in the documented order."""

from __future__ import annotations

import json

import pytest

from torchshape.cli import main

ORDER = ["relations", "layout", "handoff", "packed", "unroll"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], []),
        (["--explain"], ["relations", "layout", "handoff"]),
        (["--lengths", "4,1,3"], ["packed"]),
        (["--unroll"], ["unroll"]),
        (["--explain", "--lengths", "4,1,3", "--bidir"], ["relations", "layout", "handoff", "packed"]),
    ],
)
def test_optional_keys_follow_timing(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]
) -> None:
    assert main(["rnn", *args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = list(data)
    tail = keys[keys.index("timing") + 1 :]
    assert tail == expected
    assert tail == [key for key in ORDER if key in tail]
    assert data["ok"] is True
