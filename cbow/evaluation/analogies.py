"""Analogies: "a is to b as c is to what?", answered and scored in bulk.

``a b c d`` asks "a is to b as c is to what?"; the answer is the vocabulary word that scores
best, the three question words excluded, and it is correct if it is ``d``. 3CosAdd scores a
word ``w`` by ``cos(w, b) - cos(w, a) + cos(w, c)``, 3CosMul (Levy & Goldberg, 2014) by
``cos'(w, b) * cos'(w, c) / (cos'(w, a) + epsilon)`` with ``cos' = (1 + cos) / 2``.
Questions with a word outside the vocabulary (or outside the first ``restrict_vocab`` words)
are not attempted; accuracy is over the attempted questions, coverage is attempted / total.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from cbow.errors import InputError
from cbow.evaluation.files import read_analogies
from cbow.evaluation.lookup import Lookup, as_embeddings
from cbow.vectors.embeddings import COMBINATIONS, Embeddings

METHODS = COMBINATIONS  # 3CosAdd and 3CosMul, as Embeddings.most_similar names them
COSMUL_EPSILON = 1e-3  # Levy & Goldberg's value; gensim's most_similar_cosmul uses 1e-6

# Analogy questions are scored in blocks of rows whose (block, k) score matrices together hold
# about this many numbers (64 MB in float64): big enough for fast matrix products, small enough
# for any machine.
_SCORE_BLOCK_ELEMENTS = 1 << 23


class _Rates:
    """Accuracy and coverage from ``correct``, ``attempted`` and ``total``."""

    @property
    def accuracy(self) -> float:
        """correct / attempted; NaN when nothing was attempted."""
        return self.correct / self.attempted if self.attempted else math.nan

    @property
    def coverage(self) -> float:
        """attempted / total: the share of the questions the vocabulary could be asked."""
        return self.attempted / self.total if self.total else math.nan


@dataclass(frozen=True)
class SectionResult(_Rates):
    """Analogy counts of one section (or of a whole file)."""

    name: str
    correct: int
    attempted: int  # questions whose four words are all in the (restricted) vocabulary
    total: int


@dataclass(frozen=True)
class AnalogyResult(_Rates):
    """Analogy accuracy of one file, per section and in total."""

    file: str
    method: str
    restrict_vocab: int  # the number of vocabulary rows searched (all of them if not restricted)
    case: str
    sections: tuple[SectionResult, ...]

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.sections)

    @property
    def attempted(self) -> int:
        return sum(s.attempted for s in self.sections)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sections)


def _check_method(method: str) -> str:
    method = method.lower()
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    return method


def _limit(embeddings: Embeddings, restrict_vocab: int | None) -> int:
    if restrict_vocab is None:
        return len(embeddings)
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) \
            or restrict_vocab < 1:
        raise InputError(f"restrict_vocab must be a positive integer or None; "
                         f"got {restrict_vocab!r}")
    return min(int(restrict_vocab), len(embeddings))


def best_answers(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                 method: str = "3cosadd", epsilon: float = COSMUL_EPSILON,
                 group: np.ndarray | None = None) -> np.ndarray:
    """The best-scoring row for each question ``a : b :: c : ?``, question rows excluded.

    Parameters
    ----------
    unit : ndarray, shape (k, N)
        Unit-length vectors (zero rows allowed) of the candidate answers; the question rows
        index into it too.
    a, b, c : ndarray of int, shape (Q,)
        Rows of the question words.
    method : {"3cosadd", "3cosmul"}
    epsilon : float
        3CosMul's guard against dividing by ``cos'(w, a)`` near 0.
    group : ndarray of int, shape (k,), optional
        Rows with the same group are one word (case variants): all of them are excluded with
        a question word. None: every row is its own word.

    Returns
    -------
    ndarray of int64, shape (Q,)
        The best row per question (the lowest row among equal scores), or -1 when every
        candidate is excluded.
    """
    method = _check_method(method)
    Q, k = a.shape[0], unit.shape[0]
    best = np.full(Q, -1, dtype=np.int64)
    products = 1 if method == "3cosadd" else 3
    block = max(1, _SCORE_BLOCK_ELEMENTS // (k * products))
    for start in range(0, Q, block):
        qa, qb, qc = a[start:start + block], b[start:start + block], c[start:start + block]
        B = qa.shape[0]
        if method == "3cosadd":
            # For a unit w, cos(w,b) - cos(w,a) + cos(w,c) = w . (b - a + c): one product.
            scores = (unit[qb] - unit[qa] + unit[qc]) @ unit.T  # (B, k)
        else:
            cosines = unit[np.concatenate([qa, qb, qc])] @ unit.T  # (3B, k)
            # Cosines can be negative: a product of two negatives would look good and a negative
            # denominator would flip the order. Shifted into [0, 1], every term is non-negative.
            cosines += 1.0
            cosines *= 0.5
            scores = cosines[B:2 * B] * cosines[2 * B:] / (cosines[:B] + epsilon)  # (B, k)
        question = np.arange(B)
        for q in (qa, qb, qc):
            if group is None:
                scores[question, q] = -np.inf
            else:  # every case variant of the question word, not just the row looked up
                scores[group[None, :] == group[q][:, None]] = -np.inf
        chosen = scores.argmax(axis=1)
        found = np.isfinite(scores[question, chosen])
        best[start:start + B] = np.where(found, chosen, -1)
    return best


def _analogy_setup(embeddings, restrict_vocab, case):
    embeddings = as_embeddings(embeddings)
    limit = _limit(embeddings, restrict_vocab)
    return embeddings, Lookup(embeddings, case, limit)


def _answer_rows(embeddings, lookup, rows: np.ndarray, method: str, epsilon: float):
    """``(usable, best)``: which questions (rows ``(Q, 3 or 4)`` of word rows, -1 for a word not
    found) can be asked, and the best answer's row for each of those (-1: none left)."""
    usable = (rows >= 0).all(axis=1)
    a, b, c = rows[usable, :3].T
    best = best_answers(embeddings.unit_vectors[:lookup.limit], a, b, c, method=method,
                        epsilon=epsilon, group=lookup.group)
    return usable, best


