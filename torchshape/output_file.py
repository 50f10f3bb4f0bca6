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


def write_output(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file beside it, then a rename.

    Readers see the old file or the complete new one, never a part; on failure nothing
    is left behind. A missing or unwritable directory raises ``EnvironmentProblem``.
    """
    flag = f"--output {path}"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        shown = os.path.dirname(path) or "."
        problem = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise EnvironmentProblem(f"{flag}: the directory {shown} {problem}")
    if os.path.isdir(path):
        raise EnvironmentProblem(f"{flag}: is a directory; give a file name")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # keep an existing file's permissions
    except OSError:
        mode = _new_file_mode()
    temp_name: str | None = None
    try:
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".torchshape-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
        temp_name = None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise EnvironmentProblem(f"{flag}: cannot write it: {reason}") from None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
