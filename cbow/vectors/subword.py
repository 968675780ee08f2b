"""Subword vectors: a vector for every word, seen or not, from fastText's input matrix.

:class:`SubwordEmbeddings` is :class:`~cbow.vectors.embeddings.Embeddings` whose vectors are
composed as fastText's ``getWordVector`` composes them (:mod:`cbow.vectors.composition`) from an
input matrix of ``V + bucket`` rows: the words' own rows, then the hashed character n-grams of
:mod:`cbow.data.subwords`. Float32 vectors equal fastText's bit for bit.

Like its base class it knows nothing of training: it is built from the matrix and the n-gram
settings, or read from a fastText ``.bin`` file (:meth:`SubwordEmbeddings.load`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from cbow.data import subwords
from cbow.errors import InputError, UnknownWord
from cbow.vectors.composition import compose, word_vectors
from cbow.vectors.checks import as_dtype, checked_dtype, reject_non_finite, words_only
from cbow.vectors.embeddings import Embeddings, _unit
from cbow.vectors.formats import fasttext_bin
from cbow.vectors.formats.common import non_finite_rows


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


class SubwordEmbeddings(Embeddings):
    """Word vectors composed from word and character n-gram rows (fastText's model).

    Parameters
    ----------
    words : sequence of str
        The vocabulary; ``words[i]`` owns ``word_rows[i]`` (input row ``i``).
    word_rows : array_like, shape (V, N)
        The words' own input rows.
    ngram_rows : array_like, shape (bucket, N)
        One row per hash bucket (input rows ``V`` to ``V + bucket - 1``), same dtype.
    minn, maxn : int
        Lengths of the character n-grams, in characters of ``<word>``; ``maxn`` 0: none.
    counts, source, which
        As for :class:`~cbow.vectors.embeddings.Embeddings`.

    The arrays are kept as given (read-only views, no copy). :meth:`from_input_matrix` takes the
    ``(V + bucket, N)`` matrix that fastText and the trainer hold.

    Attributes
    ----------
    vectors : ndarray, shape (V, N)
        The vocabulary's composed vectors, which the queries search.
    """

    def __init__(self, words: Sequence[str], word_rows, ngram_rows, minn: int, maxn: int,
                 counts=None, source: str | None = None, which: str | None = None):
        words = list(words)
        word_rows, ngram_rows = np.asarray(word_rows), np.asarray(ngram_rows)
        for name, array in (("word_rows", word_rows), ("ngram_rows", ngram_rows)):
            if not np.issubdtype(array.dtype, np.floating) or array.ndim != 2:
                raise ValueError(f"{name} must be a 2-D float array; got {array.dtype} "
                                 f"{array.shape}")
        if word_rows.shape[0] != len(words) or ngram_rows.shape[1] != word_rows.shape[1] \
                or ngram_rows.dtype != word_rows.dtype:
            raise ValueError(f"word_rows must be ({len(words)}, N) and ngram_rows (bucket, N) of "
                             f"the same dtype; got {word_rows.shape} {word_rows.dtype} and "
                             f"{ngram_rows.shape} {ngram_rows.dtype}")
        reject_non_finite(word_rows, words, source, rows="own input row")
        found = non_finite_rows(ngram_rows)
        if found is not None:
            raise InputError(f"{source or 'the model'}: n-gram row {found[0]} (input row "
                             f"{len(words) + found[0]}) holds NaN or infinity ({found[1]} such "
                             f"rows in all); word vectors must be finite numbers")
        vectors = word_vectors(words, word_rows, ngram_rows, minn, maxn)  # checks minn, maxn
        self.minn, self.maxn, self.bucket = int(minn), int(maxn), int(ngram_rows.shape[0])
        self._word_rows = _read_only(word_rows)
        self._ngram_rows = _read_only(ngram_rows)
        super().__init__(words, vectors, counts=counts, source=source, which=which)

    @classmethod
    def from_input_matrix(cls, words: Sequence[str], input_matrix, minn: int, maxn: int,
                          counts=None, source: str | None = None,
                          which: str | None = None) -> "SubwordEmbeddings":
        """From fastText's ``(V + bucket, N)`` input matrix: word rows, then n-gram rows."""
        matrix = np.asarray(input_matrix)
        V = len(words)
        if matrix.ndim != 2 or matrix.shape[0] < V:
            raise ValueError(f"input_matrix must be (words + bucket, N) with {V} words; got "
                             f"shape {matrix.shape}")
        return cls(words, matrix[:V], matrix[V:], minn, maxn, counts=counts, source=source,
                   which=which)

    def reordered(self, order) -> "SubwordEmbeddings":
        """The same model with word ``order[i]`` as word ``i``; the n-gram rows are shared."""
        order = np.asarray(order)
        words = self.words
        return SubwordEmbeddings([words[i] for i in order], self._word_rows[order],
                                 self._ngram_rows, self.minn, self.maxn,
                                 counts=None if self.counts is None else self.counts[order],
                                 source=self.source, which=self.which)

    # ----------------------------------------------------------------------------- gensim

    @classmethod
    def _from_gensim_rows(cls, kv, words: list[str], counts) -> "SubwordEmbeddings":
        """:meth:`Embeddings.from_gensim` of gensim's ``FastTextKeyedVectors`` (``words`` and
        ``counts`` read from it): its words' own rows (``vectors_vocab``) and n-gram rows."""
        word_rows = np.array(kv.vectors_vocab)
        ngrams = kv.vectors_ngrams if kv.bucket and kv.vectors_ngrams is not None else None
        ngram_rows = (np.zeros((0, word_rows.shape[1]), word_rows.dtype) if ngrams is None
                      else np.array(ngrams))
        dtype = np.result_type(word_rows, ngram_rows)
        maxn = kv.max_n if ngram_rows.shape[0] else 0  # gensim: no buckets, no n-grams
        return cls(words, word_rows.astype(dtype, copy=False),
                   ngram_rows.astype(dtype, copy=False), kv.min_n if maxn else 0, maxn,
                   counts=counts, source="gensim FastTextKeyedVectors")

    def to_gensim(self):
        """gensim's ``FastTextKeyedVectors``: these words and composed vectors, the words' own
        rows (``vectors_vocab``), the n-gram rows (``vectors_ngrams``) and each word's n-gram
        buckets, so gensim gives an unseen word the vector cbow gives it (to float32 rounding:
        gensim divides where fastText multiplies by 1 / k).

        Raises
        ------
        GensimMissing
            If gensim is not installed.
        """
        kv = super().to_gensim()
        V, N = len(self), self.vector_size
        kv.vectors_vocab = np.array(self._word_rows)
        kv.vectors_ngrams = (np.array(self._ngram_rows) if self.maxn
                             else np.zeros((0, N), self._ngram_rows.dtype))
        offsets, rows = subwords.row_table(self._words, self.minn, self.maxn, self.bucket)
        kv.buckets_word = [(rows[offsets[w] + 1:offsets[w + 1]] - V).astype(np.uint32)
                           for w in range(V)]  # each word's own row first, then its n-grams
        return kv

    def _empty_gensim(self):
        from cbow.vectors.embeddings import _import_keyed_vectors
        _import_keyed_vectors()  # GensimMissing when it is not installed
        from gensim.models.fasttext import FastTextKeyedVectors
        return FastTextKeyedVectors(vector_size=self.vector_size, min_n=self.minn,
                                    max_n=self.maxn, bucket=self.bucket if self.maxn else 0,
                                    count=0, dtype=self._vectors.dtype)

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
        checked_dtype(dtype)
        model = fasttext_bin.read_model(path)
        word_rows = as_dtype(model.word_rows, dtype, str(path),
                             lambda i: f"the own row of {model.words[i]!r}")
        ngram_rows = as_dtype(model.ngram_rows, dtype, str(path), lambda i: f"n-gram row {i}")
        return cls(model.words, word_rows, ngram_rows, model.args.minn, model.args.maxn,
                   counts=model.counts, source=str(path))

    def save(self, path: str | Path, format: str = "word2vec") -> list[Path]:
        """As :meth:`Embeddings.save` (the composed vectors); ``fasttext-bin`` writes the whole
        model: every word and n-gram row, which fastText and gensim read.

        That ``.bin`` records fastText's default training arguments besides ``dim``, ``minn``,
        ``maxn`` and ``bucket``, and an output matrix of zeros (the vectors layer has none);
        :func:`cbow.vectors.formats.fasttext_bin.write_model` writes a trained model's own.
        """
        if format != "fasttext-bin":
            return super().save(path, format)
        counts = self.counts if self.counts is not None else np.ones(len(self), np.int64)
        args = fasttext_bin.FastTextArgs(dim=self.vector_size, bucket=self.bucket,
                                         minn=self.minn, maxn=self.maxn)
        model = fasttext_bin.FastTextModel(args, self._words, counts, int(counts.sum()),
                                           self._word_rows, self._ngram_rows)
        return [fasttext_bin.write_model(path, model)]

    # ---------------------------------------------------------------------------- lookup

    @property
    def word_rows(self) -> np.ndarray:
        """``(V, N)`` read-only: the words' own input rows (not their composed vectors)."""
        return self._word_rows

    @property
    def ngram_rows(self) -> np.ndarray:
        """``(bucket, N)`` read-only: the n-gram rows, input rows ``V`` onwards."""
        return self._ngram_rows

    def __repr__(self) -> str:
        return (f"SubwordEmbeddings({len(self)} words, {self.vector_size} dims, n-grams of "
                f"{self.minn}-{self.maxn} characters in {self.bucket:,} buckets, "
                f"{self._vectors.dtype})")

    def rows_of_ngrams(self, word: str) -> np.ndarray:
        """Input rows that ``word``'s n-grams read (``V + hash % bucket``; not its own row)."""
        if self.maxn == 0:
            return np.zeros(0, dtype=np.int64)
        return subwords.ngram_rows(word, self.minn, self.maxn, self.bucket, len(self))

    def has_vector(self, word: str) -> bool:
        """Whether ``word`` has a vector: it is in the vocabulary or has at least one n-gram."""
        return word in self or (isinstance(word, str) and self.rows_of_ngrams(word).size > 0)

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
        word = words_only([word])[0]
        if word in self.vocab:
            return super().vector(word)
        rows = self.rows_of_ngrams(word)
        if rows.size == 0 and if_no_ngrams == "error":
            raise UnknownWord(self._no_vector_message(word))
        return compose(self._word_rows, self._ngram_rows, np.array([0, rows.size]), rows)[0]

    def __getitem__(self, word_or_words: str | Sequence[str]) -> np.ndarray:
        """``(N,)`` for one word, ``(k, N)`` for a list of ``k`` words, seen or not."""
        if isinstance(word_or_words, str):
            return self.vector(word_or_words)
        words = words_only(word_or_words)
        self.check_words(words)
        return np.stack([self.vector(w) for w in words]) if words else (
            np.zeros((0, self.vector_size), self._vectors.dtype))

    def _no_vector_message(self, word: str) -> str:
        why = ("the model has no n-grams (maxn 0)" if self.maxn == 0 else
               f"it has no character n-grams of {self.minn}-{self.maxn} characters")
        return f"{self.unknown_word_message(word)}, and {why}: it has no vector"

    def _zero_vector_message(self, word: str) -> str:
        if word in self.vocab:
            return super()._zero_vector_message(word)
        return (f"the vector of {word!r} is zero: it is outside the vocabulary, and no word "
                f"the model was trained on shares one of its character n-grams")

    def check_words(self, words) -> None:
        """Raise one :class:`~cbow.errors.UnknownWord` naming every word without a vector."""
        missing = list(dict.fromkeys(w for w in words_only(words) if not self.has_vector(w)))
        if len(missing) == 1:
            raise UnknownWord(self._no_vector_message(missing[0]))
        if missing:
            raise UnknownWord(f"{len(missing)} words are neither in the vocabulary ({len(self)} "
                              f"words) nor long enough for n-grams of {self.minn}-{self.maxn} "
                              f"characters: {', '.join(map(repr, missing))}")

    # ---------------------------------------------------------------------------- queries

    def _query(self, words: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """As :meth:`Embeddings._query`; an unseen word's unit vector is its n-gram vector's,
        so :meth:`similarity`, :meth:`most_similar` and :meth:`analogy` accept unseen words."""
        self.check_words(words)
        if all(w in self.vocab for w in words):
            return super()._query(words)
        unit = self.unit_vectors
        units = np.stack([unit[self.vocab.word2index[w]] if w in self.vocab
                          else _unit(self.vector(w)) for w in words])
        return units, [self.vocab.word2index[w] for w in words if w in self.vocab]
