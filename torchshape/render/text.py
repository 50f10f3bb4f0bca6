"""Small text pieces every renderer shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from torchshape.shapes import shape_text
from torchshape.terminal import strip_trailing_spaces

__all__ = [
    "CodeText",
    "HangingText",
    "code_text",
    "file_width",
    "hanging",
    "plain_console",
    "shape_text",
    "strip_trailing_spaces",
    "unbroken_code",
]

if TYPE_CHECKING:
    import io

    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.measure import Measurement

# The widest any file or pipe gets: past this a code line folds after all.
MAX_FILE_WIDTH = 400


class CodeText(Text):
    """A line of code (``output[-1, :, :30] == h_n[-1]``): on a terminal it folds at the edge,
    in a file or pipe it is never broken (see ``unbroken_code``)."""

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        measured = super().__rich_measure__(console, options)
        if self.no_wrap:  # rich measures any text as if it could wrap at each space
            return Measurement(measured.maximum, measured.maximum)
        return measured


class HangingText(Text):
    """A line of prose indented by its leading spaces, whose wrapped lines keep that indent."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Any:
        from rich.padding import Padding

        indent = len(self.plain) - len(self.plain.lstrip(" "))
        body = self[indent:]
        yield Padding(body, (0, 0, 0, indent)) if indent else body


def hanging(line: str, style: Any = "") -> Text:
    return HangingText(line, style=style)


def code_text(code: str, style: Any = "") -> Text:
    return CodeText(code, style=style)


def unbroken_code(renderable: RenderableType) -> RenderableType:
    """``renderable`` with every ``code_text`` in it set never to wrap, for files and pipes."""
    from rich.console import Group
    from rich.table import Table

    if isinstance(renderable, CodeText):
        renderable.no_wrap = True
        renderable.overflow = "ignore"
    elif isinstance(renderable, Group):
        for child in renderable.renderables:
            unbroken_code(child)
    elif isinstance(renderable, Table):
        for column in renderable.columns:
            for cell in getattr(column, "_cells", []):
                unbroken_code(cell)
    return renderable


def file_width(console: Console, renderable: RenderableType, at_least: int = 80) -> int:
    """The width a file or pipe gets: ``at_least``, or wider where a code line needs it."""
    from rich.measure import Measurement

    needed = Measurement.get(console, console.options.update_width(MAX_FILE_WIDTH), renderable).minimum
    return max(at_least, min(needed, MAX_FILE_WIDTH))


def plain_console() -> tuple[Console, io.StringIO]:
    """A console without colour, 80 columns wide, writing into the buffer beside it."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=80,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        legacy_windows=False,
    )
    return console, buffer


def plain_lines(renderables: list[RenderableType], *, widest: bool = False) -> list[str]:
    """Rich renderables as the terminal's plain lines, wide enough that no line of code is broken;
    ``widest``: as wide as a file allows (prose a page wraps itself)."""
    from rich.console import Group

    console, buffer = plain_console()
    group = unbroken_code(Group(*renderables))
    console.width = MAX_FILE_WIDTH if widest else file_width(console, group)
    console.print(group)
    return [line.rstrip() for line in buffer.getvalue().strip("\n").splitlines()]
