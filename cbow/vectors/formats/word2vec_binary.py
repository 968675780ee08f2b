"""``word2vec-bin``: the word2vec C tool's binary layout, which gensim reads and writes.

The header line ``V N\\n``, then per word its UTF-8 bytes, a space, ``N`` little-endian float32
values and, from the C tool, ``\\n`` (gensim writes none; both are read). The file carries no
counts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cbow.io import atomic_writer
from cbow.vectors.formats.common import (Codec, VectorFileError, check_header_fits,
                                         check_float32, check_no_whitespace, check_records,
                                         check_utf8, decode_word, first_line, parse_header,
                                         word2vec_layout)


def sniff(path: Path, head: bytes | None) -> bool:
    """A file with a word2vec header followed by bytes that are not text."""
    return head is not None and word2vec_layout(head) == "binary"


def read(path: Path) -> tuple[list[str], np.ndarray, None]:
    """``(words, vectors (V, N) float32, None)``; the error names the byte offset of any fault."""
    data = path.read_bytes()
    V, N = parse_header(path, first_line(data))
    position = data.find(b"\n") + 1
    vector_bytes = 4 * N
    check_header_fits(path, V, N, least_bytes_per_word=vector_bytes + 2)  # "w " + floats
    vectors = np.empty((V, N), dtype=np.float32)
    words: list[str] = []
    offsets: list[int] = []
    for i in range(V):
        # The C tool ends each record with '\n'; gensim does not. Accept both.
        while data[position:position + 1] == b"\n":
            position += 1
        space = data.find(b" ", position)
        if space < 0 or space == position:
            raise VectorFileError(
                f"{path}: truncated or corrupt at word {i + 1} of {V} (byte offset {position}): "
                f"{'no word followed by a space' if space < 0 else 'an empty word'}")
        word = decode_word(path, data[position:space], f"word {i + 1} (byte offset {position})")
        start = space + 1
        if len(data) - start < vector_bytes:
            raise VectorFileError(
                f"{path}: truncated at word {i + 1} of {V} ({word!r}): its vector needs "
                f"{vector_bytes} bytes from byte offset {start}, but only {len(data) - start} "
                f"remain")
        vectors[i] = np.frombuffer(data, dtype="<f4", count=N, offset=start)
        words.append(word)
        offsets.append(position)
        position = start + vector_bytes
    while data[position:position + 1] == b"\n":
        position += 1
    if position < len(data):
        raise VectorFileError(f"{path}: more data after the {V} words the header announces "
                              f"(from byte offset {position}); is the header wrong?")
    check_records(path, words, vectors, [f"byte offset {o}" for o in offsets])
    return words, vectors, None


def write(path: Path, words: list[str], vectors: np.ndarray, counts=None) -> list[Path]:
    """Write ``path`` as float32 (counts are not stored); words holding whitespace are refused."""
    check_no_whitespace(words, "word2vec-bin")
    check_utf8(path, words, "word2vec-bin")
    check_float32(path, words, vectors, "word2vec-bin")
    V, N = vectors.shape
    little_endian = vectors.astype("<f4", copy=False)
    with atomic_writer(path) as f:
        f.write(f"{V} {N}\n".encode("utf-8"))
        for word, row in zip(words, little_endian):
            f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
    return [path]


CODEC = Codec(sniff, read, write)
