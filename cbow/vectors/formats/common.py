"""What the vector codecs share: the codec record, its error, the word2vec header, checks of
words and vectors read from a file, and numbers written as text that reads back exactly.
"""
from __future__ import annotations

import codecs
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from cbow.errors import InputError

# Bytes that never occur in a word2vec text file but are common in raw float32 data; seeing one
# right after the header means the file is binary.
_BINARY_BYTES = (frozenset(range(0, 32)) - {ord("\t"), ord("\n"), ord("\r")}) | {127}
# Headers announcing more than this many bytes of vectors are checked against the file's size.
_CHECKED_ALLOCATION_BYTES = 64 << 20


class VectorFileError(InputError):
    """A vector file that cannot be read or written; the message names the file and the place."""


class Codec(NamedTuple):
    """A vector file format: one module of :mod:`cbow.vectors.formats`, registered in
    :data:`cbow.registry.VECTOR_FORMATS`.

    ``sniff(path, head) -> bool``: whether ``path`` is in this format, from ``head``, the
    file's first bytes (at least 64 KiB when the file is that long), or None when ``path`` is
    a folder. A sniff only claims what is certainly its own, so at most one format claims a
    path (formats sharing a codec aside).
    ``read(path) -> (words, vectors (V, N), counts or None)``.
    ``write(path, words, vectors, counts or None) -> the files written``, each atomically.
    ``damaged(path, head) -> str | None`` (optional): for a file no sniff claims, what is
    wrong with it if it is this format's file damaged (its magic number, say), else None.
    """

    sniff: Callable[[Path, bytes | None], bool]
    read: Callable[[Path], tuple[list[str], np.ndarray, np.ndarray | None]]
    write: Callable[[Path, list[str], np.ndarray, np.ndarray | None], list[Path]]
    damaged: Callable[[Path, bytes], str | None] | None = None


# ------------------------------------------------------------------------ word2vec header

