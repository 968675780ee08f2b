"""What the vectors layer checks of what it is handed: words, counts, finite rows, and the
questions asked of vectors (how many answers, a query that has a direction).

Every way in (a constructor, a file, gensim) and every query goes through these, so each
refusal reads the same wherever it comes from: one :class:`~cbow.errors.InputError` naming
the word, the row or the value.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from cbow.errors import InputError
from cbow.vectors.formats.common import non_finite_rows


def checked_counts(counts, V: int) -> np.ndarray:
    """``counts`` as int64 (V,): whole numbers >= 0, which ``vocab.txt`` can hold."""
    array = np.asarray(counts)
    if array.shape != (V,):
        raise ValueError(f"counts must have shape ({V},); got {array.shape}")
    if array.dtype.kind in "iu":
        bad = array < 0
    elif array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(array) | (array != np.round(array)) | (array < 0)
    else:
        bad = np.ones(V, dtype=bool)
    if bad.any():
        raise InputError(f"counts must be whole numbers >= 0; got {array[bad][:3].tolist()!r}")
    return array.astype(np.int64)


def reject_non_finite(vectors: np.ndarray, words: Sequence[str], source: str | None,
                      rows: str = "vector") -> None:
    """Refuse ``vectors`` (V, N) holding NaN or infinity, naming the first such row's word:
    such a vector has no direction, and would rank as a neighbour with a NaN score."""
    found = non_finite_rows(vectors)
    if found is not None:
        i, count = found
        raise InputError(f"{source or 'the vectors'}: the {rows} of {words[i]!r} (row {i}) holds "
                         f"NaN or infinity ({count} such rows in all); word vectors must be "
                         f"finite numbers")


def words_only(words) -> list[str]:
    """``words`` as a list (one ``str`` is one word), each checked to be a non-empty ``str``."""
    try:
        words = [words] if isinstance(words, str) else list(words)
    except TypeError:  # not a sequence: one word that is no str
        words = [words]
    for word in words:
        if not isinstance(word, str):
            raise InputError(f"words are strings; got {word!r:.60} ({type(word).__name__})")
        if not word:  # subword vectors would answer it with the n-gram '<>'
            raise InputError("a query word is empty; give a word")
    return words


def checked_topn(topn) -> int | None:
    """``topn`` checked: a whole number >= 0 (a Python or numpy integer), or None (all)."""
    if topn is None:
        return None
    if isinstance(topn, (bool, np.bool_)) or not isinstance(topn, (int, np.integer)):
        raise InputError(f"topn must be a whole number of words (or None for all); got {topn!r}")
    if topn < 0:
        raise InputError(f"topn must be >= 0; got {topn}")
    return int(topn)


def refuse_cancelling(query: np.ndarray, positive: Sequence[str], negative: Sequence[str],
                       mean: bool = False) -> None:
    """Refuse a query, the sum (``mean``: the mean) of the unit vectors of ``positive`` and the
    negated ones of ``negative``, that is zero but for rounding: its words cancel out (``king -
    king``, ``a + b - a - b``), and what rounding leaves of it points nowhere in particular."""
    terms = len(positive) + len(negative)
    length = np.linalg.norm(query) * (terms if mean else 1)  # the sum's
    # A sum of `terms` unit vectors is off by at most about terms * eps in each of N numbers.
    if length <= 4 * terms * np.sqrt(query.shape[0]) * np.finfo(query.dtype).eps:
        label = " ".join([" + ".join(positive), *(f"- {w}" for w in negative)]).strip()
        raise InputError(f"the query {label} is a zero vector (its words cancel out); a zero "
                         f"vector has no direction, so no word is nearer to it than another")


def checked_dtype(dtype):
    """``dtype`` to read vectors as: None (the format's own) or a float dtype."""
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.floating):
        raise InputError(f"dtype must be a float dtype (float32, float64, ...); got {dtype!r}")
    return dtype


def as_dtype(vectors: np.ndarray, dtype, source: str, row: Callable[[int], str]) -> np.ndarray:
    """``vectors`` (finite, as read) converted to ``dtype``; a number beyond its range (which
    would become infinity) is refused naming the row (``row(i)``: ``"the vector of 'w'"``)."""
    if dtype is None:
        return vectors
    with np.errstate(over="ignore"):
        converted = vectors.astype(dtype, copy=False)
    found = non_finite_rows(converted)
    if found is not None:
        raise InputError(f"{source}: {row(found[0])} holds a number beyond the range of "
                         f"{np.dtype(dtype).name}; read it as float32 or float64")
    return converted
