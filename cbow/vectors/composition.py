"""fastText's word vector: the mean of a word's input rows, in fastText's own arithmetic.

The input matrix has ``V + bucket`` rows: the words' own rows, then one row per hash bucket of
character n-grams (:mod:`cbow.data.subwords`). A vocabulary word's vector is the mean of its
own row and its n-grams' rows, an unseen word's the mean of its n-grams' rows. Sums run row by
row in the matrix's dtype and are then multiplied by ``1 / k``, as fastText does, so float32
vectors equal fastText's bit for bit. Used by :class:`~cbow.vectors.subword.SubwordEmbeddings`
and by the ``fasttext-bin`` codec (:mod:`cbow.vectors.formats.fasttext_bin`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit

from cbow.data import subwords


@njit(nogil=True, cache=True, fastmath=False)
def _mean_rows(word_rows, ngram_rows, row_offsets, rows, inverse_counts, out):
    """``out[w]`` = the sum of word ``w``'s input rows in order, times ``inverse_counts[w]``.

    Input row ``r`` is ``word_rows[r]`` for ``r < V``, else ``ngram_rows[r - V]``.
    """
    V = word_rows.shape[0]
    for w in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[w, c] = 0
        for k in range(row_offsets[w], row_offsets[w + 1]):
            r = rows[k]
            if r < V:
                for c in range(out.shape[1]):
                    out[w, c] += word_rows[r, c]
            else:
                for c in range(out.shape[1]):
                    out[w, c] += ngram_rows[r - V, c]
        for c in range(out.shape[1]):
            out[w, c] *= inverse_counts[w]


def compose(word_rows: np.ndarray, ngram_rows: np.ndarray, row_offsets: np.ndarray,
            rows: np.ndarray) -> np.ndarray:
    """``(W, N)``: per word of the table ``(row_offsets, rows)``, the mean of its input rows.

    The input matrix is ``word_rows`` (V, N) then ``ngram_rows`` (bucket, N), of one dtype. A
    word without rows gets zeros. The arithmetic is fastText's: a running sum in that dtype,
    then one multiplication by ``1 / k`` rounded to it.
    """
    n_rows = np.diff(row_offsets)
    inverse = (1.0 / np.maximum(n_rows, 1)).astype(word_rows.dtype)
    out = np.empty((n_rows.shape[0], word_rows.shape[1]), dtype=word_rows.dtype)
    _mean_rows(word_rows, ngram_rows, np.ascontiguousarray(row_offsets, dtype=np.int64),
               np.ascontiguousarray(rows), inverse, out)
    return out


def word_vectors(words: Sequence[str], word_rows: np.ndarray, ngram_rows: np.ndarray,
                 minn: int, maxn: int) -> np.ndarray:
    """``(V, N)``: the composed vectors of the vocabulary ``words`` (word ``i`` owns input row
    ``i``), with n-grams of ``minn``-``maxn`` characters hashed into ``len(ngram_rows)`` rows.

    Raises
    ------
    InputError
        If the n-gram lengths and the number of buckets do not fit together.
    """
    bucket = ngram_rows.shape[0]
    subwords.check_ngram_lengths(minn, maxn, bucket)
    row_offsets, rows = subwords.row_table(words, int(minn), int(maxn), int(bucket))
    return compose(word_rows, ngram_rows, row_offsets, rows)
