"""Subword vectors: a vector for every word, seen or not, from fastText's input matrix.

:class:`SubwordEmbeddings` is :class:`~cbow.embeddings.Embeddings` whose vectors are composed as
fastText's ``getWordVector`` composes them from an input matrix of ``V + bucket`` rows (the
words' own rows, then the hashed character n-grams of :mod:`cbow.subwords`): a vocabulary word's
vector is the mean of its own row and its n-grams' rows, an unseen word's the mean of its
n-grams' rows. Sums run row by row in the matrix's dtype and are then multiplied by ``1 / k``, as
fastText does, so float32 vectors equal fastText's bit for bit.

Like its base class it knows nothing of training: it is built from the matrix and the n-gram
settings, or read from a fastText ``.bin`` file (:meth:`SubwordEmbeddings.load`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from numba import njit

from cbow import fasttext_bin, subwords
from cbow.embeddings import Embeddings, _unit
from cbow.errors import InputError, UnknownWord

FORMATS = ("fasttext-bin", "fasttext-vec")
"""The formats :meth:`SubwordEmbeddings.save` adds to those of :class:`Embeddings`."""


@njit(nogil=True, cache=True, fastmath=False)
def _mean_rows(matrix, row_offsets, rows, inverse_counts, out):
    """``out[w]`` = sum of ``matrix[rows of w]`` in order, times ``inverse_counts[w]``."""
    for w in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[w, c] = 0
        for k in range(row_offsets[w], row_offsets[w + 1]):
            r = rows[k]
            for c in range(out.shape[1]):
                out[w, c] += matrix[r, c]
        for c in range(out.shape[1]):
            out[w, c] *= inverse_counts[w]


def compose(matrix: np.ndarray, row_offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(W, N)`` mean rows of ``matrix`` per word of the table ``(row_offsets, rows)``.

    A word without rows gets zeros. The arithmetic is fastText's: a running sum in the matrix's
    dtype, then one multiplication by ``1 / k`` rounded to that dtype.
    """
    n_rows = np.diff(row_offsets)
    inverse = (1.0 / np.maximum(n_rows, 1)).astype(matrix.dtype)
    out = np.empty((n_rows.shape[0], matrix.shape[1]), dtype=matrix.dtype)
    _mean_rows(matrix, np.ascontiguousarray(row_offsets, dtype=np.int64),
               np.ascontiguousarray(rows), inverse, out)
    return out


