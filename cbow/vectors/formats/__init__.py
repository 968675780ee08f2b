"""Vector files: one codec per format, one dispatcher that finds a file's codec.

Each format is a module of this package holding a :class:`~cbow.vectors.formats.common.Codec`,
its ``sniff``, ``read`` and ``write``; :data:`cbow.registry.VECTOR_FORMATS` names it:

==================  ===============================================
``word2vec``        :mod:`~cbow.vectors.formats.word2vec_text` (also ``fasttext-vec``)
``word2vec-bin``    :mod:`~cbow.vectors.formats.word2vec_binary`
``npy``             :mod:`~cbow.vectors.formats.npy`
``projector``       :mod:`~cbow.vectors.formats.projector`
``fasttext-bin``    :mod:`~cbow.vectors.formats.fasttext_bin`
==================  ===============================================

The functions below reach the codecs only through the registry, by name: a format given by
name is looked up there, a file of unknown format is offered to each registered codec's
``sniff`` in the registry's order, and the first that claims it reads it. So adding a vector
format is one module here (its codec) plus one registration in ``VECTOR_FORMATS``; nothing
else changes. A format whose files hold more than words and vectors (fastText's n-gram rows)
also names, in its registration, the :class:`~cbow.vectors.embeddings.Embeddings` subclass
that loads such files whole (:func:`embeddings_class`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cbow.errors import InputError
from cbow.io import special_kind
from cbow.registry import VECTOR_FORMATS
from cbow.vectors.formats.common import Codec, VectorFileError, first_line, parse_header

__all__ = ["Codec", "VectorFileError", "check_format", "detect_format", "embeddings_class",
           "folder_format", "format_of", "is_zip", "read_vectors", "write_vectors"]

#: How much of a file the codecs' sniffs see.
SNIFF_BYTES = 1 << 16
#: What a folder no codec claims is read as: its reader names the file the folder lacks.
FOLDER_DEFAULT = "npy"


def read_vectors(path: str | Path, format: str | None = None):
    """``(words, vectors (V, N), counts or None)`` from a vector file; ``format`` is detected.

    Raises
    ------
    FileNotFoundError
        If the file (or the ``vocab.txt`` of an ``npy`` export) is missing.
    VectorFileError
        If the file is malformed; the message says where.
    """
    path = Path(path)
    return VECTOR_FORMATS.load(format_of(path, format)).read(path)


def write_vectors(path: str | Path, words: list[str], vectors: np.ndarray, counts=None,
                  format: str = "word2vec") -> list[Path]:
    """Write ``vectors`` (V, N) labelled by ``words`` in ``format``, atomically; the files.

    No words is refused: no reader takes a file of none (a word2vec header says V >= 1).
    """
    codec = VECTOR_FORMATS.load(check_format(format))
    if not words:
        raise VectorFileError(f"{path}: no words to write; a vector file holds at least one")
    return codec.write(Path(path), words, vectors, counts)


def check_format(format: str) -> str:
    """``format`` if it is a registered format's name; else the error listing them."""
    if format not in VECTOR_FORMATS:
        raise InputError(f"format must be one of {', '.join(VECTOR_FORMATS.names())}; "
                         f"got {format!r}")
    return format


def format_of(path: str | Path, format: str | None = None) -> str:
    """The format of the existing file or folder ``path``: ``format`` checked, or detected.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    VectorFileError
        If ``path`` is a device, a FIFO or a socket, or no format's file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"vector file {path} does not exist")
    kind = special_kind(path)
    if kind is not None:  # /dev/zero never ends; a FIFO cannot be read twice (format, then data)
        raise VectorFileError(f"{path} is {kind}, not a vector file; save it to a file")
    return check_format(format) if format is not None else detect_format(path)


def embeddings_class(format: str) -> type | None:
    """The :class:`~cbow.vectors.embeddings.Embeddings` subclass that loads ``format``'s files
    whole, as its registration names it; None when words and vectors are all they hold (or
    ``format`` is no format's name)."""
    return VECTOR_FORMATS.get(format).load_embeddings_class() if format in VECTOR_FORMATS \
        else None


def detect_format(path: Path) -> str:
    """The name of the first registered format whose codec's ``sniff`` claims ``path``.

    A folder no codec claims is read as :data:`FOLDER_DEFAULT`, whose reader names the file it
    lacks. A file no codec claims is a zip archive (a training checkpoint: the error says where
    those are read), a format's file damaged where its sniff looks (the codec's ``damaged``
    says what), or is reported against the word2vec header, the one format that has no magic
    number and so the one a stray text file was most likely meant to be.
    """
    head = None
    if not path.is_dir():
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    claimed = _claimant(path, head)
    if claimed is not None:
        return claimed
    if head is None:
        return FOLDER_DEFAULT
    if head.startswith(b"PK\x03\x04"):
        raise VectorFileError(f"{path} is a zip archive (a training checkpoint?), not a vector "
                              f"file; use cbow.training.run.load_embeddings for checkpoints")
    for entry in VECTOR_FORMATS:  # a format's file, damaged where a sniff looks
        damaged = entry.load().damaged
        problem = damaged(path, head) if damaged is not None else None
        if problem is not None:
            raise VectorFileError(problem)
    parse_header(path, first_line(head))  # raises: no codec took a file with a word2vec header
    raise VectorFileError(f"{path} is in none of the vector formats "
                          f"{', '.join(VECTOR_FORMATS.names())}")


def folder_format(path: Path) -> str | None:
    """The format of the vectors in the folder ``path``, or None when no codec claims it (no
    vectors: a training run, say)."""
    return _claimant(path, None)


def _claimant(path: Path, head: bytes | None) -> str | None:
    """The first registered format whose ``sniff`` claims ``path`` (``head``: None, a folder)."""
    for entry in VECTOR_FORMATS:
        if entry.load().sniff(path, head):
            return entry.name
    return None


def is_zip(path: Path) -> bool:
    """Whether the file ``path`` starts as a zip archive (a checkpoint) does."""
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"
