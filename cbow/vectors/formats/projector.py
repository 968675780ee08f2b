"""Files for the TensorFlow Embedding Projector (projector.tensorflow.org) and similar viewers.

``vectors.tsv``
    One line per word: its ``N`` numbers separated by tabs, no header. Numbers have enough
    digits to read back to the same float (as in word2vec text,
    :mod:`cbow.vectors.formats.word2vec_text`).
``metadata.tsv``
    A header line ``word<TAB>count``, then one line per vector, in the same order. The
    projector splits lines on ``\\n`` and columns on ``\\t`` with no quoting, so a word holding a
    tab, a line break or another line separator is written with backslash escapes (``\\t``,
    ``\\n``, ``\\r``, ``\\xHH``/``\\uHHHH``) and a backslash as ``\\\\``: every word stays on one
    row and the original can be read back (:func:`unescape_word`). Without counts (vectors
    read from a word2vec file) the metadata is the word column alone, which the projector reads
    without a header.

In the projector: "Load", then choose ``vectors.tsv`` as the vectors and ``metadata.tsv`` as the
metadata.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cbow.errors import InputError
from cbow.io import atomic_writer
from cbow.vectors.formats.common import (Codec, VectorFileError, check_records, check_utf8,
                                         text_rows)

VECTORS_FILE = "vectors.tsv"
METADATA_FILE = "metadata.tsv"
METADATA_HEADER = "word\tcount"

_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
# What str.splitlines breaks on besides \n and \r: a reader using it must see one row per word.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_NEEDS_ESCAPE = re.compile("[\\\\\t\n\r" + _OTHER_BREAKS + "]")
_ESCAPED = re.compile(r"\\(\\|t|n|r|x[0-9a-f]{2}|u[0-9a-f]{4})")


def escape_word(word: str) -> str:
    """``word`` with backslashes, tabs and line breaks written as backslash escapes."""
    def escape(match: re.Match) -> str:
        ch = match.group()
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
    return _NEEDS_ESCAPE.sub(escape, word)


def unescape_word(text: str) -> str:
    """The word that :func:`escape_word` wrote as ``text``."""
    def unescape(match: re.Match) -> str:
        code = match.group(1)
        if len(code) == 1:
            return {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}[code]
        return chr(int(code[1:], 16))
    return _ESCAPED.sub(unescape, text)


def write_projector(embeddings, folder: str | Path, limit: int | None = None) -> list[Path]:
    """Write ``vectors.tsv`` and ``metadata.tsv`` for the Embedding Projector into ``folder``.

    Parameters
    ----------
    embeddings : cbow.vectors.embeddings.Embeddings
    folder : str or Path
        Created if needed; each file is replaced atomically.
    limit : int, optional
        Keep only the ``limit`` most frequent words (by ``embeddings.counts``), most frequent
        first. By default every word, in row order.

    Returns
    -------
    list of Path
        ``[vectors.tsv, metadata.tsv]``.
    """
    if limit is not None:
        embeddings = embeddings.most_frequent(limit)
    return write(Path(folder), embeddings.words, embeddings.vectors, embeddings.counts)


def sniff(path: Path, head: bytes | None) -> bool:
    """A folder holding ``vectors.tsv``."""
    return head is None and (path / VECTORS_FILE).exists()


def write(folder: Path, words: list[str], vectors: np.ndarray, counts) -> list[Path]:
    """The codec's writer: every row, in order, into ``folder`` (created if needed)."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file; the projector export writes two files into a "
                         f"folder: give a folder path")
    check_utf8(folder / METADATA_FILE, words, "projector metadata")
    folder.mkdir(parents=True, exist_ok=True)
    vectors_path, metadata_path = folder / VECTORS_FILE, folder / METADATA_FILE
    with atomic_writer(vectors_path) as f:
        for line in text_rows(vectors, "\t"):
            f.write((line + "\n").encode("utf-8"))
    with atomic_writer(metadata_path) as f:
        if counts is None:
            lines = [escape_word(word) for word in words]
        else:
            lines = [METADATA_HEADER] + [f"{escape_word(w)}\t{c}" for w, c in zip(words, counts)]
        f.write("".join(line + "\n" for line in lines).encode("utf-8"))
    return [vectors_path, metadata_path]


