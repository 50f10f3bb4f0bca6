"""``--output FILE``: write the rendered text whole or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from torchshape.errors import EnvironmentProblem


def _new_file_mode() -> int:
    """The permissions an ordinary new file gets here (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _make_directories(directory: str, flag: str) -> list[str]:
    """Create ``directory`` and any missing parents; return those created, outermost first.

    A parent that exists but is a file raises ``EnvironmentProblem``; so does a failed
    ``mkdir``, after removing what this call created.
    """
    missing: list[str] = []
    current = directory  # as the user wrote it, so that messages show their words
    while current and not os.path.isdir(current):
        if os.path.lexists(current):
            raise EnvironmentProblem(f"{flag}: the directory {current} is not a directory")
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:  # pragma: no cover - the root always exists
            break
        current = parent
    created: list[str] = []
    try:
        for name in reversed(missing):
            os.mkdir(name)
            created.append(name)
    except OSError as exc:
        _remove_directories(created)
        reason = (exc.strerror or str(exc)).lower()
        raise EnvironmentProblem(f"{flag}: cannot create the directory {name}: {reason}") from None
    return created


def _remove_directories(created: list[str]) -> None:
    for name in reversed(created):
        with contextlib.suppress(OSError):
            os.rmdir(name)


def write_output(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file beside it, then a rename.

    Missing parent directories are created (``--output docs/shapes.md`` in a fresh checkout).
    Readers see the old file or the complete new one, never a part; on failure nothing
    is left behind, not even the directories this call created. A parent that is a file,
    or a directory that cannot be written, raises ``EnvironmentProblem``.
    """
    flag = f"--output {path}"
    if os.path.isdir(path):
        raise EnvironmentProblem(f"{flag}: is a directory; give a file name")
    parent = os.path.dirname(path)
    created = _make_directories(os.path.normpath(parent) if parent else "", flag)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # keep an existing file's permissions
    except OSError:
        mode = _new_file_mode()
    temp_name: str | None = None
    written = False
    try:
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".torchshape-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
        temp_name = None
        written = True
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise EnvironmentProblem(f"{flag}: cannot write it: {reason}") from None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
        if not written:
            _remove_directories(created)
