"""Word vectors independent of how they were trained: words, a (V, N) array and queries.

:class:`Embeddings` holds one ``(V, N)`` matrix with its words and answers the usual questions
(nearest words, cosine similarity, analogies); it reads and writes every format of
:mod:`cbow.vectors.formats` (word2vec text and binary, numpy, ...) through that package's
dispatcher. It knows nothing of models or checkpoints: :func:`cbow.training.run.load_embeddings`
takes vectors out of a training run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from cbow.data.vocab import Vocabulary
from cbow.errors import InputError, UnknownWord, UserError
from cbow.vectors import formats
from cbow.vectors.checks import (as_dtype, checked_counts, checked_dtype, checked_topn,
                                 refuse_cancelling, reject_non_finite, words_only)

COMBINATIONS = ("3cosadd", "3cosmul")  # how most_similar combines positive and negative words
GENSIM_COSMUL_EPSILON = 1e-6  # the constant of gensim's most_similar_cosmul
GENSIM_MISSING = ("gensim is needed to hand vectors to and from gensim: pip install "
                  "'cbow[gensim]' (or pip install gensim)")


class GensimMissing(UserError, ImportError):
    """gensim is not installed; the message says how to install it."""


def readable(word: str) -> str:
    """``word`` as text that can be printed or drawn: bytes that are not UTF-8, which a
    fastText model may hold (read as lone surrogates), shown as ``\\xHH``; other text as it is.
    """
    try:
        return word.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return word.encode("utf-8", "backslashreplace").decode("utf-8")


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` with every row divided by its L2 norm; rows of zeros stay zero.

    Parameters
    ----------
    vectors : ndarray, shape (V, N)

    Returns
    -------
    ndarray, shape (V, N)
        A new array of the same float dtype.
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A zero row has no direction; dividing by 1 keeps it zero instead of making NaNs.
    return vectors / np.where(norms > 0, norms, 1).astype(vectors.dtype)


class Embeddings:
    """Words and their vectors, with nearest-neighbour queries and file formats.

    Parameters
    ----------
    words : sequence of str
        Distinct, non-empty words; ``words[i]`` labels ``vectors[i]``.
    vectors : array_like, shape (V, N)
        Float vectors (integers are converted to float64). Treat them as read-only: the unit
        vectors used by the queries are computed once, from the values given here.
    counts : array_like of int, shape (V,), optional
        Corpus counts, kept only to write them back into ``vocab.txt``.
    source : str, optional
        Where the vectors came from (a checkpoint or a vector file), for messages and titles.
    which : str, optional
        For vectors taken from a model: which of its vector sets (``mean``, ``w1``, ...).
    """

    def __init__(self, words: Sequence[str], vectors, counts=None, source: str | None = None,
                 which: str | None = None):
        if isinstance(words, (str, bytes)):
            raise ValueError(f"words must be a sequence of words, not one {type(words).__name__} "
                             f"({words[:30]!r})")
        words = list(words)
        vectors = np.asarray(vectors)
        if not np.issubdtype(vectors.dtype, np.floating):
            if not np.issubdtype(vectors.dtype, np.integer):
                raise ValueError(f"vectors must be real numbers; got dtype {vectors.dtype}")
            vectors = vectors.astype(np.float64)
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise ValueError(f"vectors must be a 2-D (V, N) array with N >= 1; got shape "
                             f"{vectors.shape}")
        if vectors.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but {vectors.shape[0]} vectors; "
                             f"need one vector (row) per word")
        bad = [w for w in words if not isinstance(w, str) or not w]
        if bad:
            raise ValueError(f"words must be non-empty strings; got {bad[:3]!r}")
        reject_non_finite(vectors, words, source)
        self.vocab = Vocabulary(words)  # ids, distinctness, "did you mean" hints
        self._words = self.vocab.words
        self._vectors = vectors.view()
        self._vectors.flags.writeable = False  # our view only; the caller's array is untouched
        self._unit: np.ndarray | None = None
        self.counts = None if counts is None else checked_counts(counts, len(words))
        self.source = source
        self.which = which

    # ----------------------------------------------------------------------------- construction

    @classmethod
    def load(cls, path: str | Path, format: str | None = None,
             dtype=None) -> "Embeddings":
        """Read a vector file written by :meth:`save`, by gensim, or by the word2vec C tool.

        Parameters
        ----------
        path : str or Path
            A word2vec text or binary file, a ``.npy`` file with ``vocab.txt`` beside it, a
            folder holding ``vectors.npy`` and ``vocab.txt``, an Embedding Projector folder, or
            a fastText ``.bin`` model (read as :class:`~cbow.vectors.subword.SubwordEmbeddings`,
            the class its registration names: vectors for unseen words too).
        format : str, optional
            A name of :data:`cbow.registry.VECTOR_FORMATS`; detected from the content (each
            format's codec sniffs it) when not given.
        dtype : numpy dtype, optional
            Dtype of the vectors. By default: float64 for text (exact for any text written by
            :meth:`save`; ask for float32 to get float32 vectors back bit for bit), float32 for
            binary (what it stores), the stored dtype for ``npy``.

        Raises
        ------
        FileNotFoundError
            If the file (or the ``vocab.txt`` of an ``npy`` export) is missing.
        VectorFileError
            If the file is malformed; the message says where.
        """
        checked_dtype(dtype)
        if format is None:
            format = formats.format_of(path)
        whole = formats.embeddings_class(format)  # e.g. fastText's model, n-gram rows and all
        if whole is not None:
            return whole.load(path, format=format, dtype=dtype)
        words, vectors, counts = formats.read_vectors(path, format)
        vectors = as_dtype(vectors, dtype, str(path), lambda i: f"the vector of {words[i]!r}")
        return cls(words, vectors, counts=counts, source=str(path))

    def reordered(self, order) -> "Embeddings":
        """The words of rows ``order``, in that order (a permutation, or a selection), with
        their vectors and counts."""
        order = np.asarray(order)
        return Embeddings([self._words[i] for i in order], self._vectors[order],
                          counts=None if self.counts is None else self.counts[order],
                          source=self.source, which=self.which)

    @classmethod
    def from_gensim(cls, kv) -> "Embeddings":
        """The words, vectors and counts of a ``gensim.models.KeyedVectors``, in its order.

        gensim's ``FastTextKeyedVectors`` (``FastText(...).wv``, ``load_facebook_vectors``)
        come back whole, as the class that loads fastText's models
        (:class:`~cbow.vectors.subword.SubwordEmbeddings`): the words' own rows and the
        n-gram rows, so unseen words keep their vectors.

        Counts are read from gensim's ``count`` attribute (``kv.get_vecattr(word, "count")``)
        when it has one that is not all zeros. Note that gensim's ``load_word2vec_format``
        invents counts (V - row) for files that carry none; they are read back as they are.
        The vectors are copied: changing ``kv`` afterwards does not change these.

        Raises
        ------
        GensimMissing
            If gensim is not installed.
        InputError
            If ``kv`` is no ``KeyedVectors`` (a model: its vectors are ``model.wv``), a key is
            not a non-empty string (gensim also allows integer keys), or a vector holds NaN.
        """
        KeyedVectors = _import_keyed_vectors()
        if not isinstance(kv, KeyedVectors):
            model = " (a model: its word vectors are its .wv)" if hasattr(kv, "wv") else ""
            raise InputError(f"from_gensim takes gensim's KeyedVectors; got "
                             f"{type(kv).__name__}{model}")
        words = list(kv.index_to_key)
        bad = [w for w in words if not isinstance(w, str) or not w]
        if bad:
            raise InputError(f"{len(bad)} keys of the KeyedVectors are not non-empty strings "
                             f"(e.g. {bad[:3]!r}); Embeddings label vectors with words")
        counts = None
        if "count" in getattr(kv, "expandos", {}):
            counts = np.asarray(kv.expandos["count"], dtype=np.int64)
            counts = counts if counts.any() else None
        if hasattr(kv, "vectors_ngrams"):  # FastTextKeyedVectors: fastText's model
            whole = cls if cls is not Embeddings else formats.embeddings_class("fasttext-bin")
            return whole._from_gensim_rows(kv, words, counts)
        if cls is not Embeddings:
            raise InputError(f"{cls.__name__}.from_gensim takes gensim's FastTextKeyedVectors; "
                             f"plain KeyedVectors hold no n-gram rows: read them with "
                             f"Embeddings.from_gensim")
        return cls(words, np.array(kv.vectors), counts=counts, source="gensim KeyedVectors")

    def to_gensim(self):
        """A ``gensim.models.KeyedVectors`` with these words, in this order, and these vectors.

        The vectors are copied with their dtype; counts, when known, are set as gensim's
        ``count`` attribute (what ``Word2Vec`` and ``load_word2vec_format`` keep), so
        ``kv.get_vecattr(word, "count")`` returns them.

        Raises
        ------
        GensimMissing
            If gensim is not installed.
        """
        kv = self._empty_gensim()
        kv.add_vectors(self._words, np.array(self._vectors))
        if self.counts is not None:
            for word, count in zip(self._words, self.counts.tolist()):
                kv.set_vecattr(word, "count", count)  # add_vectors(extras=...) fails in 4.4
        return kv

    def _empty_gensim(self):
        """The gensim object :meth:`to_gensim` fills, empty: ``KeyedVectors`` of this size."""
        KeyedVectors = _import_keyed_vectors()
        return KeyedVectors(vector_size=self.vector_size, count=0, dtype=self._vectors.dtype)

    def normalized(self) -> "Embeddings":
        """These words with their vectors scaled to unit length (zero vectors stay zero), as
        plain :class:`Embeddings`: a subword model's n-gram rows are not kept (a unit vector
        is no mean of rows)."""
        return Embeddings(self._words, unit_rows(self._vectors), counts=self.counts,
                          source=self.source, which=self.which)

    def most_frequent(self, k: int) -> "Embeddings":
        """The ``k`` most frequent words (by ``counts``), most frequent first (ties: row order)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"limit must be a positive integer; got {k!r}")
        if self.counts is None:
            raise InputError("these vectors carry no word counts, so the most frequent words are "
                             "unknown; export without a limit")
        return self.reordered(np.argsort(-self.counts, kind="stable")[:k])

    # ------------------------------------------------------------------------------------ saving

    def save(self, path: str | Path, format: str = "word2vec") -> list[Path]:
        """Write the vectors in ``format``; each file is replaced atomically.

        Parameters
        ----------
        path : str or Path
            The file to write; for ``npy``, a folder (``vectors.npy`` and ``vocab.txt`` go in it)
            or a ``.npy`` path (``vocab.txt`` goes beside it); for ``projector``, a folder.
        format : str
            A name of :data:`cbow.registry.VECTOR_FORMATS`.

        Returns
        -------
        list of Path
            The files written.

        Raises
        ------
        VectorFileError
            If a word cannot be stored in the format (whitespace in word2vec formats; tabs or
            line breaks in ``vocab.txt``).
        """
        return formats.write_vectors(path, self._words, self._vectors, self.counts, format)

    # ------------------------------------------------------------------------------------ lookup

    @property
    def words(self) -> list[str]:
        """The words in row order (a copy)."""
        return list(self._words)

    @property
    def vectors(self) -> np.ndarray:
        """Read-only ``(V, N)`` array; row ``i`` is the vector of ``words[i]``."""
        return self._vectors

    @property
    def vector_size(self) -> int:
        return self._vectors.shape[1]

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.vocab

    def has_vector(self, word: str) -> bool:
        """Whether :meth:`vector` gives ``word`` a vector: here, whether it is in the
        vocabulary (subword vectors also give unseen words one)."""
        return word in self

    def __repr__(self) -> str:
        return f"Embeddings({len(self)} words, {self.vector_size} dims, {self._vectors.dtype})"

    def index(self, word: str) -> int:
        """Row of ``word``; ``KeyError`` naming it (and close spellings) if it is unknown."""
        return self.vocab.index(words_only([word])[0])

    def vector(self, word: str) -> np.ndarray:
        """The ``(N,)`` vector of ``word`` (a read-only view)."""
        return self._vectors[self.index(word)]

    def __getitem__(self, word_or_words: str | Sequence[str]) -> np.ndarray:
        """``(N,)`` for one word, ``(k, N)`` (a copy) for a list of ``k`` words."""
        if isinstance(word_or_words, str):
            return self.vector(word_or_words)
        return self._vectors[[self.index(w) for w in words_only(word_or_words)]]

    def unknown_word_message(self, word: str) -> str:
        return self.vocab.unknown_word_message(word)

    def check_words(self, words: Iterable[str]) -> None:
        """Raise one ``KeyError`` naming every unknown word in ``words`` (none: return)."""
        unknown = list(dict.fromkeys(w for w in words_only(words) if w not in self.vocab))
        if len(unknown) == 1:
            raise UnknownWord(self.unknown_word_message(unknown[0]))
        if unknown:
            details = "; ".join(
                f"{w!r}" + (f" (did you mean {', '.join(map(repr, close))}?)"
                            if (close := self.vocab.close_spellings(w)) else "")
                for w in unknown)
            raise UnknownWord(f"{len(unknown)} words are not in the vocabulary ({len(self)} "
                              f"words): {details}")

    # ----------------------------------------------------------------------------------- queries

    @property
    def unit_vectors(self) -> np.ndarray:
        """``(V, N)`` rows scaled to unit length (zero rows stay zero), computed once."""
        if self._unit is None:
            self._unit = unit_rows(self._vectors)
            self._unit.flags.writeable = False
        return self._unit

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the angle between the vectors of words ``a`` and ``b``; 0 when either
        vector is zero (no direction), as gensim's ``similarity`` gives."""
        units, _ = self._query([a, b])
        return float(units[0] @ units[1])

    def _query(self, words: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """``(units, rows)``: the unit vectors ``(k, N)`` of the query ``words``, checked
        (:meth:`check_words`), and the rows of those in the vocabulary (never answers)."""
        self.check_words(words)
        rows = [self.vocab.word2index[w] for w in words]
        return self.unit_vectors[rows], rows

    def most_similar(self, word_or_vector: str | np.ndarray | None = None, topn: int = 10, *,
                     positive: Sequence[str] = (), negative: Sequence[str] = (),
                     method: str = "3cosadd",
                     epsilon: float = GENSIM_COSMUL_EPSILON) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to one word or vector, or to ``positive - negative``.

        ``most_similar("king")`` and ``most_similar(vector)`` rank every word by cosine with
        the query (a query word is never an answer). ``most_similar(positive=["king",
        "woman"], negative=["man"])`` is the vector arithmetic of gensim's
        ``KeyedVectors.most_similar`` (``method="3cosadd"``) and ``most_similar_cosmul``
        (``method="3cosmul"``), with gensim's semantics: every word's vector is scaled to unit
        length first, and none of the query words is an answer.

        * ``3cosadd``: the words nearest (cosine) to the mean of the unit vectors of
          ``positive`` and the negated unit vectors of ``negative``; the score is that cosine.
        * ``3cosmul``: cosines shifted into ``[0, 1]`` as ``(1 + cos) / 2``; the score of a word
          is the product of its shifted cosines with the ``positive`` words divided by the
          product of those with the ``negative`` words plus ``epsilon`` (Levy & Goldberg 2014).

        Parameters
        ----------
        word_or_vector : str or ndarray, shape (N,), optional
            A word or any nonzero vector; not together with ``positive``/``negative``.
        topn : int or None
            How many words to return (fewer if the vocabulary is smaller); None: every word but
            the query words, ranked (gensim returns the unranked scores of every word instead).
        positive, negative : sequence of str, or str
            Query words (a single word may be given as a string); at least one ``positive``
            word for ``3cosmul``, at least one word for ``3cosadd``.
        method : {"3cosadd", "3cosmul"}
        epsilon : float
            3CosMul's guard against a denominator near 0. The default, 1e-6, is the constant of
            gensim's ``most_similar_cosmul`` so that the two agree;
            :mod:`cbow.evaluation.analogies` scores benchmarks with Levy & Goldberg's 1e-3.

        Returns
        -------
        list of (word, score)
            Highest score first; ties are broken by row order.

        Raises
        ------
        UnknownWord
            Naming every unknown query word, with close spellings.
        InputError
            For an unusable combination of arguments, a bad ``method`` or ``topn``, or a query
            without a direction: a query word whose vector is zero, or words that cancel out
            (``king - king``); every word would be at cosine 0 from it, none nearest.
        """
        topn = checked_topn(topn)
        if method not in COMBINATIONS:
            raise InputError(f"method must be one of {', '.join(COMBINATIONS)}; got {method!r}")
        if isinstance(epsilon, (bool, np.bool_)) or not isinstance(
                epsilon, (int, float, np.integer, np.floating)) or not 0 < epsilon < np.inf:
            raise InputError(f"epsilon must be a number > 0; got {epsilon!r}")
        positive, negative = positive or (), negative or ()
        if isinstance(word_or_vector, (list, tuple)) and word_or_vector \
                and all(isinstance(w, str) for w in word_or_vector):
            # gensim's first argument: most_similar(["king", "woman"]) means positive words.
            if positive:
                raise InputError("give the positive words once: as the first argument or as "
                                 "positive=")
            word_or_vector, positive = None, word_or_vector
        if word_or_vector is None:
            return self._combined(positive, negative, method, epsilon, topn)
        if positive or negative:
            raise InputError("give either one word or vector, or positive/negative words, "
                             "not both")
        if not isinstance(word_or_vector, str):
            if method != "3cosadd":
                raise InputError("a vector query ranks by cosine; 3cosmul takes words")
            query = self._query_vector(word_or_vector)
            if not query.any():
                raise InputError("the query vector is zero; a zero vector has no direction, so "
                                 "no word is nearer to it than another")
            return self._nearest(_unit(query), exclude=[], topn=topn)
        if method == "3cosmul":
            return self._combined([word_or_vector], negative, method, epsilon, topn)
        units, rows = self._directed_query([word_or_vector])  # one word: the plain ranking
        return self._nearest(units[0], exclude=rows, topn=topn)

    def _query_vector(self, vector) -> np.ndarray:
        """``vector`` as an ``(N,)`` array of the vectors' dtype; its shape checked."""
        if isinstance(vector, bytes) or np.asarray(vector).dtype.kind not in "biuf":
            raise InputError(f"the query must be a word (a str), a list of words or a vector "
                             f"of {self.vector_size} numbers; got {vector!r:.60}")
        query = np.asarray(vector, dtype=self._vectors.dtype)
        if query.shape != (self.vector_size,):
            raise InputError(f"the query vector must have shape ({self.vector_size},); "
                             f"got {query.shape}")
        if not np.isfinite(query).all():
            raise InputError("the query vector holds NaN or infinity; give finite numbers")
        return query

    def _combined(self, positive, negative, method: str, epsilon: float,
                  topn: int) -> list[tuple[str, float]]:
        """:meth:`most_similar` of ``positive`` and ``negative`` words combined by ``method``."""
        # One word alone is a one-word list, as in gensim (not a list of its letters).
        positive, negative = ([w] if isinstance(w, str) else list(w) for w in (positive, negative))
        for name, words in (("positive", positive), ("negative", negative)):
            if any(not isinstance(w, str) for w in words):
                raise InputError(f"{name} must be a list of words; got {words!r}")
        if not positive and (method == "3cosmul" or not negative):
            raise InputError(f"{method} needs at least one "
                             f"{'positive ' if method == '3cosmul' else ''}query word")
        units, rows = self._directed_query(positive + negative)
        units_pos, units_neg = units[:len(positive)], units[len(positive):]
        if method == "3cosadd":
            # The mean of +1/-1 weighted unit vectors; the mean's length does not matter.
            weighted = np.concatenate([units_pos, -units_neg]).mean(axis=0)
            refuse_cancelling(weighted, positive, negative, mean=True)
            return self._nearest(_unit(weighted), exclude=rows, topn=topn)
        shifted = (1.0 + self.unit_vectors @ units.T) / 2  # (V, P + M), in [0, 1]
        scores = (shifted[:, :len(positive)].prod(axis=1)
                  / (shifted[:, len(positive):].prod(axis=1) + epsilon))
        return self._top(scores, exclude=rows, topn=topn)

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to what? The words nearest to ``b - a + c``.

        The three are combined as unit vectors, so a frequent word's long vector does not
        dominate; ``a``, ``b`` and ``c`` themselves are never answers.

        Returns
        -------
        list of (word, cosine)
            As :meth:`most_similar` (and refused as it refuses a query without a direction).
        """
        topn = checked_topn(topn)
        units, rows = self._directed_query([a, b, c])
        query = units[1] - units[0] + units[2]
        refuse_cancelling(query, [b, c], [a])
        return self._nearest(_unit(query), exclude=rows, topn=topn)

    def _directed_query(self, words: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """:meth:`_query`, refusing a word whose vector is zero: it has no direction, so it
        would add nothing to a query, or rank every word at cosine 0."""
        units, rows = self._query(words)
        zero = [w for w, unit in zip(words, units) if not unit.any()]
        if zero:
            raise InputError(f"{self._zero_vector_message(zero[0])}; a zero vector has no "
                             f"direction, so no word is nearer to it than another")
        return units, rows

    def _zero_vector_message(self, word: str) -> str:
        return f"the vector of {word!r} is zero"

    def _nearest(self, unit_query: np.ndarray, exclude: list[int],
                 topn: int) -> list[tuple[str, float]]:
        """``topn`` rows by cosine with ``unit_query`` (N,), a unit (or zero) vector."""
        # One matrix-vector product scores the whole vocabulary.
        return self._top(self.unit_vectors @ unit_query, exclude, topn)

    def _top(self, cosines: np.ndarray, exclude: list[int],
             topn: int | None) -> list[tuple[str, float]]:
        """The ``topn`` best rows by score ``cosines`` (V,), rows in ``exclude`` left out;
        ``topn`` None: all of them."""
        candidates = np.ones(len(self), dtype=bool)
        candidates[exclude] = False
        ids = np.flatnonzero(candidates)
        k = ids.size if topn is None else min(topn, ids.size)
        if k == 0:
            return []
        scores = cosines[ids]
        if k < ids.size:
            # A partition finds the k-th best score in O(V); only the words scoring at least that
            # much are sorted. Keeping every tie with the k-th makes the row-order tie-break exact.
            kth_best = -np.partition(-scores, k - 1)[k - 1]
            keep = scores >= kth_best
            ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:k]
        return [(self._words[i], float(cosines[i])) for i in ids[order]]


def _import_keyed_vectors():
    """gensim's ``KeyedVectors`` class, or :class:`GensimMissing`."""
    try:
        # gensim itself first: a submodule cached in sys.modules would skip the parent check.
        import gensim  # noqa: F401
        from gensim.models import KeyedVectors
    except ImportError as err:
        raise GensimMissing(GENSIM_MISSING) from err
    return KeyedVectors


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector
