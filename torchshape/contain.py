"""Keep the user's code (``torchshape model TARGET``) from taking over the command line.

Importing a model and calling its forward runs the user's code inside torchshape's process.
That code may call ``sys.exit``, print, leave threads running, raise exceptions whose
``str()`` itself raises, or put terminal escape sequences in its messages. Here is how each
is kept in its place:

- ``SystemExit`` from the model becomes ``ModelExited``: one line naming the call
  (``the model called sys.exit(3) in forward``), exit 1. ``os._exit`` ends the process
  without running any Python code after it, so no program can report it: the exit status
  is the model's and nothing is written (docs/model.md says so).
- While the report goes to stdout, whatever the model prints goes to stderr, at the level
  of the file descriptor, so that ``--format json`` stays valid JSON.
- The guard's trace on meta, before the real run, is silent: each print of the model
  appears once, from the run whose values the report shows.
- ``message`` turns an exception into one printable line: its ``str``, else its ``repr``,
  else its type's name, with control characters escaped.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from torchshape.errors import TorchshapeError

# Characters that move the cursor, ring the bell or start an escape sequence on a terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL |= {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\n``): safe on a terminal, one line."""
    return text.translate(_CONTROL)


def text_of(error: BaseException) -> str:
    """``str(error)``, or ``repr(error)`` when that raises, or the name of its type."""
    for show in (str, repr):
        try:
            shown = show(error)
        except Exception:
            continue
        if isinstance(shown, str):
            return shown
    return type(error).__name__


def message(error: BaseException) -> str:
    """The first non-empty line of what ``error`` says, printable; its type's name when it says nothing."""
    lines = [line.strip() for line in text_of(error).strip().splitlines()]
    first = next((line for line in lines if line), "")
    return printable(first) if first else type(error).__name__


def exit_text(exit_: SystemExit) -> str:
    """``sys.exit(3)``, ``sys.exit()``, ``sys.exit('bye')``: how the model left."""
    code = exit_.code
    if code is None:
        return "sys.exit()"
    try:
        shown = repr(code)
    except Exception:
        shown = type(code).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"sys.exit({printable(shown)})"


class ModelExited(TorchshapeError):
    """The user's code called ``sys.exit`` (exit 1, whatever code it gave)."""

    exit_code = 1


@contextlib.contextmanager
def no_exit(when: str) -> Iterator[None]:
    """Turn the model's ``SystemExit`` inside the block into ``ModelExited`` (exit 1).

    ``when``: where it happened, as the message says it (``in forward``, ``at import of net.py``).
    """
    try:
        yield
    except SystemExit as exc:
        raise ModelExited(f"the model called {exit_text(exc)} {when}") from None


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Inside the block, what is written to stdout (``print``, ``os.write(1, ...)``, C code) goes to stderr.

    torchshape writes its report to stdout after the block; the model's prints cannot mix into it.
    """
    try:
        stdout_fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else -1
        stderr_fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else -1
    except (OSError, ValueError):  # no real descriptors (an embedding host, a test runner's capture)
        stdout_fd = stderr_fd = -1
    saved = -1
    _flush()
    if stdout_fd >= 0 and stderr_fd >= 0:
        try:
            saved = os.dup(stdout_fd)
            os.dup2(stderr_fd, stdout_fd)
        except OSError:
            saved = -1
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _flush()
        if saved >= 0:
            os.dup2(saved, stdout_fd)
            os.close(saved)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Nothing the block writes to stdout or stderr is seen (the guard's trace of the model on meta)."""
    _flush()
    targets: list[tuple[int, int]] = []
    devnull = -1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is None:
                continue
            fd = stream.fileno()
            targets.append((fd, os.dup(fd)))
            os.dup2(devnull, fd)
    except (OSError, ValueError):
        pass
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed in the finally below
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield
    finally:
        _flush()
        sink.close()
        for fd, saved in reversed(targets):
            os.dup2(saved, fd)
            os.close(saved)
        if devnull >= 0:
            os.close(devnull)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()


def leave_if_threads_remain(code: int) -> None:
    """End the process now with ``code`` when threads the model started would keep it alive.

    Python waits for every non-daemon thread before it exits; a model that started one and
    never stopped it would hold the command line after its report forever.
    """
    import threading

    main = threading.main_thread()
    if any(t is not main and t.is_alive() and not t.daemon for t in threading.enumerate()):
        _flush()
        os._exit(code)