def read(path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """The codec's reader: ``path`` is the folder (or its ``vectors.tsv``).

    Raises
    ------
    FileNotFoundError
        If ``metadata.tsv`` is missing.
    VectorFileError
        If either file is malformed (the message names the file and the line), or they do not
        match one to one.
    """
    folder = path.parent if path.name == VECTORS_FILE else path
    if folder.is_file():
        raise VectorFileError(f"{path} is a file; a projector export is a folder holding "
                              f"{VECTORS_FILE} and {METADATA_FILE}")
    vectors_path, metadata_path = folder / VECTORS_FILE, folder / METADATA_FILE
    if not metadata_path.is_file():
        raise FileNotFoundError(f"{vectors_path} needs its words in {metadata_path}, which does "
                                f"not exist")
    words, counts, first = _read_metadata(metadata_path)
    rows = _lines(vectors_path)
    if not rows:
        raise VectorFileError(f"{vectors_path} holds no vectors")
    if len(rows) != len(words):
        raise VectorFileError(f"{folder}: {VECTORS_FILE} has {len(rows)} rows but "
                              f"{METADATA_FILE} names {len(words)} words")
    N = len(rows[0].split("\t"))
    vectors = np.empty((len(rows), N), dtype=np.float64)
    for i, row in enumerate(rows):
        fields = row.split("\t")
        if len(fields) != N:
            raise VectorFileError(f"{vectors_path}, line {i + 1}: {len(fields)} numbers, where "
                                  f"line 1 has {N}; every vector has the same size")
        try:
            vectors[i] = [number(field) for field in fields]
        except ValueError as err:
            raise VectorFileError(f"{vectors_path}, line {i + 1}: {err} (in the vector of "
                                  f"{words[i]!r})") from None
    check_records(folder, words, vectors,
                  [f"{VECTORS_FILE} line {i + 1}, {METADATA_FILE} line {i + first}"
                   for i in range(len(words))])
    return words, vectors, counts


def number(text: str) -> float:
    """``text`` as a float, or ValueError naming it: what Python's ``float`` reads but for
    digit separators (``1_000``), which no vector file writes."""
    try:
        if "_" not in text:
            return float(text)
    except ValueError:
        pass
    raise ValueError(f"{text[:30]!r} is not a number")


def _lines(path: Path) -> list[str]:
    """The lines of the UTF-8 text file ``path`` (without line breaks); else the error naming
    the file and the line that is not UTF-8."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise VectorFileError(f"{path}, line {line}: not UTF-8 text ({err.reason})") from None
    lines = text.replace("\r\n", "\n").split("\n")  # only \n ends a row (words are escaped)
    return lines[:-1] if lines[-1] == "" else lines


def _read_metadata(path: Path) -> tuple[list[str], np.ndarray | None, int]:
    """``(words, counts or None, line of the first word)`` of ``metadata.tsv``."""
    lines = _lines(path)
    if not lines or lines[0] != METADATA_HEADER:  # the word column alone
        words, counts, first = lines, None, 1
    else:
        words, counts, first = [], [], 2
        for line_number, line in enumerate(lines[1:], start=2):
            word, sep, count = line.rpartition("\t")
            if not sep or not count.isdigit():
                raise VectorFileError(f"{path}, line {line_number}: expected 'word<TAB>count' (the "
                                      f"header is {METADATA_HEADER!r}); got {line[:60]!r}")
            words.append(word)
            counts.append(int(count))
        counts = np.array(counts, dtype=np.int64)
    for i, word in enumerate(words):
        if not word:
            raise VectorFileError(f"{path}, line {i + first}: an empty word")
    return [unescape_word(word) for word in words], counts, first


CODEC = Codec(sniff, read, write)
