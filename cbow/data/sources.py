"""Corpus inputs: which files a corpus is made of, and their text read as a stream.

A corpus is given as one of, or a list of:

- the name ``"shakespeare"``: the course's text, found (or downloaded) by
  :func:`cbow.data.corpus.find_corpus`;
- the path of a text file;
- the path of a folder: every file below it, in sorted order of their paths relative to the
  folder (names starting with ``.`` are skipped, so ``.git`` or ``.DS_Store`` never count);
- a glob pattern (``corpora/**/*.txt``; ``**`` spans folders), its matches sorted.

Only regular files (or links to them) are read: a FIFO, a device or a socket in a folder or
among a pattern's matches is skipped with a warning naming it, as is a link to nothing.

Files ending in ``.gz``, ``.bz2`` or ``.xz`` are decompressed on the fly. :class:`TextStream`
reads a file as UTF-8 in pieces of about a megabyte, so memory does not depend on the size of
the file, hashes the bytes on disk while reading (the SHA-256 that identifies a prepared
corpus costs no second pass) and turns the usual problems into errors that name the file and
say what to do: bytes that are not UTF-8 (with the line and byte offset; or
``errors="replace"`` to replace them with U+FFFD and go on), a NUL byte (a binary file), a
damaged compressed file. Every such error is a :class:`SourceError`, a
:class:`cbow.errors.UserError`.
"""
from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import hashlib
import lzma
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence, Union

from cbow.data.corpus import SHAKESPEARE_NAME, ChecksumError, find_corpus
from cbow.errors import InputError, UserError
from cbow.io import special_kind

__all__ = [
    "COMPRESSED_SUFFIXES",
    "ERRORS",
    "BinaryFileError",
    "NoTextError",
    "NotUTF8Error",
    "SourceError",
    "SourceFile",
    "SourceNotFoundError",
    "SourceSpec",
    "TextStream",
    "resolve_sources",
]

#: What may be passed as a corpus: one name/path/pattern, or a list of them.
SourceSpec = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]

#: Suffix -> opener of a file object, for transparently decompressed inputs.
COMPRESSED_SUFFIXES: dict[str, Callable] = {
    ".gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    ".bz2": lambda raw: bz2.BZ2File(raw, mode="rb"),
    ".xz": lambda raw: lzma.LZMAFile(raw, mode="rb"),
}

#: Accepted values of ``errors``: stop at the first undecodable byte, or replace it.
ERRORS = ("strict", "replace")

# Bytes read at a time. Big enough that per-read overhead is nothing next to hashing and
# decoding, small enough that a piece of text is a few MB of memory at most.
PIECE_BYTES = 1 << 20

_GLOB_CHARACTERS = frozenset("*?[")


class SourceError(UserError):
    """A corpus input that cannot be used as it is; the message names it and the fix."""


class SourceNotFoundError(SourceError, FileNotFoundError):
    """A path, folder or pattern that names no file."""


class NotUTF8Error(SourceError, InputError):
    """Bytes that are not valid UTF-8, located by line and byte offset.

    Attributes
    ----------
    path : pathlib.Path
    line : int
        1-based line number of the first bad byte.
    byte_in_line : int
        0-based offset of the bad byte within its line.
    offset : int
        0-based offset of the bad byte in the file (in the decompressed text for a
        compressed file).
    """

    def __init__(self, message: str, path: Path, line: int, byte_in_line: int, offset: int):
        super().__init__(message)
        self.path, self.line, self.byte_in_line, self.offset = path, line, byte_in_line, offset


class BinaryFileError(SourceError, InputError):
    """A file holding NUL bytes: binary data (or UTF-16 text), not UTF-8 text."""


class NoTextError(SourceError, InputError):
    """Inputs that hold no text at all: an empty folder, only empty files."""


