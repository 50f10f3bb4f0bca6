"""No module of torchshape is over 400 lines: a long one is split along its own sections."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "torchshape"
MOST = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert sorted(name for name, lines in sizes.items() if lines > MOST) == []