def header_fields(line: bytes) -> tuple[int, int] | None:
    """``(V, N)`` from a word2vec header line ``V N``; None if it is not one."""
    fields = line.split()
    if len(fields) == 2 and all(f.isdigit() and int(f) > 0 for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def parse_header(path: Path, line: bytes) -> tuple[int, int]:
    """``(V, N)`` from the header ``line`` of word2vec file ``path``; else the error naming it."""
    fields = header_fields(line)
    if fields is not None:
        return fields
    shown = line[:60].decode("utf-8", errors="replace")
    raise VectorFileError(f"{path}, line 1: expected the word2vec header 'V N' (number of words "
                          f"and of dimensions, two positive integers); got {shown!r}")


def first_line(head: bytes) -> bytes:
    """The header line of a file starting with ``head`` (all of ``head`` if it has no break)."""
    end_of_header = head.find(b"\n")
    return head if end_of_header < 0 else head[:end_of_header]


def word2vec_layout(head: bytes) -> str | None:
    """``"text"`` or ``"binary"``: how a file starting with ``head`` holds its vectors after a
    word2vec header; None when it does not start with one."""
    if header_fields(first_line(head)) is None:
        return None
    body = head[head.find(b"\n") + 1:]
    if _BINARY_BYTES.intersection(body):
        return "binary"
    try:  # final=False: the sniffed chunk may end inside a multi-byte character
        codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return "binary"
    return "text"


def check_header_fits(path: Path, V: int, N: int, least_bytes_per_word: int) -> None:
    """Refuse a header announcing more than the file can hold, before allocating (V, N).

    Only large allocations are checked here: for small ones the reader's own checks say more
    exactly where a file is cut.
    """
    size = path.stat().st_size
    if V * N * 8 > _CHECKED_ALLOCATION_BYTES and V * least_bytes_per_word > size:
        raise VectorFileError(f"{path}, line 1: the header announces {V:,} words x {N:,} "
                              f"dimensions, which needs at least {V * least_bytes_per_word:,} "
                              f"bytes, but the file has {size:,}; the header or the file is wrong")


# ------------------------------------------------------------------------ words and vectors

def decode_word(path: Path, raw: bytes, where: str) -> str:
    """``raw`` decoded as UTF-8; else the error naming the file and ``where``."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise VectorFileError(f"{path}, {where}: the word {raw[:40]!r} is not valid UTF-8 "
                              f"({err.reason})") from None


def check_no_whitespace(words: list[str], format: str) -> None:
    """Refuse words holding whitespace: readers split word2vec records on it."""
    bad = [w for w in words if any(ch.isspace() for ch in w)]
    if bad:
        raise VectorFileError(f"{len(bad)} words contain whitespace and cannot be written in "
                              f"{format} format, e.g. {bad[:3]!r}; save them as npy instead")


def check_utf8(path: Path, words: list[str], format: str) -> None:
    """Refuse words that are not text: a fastText ``.bin`` may hold words whose bytes are not
    UTF-8, which it reads as lone surrogates (``surrogateescape``) so that they hash as
    fastText hashes them; files of text cannot hold them."""
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raw = word.encode("utf-8", "surrogateescape")
            raise VectorFileError(
                f"{path}: the word {word!r} holds bytes that are not UTF-8 ({raw[:40]!r}, as the "
                f"fastText model it came from stores it), and a {format} file holds UTF-8 text; "
                f"save as fasttext-bin, which keeps the bytes, or drop or rename the word "
                f"first") from None


def beyond_float32(vectors: np.ndarray, chunk_rows: int = 1 << 16) -> int | None:
    """The first row of ``vectors`` holding a number too large for float32 (which would be
    stored as infinity, a file its reader refuses), or None; float32 and smaller: None."""
    if vectors.dtype.itemsize <= 4:
        return None
    largest = float(np.finfo(np.float32).max)
    for start in range(0, vectors.shape[0], chunk_rows):
        big = (np.abs(vectors[start:start + chunk_rows]) > largest).any(axis=1)
        if big.any():
            return start + int(np.flatnonzero(big)[0])
    return None


def check_float32(path: Path, words: list[str], vectors: np.ndarray, format: str) -> None:
    """Refuse vectors a float32 format cannot hold, naming the first such word."""
    row = beyond_float32(vectors)
    if row is not None:
        raise VectorFileError(f"{path}: the vector of {words[row]!r} holds a number beyond "
                              f"float32's range (+-3.4e38), which {format} stores; save as "
                              f"word2vec text or npy, which keep float64")


def check_records(path: Path, words: list[str], vectors: np.ndarray, where: list[str]) -> None:
    """Words distinct and vectors finite; ``where[i]`` says where record ``i`` is in the file."""
    seen: dict[str, int] = {}
    for i, word in enumerate(words):
        if word in seen:
            raise VectorFileError(f"{path}: the word {word!r} appears twice ({where[seen[word]]} "
                                  f"and {where[i]})")
        seen[word] = i
    reject_non_finite(path, vectors, words, where.__getitem__)


def reject_non_finite(path: Path, vectors: np.ndarray, words: list[str], where) -> None:
    """NaN or infinity in a row is an error naming the first such row (``where(i)``)."""
    found = non_finite_rows(vectors)
    if found is not None:
        i, count = found
        raise VectorFileError(f"{path}, {where(i)}: the vector of {words[i]!r} holds NaN or "
                              f"infinity ({count} such vectors in all)")


def non_finite_rows(vectors: np.ndarray, chunk_rows: int = 1 << 16) -> tuple[int, int] | None:
    """``(first row, number of rows)`` of the rows of ``vectors`` (V, N) holding NaN or
    infinity; None when every number is finite. Checked a slice of rows at a time, so a large
    matrix needs no second matrix of booleans."""
    first, count = None, 0
    for start in range(0, vectors.shape[0], chunk_rows):
        bad = ~np.isfinite(vectors[start:start + chunk_rows]).all(axis=1)
        if bad.any():
            count += int(bad.sum())
            first = start + int(np.flatnonzero(bad)[0]) if first is None else first
    return None if first is None else (first, count)


def text_rows(vectors: np.ndarray, separator: str = " "):
    """The rows of ``vectors`` (V, N) as text, one ``str`` per row, numbers apart by ``separator``.

    Each number has enough digits to read back to the same float (float64, float32, float16).
    """
    N = vectors.shape[1]
    if vectors.dtype.itemsize >= 8:
        # repr of a Python float is the shortest text that reads back to the same float64.
        for row in vectors.astype(np.float64, copy=False):
            yield separator.join(map(repr, row.tolist()))
    else:
        # 9 significant digits always read back to the same float32 (and float16).
        template = separator.join(["%.9g"] * N)
        for row in vectors.astype(np.float32, copy=False):
            yield template % tuple(row.tolist())