@dataclass(frozen=True)
class SourceFile:
    """One file of a corpus.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path.
    size : int
        Size in bytes on disk (compressed size for a compressed file).
    mtime_ns : int
        Modification time, nanoseconds. With ``path`` and ``size`` it is what the cache of
        prepared corpora is keyed on, so that finding a cache costs a ``stat``, not a read.
    spec : str
        The input that named this file (the folder or pattern for files found below one),
        quoted in messages.
    """

    path: Path
    size: int
    mtime_ns: int
    spec: str

    @property
    def compression(self) -> str | None:
        """``"gz"``, ``"bz2"``, ``"xz"`` or None, from the file name's suffix."""
        suffix = self.path.suffix.lower()
        return suffix[1:] if suffix in COMPRESSED_SUFFIXES else None

    @classmethod
    def from_path(cls, path: Path, spec: str) -> "SourceFile":
        path = Path(os.path.abspath(path))
        status = path.stat()
        return cls(path, status.st_size, status.st_mtime_ns, spec)


# --------------------------------------------------------------------------------------------
# Resolving inputs to files
# --------------------------------------------------------------------------------------------

def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _files_below(folder: Path, spec: str) -> list[SourceFile]:
    # Sorted by the relative path's parts, so "a/z.txt" comes before "b.txt" whatever the
    # separator sorts like, and the order (hence the token ids) does not depend on os.walk.
    found, skipped = [], []
    # Symbolic links to folders are not followed (a link cycle would never end); links to
    # files are read like files.
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(root) / name
            relative = path.relative_to(folder)
            if _is_hidden(relative):
                continue
            if path.is_file():
                found.append((relative.parts, path))
            else:
                skipped.append(path)
    _warn_skipped(f"corpus folder {folder}", sorted(skipped))
    return [SourceFile.from_path(path, spec) for _, path in sorted(found)]


def _warn_skipped(where: str, paths: list[Path]) -> None:
    """One warning naming the entries of a folder or pattern that are not regular files (a
    FIFO: opening it would wait for a writer; a device: it may never end), which are not read."""
    if not paths:
        return
    def kind(path: Path) -> str:
        return special_kind(path) or ("a link to nothing" if path.is_symlink()
                                      else "not a regular file")

    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    warnings.warn(f"{where}: skipped, as not regular files (not part of the corpus): "
                  f"{', '.join(f'{path} ({kind(path)})' for path in paths[:5])}{more}",
                  stacklevel=4)


def _resolve_one(item: str | os.PathLike, download: bool) -> list[SourceFile]:
    if isinstance(item, str) and item == SHAKESPEARE_NAME:
        try:
            return [SourceFile.from_path(find_corpus(SHAKESPEARE_NAME, download=download),
                                         SHAKESPEARE_NAME)]
        except ChecksumError as error:
            raise SourceError(str(error)) from error
        except FileNotFoundError as error:
            raise SourceNotFoundError(str(error)) from error
    spec = os.fspath(item)
    if "://" in spec:
        raise SourceError(f"corpus input {spec!r} is a URL: URLs (s3://, gs://, file://, ...) are "
                          f"read by the workers of a Dask cluster, so give a scheduler "
                          f"(--scheduler local:N or tcp://host:8786), or a local path.")
    path = Path(spec).expanduser()
    if path.is_file():
        return [SourceFile.from_path(path, spec)]
    if path.is_dir():
        files = _files_below(path, spec)
        if not files:
            raise NoTextError(
                f"corpus folder {path} holds no files (names starting with '.' are skipped). "
                f"Put text files in it, or give the path of a text file instead.")
        return files
    if path.exists():
        raise SourceError(
            f"corpus path {path} is not a regular file ({special_kind(path) or 'neither file nor folder'}). A prepared corpus is "
            f"found again by its files' size and modification time, which a stream does not "
            f"have: save it to a file first, or give a text file, a folder of text files or a "
            f"glob pattern.")
    if _GLOB_CHARACTERS & set(spec):
        matches = sorted(glob.glob(os.path.expanduser(spec), recursive=True))
        files, skipped = [], []
        for match in map(Path, matches):
            if match.is_dir():
                files.extend(_files_below(match, spec))
            elif match.is_file():
                files.append(SourceFile.from_path(match, spec))
            else:
                skipped.append(match)
        _warn_skipped(f"corpus pattern {spec!r}", skipped)
        if not files:
            raise SourceNotFoundError(
                f"corpus pattern {spec!r} matches no file (resolved from the working "
                f"directory {Path.cwd()}). Check the pattern; '**' matches any number of "
                f"folders, e.g. 'corpora/**/*.txt'.")
        return files
    raise SourceNotFoundError(
        f"corpus path {path} does not exist (resolved from the working directory "
        f"{Path.cwd()}). Give a text file, a folder of text files, a glob pattern such as "
        f"'corpora/*.txt', or the name '{SHAKESPEARE_NAME}' for the course's corpus.")


