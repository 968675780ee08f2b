"""Atomic file writes: a crash leaves either the old file or the new one, never half of one.

And the one way a failed write names its file: the operating system's ``ENOSPC`` (a full disk)
names none, so :func:`name_file` adds the path and the CLI prints ``PATH: the disk is full``
(:func:`cbow.cli.describe_os_error`). Every file cbow writes goes through it: the atomic
writes below, :class:`NamedWriter` for files written a piece at a time (a run's
``metrics.jsonl``, a prepared corpus's arrays, the training log).
"""
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
        if isinstance(err, OSError):
            named = name_file(err, path)
            if named is not err:
                raise named from err
        raise
    fsync_directory(path.parent)


def name_file(error: OSError, path: str | Path) -> OSError:
    """``error`` naming ``path``, if it names no file (a failed write: a full disk, a closed
    pipe); otherwise ``error`` itself. The errno, and so the class, is kept (``OSError`` makes
    a ``BrokenPipeError`` of ``EPIPE``)."""
    if error.filename is None and error.errno is not None:
        return OSError(error.errno, error.strerror or str(error), str(path))
    return error


class NamedWriter:
    """A file open for writing whose failed writes, flushes and close name ``path``.

    Wraps ``out`` (binary or text); anything else is passed through to it.
    """

    def __init__(self, out, path: str | Path):
        self._out, self.path = out, path

    def write(self, data) -> int:
        try:
            return self._out.write(data)
        except OSError as error:
            raise name_file(error, self.path) from error

    def flush(self) -> None:
        try:
            self._out.flush()
        except OSError as error:
            raise name_file(error, self.path) from error

    def close(self) -> None:
        try:
            self._out.close()
        except OSError as error:
            raise name_file(error, self.path) from error

    def __getattr__(self, name):
        return getattr(self._out, name)

    def __enter__(self) -> "NamedWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stream_path(stream) -> str:
    """The file behind an open stream (``sys.stderr`` redirected to a file: that file's path),
    for messages; ``<stderr>`` and the like when the system does not say."""
    try:
        return os.readlink(f"/proc/self/fd/{stream.fileno()}")
    except (OSError, ValueError, AttributeError):
        return str(getattr(stream, "name", stream))


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
