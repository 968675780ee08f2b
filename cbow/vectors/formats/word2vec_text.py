"""``word2vec`` (and fastText's ``.vec``): vectors as text, which any tool reads.

A header line ``V N``, then one line per word: ``word v1 ... vN``, fields apart by ASCII
whitespace. Numbers are written with enough digits to read back the exact same float (float32
or float64); text is read as float64, exact for anything written here. The file carries no
counts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cbow.io import atomic_writer
from cbow.vectors.formats.common import (Codec, VectorFileError, check_header_fits,
                                         check_no_whitespace, check_records, check_utf8,
                                         decode_word, parse_header, text_rows, word2vec_layout)


def sniff(path: Path, head: bytes | None) -> bool:
    """A file with a word2vec header followed by UTF-8 text."""
    return head is not None and word2vec_layout(head) == "text"


def read(path: Path) -> tuple[list[str], np.ndarray, None]:
    """``(words, vectors (V, N) float64, None)``; the error names the line of any fault."""
    with open(path, "rb") as f:
        V, N = parse_header(path, f.readline())
        check_header_fits(path, V, N, least_bytes_per_word=2 * (N + 1))  # "w 0 0 ...\n"
        words: list[str] = []
        lines: list[int] = []
        vectors = np.empty((V, N), dtype=np.float64)
        for line_number, line in enumerate(f, start=2):
            # bytes.split() splits on ASCII whitespace only, so a word holding e.g. U+00A0 (as
            # gensim may write) stays one word.
            fields = line.split()
            if not fields:
                continue  # blank lines, e.g. a trailing one, carry nothing
            if len(words) == V:
                raise VectorFileError(f"{path}, line {line_number}: more words than the {V} the "
                                      f"header (line 1) announces")
            word = decode_word(path, fields[0], f"line {line_number}")
            if len(fields) - 1 != N:
                raise VectorFileError(f"{path}, line {line_number}: expected the word and {N} "
                                      f"numbers; found {len(fields) - 1} numbers after {word!r}")
            try:
                if b"_" in line and any(b"_" in x for x in fields[1:]):
                    raise ValueError  # float() reads 1_000; no vector file writes it
                vectors[len(words)] = [float(x) for x in fields[1:]]
            except ValueError:
                bad = next(x for x in fields[1:] if not _is_float(x))
                shown = bad[:30].decode("utf-8", errors="replace")
                raise VectorFileError(f"{path}, line {line_number}: {shown!r} (in the vector of "
                                      f"{word!r}) is not a number") from None
            words.append(word)
            lines.append(line_number)
    if len(words) != V:
        raise VectorFileError(f"{path}: the header announces {V} words but the file holds "
                              f"{len(words)}; is it truncated?")
    check_records(path, words, vectors, [f"line {n}" for n in lines])
    return words, vectors, None


def _is_float(text: bytes) -> bool:
    try:
        float(text)
        return b"_" not in text
    except ValueError:
        return False


def write(path: Path, words: list[str], vectors: np.ndarray, counts=None) -> list[Path]:
    """Write ``path`` (counts are not stored); words holding whitespace are refused."""
    check_no_whitespace(words, "word2vec")
    check_utf8(path, words, "word2vec")
    V, N = vectors.shape
    with atomic_writer(path) as f:
        f.write(f"{V} {N}\n".encode("utf-8"))
        for word, row in zip(words, text_rows(vectors)):
            f.write(f"{word} {row}\n".encode("utf-8"))
    return [path]


CODEC = Codec(sniff, read, write)