def resolve_sources(sources: SourceSpec, *, download: bool = True) -> list[SourceFile]:
    """The files a corpus specification names, in the order their text is read.

    Parameters
    ----------
    sources : str, os.PathLike, or a list/tuple of them
        ``"shakespeare"``, a file, a folder, a glob pattern, or a list mixing them. A file
        named twice is read twice (a list can weight a text).
    download : bool, default True
        Whether ``"shakespeare"`` may be downloaded when no local copy exists.

    Returns
    -------
    list of SourceFile

    Raises
    ------
    SourceNotFoundError
        A path that does not exist, a pattern that matches nothing, ``"shakespeare"`` not
        found and not downloadable (also a ``FileNotFoundError``).
    NoTextError
        A folder with no files, or an empty list.
    SourceError
        A ``shakespeare.txt`` that is not the course's text.
    """
    items = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    if not items:
        raise NoTextError("no corpus given: the list of corpus inputs is empty. Give a text "
                          f"file, a folder, a glob pattern or '{SHAKESPEARE_NAME}'.")
    files: list[SourceFile] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"a corpus input must be a path or a string; got {item!r}")
        files.extend(_resolve_one(item, download))
    return files


# --------------------------------------------------------------------------------------------
# Reading a file's text as a stream
# --------------------------------------------------------------------------------------------

class _HashingReader:
    """File-object wrapper that hashes and counts the bytes read through it.

    Decompressors read the file on disk through this, so the digest is that of the bytes on
    disk and the progress callback sees on-disk bytes, whose total is known from ``stat``.
    """

    def __init__(self, raw, digest, on_read: Callable[[int], object] | None, limit: int):
        self._raw, self._digest, self._on_read = raw, digest, on_read
        self._limit = limit
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        # Never past `limit`: a file that another process keeps appending to would otherwise
        # be chased for ever (the caller sets it one byte past the size seen at the start).
        remaining = self._limit - self.bytes_read
        data = self._raw.read(remaining if size < 0 or size > remaining else size)
        self._digest.update(data)
        self.bytes_read += len(data)
        if self._on_read is not None and data:
            self._on_read(len(data))
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:  # the caller closes the underlying file
        pass

    @property
    def closed(self) -> bool:
        return False


