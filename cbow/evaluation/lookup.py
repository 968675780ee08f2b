"""How benchmark words meet the vocabulary: the case modes, and words ranked by frequency.

``exact``: benchmark words are looked up as written. ``lower``: benchmark words are lower-cased
first. ``insensitive``: both sides are upper-cased (with ``str.upper``) and a word with several
case variants in the vocabulary takes the vector of the first one (the most frequent in a
frequency-ordered vocabulary, see :func:`by_frequency`); no variant of a question word is an
answer. ``auto`` (the default) is ``lower`` when every vocabulary word is lower-case (as cbow's
tokenizers make them), else ``exact``.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from cbow.errors import InputError
from cbow.vectors.embeddings import Embeddings

CASES = ("auto", "lower", "exact", "insensitive")


def resolve_case(words: Iterable[str], case: str = "auto") -> str:
    """The case mode ``case`` stands for with this vocabulary: ``auto`` becomes ``lower`` if
    every word is lower-case, else ``exact``; the other modes are returned unchanged."""
    if case not in CASES:
        raise InputError(f"case must be one of {', '.join(CASES)}; got {case!r}")
    if case != "auto":
        return case
    return "lower" if all(word == word.lower() for word in words) else "exact"


class Lookup:
    """Benchmark word -> row of the vocabulary, among its first ``limit`` rows, for one case mode.

    ``group`` (shape (limit,), or None when no two rows share a word under the mode) gives
    each row the row that represents its word: the first of its case variants. Two rows name
    the same answer when their groups are equal.
    """

    def __init__(self, embeddings: Embeddings, case: str, limit: int):
        words = embeddings.words[:limit]
        self.case = resolve_case(embeddings.words if case == "auto" else (), case)
        self.limit = limit
        self.group: np.ndarray | None = None
        if self.case == "insensitive":
            # str.upper, not casefold: the same folding as gensim, so the same words collide.
            self._table: dict[str, int] = {}
            for row, word in enumerate(words):
                self._table.setdefault(word.upper(), row)  # the first variant wins
            if len(self._table) < len(words):
                self.group = np.array([self._table[word.upper()] for word in words])
        else:
            self._table = embeddings.vocab.word2index

    def key(self, word: str) -> str:
        if self.case == "insensitive":
            return word.upper()
        return word.lower() if self.case == "lower" else word

    def subword_key(self, word: str) -> str:
        """The form of a word outside the vocabulary whose n-grams give its vector."""
        return word.lower() if self.case == "lower" else word

    def rows(self, words: Iterable[str]) -> np.ndarray:
        """``(n,)`` int64 rows of ``words``; -1 for a word not among the first ``limit`` rows."""
        words = list(words)
        # Benchmarks repeat a few hundred words many times: look each distinct word up once.
        found = {word: self._table.get(self.key(word), -1) for word in set(words)}
        rows = np.fromiter((found[w] for w in words), dtype=np.int64, count=len(words))
        rows[rows >= self.limit] = -1
        return rows


def as_embeddings(embeddings) -> Embeddings:
    """An :class:`Embeddings`, or a ``(words, vectors)`` pair made into one."""
    if isinstance(embeddings, Embeddings):
        return embeddings
    words, vectors = embeddings
    return Embeddings(words, vectors)


def by_frequency(embeddings: Embeddings) -> Embeddings:
    """``embeddings`` with its rows in decreasing order of corpus count (ties keep their order).

    cbow's vocabularies are sorted alphabetically (the course's order); ``restrict_vocab``
    and the ``insensitive`` case mode assume the most frequent words come first. Returns
    ``embeddings`` itself when it has no counts (or only zeros).
    """
    counts = embeddings.counts
    if counts is None or not counts.any():
        return embeddings
    return embeddings.reordered(np.argsort(-counts, kind="stable"))
