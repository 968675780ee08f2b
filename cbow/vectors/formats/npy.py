"""``npy``: ``vectors.npy`` (any float dtype, read without pickle) and ``vocab.txt`` beside it.

``vocab.txt`` holds one word per line, optionally followed by ``<TAB>count`` (the layout of a
training run's own ``vocab.txt``). The path is a folder holding both files, or the ``.npy``
file itself with ``vocab.txt`` in its folder.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cbow.data.vocab import Vocabulary
from cbow.io import atomic_writer
from cbow.vectors.formats.common import Codec, VectorFileError, check_utf8, reject_non_finite

NPY_VECTORS = "vectors.npy"
NPY_VOCAB = "vocab.txt"
_MAGIC = b"\x93NUMPY"


def sniff(path: Path, head: bytes | None) -> bool:
    """A ``.npy`` file, or a folder holding ``vectors.npy``."""
    return (path / NPY_VECTORS).exists() if head is None else head.startswith(_MAGIC)


def _paths(path: Path, reading: bool = False) -> tuple[Path, Path]:
    """``(vectors.npy, vocab.txt)`` for a folder or a ``.npy`` path (``reading``: or any
    existing file, read as the ``.npy`` itself)."""
    if path.suffix == ".npy" or (reading and path.is_file()):
        return path, path.with_name(NPY_VOCAB)
    return path / NPY_VECTORS, path / NPY_VOCAB


def read(path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """``(words, vectors in their stored dtype, counts or None)``.

    Raises
    ------
    FileNotFoundError
        If ``vectors.npy`` or ``vocab.txt`` is missing.
    VectorFileError
        If either is malformed, or they do not match one to one.
    """
    vectors_path, vocab_path = _paths(path, reading=True)
    if not vectors_path.is_file():
        raise FileNotFoundError(f"{vectors_path} does not exist")
    with open(vectors_path, "rb") as f:
        if f.read(len(_MAGIC)) != _MAGIC:  # numpy's own message would suggest unpickling it
            raise VectorFileError(f"{vectors_path} is not a .npy file (it does not start with "
                                  f"numpy's magic string \\x93NUMPY)")
    if not vocab_path.is_file():
        raise FileNotFoundError(f"{vectors_path} needs its words in {vocab_path}, which does "
                                f"not exist")
    try:
        vectors = np.load(vectors_path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise VectorFileError(f"{vectors_path} cannot be read as a .npy array ({err})") from None
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating) \
            or vectors.shape[1] == 0:
        raise VectorFileError(f"{vectors_path} must hold a 2-D float array (V, N), N >= 1; got "
                              f"shape {vectors.shape} and dtype {vectors.dtype}")
    try:
        vocab = Vocabulary.load(vocab_path)
    except ValueError as err:
        message = str(err)
        raise VectorFileError(message if str(vocab_path) in message
                              else f"{vocab_path}: {message}") from None
    if len(vocab) != vectors.shape[0]:
        raise VectorFileError(f"{vocab_path} has {len(vocab)} words but {vectors_path} has "
                              f"{vectors.shape[0]} vectors; they must match one to one")
    reject_non_finite(vectors_path, vectors, vocab.words,
                      lambda i: f"row {i} (vocab.txt line {i + 1})")
    # A word-only vocab.txt loads with zero counts, which Vocabulary uses for "unknown".
    return vocab.words, vectors, (vocab.counts if vocab.counts.any() else None)


def write(path: Path, words: list[str], vectors: np.ndarray, counts) -> list[Path]:
    """Write both files; words holding a tab or a line break are refused."""
    vectors_path, vocab_path = _paths(path)
    check_utf8(vocab_path, words, "vocab.txt")
    bad = [w for w in words if any(ch in w for ch in "\t\n\r")]
    if bad:
        raise VectorFileError(f"{len(bad)} words contain a tab or a line break and cannot be "
                              f"written to {vocab_path}, e.g. {bad[:3]!r}")
    with atomic_writer(vectors_path) as f:
        np.save(f, np.ascontiguousarray(vectors), allow_pickle=False)
    if counts is not None:
        Vocabulary(words, counts).save(vocab_path)  # the run's own 'word<TAB>count' layout
    else:
        with atomic_writer(vocab_path) as f:
            f.write("".join(w + "\n" for w in words).encode("utf-8"))
    return [vectors_path, vocab_path]


CODEC = Codec(sniff, read, write)