def _complete_utf8_end(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that does not end inside a UTF-8 sequence.

    A read can stop in the middle of a multi-byte character; those last 1-3 bytes are kept
    for the next read instead of being reported as invalid.
    """
    n = len(data)
    for back in range(1, min(4, n) + 1):
        byte = data[n - back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: ASCII or a lead byte
            need = (2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110
                    else 4 if byte >> 3 == 0b11110 else 1)
            return n if back >= need else n - back
    return n  # only continuation bytes: invalid whatever follows, so let the decoder say so


class TextStream:
    """The text of one corpus file, decoded piece by piece.

    Iterating yields ``str`` pieces of about ``piece_bytes`` bytes each, in order; their
    concatenation is the file's text with line endings normalised to ``"\\n"`` and a leading
    byte-order mark dropped (as :func:`cbow.data.corpus.read_text` does). Pieces end anywhere,
    also inside a line or a word. After the iteration the attributes below describe the file.

    Parameters
    ----------
    source : SourceFile
    errors : {"strict", "replace"}, default "strict"
        ``"strict"``: invalid UTF-8 raises :class:`NotUTF8Error`. ``"replace"``: each invalid
        sequence becomes U+FFFD (as Python's ``"replace"`` does) and is counted in
        :attr:`replaced`.
    piece_bytes : int
        Bytes read (decompressed) per piece.
    on_read : callable, optional
        Called with the number of bytes read from disk after each read (progress bars).

    Attributes
    ----------
    sha256 : str or None
        Digest of the bytes on disk, once the file was read to its end.
    disk_bytes, text_bytes : int
        Bytes read from disk, and bytes of (decompressed) text.
    lines : int
        Number of ``\\n`` in the decompressed bytes, plus one if the last line has no ``\\n``.
    replaced : int
        Invalid UTF-8 sequences replaced (``errors="replace"``).
    has_text : bool
        Whether any non-whitespace character was read (False for an empty file).

    Raises
    ------
    NotUTF8Error, BinaryFileError, SourceError
        During iteration, naming the file (and the line and byte for bad UTF-8).
    """

    def __init__(self, source: SourceFile, *, errors: str = "strict",
                 piece_bytes: int = PIECE_BYTES,
                 on_read: Callable[[int], object] | None = None):
        if errors not in ERRORS:
            raise InputError(f"errors must be one of {ERRORS}; got {errors!r}")
        self.source, self.errors, self.piece_bytes = source, errors, int(piece_bytes)
        self._on_read = on_read
        self.sha256: str | None = None
        self.disk_bytes = self.text_bytes = self.lines = self.replaced = 0
        self.has_text = False

    #: Whether the bytes read start the file (a byte-order mark is dropped only there).
    starts_file = True

    def open_bytes(self):
        """The bytes to read, as a binary file object (a subclass may read part of a file)."""
        try:
            return open(self.source.path, "rb")
        except FileNotFoundError:
            raise SourceNotFoundError(f"corpus file {self.source.path} disappeared before it "
                                      f"was read (named by {self.source.spec!r})") from None

    def __iter__(self) -> Iterator[str]:
        digest = hashlib.sha256()
        compression = self.source.compression
        opener = COMPRESSED_SUFFIXES[f".{compression}"] if compression else None
        with self.open_bytes() as raw:
            hashing = _HashingReader(raw, digest, self._on_read, limit=self.source.size + 1)
            stream = opener(hashing) if opener else hashing
            # offset: bytes of text before `pending`; line bookkeeping for error messages.
            offset, pending, pending_cr, first = 0, b"", "", self.starts_file
            last_newline = -1          # file offset of the last "\n" before `offset`
            ends_with_newline = True   # whether the text so far ends a line (an empty file does)
            while True:
                data = self._read(stream)
                at_end = not data
                if not at_end and b"\x00" in data:
                    self._binary(offset + len(pending) + data.index(b"\x00"))
                data = pending + data
                if first:
                    bom = codecs.BOM_UTF8
                    if len(data) < len(bom) and not at_end and bom.startswith(data):
                        pending = data  # too short to tell yet
                        continue
                    if data.startswith(bom):
                        # Skipped by hand (not with "utf-8-sig") so offsets count the mark.
                        offset, data = len(bom), data[len(bom):]
                    first = False
                end = len(data) if at_end else _complete_utf8_end(data)
                body, pending = data[:end], data[end:]
                if body:
                    text = self._decode(body, offset, last_newline)
                    newlines = body.count(b"\n")
                    if newlines:
                        self.lines += newlines
                        last_newline = offset + body.rindex(b"\n")
                    ends_with_newline = body.endswith(b"\n")
                    offset += len(body)
                    # Normalise line endings; a "\r" at the end of a piece may be the first
                    # half of "\r\n", so it waits for the next piece.
                    text = pending_cr + text
                    pending_cr = ""
                    if text.endswith("\r") and not at_end:
                        text, pending_cr = text[:-1], "\r"
                    if "\r" in text:
                        text = text.replace("\r\n", "\n").replace("\r", "\n")
                    if text:
                        self.has_text = self.has_text or not text.isspace()
                        yield text
                if at_end:
                    break
            if pending_cr:
                yield "\n"
            self._check_unchanged(hashing.bytes_read, *self._now(raw))
        self.text_bytes = offset
        self.lines += 0 if ends_with_newline else 1
        self.disk_bytes = hashing.bytes_read
        self.sha256 = digest.hexdigest()

    def _now(self, raw) -> tuple[int, int]:
        """The size and modification time (ns) of the file being read, as they are now."""
        status = os.fstat(raw.fileno())
        return status.st_size, status.st_mtime_ns

    def _check_unchanged(self, bytes_read: int, size: int, mtime_ns: int) -> None:
        """Refuse a file that was written to while it was read: its ids would match no state."""
        source = self.source
        if source.size == 0 and bytes_read:
            raise SourceError(
                f"corpus file {source.path} says it has 0 bytes but has content: it is a "
                f"generated file (as in /proc or /sys), whose text can change between reads. "
                f"Save a copy of it (cp '{source.path}' corpus.txt) and prepare the copy.")
        if bytes_read != source.size or size != source.size or mtime_ns != source.mtime_ns:
            touched = ", and a new modification time" if mtime_ns != source.mtime_ns else ""
            raise SourceError(
                f"corpus file {source.path} changed while it was read: it had {source.size:,} "
                f"bytes when preparing started and has {size:,}{touched}. Wait until "
                f"it is completely written (or prepare a copy of it) and prepare again.")

    def _read(self, stream) -> bytes:
        try:
            return stream.read(self.piece_bytes)
        except (OSError, EOFError, lzma.LZMAError) as error:
            kind = self.source.compression
            raise SourceError(
                f"{self.source.path}: cannot read it as a {kind} file ({error}). The file is "
                f"damaged or truncated, or its name ends in .{kind} without it being "
                f"{kind}-compressed; check it with `{_TEST_COMMANDS.get(kind, 'file')} "
                f"'{self.source.path}'`, or rename it.") from error

    def _binary(self, offset: int) -> None:
        raise BinaryFileError(
            f"{self.source.path}: byte offset {offset}{self._where()} is a NUL byte, so this "
            f"is a binary file (or UTF-16 text), not UTF-8 text. Leave it out of the corpus "
            f"(for a folder, move it elsewhere or name the text files with a glob pattern "
            f"such as 'folder/**/*.txt'); if it is UTF-16 text, convert it with "
            f"`iconv -f utf-16 -t utf-8 '{self.source.path}' > corpus-utf8.txt`.")

    def _where(self) -> str:
        return " of the decompressed text" if self.source.compression else ""

    def _decode(self, body: bytes, offset: int, last_newline: int) -> str:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as error:
            if self.errors == "strict":
                self._not_utf8(body, offset, last_newline, error)
        # errors="replace": the same U+FFFD per invalid sequence as Python's "replace", with
        # the sequences counted. Each failed attempt stops at its error, so this stays linear.
        parts, start = [], 0
        while True:
            try:
                parts.append(body[start:].decode("utf-8"))
                return "".join(parts)
            except UnicodeDecodeError as error:
                parts.append(body[start:start + error.start].decode("utf-8"))
                parts.append("\ufffd")
                start += error.end
                self.replaced += 1

    def _not_utf8(self, body: bytes, offset: int, last_newline: int,
                  error: UnicodeDecodeError) -> None:
        bad_offset = offset + error.start
        line = self.lines + body.count(b"\n", 0, error.start) + 1
        newline_in_body = body.rfind(b"\n", 0, error.start)
        line_start = offset + newline_in_body + 1 if newline_in_body >= 0 else last_newline + 1
        path = self.source.path
        bad = body[error.start:error.end].hex(" ")
        raise NotUTF8Error(
            f"{path}: line {line}, byte {bad_offset - line_start} of the line (byte offset "
            f"{bad_offset} in the file{self._where()}): bytes {bad} are not valid UTF-8 "
            f"({error.reason}). The corpus must be UTF-8 text. Re-encode the file, for "
            f"example with `iconv -f latin1 -t utf-8 '{path}' > corpus-utf8.txt` (use the "
            f"file's real encoding in place of latin1), or pass errors='replace' to replace "
            f"undecodable bytes with U+FFFD.",
            path, line, bad_offset - line_start, bad_offset)


_TEST_COMMANDS = {"gz": "gzip -t", "bz2": "bzip2 -t", "xz": "xz -t"}
