"""Intrinsic evaluation of word vectors: word-pair similarity, analogies, a unigram baseline.

Everything here is a function of the vectors and a benchmark file; nothing is trained or cached.

Benchmark files
    gensim ships the three usual ones in its test data folder ``gensim/test/test_data/``:
    ``wordsim353.tsv`` (WordSim-353), ``simlex999.txt`` (SimLex-999), both as ``word1 TAB word2
    TAB score`` lines after two ``#`` header lines, and ``questions-words.txt`` (the word2vec
    analogies). With gensim installed, ``python -c "from gensim.test.utils import datapath;
    print(datapath('questions-words.txt'))"`` prints where they are. Other files in the same
    layouts (MEN's ``word1 word2 score`` lines, your own analogies) work too. The original
    ``SimLex-999.txt`` has ten columns and a header row: keep columns 1, 2 and 4 without the
    header (``cut -f1,2,4 SimLex-999.txt | tail -n +2``).

Word pairs (:func:`evaluate_word_pairs`)
    The cosine of each pair's vectors against the human score: Spearman's rank correlation
    (ties get the average of their ranks) and Pearson's linear correlation. Pairs with a word
    that is not in the vocabulary are skipped and counted; a result says how many. Subword
    vectors (:class:`~cbow.vectors.subword.SubwordEmbeddings`, fastText's model) give such a
    word the vector of its character n-grams instead, and the result counts the pairs that used
    one (``pairs_subword``); only a word without n-grams is then skipped.

Analogies (:func:`evaluate_analogies`)
    ``a b c d`` asks "a is to b as c is to what?"; the answer is the vocabulary word that scores
    best, the three question words excluded, and it is correct if it is ``d``. 3CosAdd scores a
    word ``w`` by ``cos(w, b) - cos(w, a) + cos(w, c)``, 3CosMul (Levy & Goldberg, 2014) by
    ``cos'(w, b) * cos'(w, c) / (cos'(w, a) + epsilon)`` with ``cos' = (1 + cos) / 2``.
    Questions with a word outside the vocabulary (or outside the first ``restrict_vocab`` words)
    are not attempted; accuracy is over the attempted questions, coverage is attempted / total.

Case (the ``case`` argument)
    ``exact``: benchmark words are looked up as written. ``lower``: benchmark words are
    lower-cased first. ``insensitive``: both sides are upper-cased (with ``str.upper``) and a
    word with several case variants in the vocabulary takes the vector of the first one (the
    most frequent in a frequency-ordered vocabulary); no variant of a question word is an
    answer. ``auto`` (the default) is ``lower`` when every vocabulary word is lower-case (as
    cbow's tokenizers make them), else ``exact``.

Agreement with gensim (4.x ``KeyedVectors``; float64 vectors)
    * word pairs: ``evaluate_word_pairs(path, case_insensitive=True)`` with ``case="auto"`` on an
      all-lower-case vocabulary, or with ``case="insensitive"`` on any vocabulary; with
      ``case_insensitive=False`` and ``case="exact"``. gensim's ``restrict_vocab`` (300,000 by
      default) must cover the whole vocabulary. gensim reports the OOV ratio in percent; here it
      is a fraction.
    * analogies: ``evaluate_word_analogies(path, restrict_vocab=k, case_insensitive=...)`` with
      ``restrict_vocab=k``, ``method="3cosadd"`` and the case settings above: the same correct
      and attempted counts. gensim's 3CosMul is ``most_similar_cosmul`` with ``epsilon=1e-6``.
    * differences: gensim skips malformed lines, here they are errors; gensim reports an
      accuracy of 0 for a section with no attempted question, here it is NaN (``null`` in JSON).
      A pair listed twice (wordsim353.tsv has money-cash and bank-money twice) gets the same
      cosine twice here, a tie; gensim's two cosines can differ in the last bit, which moves its
      Spearman by about 1e-7.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from cbow.vectors.embeddings import COMBINATIONS, Embeddings, unit_rows
from cbow.errors import InputError
from cbow.io import special_kind

CASES = ("auto", "lower", "exact", "insensitive")
METHODS = COMBINATIONS  # 3CosAdd and 3CosMul, as Embeddings.most_similar names them
COSMUL_EPSILON = 1e-3  # Levy & Goldberg's value; gensim's most_similar_cosmul uses 1e-6

# Analogy questions are scored in blocks of rows whose (block, k) score matrices together hold
# about this many numbers (64 MB in float64): big enough for fast matrix products, small enough
# for any machine.
_SCORE_BLOCK_ELEMENTS = 1 << 23

_PAIRS_LAYOUT = "'word1 word2 score' (three fields separated by tabs or spaces)"
_ANALOGY_LAYOUT = "'a b c d' (four words: a is to b as c is to d)"


class BenchmarkFileError(InputError):
    """A benchmark file that cannot be read; the message names the file, the line and the fix."""


# ------------------------------------------------------------------------------------- files

@dataclass(frozen=True)
class WordPair:
    """One line of a word-pair file: two words and the human similarity score."""

    word1: str
    word2: str
    score: float
    line: int  # 1-based line number in the file


@dataclass(frozen=True)
class AnalogySection:
    """A ``: name`` section of an analogy file and its questions ``(a, b, c, d)``."""

    name: str
    questions: tuple[tuple[str, str, str, str], ...]
    line: int  # 1-based line number of the header


def _read_lines(path: str | Path) -> list[tuple[int, str]]:
    """``(line number, text)`` of the lines of a UTF-8 file that are neither blank nor ``#``.

    The bytes are decoded line by line, so a byte that is not UTF-8 is reported with its line.
    """
    path = Path(path)
    kind = special_kind(path)
    if kind is not None:  # /dev/zero never ends; a FIFO cannot be read twice (checked, then used)
        raise BenchmarkFileError(f"{path} is {kind}, not a benchmark file; save it to a file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BenchmarkFileError(f"{path}: no such benchmark file (gensim ships wordsim353.tsv, "
                                 f"simlex999.txt and questions-words.txt in "
                                 f"gensim/test/test_data/)") from None
    except IsADirectoryError:
        raise BenchmarkFileError(f"{path} is a folder; give a benchmark file") from None
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, as some editors write
        data = data[3:]
    lines = []
    # bytes.splitlines breaks at \n, \r\n and \r only, so line numbers are what editors show.
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise BenchmarkFileError(f"{path}, line {number}: expected UTF-8 text; byte "
                                     f"{err.start + 1} of the line, "
                                     f"{raw[err.start:err.start + 1]!r}, is not ({err.reason})"
                                     ) from None
        if text and not text.startswith("#"):
            lines.append((number, text))
    return lines


def read_word_pairs(path: str | Path) -> list[WordPair]:
    """The pairs of a word-pair similarity file (WordSim-353, SimLex-999, MEN, ...).

    Each line is ``word1 word2 score``, the fields separated by tabs or spaces; blank lines and
    lines starting with ``#`` are skipped.

    Raises
    ------
    BenchmarkFileError
        If the file is missing or not UTF-8, a line does not have three fields, a score is not a
        finite number, or the file holds no pair; the message names the file and the line.
    """
    pairs = []
    for number, text in _read_lines(path):
        fields = text.split()
        if len(fields) != 3:
            hint = ("; if it is a header, start it with '#'" if len(fields) > 3 else "")
            raise BenchmarkFileError(f"{path}, line {number}: expected {_PAIRS_LAYOUT}; got "
                                     f"{len(fields)} fields: {text[:80]!r}{hint}")
        try:
            score = float(fields[2])
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise BenchmarkFileError(f"{path}, line {number}: expected a number as the score (the "
                                     f"third field); got {fields[2][:40]!r}")
        pairs.append(WordPair(fields[0], fields[1], score, number))
    if not pairs:
        raise BenchmarkFileError(f"{path}: no word pairs found; expected lines {_PAIRS_LAYOUT}")
    return pairs


def read_analogies(path: str | Path) -> list[AnalogySection]:
    """The sections of an analogy file in the word2vec format.

    A line ``: name`` starts a section; each following line holds four words ``a b c d``
    separated by spaces or tabs. Blank lines and lines starting with ``#`` are skipped.

    Raises
    ------
    BenchmarkFileError
        If the file is missing or not UTF-8, a question comes before the first section header,
        a header has no name, a line does not have four words, or there is no question; the
        message names the file and the line.
    """
    sections: list[tuple[str, int, list]] = []
    for number, text in _read_lines(path):
        if text.startswith(":"):
            name = text[1:].strip()
            if not name:
                raise BenchmarkFileError(f"{path}, line {number}: expected a section header "
                                         f"': name'; the name is missing")
            sections.append((name, number, []))
            continue
        if not sections:
            raise BenchmarkFileError(f"{path}, line {number}: expected a section header ': name' "
                                     f"before the first question; got {text[:80]!r}")
        words = text.split()
        if len(words) != 4:
            raise BenchmarkFileError(f"{path}, line {number}: expected {_ANALOGY_LAYOUT}; got "
                                     f"{len(words)} fields: {text[:80]!r}")
        sections[-1][2].append(tuple(words))
    if not any(questions for _, _, questions in sections):
        raise BenchmarkFileError(f"{path}: no analogy questions found; expected ': section' "
                                 f"headers, each followed by lines {_ANALOGY_LAYOUT}")
    return [AnalogySection(name, tuple(questions), line) for name, line, questions in sections]


# -------------------------------------------------------------------------------------- case

def resolve_case(words: Iterable[str], case: str = "auto") -> str:
    """The case mode ``case`` stands for with this vocabulary: ``auto`` becomes ``lower`` if
    every word is lower-case, else ``exact``; the other modes are returned unchanged."""
    if case not in CASES:
        raise InputError(f"case must be one of {', '.join(CASES)}; got {case!r}")
    if case != "auto":
        return case
    return "lower" if all(word == word.lower() for word in words) else "exact"


class _Lookup:
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


def _as_embeddings(embeddings) -> Embeddings:
    """An :class:`Embeddings`, or a ``(words, vectors)`` pair made into one."""
    if isinstance(embeddings, Embeddings):
        return embeddings
    words, vectors = embeddings
    return Embeddings(words, vectors)


# -------------------------------------------------------------------------------- statistics

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


def unigram_cross_entropy(train_ids, heldout_ids, V: int) -> float:
    """Held-out cross-entropy, in nats, of the add-one-smoothed unigram model of the training ids.

    The model ignores context: ``p(w) = (count(w) + 1) / (n_train + V)``, where ``count(w)``
    is how often id ``w`` occurs in ``train_ids`` and ``n_train`` their number. Adding one to
    every count (Laplace smoothing) gives words never seen in training a small probability,
    so the cross-entropy stays finite. The result is the mean of ``-log p(w)`` over
    ``heldout_ids``: the loss any model of the centre word should beat. To compare it with a
    CBOW held-out loss, pass the words that loss is averaged over (the centre words of the
    held-out windows).

    Parameters
    ----------
    train_ids : array_like of int, shape (n_train,)
        Word ids in ``[0, V)`` of the training tokens.
    heldout_ids : array_like of int, shape (n_heldout,)
        Word ids in ``[0, V)`` of the held-out tokens; at least one.
    V : int
        Vocabulary size.

    Returns
    -------
    float
        ``-mean(log p(heldout_ids))``: ``log(V)`` with no training tokens (the uniform model).
    """
    train_ids = np.asarray(train_ids).reshape(-1)
    heldout_ids = np.asarray(heldout_ids).reshape(-1)
    if V < 1:
        raise InputError(f"V must be >= 1; got {V}")
    if heldout_ids.size == 0:
        raise InputError("heldout_ids is empty: the cross-entropy of no tokens is undefined")
    for name, ids in (("train_ids", train_ids), ("heldout_ids", heldout_ids)):
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0
                         or ids.max() >= V):
            raise InputError(f"{name} must be integer word ids in [0, {V})")
    counts = np.bincount(train_ids.astype(np.int64, copy=False), minlength=V)  # (V,)
    log_p = np.log(counts + 1.0) - math.log(train_ids.size + V)  # (V,)
    return float(-log_p[heldout_ids].mean())


# -------------------------------------------------------------------------------- word pairs

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
    embeddings = _as_embeddings(embeddings)
    lookup = _Lookup(embeddings, case, len(embeddings))
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
        A word-pair file (see :func:`read_word_pairs`).
    case : {"auto", "lower", "exact", "insensitive"}
        How benchmark words meet the vocabulary (see the module's documentation).

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


# --------------------------------------------------------------------------------- analogies

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
    embeddings = _as_embeddings(embeddings)
    limit = _limit(embeddings, restrict_vocab)
    return embeddings, _Lookup(embeddings, case, limit)


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
        An analogy file in the word2vec format (see :func:`read_analogies`).
    method : {"3cosadd", "3cosmul"}
    restrict_vocab : int, optional
        Use only the first ``restrict_vocab`` words of the vocabulary, both as answers and as
        question words (a question with a word beyond them is not attempted), as gensim and
        the word2vec tool do. This means "the most frequent words" only if the vocabulary is
        ordered by decreasing frequency, as word2vec and gensim files are; cbow's own
        vocabularies are alphabetical (see :func:`by_frequency`).
    case : {"auto", "lower", "exact", "insensitive"}
        How benchmark words meet the vocabulary (see the module's documentation).
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


# -------------------------------------------------------------------------------------- JSON

def _number(value: float) -> float | None:
    """JSON has no NaN: an undefined figure becomes null."""
    return None if math.isnan(value) else value


def pairs_to_dict(result: PairsResult) -> dict:
    return {"spearman": _number(result.spearman), "pearson": _number(result.pearson),
            "pairs_used": result.pairs_used, "pairs_total": result.pairs_total,
            "pairs_oov": result.pairs_oov, "oov_ratio": result.oov_ratio, "case": result.case,
            "pairs_subword": result.pairs_subword}


def analogies_to_dict(result: AnalogyResult) -> dict:
    def counts(r) -> dict:
        return {"accuracy": _number(r.accuracy), "correct": r.correct,
                "attempted": r.attempted, "total": r.total}

    return {**counts(result), "coverage": _number(result.coverage), "method": result.method,
            "restrict_vocab": result.restrict_vocab, "case": result.case,
            "sections": [{"name": s.name, **counts(s)} for s in result.sections]}


def to_json(results: Iterable[PairsResult | AnalogyResult]) -> dict:
    """Plain dicts (``json.dumps`` ready, NaN as None) of results, keyed by file.

    Returns
    -------
    dict
        ``{"pairs": {file: {spearman, pearson, pairs_used, pairs_total, pairs_oov, oov_ratio,
        case}}, "analogies": {file: {accuracy, correct, attempted, total, coverage, method,
        restrict_vocab, case, sections: [{name, accuracy, correct, attempted, total}]}}}``.
    """
    out: dict[str, dict] = {"pairs": {}, "analogies": {}}
    for result in results:
        if isinstance(result, PairsResult):
            out["pairs"][result.file] = pairs_to_dict(result)
        elif isinstance(result, AnalogyResult):
            out["analogies"][result.file] = analogies_to_dict(result)
        else:
            raise TypeError(f"expected PairsResult or AnalogyResult; got {type(result).__name__}")
    return out


# ------------------------------------------------------------------------- during training

@dataclass(frozen=True)
class BenchmarkSuite:
    """Benchmark files scored together, as training does at every held-out evaluation.

    The files are read (and so checked) when the suite is made, before any training.
    ``score`` returns one figure per file: ``"<stem> spearman"`` for word pairs and
    ``"<stem> accuracy"`` for analogies (3CosAdd over the ``restrict`` most frequent words),
    None where nothing could be scored.
    """

    pairs: tuple[str, ...] = ()
    analogies: tuple[str, ...] = ()
    restrict: int | None = None

    def __post_init__(self):
        for path in self.pairs:
            read_word_pairs(path)
        for path in self.analogies:
            read_analogies(path)

    def __bool__(self) -> bool:
        return bool(self.pairs or self.analogies)

    def score(self, embeddings: Embeddings) -> dict[str, float | None]:
        ranked = by_frequency(embeddings)  # so that `restrict` means the most frequent words
        figures: dict[str, float | None] = {}
        for path in self.pairs:
            figures[f"{Path(path).stem} spearman"] = _number(
                evaluate_word_pairs(ranked, path).spearman)
        for path in self.analogies:
            figures[f"{Path(path).stem} accuracy"] = _number(
                evaluate_analogies(ranked, path, restrict_vocab=self.restrict).accuracy)
        return figures
