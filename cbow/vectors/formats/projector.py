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
from cbow.vectors.formats.common import Codec, check_utf8, text_rows

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
    """The codec's reader: ``path`` is the folder (or its ``vectors.tsv``)."""
    folder = path.parent if path.name == VECTORS_FILE else path
    lines = (folder / METADATA_FILE).read_text(encoding="utf-8").split("\n")[:-1]
    counts = None
    if lines and lines[0] == METADATA_HEADER:
        fields = [line.rsplit("\t", 1) for line in lines[1:]]
        lines, counts = [f[0] for f in fields], np.array([int(f[1]) for f in fields], np.int64)
    vectors = np.loadtxt(folder / VECTORS_FILE, delimiter="\t", ndmin=2, dtype=np.float64)
    if vectors.shape[0] != len(lines):
        raise InputError(f"{folder}: {VECTORS_FILE} has {vectors.shape[0]} rows but "
                         f"{METADATA_FILE} names {len(lines)} words")
    return [unescape_word(line) for line in lines], vectors, counts


CODEC = Codec(sniff, read, write)