def answer_analogies(embeddings, questions: Sequence[tuple[str, str, str]],
                     method: str = "3cosadd", restrict_vocab: int | None = None,
                     case: str = "auto", epsilon: float = COSMUL_EPSILON) -> list[str | None]:
    """The model's answer to each ``(a, b, c)``: "a is to b as c is to what?".

    The questions of :func:`evaluate_analogies` are answered by the same code, so this is
    also how to see what a benchmark's questions were answered.

    Returns
    -------
    list of str or None
        The answer word per question; None when a question word is not among the first
        ``restrict_vocab`` words (under ``case``) or no candidate is left.
    """
    embeddings, lookup = _analogy_setup(embeddings, restrict_vocab, case)
    rows = lookup.rows(w for question in questions for w in question).reshape(-1, 3)
    usable, best = _answer_rows(embeddings, lookup, rows, method, epsilon)
    words = embeddings.words
    answers: list[str | None] = [None] * len(rows)
    for i, row in zip(np.flatnonzero(usable), best):
        answers[i] = words[row] if row >= 0 else None
    return answers


def evaluate_analogies(embeddings, path: str | Path, method: str = "3cosadd",
                       restrict_vocab: int | None = None, case: str = "auto",
                       epsilon: float = COSMUL_EPSILON) -> AnalogyResult:
    """Accuracy on an analogy file, per section and in total.

    All attempted questions are answered with a few large matrix products (blocks of
    questions against the whole candidate matrix), in the dtype of the vectors.

    Parameters
    ----------
    embeddings : Embeddings or (words, vectors)
    path : str or Path
        An analogy file in the word2vec format (see :func:`~cbow.evaluation.files.read_analogies`).
    method : {"3cosadd", "3cosmul"}
    restrict_vocab : int, optional
        Use only the first ``restrict_vocab`` words of the vocabulary, both as answers and as
        question words (a question with a word beyond them is not attempted), as gensim and
        the word2vec tool do. This means "the most frequent words" only if the vocabulary is
        ordered by decreasing frequency, as word2vec and gensim files are; cbow's own
        vocabularies are alphabetical (see :func:`~cbow.evaluation.lookup.by_frequency`).
    case : {"auto", "lower", "exact", "insensitive"}
        How benchmark words meet the vocabulary (see :mod:`cbow.evaluation.lookup`).
    epsilon : float
        3CosMul's guard (Levy & Goldberg use 1e-3; gensim 1e-6).

    Raises
    ------
    BenchmarkFileError
        If the file is missing or malformed.
    """
    method = _check_method(method)
    sections = read_analogies(path)
    embeddings, lookup = _analogy_setup(embeddings, restrict_vocab, case)
    questions = [q for section in sections for q in section.questions]
    section_of = np.repeat(np.arange(len(sections)), [len(s.questions) for s in sections])
    rows = lookup.rows(w for question in questions for w in question).reshape(-1, 4)  # (Q, 4)
    usable, best = _answer_rows(embeddings, lookup, rows, method, epsilon)
    expected = rows[usable, 3]
    # Right means the word d itself or, with case variants, any variant of d. A best of -1 (no
    # candidate left) reads some group harmlessly and is masked out.
    group = np.arange(lookup.limit) if lookup.group is None else lookup.group
    correct = (best >= 0) & (group[best] == group[expected])
    n = len(sections)
    correct_per = np.bincount(section_of[usable][correct], minlength=n)
    attempted_per = np.bincount(section_of[usable], minlength=n)
    results = tuple(SectionResult(s.name, int(correct_per[i]), int(attempted_per[i]),
                                  len(s.questions)) for i, s in enumerate(sections))
    return AnalogyResult(file=str(path), method=method, restrict_vocab=lookup.limit,
                         case=lookup.case, sections=results)