class SubwordEmbeddings(Embeddings):
    """Word vectors composed from word and character n-gram rows (fastText's model).

    Parameters
    ----------
    words : sequence of str
        The vocabulary; ``words[i]`` owns row ``i`` of ``input_matrix``.
    input_matrix : array_like, shape (V + bucket, N)
        Float rows: the words' own rows, then one row per hash bucket.
    minn, maxn : int
        Lengths of the character n-grams, in characters of ``<word>``; ``maxn`` 0: none.
    bucket : int
        Number of n-gram rows.
    counts, source, which
        As for :class:`~cbow.embeddings.Embeddings`.

    Attributes
    ----------
    vectors : ndarray, shape (V, N)
        The vocabulary's composed vectors, which the queries search.
    input_matrix : ndarray, shape (V + bucket, N)
        The rows they are composed from (read-only).
    """

    def __init__(self, words: Sequence[str], input_matrix, minn: int, maxn: int, bucket: int,
                 counts=None, source: str | None = None, which: str | None = None):
        words = list(words)
        subwords.check_ngram_lengths(minn, maxn, bucket)
        matrix = np.asarray(input_matrix)
        if not np.issubdtype(matrix.dtype, np.floating):
            raise ValueError(f"input_matrix must hold floats; got dtype {matrix.dtype}")
        if matrix.ndim != 2 or matrix.shape[0] != len(words) + bucket:
            raise ValueError(f"input_matrix must be (words + bucket, N) = ({len(words) + bucket}, "
                             f"N); got shape {matrix.shape}")
        self.minn, self.maxn, self.bucket = int(minn), int(maxn), int(bucket)
        self._input = np.ascontiguousarray(matrix).view()
        self._input.flags.writeable = False
        row_offsets, rows = subwords.row_table(words, self.minn, self.maxn, self.bucket)
        super().__init__(words, compose(self._input, row_offsets, rows), counts=counts,
                         source=source, which=which)

    # ----------------------------------------------------------------------------- files

    @classmethod
    def load(cls, path: str | Path, format: str | None = "fasttext-bin",
             dtype=None) -> "SubwordEmbeddings":
        """Read a fastText ``.bin`` model (``format`` can only be ``fasttext-bin``).

        :meth:`Embeddings.load` sends a ``.bin`` file here, so either reads one.

        Raises
        ------
        FileNotFoundError
            If the file is missing.
        FastTextFileError
            If the file is not a fastText model, or a damaged, truncated, supervised or
            quantized one.
        """
        if format not in (None, "fasttext-bin"):
            raise InputError(f"SubwordEmbeddings.load reads fastText .bin models; for the "
                             f"{format!r} format use Embeddings.load")
        model = fasttext_bin.read_model(path)
        matrix = model.input if dtype is None else model.input.astype(dtype, copy=False)
        return cls(model.words, matrix, model.args.minn, model.args.maxn, model.args.bucket,
                   counts=model.counts, source=str(path))

    def save(self, path: str | Path, format: str = "fasttext-bin") -> list[Path]:
        """Write ``fasttext-bin`` (the whole model: every word and n-gram row), ``fasttext-vec``
        (word2vec text of the composed vocabulary vectors) or any format of
        :meth:`Embeddings.save` (composed vectors).

        A ``.bin`` written here records fastText's default training arguments besides ``dim``,
        ``minn``, ``maxn`` and ``bucket``, and an output matrix of zeros (the vectors layer has
        none); :func:`cbow.fasttext_bin.write_model` writes a trained model's own.
        """
        if format == "fasttext-vec":
            return super().save(path, "word2vec")
        if format != "fasttext-bin":
            return super().save(path, format)
        counts = self.counts if self.counts is not None else np.ones(len(self), np.int64)
        args = fasttext_bin.FastTextArgs(dim=self.vector_size, bucket=self.bucket,
                                         minn=self.minn, maxn=self.maxn)
        model = fasttext_bin.FastTextModel(args, self._words, counts, int(counts.sum()),
                                           self._input, None)
        return [fasttext_bin.write_model(path, model)]

    # ---------------------------------------------------------------------------- lookup

    @property
    def input_matrix(self) -> np.ndarray:
        return self._input

    def __repr__(self) -> str:
        return (f"SubwordEmbeddings({len(self)} words, {self.vector_size} dims, n-grams of "
                f"{self.minn}-{self.maxn} characters in {self.bucket:,} buckets, "
                f"{self._vectors.dtype})")

    def ngram_rows(self, word: str) -> np.ndarray:
        """Rows of ``input_matrix`` that ``word``'s n-grams read (its own row not included)."""
        if self.maxn == 0:
            return np.zeros(0, dtype=np.int64)
        return subwords.ngram_rows(word, self.minn, self.maxn, self.bucket, len(self))

    def has_vector(self, word: str) -> bool:
        """Whether ``word`` has a vector: it is in the vocabulary or has at least one n-gram."""
        return word in self.vocab or self.ngram_rows(word).size > 0

    def vector(self, word: str, if_no_ngrams: str = "error") -> np.ndarray:
        """The ``(N,)`` vector of ``word``: composed for a vocabulary word, else the mean of its
        n-grams' rows (fastText's ``getWordVector``).

        Parameters
        ----------
        if_no_ngrams : {"error", "zeros"}
            An unseen word without n-grams (shorter than ``minn`` with its markers, or any word
            when ``maxn`` is 0): ``error`` raises :class:`~cbow.errors.UnknownWord` naming it,
            ``zeros`` returns a zero vector, as fastText does.
        """
        if if_no_ngrams not in ("error", "zeros"):
            raise InputError(f"if_no_ngrams must be 'error' or 'zeros'; got {if_no_ngrams!r}")
        if word in self.vocab:
            return super().vector(word)
        rows = self.ngram_rows(word)
        if rows.size == 0 and if_no_ngrams == "error":
            raise UnknownWord(self._no_vector_message(word))
        return compose(self._input, np.array([0, rows.size]), rows)[0]

    def __getitem__(self, word_or_words: str | Sequence[str]) -> np.ndarray:
        """``(N,)`` for one word, ``(k, N)`` for a list of ``k`` words, seen or not."""
        if isinstance(word_or_words, str):
            return self.vector(word_or_words)
        self.check_words(word_or_words)
        return np.stack([self.vector(w) for w in word_or_words]) if len(word_or_words) else (
            np.zeros((0, self.vector_size), self._vectors.dtype))

    def _no_vector_message(self, word: str) -> str:
        why = ("the model has no n-grams (maxn 0)" if self.maxn == 0 else
               f"it has no character n-grams of {self.minn}-{self.maxn} characters")
        return f"{self.unknown_word_message(word)}, and {why}: it has no vector"

    def check_words(self, words) -> None:
        """Raise one :class:`~cbow.errors.UnknownWord` naming every word without a vector."""
        missing = list(dict.fromkeys(w for w in words if not self.has_vector(w)))
        if len(missing) == 1:
            raise UnknownWord(self._no_vector_message(missing[0]))
        if missing:
            raise UnknownWord(f"{len(missing)} words are neither in the vocabulary ({len(self)} "
                              f"words) nor long enough for n-grams of {self.minn}-{self.maxn} "
                              f"characters: {', '.join(map(repr, missing))}")

    # ---------------------------------------------------------------------------- queries

    def _unit_vector(self, word: str) -> np.ndarray:
        if word in self.vocab:
            return self.unit_vectors[self.vocab.word2index[word]]
        return _unit(self.vector(word))

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the vectors of ``a`` and ``b``, either of them possibly unseen."""
        return float(self._unit_vector(a) @ self._unit_vector(b))

    def most_similar(self, word_or_vector, *args, **kwargs):
        """As :meth:`Embeddings.most_similar`; an unseen word is queried by its n-gram vector."""
        if isinstance(word_or_vector, str) and word_or_vector not in self.vocab:
            word_or_vector = self.vector(word_or_vector)
        return super().most_similar(word_or_vector, *args, **kwargs)

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """As :meth:`Embeddings.analogy`, with unseen words taken by their n-gram vectors."""
        if all(w in self.vocab for w in (a, b, c)):
            return super().analogy(a, b, c, topn)
        self.check_words([a, b, c])
        query = self._unit_vector(b) - self._unit_vector(a) + self._unit_vector(c)
        exclude = [self.vocab.word2index[w] for w in (a, b, c) if w in self.vocab]
        return self._nearest(_unit(query), exclude=exclude, topn=topn)
