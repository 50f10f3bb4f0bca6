"""``--output FILE``: checked before anything runs, then written whole or not at all.

What is there decides how it is written, as a careful Unix tool does:

- ``-`` is stdout.
- A regular file, or a new one, is written atomically: a temporary file beside it, then a
  rename. Readers see the old file or the complete new one, never a part; when the write
  fails (a full disk) the old file is as it was.
- A symbolic link is followed: its target gets the atomic write and the link stays a link.
- A file with other hard links is written in place (a rename would leave the other names
  on the old contents), once the whole report is in memory.
- Anything else (a device such as /dev/null, a FIFO, ``/dev/stdout``, a shell's process
  substitution ``>(wc -c)``) is opened and written in place, never replaced.

``check_output`` runs before the forward pass: a directory, a parent that is a file, or a
place where no file can be written is refused (exit 2) at once. A write that fails later
(ENOSPC) exits 1 with one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile

from torchshape.errors import EnvironmentProblem, UsageError

STDOUT = "-"
# Paths whose files are the process's own descriptors: written in place, whatever they point at.
_DESCRIPTOR_PATHS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/")


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _new_file_mode() -> int:
    """The permissions an ordinary new file gets here (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _in_place(path: str) -> bool:
    """Whether ``path`` is written where it is: not a regular file, or one of the process's descriptors."""
    if path.startswith(_DESCRIPTOR_PATHS):
        return True
    try:
        found = os.stat(path)  # follows symbolic links
    except OSError:
        return False
    return not stat.S_ISREG(found.st_mode) or found.st_nlink > 1


def _target(path: str) -> str:
    """Where the atomic write goes: the file itself, or the end of its chain of symbolic links."""
    return os.path.realpath(path) if os.path.islink(path) else path


def is_stdout(path: str) -> bool:
    """Whether ``path`` is the file that stdout writes to (``/dev/stdout``, ``/dev/fd/1``)."""
    try:
        found, out = os.stat(path), os.fstat(1)
    except OSError:
        return False
    return (found.st_dev, found.st_ino) == (out.st_dev, out.st_ino)


def check_output(path: str) -> None:
    """Refuse (``UsageError`` naming --output, exit 2) a place no report can be written to.

    Nothing is created here; missing directories are made when the report is written.
    """
    flag = f"--output {path}"
    if path == STDOUT:
        return
    if not path:
        raise UsageError("--output", "is empty; give a file name, or - for stdout", shown=flag)
    if os.path.isdir(path):
        raise UsageError("--output", "is a directory; give a file name", shown=flag)
    if path.endswith(os.sep):
        raise UsageError("--output", "ends in a slash; give a file name", shown=flag)
    if _in_place(path):
        if not os.access(path, os.W_OK):
            raise UsageError("--output", "cannot be written: permission denied", shown=flag)
        return
    target = _target(path)
    if os.path.isdir(target):
        raise UsageError("--output", f"leads to the directory {target}; give a file name", shown=flag)
    existing = _nearest_folder(os.path.dirname(target) or os.curdir, flag)
    try:  # can a file be made there? (the atomic write puts a temporary file beside the target)
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".torchshape-", suffix=".tmp")
    except OSError as exc:
        raise UsageError("--output", f"cannot write in {existing}: {_reason(exc)}", shown=flag) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _nearest_folder(directory: str, flag: str) -> str:
    """The nearest folder of ``directory`` (itself or a parent) that exists: the rest will be made."""
    existing = directory
    while not os.path.isdir(existing):
        if os.path.lexists(existing):
            raise UsageError("--output", f"the directory {existing} is not a directory", shown=flag)
        parent = os.path.dirname(existing) or os.curdir
        if parent == existing:  # pragma: no cover - the root always exists
            break
        existing = parent
    return existing


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
        raise EnvironmentProblem(f"{flag}: cannot create the directory {name}: {_reason(exc)}") from None
    return created


def _remove_directories(created: list[str]) -> None:
    for name in reversed(created):
        with contextlib.suppress(OSError):
            os.rmdir(name)


def write_output(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: atomically for a regular file, in place for anything
    else (see the module's docstring). An interrupt waits until the write is done or undone.

    Raises ``EnvironmentProblem`` (exit 1) when the write fails; a regular file is then as it was.
    """
    from torchshape.interrupt import deferred

    data = text.encode("utf-8")
    with deferred():
        if _in_place(path):
            _write_in_place(path, data)
        else:
            _write_atomically(path, data)


def _write_in_place(path: str, data: bytes) -> None:
    flag = f"--output {path}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    except OSError as exc:
        raise EnvironmentProblem(f"{flag}: cannot write it: {_reason(exc)}") from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        with contextlib.suppress(OSError):  # a pipe or a terminal cannot be synced (EINVAL)
            os.fsync(fd)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # the reader of a FIFO or of >(...) left: nothing more to say
            return
        raise EnvironmentProblem(f"{flag}: cannot write it: {_reason(exc)}") from None
    finally:
        os.close(fd)


def _write_atomically(path: str, data: bytes) -> None:
    """A temporary file beside the target, then a rename onto it; missing directories are made
    (``--output docs/shapes.md`` in a fresh checkout) and removed again if the write fails."""
    flag = f"--output {path}"
    target = _target(path)
    parent = os.path.dirname(target)
    created = _make_directories(os.path.normpath(parent) if parent else "", flag)
    directory = os.path.dirname(os.path.abspath(target))
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # keep an existing file's permissions
    except OSError:
        mode = _new_file_mode()
    temp_name: str | None = None
    written = False
    try:
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".torchshape-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
        temp_name = None
        written = True
    except OSError as exc:
        raise EnvironmentProblem(f"{flag}: cannot write it: {_reason(exc)}") from None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
        if not written:
            _remove_directories(created)
