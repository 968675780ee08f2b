"""Word-pair similarity: how a model's cosines agree with human scores.

The cosine of each pair's vectors against the human score: Spearman's rank correlation (ties
get the average of their ranks) and Pearson's linear correlation. Pairs with a word that is not
in the vocabulary are skipped and counted; a result says how many. Subword vectors
(:class:`~cbow.vectors.subword.SubwordEmbeddings`, fastText's model) give such a word the
vector of its character n-grams instead, and the result counts the pairs that used one
(``pairs_subword``); only a word without n-grams is then skipped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from cbow.evaluation.files import WordPair, read_word_pairs
from cbow.evaluation.lookup import Lookup, as_embeddings
from cbow.vectors.embeddings import unit_rows


def average_ranks(values) -> np.ndarray:
    """1-based ranks of ``values`` (n,), tied values sharing the mean of the ranks they span.

    ``[10, 20, 20, 30]`` -> ``[1, 2.5, 2.5, 4]``.
    """
    values = np.asarray(values, dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    # The i-th distinct value spans ranks (before + 1) .. (before + count); their mean is
    # before + (count + 1) / 2, where `before` counts the smaller values.
    before = np.cumsum(counts) - counts
    return (before + (counts + 1) / 2.0)[inverse.reshape(-1)]


def pearson(x, y) -> float:
    """Pearson's correlation of ``x`` and ``y`` (n,); NaN if n < 2 or either is constant."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length; got {x.shape} and {y.shape}")
    if x.size < 2:
        return math.nan
    xc, yc = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(xc @ xc) * float(yc @ yc))
    if denominator == 0:
        return math.nan
    # Rounding can push |r| a hair over 1 for perfectly correlated data.
    return float(np.clip(float(xc @ yc) / denominator, -1.0, 1.0))


def spearman(x, y) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` (n,): Pearson's of their average ranks."""
    return pearson(average_ranks(x), average_ranks(y))


@dataclass(frozen=True)
class PairsResult:
    """How the cosines of a model agree with one file of human similarity scores.

    ``spearman`` and ``pearson`` are NaN when fewer than two pairs (or only constant scores)
    are left after skipping the out-of-vocabulary ones.
    """

    file: str
    spearman: float
    pearson: float
    pairs_used: int
    pairs_total: int
    case: str  # the case mode used (``auto`` resolved)
    pairs_subword: int = 0  # pairs used with a word outside the vocabulary (its n-gram vector)

    @property
    def pairs_oov(self) -> int:
        """Pairs skipped because a word has no vector (outside the vocabulary, no n-grams)."""
        return self.pairs_total - self.pairs_used

    @property
    def oov_ratio(self) -> float:
        """Fraction (0 to 1) of the pairs that were skipped as out of vocabulary."""
        return self.pairs_oov / self.pairs_total


def pair_similarities(embeddings, pairs: Sequence[WordPair],
                      case: str = "auto") -> tuple[np.ndarray, np.ndarray, str]:
    """Model cosines for the pairs whose two words both have a vector.

    Returns
    -------
    used : ndarray of bool, shape (len(pairs),)
        Which pairs have both words in the vocabulary (or, with subword vectors, a vector).
    cosines : ndarray of float64, shape (used.sum(),)
        The cosine of each used pair's vectors, computed in float64 (zero vectors give 0).
    case : str
        The case mode used.
    """
    used, _, cosines, case = _pair_cosines(embeddings, pairs, case)
    return used, cosines, case


def _pair_cosines(embeddings, pairs: Sequence[WordPair], case: str):
    """``(used, subword, cosines, case)``: :func:`pair_similarities`, and which pairs used a
    subword vector (``subword``, shape (len(pairs),))."""
    embeddings = as_embeddings(embeddings)
    lookup = Lookup(embeddings, case, len(embeddings))
    words = [w for pair in pairs for w in (pair.word1, pair.word2)]
    rows = lookup.rows(words).reshape(-1, 2)
    outside = np.zeros(rows.shape, dtype=bool)  # words given their subword vector
    extra: dict[tuple[int, int], np.ndarray] = {}
    for i, j in zip(*np.nonzero(rows < 0)):  # subword vectors give unseen words one
        word = lookup.subword_key(words[2 * i + j])
        if word not in embeddings and embeddings.has_vector(word):
            extra[i, j] = embeddings.vector(word)
            outside[i, j] = True
    used = ((rows >= 0) | outside).all(axis=1)
    # Only the rows in the benchmark are normalised, in float64 whatever the vectors' dtype.
    pair_vectors = []
    for j in (0, 1):
        vectors = np.array(embeddings.vectors[np.maximum(rows[used, j], 0)], dtype=np.float64)
        for k in np.flatnonzero(outside[used, j]):  # the k-th used pair's word j is outside
            vectors[k] = extra[int(np.flatnonzero(used)[k]), j]
        pair_vectors.append(unit_rows(vectors))
    cosines = np.einsum("ij,ij->i", *pair_vectors)  # row-wise dot products, (n_used,)
    return used, outside.any(axis=1) & used, cosines, lookup.case


def evaluate_word_pairs(embeddings, path: str | Path, case: str = "auto") -> PairsResult:
    """Spearman and Pearson correlations of the model's cosines with a file's human scores.

    Parameters
    ----------
    embeddings : Embeddings or (words, vectors)
    path : str or Path
        A word-pair file (see :func:`~cbow.evaluation.files.read_word_pairs`).
    case : {"auto", "lower", "exact", "insensitive"}
        How benchmark words meet the vocabulary (see :mod:`cbow.evaluation.lookup`).

    Raises
    ------
    BenchmarkFileError
        If the file is missing or malformed.
    """
    pairs = read_word_pairs(path)
    used, subword, cosines, case = _pair_cosines(embeddings, pairs, case)
    gold = np.array([pair.score for pair in pairs])[used]
    return PairsResult(file=str(path), spearman=spearman(gold, cosines),
                       pearson=pearson(gold, cosines), pairs_used=int(used.sum()),
                       pairs_total=len(pairs), case=case, pairs_subword=int(subword.sum()))
