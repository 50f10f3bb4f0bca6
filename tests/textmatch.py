"""Compare shown output with real output: words exactly, computed floats within a tolerance.

torch versions and CPUs differ in the last bits of a float: a max |difference| shown as
3.58e-07 on one machine is 1.19e-07 or exactly 0 on another. So every number is read as a
number: where either side has a decimal point or an exponent, the two are compared with
``math.isclose`` (an ``0`` against ``3.58e-07`` too); two whole numbers (a shape, a count)
must be equal, and every other word must be the same.
"""

from __future__ import annotations

import math
import re

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# A float from a computation such as a max |difference|: anything this small is noise.
ABS_TOL = 1e-5
REL_TOL = 1e-3


def split(line: str) -> tuple[str, list[str]]:
    """The line with each number replaced by a placeholder, and the numbers as written."""
    return NUMBER.sub("<number>", line), NUMBER.findall(line)


def _whole(number: str) -> bool:
    return not any(c in number for c in ".eE")


def same_number(a: str, e: str) -> bool:
    if _whole(a) and _whole(e):
        return int(a) == int(e)
    return math.isclose(float(a), float(e), rel_tol=REL_TOL, abs_tol=ABS_TOL)


def same_line(actual: str, expected: str) -> bool:
    text_a, numbers_a = split(actual)
    text_e, numbers_e = split(expected)
    return (
        text_a == text_e
        and len(numbers_a) == len(numbers_e)
        and all(same_number(a, e) for a, e in zip(numbers_a, numbers_e, strict=True))
    )


def same_lines(actual: list[str], expected: list[str]) -> bool:
    return len(actual) == len(expected) and all(
        same_line(a, e) for a, e in zip(actual, expected, strict=True)
    )


def same_text(actual: str, expected: str) -> bool:
    """Whole outputs, line by line (a golden file, a docs example)."""
    return same_lines(actual.split("\n"), expected.split("\n"))
