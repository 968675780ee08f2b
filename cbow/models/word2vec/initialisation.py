"""The weights training starts from: word2vec's (or gensim's) uniform input vectors, zero
output vectors. numpy only."""
from __future__ import annotations

import mmap

import numpy as np

from cbow.models.word2vec.settings import INITIALISATIONS
from cbow.models.word2vec.tables import Objective

#: Rows drawn at a time by :func:`initial_weights` when only some are kept.
_DRAW_BLOCK_ROWS = 1 << 14


def initial_weights(objective: Objective, vector_size: int, seed: int, scheme: str = "word2vec",
                    input_rows: int | None = None, drawn: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """word2vec's initialisation, drawn from ``np.random.default_rng(seed)``.

    ``scheme`` (one of :data:`~cbow.models.word2vec.settings.INITIALISATIONS`): ``word2vec``,
    the C tool's range, input vectors uniform in [-0.5/N, 0.5/N); ``gensim``, gensim 4's,
    uniform in [-1/N, 1/N), computed as gensim's ``prep_vectors`` does from the same generator
    (so the same seed and vocabulary order give gensim's initial vectors).
    ``benchmarks/ablate_word2vec.py`` compares the two.

    Returns
    -------
    input_vectors : (input_rows, N) float32, uniform in [-0.5/N, 0.5/N) or [-1/N, 1/N);
        ``input_rows`` defaults to V (a row table's words and n-gram buckets need more; the
        first V rows are the same either way)
    output_vectors : (objective.output_rows, N) float32, zeros
    hidden_bias : (N,) float32, zeros (used by the ``relu`` variant only)

    ``drawn`` ((input_rows,) bool, optional) keeps the draws of those rows only; the others are
    zero and never written, so their memory pages are never touched: fastText's n-gram buckets
    that no vocabulary word reaches, which training never reads. The kept rows are the same
    as without it (the same generator, drawn in the same order a block of rows at a time).
    """
    if vector_size < 1:
        raise ValueError(f"vector_size must be >= 1; got {vector_size}")
    if scheme not in INITIALISATIONS:
        raise ValueError(f"scheme must be one of {', '.join(INITIALISATIONS)}; got {scheme!r}")
    rng = np.random.default_rng(seed)
    rows = objective.vocab_size if input_rows is None else input_rows
    if drawn is None:
        input_vectors = _uniform_rows(rng, rows, vector_size, scheme)
    else:
        if drawn.shape != (rows,):
            raise ValueError(f"drawn must have one entry per input row ({rows}); "
                             f"got shape {drawn.shape}")
        input_vectors = _lazy_zeros((rows, vector_size))
        for start in range(0, rows, _DRAW_BLOCK_ROWS):
            block = _uniform_rows(rng, min(_DRAW_BLOCK_ROWS, rows - start), vector_size, scheme)
            keep = drawn[start:start + block.shape[0]]
            input_vectors[start:start + block.shape[0]][keep] = block[keep]
    output_vectors = np.zeros((objective.output_rows, vector_size), np.float32)
    return input_vectors, output_vectors, np.zeros(vector_size, np.float32)


def _lazy_zeros(shape: tuple[int, int]) -> np.ndarray:
    """A float32 array of zeros whose memory pages exist only once written.

    A private anonymous mapping: reading a page never written costs no memory, and its pages are
    the processor's small ones (numpy asks for huge pages on large arrays, and a 2 MB page holds
    5,000 rows of 100 floats: rows scattered over the buckets would bring in all of them).
    """
    size = int(np.prod(shape)) * 4
    if size == 0 or not hasattr(mmap, "MAP_PRIVATE"):  # (Windows: numpy's own zeros)
        return np.zeros(shape, np.float32)
    pages = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(pages, dtype=np.float32).reshape(shape)


def _uniform_rows(rng: np.random.Generator, rows: int, vector_size: int,
                  scheme: str) -> np.ndarray:
    """``rows`` input rows in the scheme's range, the next draws of ``rng``."""
    vectors = rng.random((rows, vector_size), dtype=np.float32)
    # in place: no second copy of a large (bucket) matrix; the same float32 operations as
    # (uniform - 0.5) / N and (uniform * 2 - 1) / N
    if scheme == "word2vec":
        vectors -= np.float32(0.5)
    else:
        vectors *= np.float32(2.0)
        vectors -= np.float32(1.0)
    vectors /= np.float32(vector_size)
    return vectors
