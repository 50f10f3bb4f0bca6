"""What reaches a terminal or pipe that cannot carry every character torchshape uses.

torchshape writes ×, ·, √, ✓ and a few more. Where stdout or stderr is not UTF-8
(``PYTHONIOENCODING=ascii``, a Latin-1 locale), each falls back to ASCII that reads
the same way (``·`` → ``*``, ``✓`` → ``ok``, ``√`` → ``sqrt``) instead of raising
UnicodeEncodeError:

- ``install`` makes every write to stdout and stderr fall back that way (help
  text, error lines, the spinner);
- ``ascii_renderable`` does it to a rich renderable before rich lays it out, so the
  columns of a table stay aligned when a symbol becomes several letters;
- ``for_stream`` does it to a file format's text, losslessly where the format has
  its own escapes (JSON ``\\u00b7``, SVG ``&#183;``).

Files written with ``--output`` are always UTF-8 and keep every symbol.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from torchshape.options import Format

if TYPE_CHECKING:  # rich is imported where it is used: ``install`` runs before --help
    from rich.console import Console, RenderableType
    from rich.text import Text

ASCII = {
    "·": "*",
    "×": "x",
    "−": "-",
    "–": "-",
    "—": "-",
    "•": "-",
    "…": "...",
    "✓": "ok",
    "✗": "FAIL",
    "√": "sqrt",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "≈": "~",
    "→": "->",
    "ᵀ": "^T",
    "Δ": "d",
    "µ": "u",
    # --diagram's glyphs: one character each, so the drawing keeps its columns
    "─": "-",
    "▶": ">",
    "◀": "<",
    "▲": "^",
    "┄": ":",
    "■": "#",
    "□": ".",
    "◆": "+",
    "●": "o",
    "⋮": ":",
    "░": "%",
    "▓": "@",
}
SYMBOLS = "".join(ASCII)  # a stream that carries these carries all torchshape writes
ERRORS = "torchshape.ascii"  # the codec error handler ``install`` sets on stdout and stderr
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TRAILING = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)


def strip_trailing_spaces(text: str) -> str:
    """No line ends in spaces (rich pads table cells), before or after its closing escape codes."""
    return _TRAILING.sub(r"\1", text)


def to_ascii(text: str) -> str:
    """``text`` with every character outside ASCII replaced by its fallback (``?`` if none)."""
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda m: ASCII.get(m.group(), "?"), text)


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return to_ascii(error.object[error.start : error.end]), error.end


codecs.register_error(ERRORS, _fallback)


def install(*streams: TextIO) -> None:
    """Make ``streams`` fall back to ASCII for what their encoding cannot carry."""
    for stream in streams:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors=ERRORS)
        except (ValueError, OSError):  # closed, or a stream that cannot change now
            continue


def carries(stream: Any, text: str) -> bool:
    """Whether ``stream``'s encoding can write ``text`` as it is."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    except LookupError:
        return True
    return True


def for_stream(text: str, fmt: Format, stream: Any) -> str:
    """A file format's ``text`` as ``stream`` can carry it, keeping the format valid."""
    if carries(stream, text):
        return text
    if fmt is Format.JSON:  # non-ASCII occurs only inside JSON strings, where \\uXXXX means the same
        return _NON_ASCII.sub(lambda m: _json_escape(m.group()), text)
    if fmt is Format.SVG:  # XML character references mean the same anywhere in the document
        return text.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return to_ascii(text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def ascii_renderable(renderable: RenderableType) -> RenderableType:
    """``renderable`` with every text in it turned to ASCII, before rich measures anything."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if isinstance(renderable, str):
        return to_ascii(renderable)
    if isinstance(renderable, Text):
        return _ascii_text(renderable)
    if isinstance(renderable, Group):
        renderable.renderables[:] = [ascii_renderable(r) for r in renderable.renderables]
        return renderable
    if isinstance(renderable, Table):
        for column in renderable.columns:
            column.header = ascii_renderable(column.header)
            cells = getattr(column, "_cells", None)
            if isinstance(cells, list):
                cells[:] = [ascii_renderable(cell) for cell in cells]
        return renderable  # torchshape's tables have no titles or captions
    return renderable  # anything else: the stream's fallback (``install``) still applies


def _ascii_text(text: Text) -> Text:
    """A Text in ASCII with its styles: cut where any style starts or ends, convert each piece."""
    from rich.text import Text

    if text.plain.isascii():
        return text
    cuts = sorted({span.start for span in text.spans} | {span.end for span in text.spans})
    out = Text(
        style=text.style,
        justify=text.justify,
        overflow=text.overflow,
        no_wrap=text.no_wrap,
        end=text.end,
    )
    for piece in text.divide(cuts):
        converted = Text(to_ascii(piece.plain))
        for span in piece.spans:  # each span now covers its piece whole
            converted.stylize(span.style)
        out.append_text(converted)
    return out


def console() -> Console:
    """The console for stdout; a reader that leaves early raises BrokenPipeError (rich would exit 1)."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return PipeConsole()


def reader_gone() -> None:
    """stdout's reader left: send what is still buffered to /dev/null, so exiting stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (captured in tests)
        pass
