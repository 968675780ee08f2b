"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    kind = special_kind(path)
    if kind is not None:
        # The finished file is renamed over `path`: that would replace the device or FIFO
        # itself (as root, /dev/zero would become a regular file).
        from cbow.errors import InputError
        raise InputError(f"{path} is not a regular file ({kind}); cbow writes whole files "
                         f"and renames them into place, which would replace it. Give the path "
                         f"of a file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        give_default_permissions(fd)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException as err:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError) and err.filename is None and err.errno is not None:
            # A failed write (a full disk) names no file: name the one being written.
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
    fsync_directory(path.parent)


def special_kind(path: str | Path) -> str | None:
    """``"a FIFO"``, ``"a character device"``, ... for a path that exists and is neither a
    regular file nor a folder (links followed); None for anything else."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None


def give_default_permissions(fd: int) -> None:
    """Make a file from ``mkstemp`` (always 0600) readable as ``open()`` would have made it."""
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as f:
        f.write(data)


def fsync_directory(directory: str | Path) -> None:
    """Flush a folder's entries: a rename into it is durable only once they are on disk."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
