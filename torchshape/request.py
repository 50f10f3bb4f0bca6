"""One validation step: a family's checked spec and the output flags become a checked ``Request``.

No torch here. A family checks its own flags into a spec (``families/*/request.py``);
this adds what every command shares: the format (``--format``, or ``--output``'s
extension) and the flags it cannot carry, ``--params``, ``--explain``, ``--diagram``, and ``--time``
with ``--repeats``/``--warmup``. Every bad value raises ``UsageError`` naming its flag
before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape.options import Format, Shown, check_format_flags, parse_format
from torchshape.timing import TimingSettings, timing_settings


@dataclass(frozen=True)
class Request:
    """What one command asked for, checked."""

    spec: Any  # the family's spec
    fmt: Format
    shown: Shown  # --params, --output
    explain: bool
    diagram: bool  # --diagram
    timing: TimingSettings | None  # --time: how many runs; None without it


def check_request(
    spec: Any,
    *,
    output_format: str | None,
    output: str | None,
    params: bool,
    explain: bool,
    time: bool,
    repeats: str | None,
    warmup: str | None,
    diagram: bool = False,
) -> Request:
    """The output flags beside ``spec``, checked together; ``repeats``/``warmup`` None when not typed."""
    fmt = parse_format(output_format, output)
    check_format_flags(fmt, explain=explain, time=time, params=params, diagram=diagram)
    if output is not None:
        from torchshape.output_file import STDOUT, check_output

        check_output(output)  # a directory, or nowhere to write: refused before the forward pass
        output = None if output == STDOUT else output
    return Request(
        spec=spec,
        fmt=fmt,
        shown=Shown(params=params, output=output),
        explain=explain,
        diagram=diagram,
        timing=timing_settings(spec, time, repeats, warmup),
    )
