"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""
from __future__ import annotations

import errno
import os
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
