"""Compare shown output with real output: words exactly, computed floats within a tolerance.

torch versions differ in the last bits of a float (a max |difference| of 2.38e-07 on one,
3.58e-07 on another), so a number with a decimal point or an exponent is compared with
``math.isclose``; every other word, integers included, must be the same.
"""

from __future__ import annotations

import math
import re

FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)|[-+]?\d+\.\d+")
# A float from a computation such as a max |difference|: anything this small is noise.
ABS_TOL = 1e-5
REL_TOL = 1e-3


def split(line: str) -> tuple[str, list[float]]:
    """The line with each float replaced by a placeholder, and the floats."""
    return FLOAT.sub("<float>", line), [float(m) for m in FLOAT.findall(line)]


def same_line(actual: str, expected: str) -> bool:
    text_a, floats_a = split(actual)
    text_e, floats_e = split(expected)
    return (
        text_a == text_e
        and len(floats_a) == len(floats_e)
        and all(
            math.isclose(a, e, rel_tol=REL_TOL, abs_tol=ABS_TOL)
            for a, e in zip(floats_a, floats_e, strict=True)
        )
    )


def same_lines(actual: list[str], expected: list[str]) -> bool:
    return len(actual) == len(expected) and all(
        same_line(a, e) for a, e in zip(actual, expected, strict=True)
    )
