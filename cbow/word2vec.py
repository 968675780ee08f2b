"""word2vec's CBOW objectives as compiled per-example SGD kernels.

This module is the fast path for large corpora: word2vec's continuous bag-of-words model trained
one example at a time, with negative sampling or hierarchical softmax in place of the full
softmax of :mod:`cbow.model`. Everything here is a pure function over arrays, so that a trainer
can own the loop, the checkpoints and the configuration.

Arrays and shapes (``V`` words, ``N`` dimensions):

- ``input_vectors`` ``(V, N)`` float32, C order: word2vec's ``syn0``, the word vectors; or
  ``(R, N)`` with a :class:`RowTable` saying which rows each word reads (fastText: ``V`` word
  rows and the hash buckets of the character n-grams).
- ``output_vectors`` float32, C order: ``(V, N)`` for negative sampling (``syn1neg``, one row
  per word) or ``(V - 1, N)`` for hierarchical softmax (``syn1``, one row per inner node of the
  Huffman tree).
- ``hidden_bias`` ``(N,)`` float32: ``b1``, used only by the ``relu`` variant.
- ``tokens`` ``(T,)`` uint32 word ids (a ``np.memmap`` is fine), in-vocabulary words only: like
  word2vec and gensim, drop unknown words before building the stream.
- ``sentence_starts`` ``(S,)`` int64: the offset in ``tokens`` where each sentence (line)
  begins; ``sentence_starts[0] == 0``, non-decreasing, the last sentence ends at ``T``.
  A context window never reaches across a sentence boundary. Sentences longer than
  ``max_sentence_length`` words are cut into pieces of that length, counted from the sentence's
  start (word2vec does this at 1,000 words, gensim's corpus-file mode at 10,000).

One training example is one centre position: the mean of the context words' input vectors is
the hidden layer (word2vec's ``cbow_mean=1``), the objective's error with respect to the hidden
layer is accumulated in ``hidden_error`` (word2vec's ``neu1e``) while each output row is updated,
and then ``hidden_error`` is added to every context word's input vector. As in word2vec and
gensim that is the full error, not the error divided by the number of context words: the step
for an input vector is ``n_context`` times the gradient of the mean with respect to it. With a
:class:`RowTable` a context word stands for all its input rows: the hidden layer is the mean of
every row of every context word, and each of those rows gets ``hidden_error`` (fastText's CBOW).

:func:`train_range` trains a range of centre positions: an executor (:mod:`cbow.executor`)
cuts it into pieces and runs :func:`train_piece` on each, by default in threads of this process.

Choices, and where they differ from word2vec's C tool and gensim:

- **Sigmoid.** Exact, ``1 / (1 + exp(-x))`` in float64 with ``x`` clipped to [-30, 30], not
  word2vec's 1,000-entry table over [-6, 6]. Measured (one worker, 2.1M words of the GCIDE
  dictionary, N = 100, best of 4 interleaved runs on a shared 2-core machine): negative sampling
  1.05 s exact against 1.09 s with the table, hierarchical softmax 1.09 s against 1.06 s, a
  difference below the noise: the ``exp`` is small next to the dot products. The exact function
  makes a kernel step equal to the textbook SGD step, which the tests check to rounding.
  word2vec and gensim also *skip* an output row's update when ``|x| >= 6`` (gensim for both
  objectives, word2vec for hierarchical softmax; word2vec's negative sampling saturates
  instead). By default every row takes its exact gradient step: a tiny one (at most
  ``sigmoid(-6) = 0.0025`` times alpha) when the score is on the right side, and a full one
  when it is badly wrong, a correction the skipping never makes. ``StepRules(skip_saturated=
  True)`` (``model.skip_saturated``) follows gensim: such a row takes no step and adds nothing
  to the hidden layer's error; the rule is deterministic, so one worker stays bit-exact. On
  two corpora it made no measurable difference to the vectors (``benchmarks/
  ablate_word2vec.py``), nor did gensim's sigmoid table.
- **Subsampling** drops words before windowing, as word2vec does per sentence, so a window of
  ``C`` reaches ``C`` *kept* words on each side. The keep-or-drop draw for a position comes
  from a hash of ``(subsample_key, position)`` instead of the sequential generator: the same
  position is kept or dropped whichever call, worker or range boundary looks at it. That is what
  lets a worker see, across the edge of its piece, exactly the words its neighbour keeps, and
  what makes ``[0, k)`` then ``[k, n)`` equal to ``[0, n)`` for any ``k``. Use another key each
  epoch (:func:`train_range` derives it from ``seed`` and ``epoch``).
- **Randomness** otherwise comes from word2vec's 64-bit linear congruential generator
  ``state = state * 25214903917 + 11 (mod 2**64)``, one state per worker, passed in and
  returned. Window shrinking and negative samples use bits 16..47 of the state (its low bits
  have short periods), mapped to a range with a multiply and a shift instead of ``%``.
- **Noise words** are drawn by binary search in a cumulative uint32 table of the noise
  distribution (4 bytes per word: 4 MB for V = 1M, against 400 MB for word2vec's 1e8-entry
  unigram table), as gensim does; a guide of 2**16 entries (:func:`make_noise_guide`) names,
  for the draw's top 16 bits, the few words the search must still look at: the same word as a
  search of the whole table, in ~8.5 ns instead of ~60 (41k words: ~16 dependent cache misses).
- **Learning rate** is linear in the *position* of the centre word, from ``alpha_start`` at
  ``schedule_begin`` to ``alpha_end`` at ``schedule_end``, so that a range split in two calls
  sees the same rates as one call (word2vec steps it every 10,000 words).
- **Loss** (for progress bars and held-out curves) is ``-sum(log P)`` over the output rows each
  example scores: the probabilities are multiplied together in float64 and a logarithm is taken
  only when the product nears underflow (every ~575 nats of loss), not once per row.
- **Speed.** fastmath is off, so LLVM may not reorder a floating-point sum, and numba leaves
  LLVM's SLP vectoriser off, so it would not pack independent scalar sums into SIMD registers
  either. :func:`_dot_row` therefore writes the dot product as eight partial sums held in one
  LLVM vector (``<8 x float>``, an intrinsic): the order of every addition is fixed in the
  source and the lanes never mix, so the bits are the same on any x86-64 machine, whatever its
  vector width, and the same as the eight scalar sums it replaced. ``StepRules(fast_dot=True)``
  (``train.fast_dot``) scores with :func:`_dot_row_reassociated` instead, one running sum that
  LLVM may reorder for the processor's vector width: bits the same run after run on one
  machine (a resume there is exact), not across machines.
- **Initialisation** (:func:`initial_weights`): word2vec's range, +-0.5/N, or gensim 4's,
  +-1/N (``model.init: gensim``).
- **Row tables** (fastText's n-grams): a word's n-gram rows lie anywhere in the buckets (2M x
  100 floats: a cache miss each), so while an example trains the kernel asks the processor to
  load the rows of the word that enters the windows next (``llvm.prefetch``, a hint that reads
  and writes nothing), and the hidden layer adds four rows per pass over it (each element still
  adds the rows one at a time, in the table's order: the same bits). Measured (one worker, 892k
  words of GCIDE, fastText's table with 2M buckets, N = 100, medians of 4 interleaved rounds,
  load 5-9 on 2 cores): 2.21 -> 1.68 CPU s per epoch; the same table with 1,000 buckets (all
  in cache) took 1.67 s before.
"""
from __future__ import annotations

import math
import mmap
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from cbow import executor as executors
from cbow.executor import Executor

MAX_SENTENCE_LENGTH = 10_000
"""Default longest piece of a sentence trained as one (gensim's MAX_WORDS_IN_BATCH)."""

NOISE_DOMAIN = 2**32 - 1
"""The cumulative noise table's last entry: word ``i`` is drawn for integers in
``[cumulative[i - 1], cumulative[i])`` of ``[0, NOISE_DOMAIN)``."""

SIGMOID_CLIP = 30.0
"""Scores are clipped to [-30, 30] before the sigmoid: sigmoid(-30) = 9.4e-14, so no gradient
changes in float32 and no probability (or loss term, at most 30 nats) underflows."""

STOP_CHECK_EVERY = 1024
"""The kernels read their stop flag at each sentence piece and before every this many centres
of one (a long sentence): at ``model.C`` and ``model.negative`` 1,000 that is well under a
second of work."""

SATURATED = 6.0
"""word2vec's and gensim's ``MAX_EXP``: with ``skip_saturated``, an output row whose score is
at or beyond +-6 is not updated (and adds nothing to the hidden layer's error)."""

GENSIM_SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-(np.arange(1000, dtype=np.float32) / np.float32(1000)
                                              * 2 - 1) * SATURATED))).astype(np.float32)
"""word2vec's and gensim's ``EXP_TABLE``: the sigmoid at 1,000 points of [-6, 6), read at
``int((score + 6) * 1000 / 12)`` (an ablation switch, :func:`train_range`'s ``sigmoid_table``)."""
_NO_SIGMOID_TABLE = np.zeros(0, np.float32)

# word2vec's linear congruential generator (Java's constants), modulo 2**64.
LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)

_LOW_32_BITS = np.uint64(0xFFFFFFFF)
_SHIFT_16 = np.uint64(16)
_SHIFT_32 = np.uint64(32)
# SplitMix64's constants (Steele, Lea and Flood 2014), for the position hash and for seeding.
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_MULTIPLIER_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_MULTIPLIER_2 = np.uint64(0x94D049BB133111EB)
_INV_2_POW_53 = 1.0 / 9007199254740992.0
# Fold the running product of probabilities into the loss before it can underflow: the smallest
# factor is sigmoid(-SIGMOID_CLIP) ~ 1e-13, so the product stays far above 1e-308.
_PRODUCT_FLOOR = 1e-250


# ---------------------------------------------------------------------------------------------
# Vocabulary-derived tables
# ---------------------------------------------------------------------------------------------

def _check_counts(counts) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError("counts must be a non-empty 1-D array, one count per word; "
                         f"got shape {counts.shape}")
    if not np.issubdtype(counts.dtype, np.integer) and not np.issubdtype(counts.dtype, np.floating):
        raise TypeError(f"counts must be numbers; got dtype {counts.dtype}")
    if np.any(counts < 0):
        raise ValueError("counts must be >= 0")
    return counts.astype(np.float64)


def noise_distribution(counts, exponent: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's noise distribution for negative sampling, and the table the kernels draw from.

    Parameters
    ----------
    counts : (V,) array of int
        Corpus count of each word.
    exponent : float
        The counts are raised to this power (word2vec and gensim use 0.75).

    Returns
    -------
    probabilities : (V,) float64
        ``counts**exponent / sum(counts**exponent)``.
    cumulative : (V,) uint32
        ``round(cumsum(probabilities) * NOISE_DOMAIN)``, its last entry exactly ``NOISE_DOMAIN``.
        A kernel draws an integer ``r`` uniformly from ``[0, NOISE_DOMAIN)`` and takes the first
        word whose entry exceeds ``r``. 4 bytes per word (4 MB for a million words); a word whose
        probability is below ``1 / NOISE_DOMAIN`` (2.3e-10) may never be drawn.
    """
    weights = _check_counts(counts) ** float(exponent)
    total = weights.sum()
    if not total > 0:
        raise ValueError("counts are all zero: there is no noise distribution")
    probabilities = weights / total
    cumulative = np.rint(np.cumsum(probabilities) * NOISE_DOMAIN)
    cumulative[-1] = NOISE_DOMAIN  # cumsum's rounding must not leave a gap at the top
    return probabilities, np.minimum(cumulative, NOISE_DOMAIN).astype(np.uint32)


def keep_probabilities(counts, sample: float) -> np.ndarray:
    """word2vec's subsampling: the probability that each occurrence of a word is kept.

    With ``t = sample * sum(counts)`` and ``f`` a word's count, the word2vec C tool and gensim keep
    an occurrence with probability ``(sqrt(f / t) + 1) * t / f``, clipped to 1. ``sample = 0``
    keeps everything.

    Returns
    -------
    (V,) float64 in (0, 1]. Words with a zero count get 1.
    """
    counts = _check_counts(counts)
    if sample < 0:
        raise ValueError(f"sample must be >= 0; got {sample}")
    keep = np.ones_like(counts)
    if sample == 0:
        return keep
    threshold = sample * counts.sum()
    seen = counts > 0
    f = counts[seen]
    keep[seen] = np.minimum((np.sqrt(f / threshold) + 1.0) * threshold / f, 1.0)
    return keep


def huffman_tree(counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """word2vec's Huffman coding of the vocabulary, for hierarchical softmax.

    Built in O(V log V): one stable sort of the counts, then word2vec's two-queue merge, which is
    linear because inner nodes are made in non-decreasing order of weight, then one vectorised
    step up the tree per level (about 2 s for V = 1M, in Python: compiling it would cost more).

    Tie-breaking (deterministic): words are ordered by (count, id), ascending; each merge takes
    the two lightest available nodes, a leaf before an inner node of equal weight; the first one
    taken gets branch code 0, the second code 1. Inner node ``k`` is the ``k``-th merge, so the
    root is inner node ``V - 2`` (the last row of the ``(V - 1, N)`` output matrix).

    Every tie-breaking gives an optimal code (the same mean code length over the corpus), but
    which rare words of equal count share inner nodes differs: with ``vocab.order: frequency``
    ids, equal counts are alphabetical, so neighbours in the alphabet become siblings; gensim
    pairs them in its heap's order. That choice is fixed by the corpus, not by the seed: on a
    small corpus it moves the word-similarity scores of every seed alike, in either direction,
    so compare with gensim tree for tree (``benchmarks/ablate_word2vec.py``, variants ``gtree``
    and ``gensim+ctree``).

    Returns
    -------
    codes : (V, L) uint8
        ``codes[w, :code_lengths[w]]``: the branch taken at each inner node on the way from the
        root to word ``w``; ``L`` is the longest code. Padding is 0.
    points : (V, L) int32
        ``points[w, :code_lengths[w]]``: those inner nodes, root first, as rows of the output
        matrix. Padding is -1.
    code_lengths : (V,) int32
        The depth of each word; frequent words get shorter codes. A one-word vocabulary has
        no inner node and a code of length 0.

    The kernels train ``sigmoid(h . output[points[w, d]])`` towards ``1 - codes[w, d]``, as
    word2vec does.
    """
    weights = _check_counts(counts)
    n_words = weights.size
    order = np.argsort(weights, kind="stable")  # leaf i of the merge is word order[i]
    parent, branch = _huffman_merge(weights[order].tolist())
    root = 2 * n_words - 2

    # Walk every leaf up to the root at once: first to measure depths, then to fill the paths
    # from their ends (a leaf at depth n fills positions n-1, n-2, ..., 0).
    depth = np.zeros(n_words, np.int32)
    node = np.arange(n_words)
    while True:
        below_root = node != root
        if not below_root.any():
            break
        depth += below_root
        node = np.where(below_root, parent[node], node)
    longest = int(depth.max())
    codes = np.zeros((n_words, longest), np.uint8)
    points = np.full((n_words, longest), -1, np.int32)
    rows = np.flatnonzero(depth > 0)  # the leaves still below the root, and where they are
    node, level = rows.copy(), depth[rows] - 1
    while rows.size:
        codes[rows, level] = branch[node]
        points[rows, level] = parent[node] - n_words
        node, level = parent[node], level - 1
        climbing = level >= 0
        rows, node, level = rows[climbing], node[climbing], level[climbing]
    words = order  # leaf i is word order[i]
    out_codes, out_points, out_lengths = (np.empty_like(codes), np.empty_like(points),
                                          np.empty_like(depth))
    out_codes[words], out_points[words], out_lengths[words] = codes, points, depth
    return out_codes, out_points, out_lengths


def _huffman_merge(sorted_weights: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Merge the two lightest nodes until one is left (word2vec's two-queue method).

    ``sorted_weights`` (V,) is ascending. Nodes ``0 .. V-1`` are the leaves in that order and
    nodes ``V .. 2V-2`` the inner nodes in the order they are made; both queues are ascending, so
    the two lightest nodes are always at their heads. Returns ``parent`` ``(2V - 1,)`` int64 (-1
    for the root) and ``branch`` ``(2V - 1,)`` uint8 (0 for the child taken first, 1 for the
    other).
    """
    n_leaves = len(sorted_weights)
    weight = sorted_weights + [0.0] * (n_leaves - 1)
    parent = [-1] * (2 * n_leaves - 1)
    branch = [0] * (2 * n_leaves - 1)
    next_leaf, next_inner = 0, n_leaves
    for new_node in range(n_leaves, 2 * n_leaves - 1):
        total = 0.0
        for child_branch in (0, 1):
            if next_leaf < n_leaves and (next_inner == new_node or weight[next_leaf] <= weight[next_inner]):
                child, next_leaf = next_leaf, next_leaf + 1
            else:
                child, next_inner = next_inner, next_inner + 1
            parent[child] = new_node
            branch[child] = child_branch
            total += weight[child]
        weight[new_node] = total
    return np.array(parent, np.int64), np.array(branch, np.uint8)


# ---------------------------------------------------------------------------------------------
# Objectives and initialisation
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NegativeSampling:
    """Negative sampling: ``negative`` noise words per example, drawn from ``noise_cumulative``.

    ``noise_cumulative`` ``(V,)`` uint32 is the table of :func:`noise_distribution`;
    ``noise_guide`` is derived from it (:func:`make_noise_guide`).
    """

    noise_cumulative: np.ndarray
    negative: int = 5
    noise_guide: np.ndarray = field(init=False, repr=False, compare=False)

    @classmethod
    def from_counts(cls, counts, negative: int = 5, exponent: float = 0.75) -> "NegativeSampling":
        return cls(noise_distribution(counts, exponent)[1], negative)

    def __post_init__(self):
        # An own writeable copy: see _run_kernel for why the type matters.
        object.__setattr__(self, "noise_cumulative", np.array(self.noise_cumulative, np.uint32, order="C"))
        if self.noise_cumulative.ndim != 1 or self.noise_cumulative.size == 0:
            raise ValueError("noise_cumulative must be a non-empty (V,) table")
        if not (isinstance(self.negative, (int, np.integer)) and self.negative >= 1):
            raise ValueError(f"negative must be an integer >= 1; got {self.negative!r}")
        object.__setattr__(self, "noise_guide", make_noise_guide(self.noise_cumulative))

    @property
    def vocab_size(self) -> int:
        return self.noise_cumulative.shape[0]

    @property
    def output_rows(self) -> int:
        """Rows of the output matrix: one per word."""
        return self.vocab_size


@dataclass(frozen=True)
class HierarchicalSoftmax:
    """Hierarchical softmax over the Huffman tree of :func:`huffman_tree`."""

    codes: np.ndarray         # (V, L) uint8
    points: np.ndarray        # (V, L) int32
    code_lengths: np.ndarray  # (V,) int32

    @classmethod
    def from_counts(cls, counts) -> "HierarchicalSoftmax":
        return cls(*huffman_tree(counts))

    def __post_init__(self):
        for name, dtype in (("codes", np.uint8), ("points", np.int32), ("code_lengths", np.int32)):
            # Own writeable copies: see _run_kernel for why the type matters.
            object.__setattr__(self, name, np.array(getattr(self, name), dtype, order="C"))
        V = self.code_lengths.shape[0]
        if self.codes.shape != self.points.shape or self.codes.shape[0] != V:
            raise ValueError(f"codes {self.codes.shape}, points {self.points.shape} and "
                             f"code_lengths {self.code_lengths.shape} do not describe one tree")

    @property
    def vocab_size(self) -> int:
        return self.code_lengths.shape[0]

    @property
    def output_rows(self) -> int:
        """Rows of the output matrix: one per inner node of the tree."""
        return self.vocab_size - 1


Objective = NegativeSampling | HierarchicalSoftmax


@dataclass(frozen=True, eq=False)
class RowTable:
    """Which input rows each word reads: a compressed row table.

    Word ``w``'s input rows are ``rows[offsets[w]:offsets[w + 1]]``. A CBOW example's hidden
    layer is the mean of every input row of every context word (a word that occurs twice in the
    window counts twice), and each of those rows gets the whole hidden-layer error once per
    time it was summed. That is fastText's CBOW, where a word's rows are its own row and the rows
    of its character n-grams (``V`` word rows, then the hash buckets); with one row per word,
    row ``w`` for word ``w`` (:meth:`identity`), it is word2vec's, bit for bit. The kernels do
    not read the table for ``row_table=None``: that is the identity, at no cost.

    offsets : (V + 1,) int64, ``offsets[0] == 0``, non-decreasing, ``offsets[V] == len(rows)``.
    rows : (R,) int32 (any integer array is accepted and checked to fit), each ``>= 0``; the
        input matrix needs at least :attr:`input_rows` rows. A word without rows adds nothing,
        and an example whose context has no rows is skipped, as one without context words.
    """

    offsets: np.ndarray
    rows: np.ndarray

    def __post_init__(self):
        offsets, rows = np.asarray(self.offsets), np.asarray(self.rows)
        if not (np.issubdtype(offsets.dtype, np.integer) and np.issubdtype(rows.dtype, np.integer)):
            raise TypeError(f"offsets and rows must be integer arrays; got {offsets.dtype} and {rows.dtype}")
        if offsets.ndim != 1 or offsets.size < 2 or rows.ndim != 1:
            raise ValueError("offsets must be (V + 1,) with V >= 1 and rows 1-D; got shapes "
                             f"{offsets.shape} and {rows.shape}")
        if offsets[0] != 0 or offsets[-1] != rows.size or np.any(np.diff(offsets) < 0):
            raise ValueError(f"offsets must start at 0, never decrease and end at len(rows) = "
                             f"{rows.size}")
        if rows.size and (rows.min() < 0 or rows.max() > np.iinfo(np.int32).max):
            raise ValueError(f"rows must lie in [0, 2**31); got [{rows.min()}, {rows.max()}]")
        # Own writeable copies of one type each: see _run_kernel for why the type matters.
        object.__setattr__(self, "offsets", np.array(offsets, np.int64, order="C"))
        object.__setattr__(self, "rows", np.array(rows, np.int32, order="C"))
        object.__setattr__(self, "input_rows", int(self.rows.max()) + 1 if self.rows.size else 0)

    input_rows: int = field(init=False)
    """The fewest input rows the table needs: ``max(rows) + 1``."""

    @classmethod
    def identity(cls, vocab_size: int) -> "RowTable":
        """Word ``w`` reads row ``w``: word2vec's CBOW, written as a table."""
        return cls(np.arange(vocab_size + 1, dtype=np.int64), np.arange(vocab_size, dtype=np.int32))

    @classmethod
    def from_lists(cls, rows_of_words) -> "RowTable":
        """From one sequence of row numbers per word."""
        lengths = [len(word_rows) for word_rows in rows_of_words]
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        rows = (np.concatenate([np.asarray(r, np.int64) for r in rows_of_words if len(r)])
                if sum(lengths) else np.zeros(0, np.int64))
        return cls(offsets, rows)

    @property
    def vocab_size(self) -> int:
        return self.offsets.shape[0] - 1


INITIALISATIONS = ("word2vec", "gensim")
"""The input vectors' initial ranges: ``word2vec`` (the C tool's) +-0.5/N, ``gensim`` (gensim
4's) +-1/N."""


def initial_weights(objective: Objective, vector_size: int, seed: int, scheme: str = "word2vec",
                    input_rows: int | None = None, drawn: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """word2vec's initialisation, drawn from ``np.random.default_rng(seed)``.

    ``scheme`` (:data:`INITIALISATIONS`): ``word2vec``, the C tool's range, input vectors uniform
    in [-0.5/N, 0.5/N); ``gensim``, gensim 4's, uniform in [-1/N, 1/N), computed as gensim's
    ``prep_vectors`` does from the same generator (so the same seed and vocabulary order give
    gensim's initial vectors). Twice the range trains better vectors in the same epochs (CBOW
    with negative sampling on two corpora: ``benchmarks/ablate_word2vec.py``).

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


#: Rows drawn at a time by :func:`initial_weights` when only some are kept.
_DRAW_BLOCK_ROWS = 1 << 14


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


# ---------------------------------------------------------------------------------------------
# Randomness
# ---------------------------------------------------------------------------------------------

_MASK_64 = (1 << 64) - 1


def _splitmix64(value: int) -> int:
    z = (value + 0x9E3779B97F4A7C15) & _MASK_64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK_64
    return z ^ (z >> 31)


def _mix(*values: int) -> int:
    state = 0
    for value in values:
        state = _splitmix64(state ^ (int(value) & _MASK_64))
    return state


def worker_rng_states(seed: int, workers: int, epoch: int = 0) -> np.ndarray:
    """The initial generator state of each worker, ``(workers,)`` uint64, from (seed, epoch)."""
    return np.array([_mix(seed, epoch, 1 + worker) for worker in range(workers)], np.uint64)


def resize_rng_states(states, workers: int) -> np.ndarray:
    """The generator states of ``workers`` lanes continuing from ``states`` (another count).

    A run resumed with another number of workers (``train.workers`` changed, or ``null`` on a
    machine with another number of cores) keeps lanes ``0 .. min(old, new) - 1`` as they were
    saved; each new lane ``i >= old`` starts from SplitMix64 of (the last saved state, ``i``),
    so the same checkpoint and count always give the same states. The same count returns the
    states unchanged: one worker resumed with one worker stays bit for bit.
    """
    states = np.asarray(states, dtype=np.uint64).reshape(-1)
    if states.size == 0 or not (isinstance(workers, (int, np.integer)) and workers >= 1):
        raise ValueError(f"need at least one saved state and workers >= 1; got {states.size} "
                         f"states and workers={workers!r}")
    last = int(states[-1])
    return np.array([int(states[i]) if i < states.size else _mix(last, i)
                     for i in range(workers)], np.uint64)


def subsample_key(seed: int, epoch: int = 0) -> np.uint64:
    """The key of the subsampling hash for one epoch (another epoch drops other words)."""
    return np.uint64(_mix(seed, epoch, 0))


# ---------------------------------------------------------------------------------------------
# Compiled kernels
# ---------------------------------------------------------------------------------------------
# Conventions: arguments are named as in the module docstring; every loop over the N dimensions
# reads rows of C-ordered matrices, so each is one contiguous run, and loops without a sum
# (means, updates) are vectorised by LLVM. No allocation happens per example: the scratch
# buffers are allocated once per call. fastmath stays off; see "Speed" in the module docstring.

_KERNEL_OPTIONS = dict(nogil=True, cache=True, fastmath=False)
_CACHE_LINE = 64  # bytes: x86-64's (and most processors') cache line


_DOT_LANES = 8  # the partial sums of :func:`_dot_row` (its final sum is written for 8)


@intrinsic
def _dot_row(typingctx, vector, matrix, row):
    """``vector . matrix[row]`` (float32, both C-ordered) with :data:`_DOT_LANES` partial sums.

    Sum ``k`` adds the products of elements ``k, k + 8, k + 16, ...`` in order; the elements
    past the last multiple of 8 are added to sum 0, one at a time; the result is
    ``((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))``. The eight sums are one LLVM vector
    (``<8 x float>``): one multiply and one add per 8 elements, where scalar code takes eight
    dependent-free but separate ones (numba leaves LLVM's SLP vectoriser off, so it would not
    pack them itself). Every addition is the one the order above names, in lanes that do not
    mix, so the bits do not depend on how the processor splits the vector (one AVX register,
    two SSE ones, half an AVX-512 one): the same on any x86-64 machine.
    """
    if not (isinstance(vector, types.Array) and vector.ndim == 1 and vector.layout == "C"
            and isinstance(matrix, types.Array) and matrix.ndim == 2 and matrix.layout == "C"
            and vector.dtype == types.float32 and matrix.dtype == types.float32
            and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        vector_array = context.make_array(signature.args[0])(context, builder, args[0])
        matrix_array = context.make_array(signature.args[1])(context, builder, args[1])
        i32, i64 = ir.IntType(32), ir.IntType(64)
        lanes = ir.VectorType(ir.FloatType(), _DOT_LANES)
        n = builder.extract_value(vector_array.shape, 0)
        row_index = context.cast(builder, args[2], signature.args[2], types.int64)
        a = vector_array.data
        b = builder.gep(matrix_array.data,
                        [builder.mul(row_index, builder.extract_value(matrix_array.shape, 1))])
        width = ir.Constant(i64, _DOT_LANES)
        blocks_end = builder.mul(builder.udiv(n, width), width)
        sums = cgutils.alloca_once_value(builder, ir.Constant(lanes, None))  # zeros
        with cgutils.for_range_slice(builder, ir.Constant(i64, 0), blocks_end, width) as (c, _):
            a_block = builder.load(builder.bitcast(builder.gep(a, [c]), lanes.as_pointer()), align=4)
            b_block = builder.load(builder.bitcast(builder.gep(b, [c]), lanes.as_pointer()), align=4)
            builder.store(builder.fadd(builder.load(sums), builder.fmul(a_block, b_block)), sums)
        lane_sums = builder.load(sums)
        s = [builder.extract_element(lane_sums, ir.Constant(i32, k)) for k in range(_DOT_LANES)]
        first = cgutils.alloca_once_value(builder, s[0])
        with cgutils.for_range_slice(builder, blocks_end, n, ir.Constant(i64, 1)) as (c, _):
            product = builder.fmul(builder.load(builder.gep(a, [c])), builder.load(builder.gep(b, [c])))
            builder.store(builder.fadd(builder.load(first), product), first)
        s[0] = builder.load(first)
        add = builder.fadd
        return add(add(add(s[0], s[1]), add(s[2], s[3])), add(add(s[4], s[5]), add(s[6], s[7])))

    return types.float32(vector, matrix, row), codegen


@njit(nogil=True, cache=True, fastmath={"reassoc"})
def _dot_row_reassociated(vector, matrix, row):
    """``vector . matrix[row]`` in float32, one running sum that LLVM may reorder (``train.
    fast_dot``): it vectorises the loop with as many partial sums as the processor's vector
    width holds, so the bits depend on that width (the same on one machine, run after run)."""
    total = np.float32(0.0)
    for c in range(vector.shape[0]):
        total += vector[c] * matrix[row, c]
    return total


@intrinsic
def _prefetch_row(typingctx, matrix, row):
    """Ask the processor to start loading ``matrix[row]`` (a C-ordered 2-D array) into its
    caches: one ``llvm.prefetch`` (read, high locality) per 64-byte line of the row. A hint
    only: no value is read or written, so no result changes, whatever the processor does."""
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2
            and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        i64, i32, byte_pointer = ir.IntType(64), ir.IntType(32), ir.IntType(8).as_pointer()
        row_index = context.cast(builder, args[1], signature.args[1], types.int64)
        start = builder.add(builder.ptrtoint(array.data, i64),
                            builder.mul(row_index, builder.extract_value(array.strides, 0)))
        row_bytes = builder.mul(builder.extract_value(array.shape, 1),
                                ir.Constant(i64, signature.args[0].dtype.bitwidth // 8))
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8")  # typed pointers' name; LLVM with opaque ones upgrades it
        with cgutils.for_range_slice(builder, ir.Constant(i64, 0), row_bytes,
                                     ir.Constant(i64, _CACHE_LINE)) as (offset, _):
            address = builder.inttoptr(builder.add(start, offset), byte_pointer)
            builder.call(prefetch, [address, ir.Constant(i32, 0), ir.Constant(i32, 3),
                                    ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(matrix, row), codegen


@njit(**_KERNEL_OPTIONS)
def _prefetch_word_rows(input_vectors, row_offsets, rows, word):
    """Start loading every input row of ``word`` (:func:`_prefetch_row`)."""
    for k in range(row_offsets[word], row_offsets[word + 1]):
        _prefetch_row(input_vectors, rows[k])


@njit(**_KERNEL_OPTIONS)
def _logistic(score, label):
    """``(label - sigmoid(score), P(label))`` for a 0/1 label, in float64.

    ``1 - sigmoid(x)`` is computed as ``exp(-x) * sigmoid(x)``, which does not cancel to 0.
    """
    x = min(max(np.float64(score), -SIGMOID_CLIP), SIGMOID_CLIP)
    e = math.exp(-x)
    p_one = 1.0 / (1.0 + e)
    p_zero = e * p_one
    if label == 1:
        return p_zero, p_one
    return -p_one, p_zero


@njit(**_KERNEL_OPTIONS)
def _next_state(state):
    return state * LCG_MULTIPLIER + LCG_INCREMENT


@njit(**_KERNEL_OPTIONS)
def _uniform_32(state):
    """Bits 16..47 of a generator state: a uniform 32-bit integer."""
    return (state >> _SHIFT_16) & _LOW_32_BITS


@njit(**_KERNEL_OPTIONS)
def _below(state, bound):
    """An integer in ``[0, bound)`` from bits 16..47 of a generator state (multiply and shift)."""
    return _uniform_32(state) * np.uint64(bound) >> _SHIFT_32


@njit(**_KERNEL_OPTIONS)
def _position_uniform(key, position):
    """A uniform float64 in [0, 1) that depends only on ``key`` and ``position`` (SplitMix64)."""
    z = key + (np.uint64(position) + np.uint64(1)) * _GOLDEN_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_MULTIPLIER_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_MULTIPLIER_2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * _INV_2_POW_53


NOISE_GUIDE_BITS = 16  # the guide of a noise table has 2**16 + 1 entries (256 KiB)


@njit(**_KERNEL_OPTIONS)
def make_noise_guide(noise_cumulative, bits=NOISE_GUIDE_BITS):
    """Where :func:`_draw_noise_word`'s search starts: ``(2**bits + 1,)`` int32.

    The draw's uniform integer ``u`` (32 bits) picks the word for ``r = u * total >> 32``;
    ``u``'s top ``bits`` bits, ``j``, confine ``r`` to ``[r_j, r_(j+1))`` with ``r_j =
    (j << (32 - bits)) * total >> 32``. Entry ``j`` is the word ``r_j`` picks (the first whose
    cumulative entry exceeds it), and the last entry the word ``total - 1`` picks: the word for
    ``u`` lies between entries ``j`` and ``j + 1``, both included, because the pick only grows
    with ``r``. Most of the noise mass is in frequent words, whose guide entries span one word.
    """
    buckets = 1 << bits
    total = np.uint64(noise_cumulative[noise_cumulative.shape[0] - 1])
    if total == 0:  # the search below would run past the table's end
        raise ValueError("noise_cumulative ends at 0: no word can be drawn")
    guide = np.empty(buckets + 1, np.int32)
    word = 0
    for j in range(buckets + 1):
        if j == buckets:
            r = total - np.uint64(1)
        else:
            r = (np.uint64(j) << np.uint64(32 - bits)) * total >> _SHIFT_32
        while np.uint64(noise_cumulative[word]) <= r:
            word += 1
        guide[j] = word
    return guide


@njit(**_KERNEL_OPTIONS)
def _draw_noise_word(noise_cumulative, guide, guide_shift, state):
    """The first word whose cumulative entry exceeds a uniform integer drawn from ``state``
    (``_below(state, total)``): a binary search between the two words that ``guide``
    (:func:`make_noise_guide`, ``guide_shift = 32 - bits``) names for the draw's top bits, which
    reaches the word a search of the whole table would (the same word, in a few steps instead
    of ~log2(V) cache misses)."""
    r = _below(state, noise_cumulative[noise_cumulative.shape[0] - 1])
    bucket = _uniform_32(state) >> guide_shift
    low = np.int64(guide[bucket])
    high = np.int64(guide[bucket + np.uint64(1)])
    while low < high:
        middle = (low + high) >> 1
        if np.uint64(noise_cumulative[middle]) > r:
            high = middle
        else:
            low = middle + 1
    return low


@njit(**_KERNEL_OPTIONS)
def _gather_kept_words(tokens, start, stop, keep_probabilities, key, kept_words, kept_positions):
    """Subsample ``tokens[start:stop]`` into ``kept_words``/``kept_positions``; return how many."""
    n_kept = 0
    for position in range(start, stop):
        word = tokens[position]
        keep = keep_probabilities[word]
        # Most of the vocabulary (every word rarer than the threshold) is always kept: no hash.
        if keep < 1.0 and _position_uniform(key, position) >= keep:
            continue
        kept_words[n_kept] = word
        kept_positions[n_kept] = position
        n_kept += 1
    return n_kept


def _specialise_cbow_range(word2vec_default: bool):
    """Both objectives' CBOW over the centre positions ``[begin, end)``, compiled once with the
    switches read at run time and once with word2vec's defaults as constants; see the public
    kernels, and :func:`_cbow_range`, which picks one.

    ``word2vec_default`` True: one input row per word (``identity_rows``) and the default step
    rules (the exact sigmoid, the plain dot product, a rate per position), whatever the
    arguments say: constants, so that LLVM removes the branches they decide from the inner
    loops (callgrind, 100,000 words of GCIDE, one worker: 3.8% fewer instructions than with the
    tests at run time for negative sampling, 2.9% for hierarchical softmax). Only
    ``skip_saturated`` (``configs/word2vec.yaml`` sets it) stays a run-time switch there: one
    predictable test per output row (kernel_speed: the run-time kernel cost it 3-8%).
    False: every switch is read from the arguments (any combination, a row table included).
    One source: the specialisation only overwrites the switches before their first use; numba's
    cache tells the two apart by the closure's value. Each is compiled for each objective (the
    public kernels pass ``hierarchical`` as a literal), four in all, as many as before.
    """

    @njit(**_KERNEL_OPTIONS)
    def cbow_range(input_vectors, output_vectors, hidden_bias, tokens, sentence_starts,
                   keep_probabilities, key, hierarchical, codes, points, code_lengths,
                   noise_cumulative, noise_guide, negative, C, shrink_window, relu, learn,
                   begin, end, schedule_begin, schedule_end, alpha_start, alpha_end,
                   max_sentence_length, rng_state, identity_rows, row_offsets, rows,
                   skip_saturated, fast_dot, sigmoid_table, alpha_every, stop_flag):
        """``identity_rows``: word ``w``'s one input row is row ``w`` (word2vec), and
        ``row_offsets``/``rows`` are not read; otherwise its rows are
        ``rows[row_offsets[w]:row_offsets[w + 1]]``. ``skip_saturated``: rows scored at or
        beyond +-SATURATED are not updated (gensim). ``fast_dot``: the reassociated dot product.
        ``sigmoid_table`` (ablation): empty, the exact sigmoid; else gensim's table inside
        +-SATURATED. ``alpha_every`` (ablation): the rate is held for blocks of that many
        positions (1: every position its own). ``stop_flag`` (1,) int32: read at each sentence
        piece and every :data:`STOP_CHECK_EVERY` centres of a piece; when it is not 0 the call
        returns at once, ``words`` saying where it stopped.
        """
        if word2vec_default:
            identity_rows = True
            fast_dot = False
            alpha_every = 1
            table_size = 0
        else:
            table_size = sigmoid_table.shape[0]
        n_tokens = tokens.shape[0]
        n_sentences = sentence_starts.shape[0]
        dim = input_vectors.shape[1]
        hidden = np.empty(dim, np.float32)        # word2vec's neu1
        hidden_error = np.empty(dim, np.float32)  # word2vec's neu1e
        kept_words = np.empty(max_sentence_length, np.int64)
        kept_positions = np.empty(max_sentence_length, np.int64)
        # the input rows of one example's context words, in order (a row table only)
        most_rows = 0
        if not identity_rows:
            for word in range(row_offsets.shape[0] - 1):
                most_rows = max(most_rows, row_offsets[word + 1] - row_offsets[word])
        context_rows = np.empty(2 * C * most_rows, np.int64)
        state = np.uint64(rng_state)
        alpha_per_position = (alpha_end - alpha_start) / max(1, schedule_end - schedule_begin)
        table_scale = table_size / (2.0 * SATURATED)
        guide_bits = 0  # noise_guide has 2**guide_bits + 1 entries
        while (1 << (guide_bits + 1)) < noise_guide.shape[0]:
            guide_bits += 1
        guide_shift = np.uint64(32 - guide_bits)
        effective_words = 0
        examples = 0
        loss = 0.0
        probability_product = 1.0  # of every P(label) since the last fold into ``loss``
        reached = end  # the centre positions [begin, reached) are trained (less when stopped)

        position = max(begin, 0)
        while position < end:
            if stop_flag[0] != 0:
                reached = position
                break
            # The piece of a sentence that holds ``position``: windows stay inside it.
            sentence = np.searchsorted(sentence_starts, position, side="right") - 1
            sentence_start = sentence_starts[sentence]
            sentence_end = sentence_starts[sentence + 1] if sentence + 1 < n_sentences else n_tokens
            pieces_before = (position - sentence_start) // max_sentence_length
            piece_start = sentence_start + pieces_before * max_sentence_length
            # The binary search returns a sentence with start <= position < end, even for
            # unsorted starts (only the windows would be wrong), so the loop always moves on.
            piece_end = min(piece_start + max_sentence_length, sentence_end)
            n_kept = _gather_kept_words(tokens, piece_start, piece_end, keep_probabilities, key,
                                        kept_words, kept_positions)
            stop = min(piece_end, end)
            # The centres are the kept words in [position, stop); the others are context only.
            first_centre = 0
            while first_centre < n_kept and kept_positions[first_centre] < position:
                first_centre += 1
            last_centre = first_centre
            while last_centre < n_kept and kept_positions[last_centre] < stop:
                last_centre += 1
            if not identity_rows:  # the rows of the first windows' words (see below)
                for j in range(min(C + 1, n_kept)):
                    _prefetch_word_rows(input_vectors, row_offsets, rows, kept_words[j])
            # The stop flag is read again before every STOP_CHECK_EVERY centres of a piece (a
            # long sentence), not inside the centres' loop.
            for chunk in range(first_centre, last_centre, STOP_CHECK_EVERY):
                if chunk > first_centre and stop_flag[0] != 0:
                    reached = kept_positions[chunk]  # stop before it: a call from it continues
                    break
                for centre_index in range(chunk, min(chunk + STOP_CHECK_EVERY, last_centre)):
                    if not identity_rows and centre_index + C + 1 < n_kept:
                        # A word's n-gram rows are scattered over the buckets (a cache miss
                        # each): load those of the word that enters the windows next while this
                        # example trains.
                        _prefetch_word_rows(input_vectors, row_offsets, rows,
                                            kept_words[centre_index + C + 1])
                    centre_position = kept_positions[centre_index]
                    effective_words += 1
                    span = C
                    if shrink_window:
                        state = _next_state(state)
                        span = C - np.int64(_below(state, C))
                    first = max(centre_index - span, 0)
                    last = min(centre_index + span + 1, n_kept)
                    if identity_rows:
                        n_context = last - first - 1
                    else:  # every input row of every context word is one term of the mean, in order
                        n_context = 0
                        for j in range(first, last):
                            if j != centre_index:
                                word = kept_words[j]
                                for k in range(row_offsets[word], row_offsets[word + 1]):
                                    context_rows[n_context] = rows[k]
                                    n_context += 1
                    if n_context == 0:
                        continue

                    # Hidden layer: the mean of the context words' input rows (+ b1, ReLU).
                    for c in range(dim):
                        hidden[c] = 0.0
                    if identity_rows:
                        for j in range(first, last):
                            if j != centre_index:
                                word = kept_words[j]
                                for c in range(dim):
                                    hidden[c] += input_vectors[word, c]
                    else:
                        # Four rows per pass over ``hidden``: each element still adds the rows
                        # one at a time in the table's order (the same sums, bit for bit), but
                        # loads and stores ``hidden`` once per four rows.
                        k = 0
                        while k + 4 <= n_context:
                            r0, r1 = context_rows[k], context_rows[k + 1]
                            r2, r3 = context_rows[k + 2], context_rows[k + 3]
                            for c in range(dim):
                                hidden[c] = (((hidden[c] + input_vectors[r0, c])
                                              + input_vectors[r1, c])
                                             + input_vectors[r2, c]) + input_vectors[r3, c]
                            k += 4
                        while k < n_context:
                            input_row = context_rows[k]
                            for c in range(dim):
                                hidden[c] += input_vectors[input_row, c]
                            k += 1
                    inverse_count = np.float32(1.0) / np.float32(n_context)
                    for c in range(dim):
                        hidden[c] *= inverse_count
                    if relu:
                        for c in range(dim):
                            pre_activation = hidden[c] + hidden_bias[c]
                            hidden[c] = pre_activation if pre_activation > 0.0 else np.float32(0.0)

                    # Output layer: score each row, step it, and collect the error for the inputs.
                    for c in range(dim):
                        hidden_error[c] = 0.0
                    offset = centre_position - schedule_begin
                    if alpha_every > 1:
                        offset -= offset % alpha_every
                    alpha = np.float32(alpha_start + alpha_per_position * offset)
                    centre = kept_words[centre_index]
                    n_rows = code_lengths[centre] if hierarchical else negative + 1
                    for d in range(n_rows):
                        if hierarchical:
                            row = np.int64(points[centre, d])
                            label = 1 - np.int64(codes[centre, d])
                        elif d == 0:
                            row = centre
                            label = 1
                        else:
                            state = _next_state(state)
                            row = _draw_noise_word(noise_cumulative, noise_guide, guide_shift, state)
                            if row == centre:
                                continue  # as word2vec: the centre word is no noise word
                            label = 0
                        if fast_dot:
                            score = _dot_row_reassociated(hidden, output_vectors, row)
                        else:
                            score = _dot_row(hidden, output_vectors, row)
                        error, probability = _logistic(score, label)
                        probability_product *= probability
                        if probability_product < _PRODUCT_FLOOR:
                            loss -= math.log(probability_product)
                            probability_product = 1.0
                        saturated = score <= -SATURATED or score >= SATURATED
                        if skip_saturated and saturated:
                            continue  # as gensim: no step for this row, nothing to the hidden error
                        if table_size > 0 and not saturated:
                            error = label - np.float64(
                                sigmoid_table[int((score + SATURATED) * table_scale)])
                        if learn:
                            step = np.float32(error) * alpha
                            for c in range(dim):  # one pass: the error uses the row before its step
                                output_value = output_vectors[row, c]
                                hidden_error[c] += step * output_value
                                output_vectors[row, c] = output_value + step * hidden[c]
                    examples += 1

                    if learn:
                        if relu:  # back through the ReLU: b1 and the inputs get the masked error
                            for c in range(dim):
                                if hidden[c] <= 0.0:
                                    hidden_error[c] = 0.0
                                hidden_bias[c] += hidden_error[c]
                        if identity_rows:
                            for j in range(first, last):
                                if j != centre_index:
                                    word = kept_words[j]
                                    for c in range(dim):
                                        input_vectors[word, c] += hidden_error[c]
                        else:  # one row at a time: a row that is there twice gets both steps
                            for k in range(n_context):
                                input_row = context_rows[k]
                                for c in range(dim):
                                    input_vectors[input_row, c] += hidden_error[c]
            if reached < end:
                break
            position = stop

        loss -= math.log(probability_product)
        words = max(reached - max(begin, 0), 0)
        return state, words, effective_words, examples, loss

    return cbow_range


_cbow_range_word2vec = _specialise_cbow_range(word2vec_default=True)
_cbow_range_any = _specialise_cbow_range(word2vec_default=False)


@njit(**_KERNEL_OPTIONS)
def _cbow_range(*args):
    """Both objectives' CBOW over the centre positions ``[begin, end)``: ``args`` are those of
    :func:`_specialise_cbow_range`'s kernel, which end with the switches; this runs the
    specialisation they need (one test per call)."""
    identity_rows, _, _, _, fast_dot, sigmoid_table, alpha_every, _ = args[-8:]
    if identity_rows and not fast_dot and sigmoid_table.shape[0] == 0 and alpha_every == 1:
        return _cbow_range_word2vec(*args)
    return _cbow_range_any(*args)


@njit(**_KERNEL_OPTIONS)
def _given_switches(identity_rows, row_offsets, rows, sigmoid_table, stop_flag):
    """The public kernels' optional arguments as ``_cbow_range`` takes them: one row per word
    (placeholders, never read) where no ``rows``, the exact sigmoid (an empty table) and a flag
    nobody sets where None was given."""
    if rows is None:
        identity, offsets, table_rows = True, np.zeros(1, np.int64), np.zeros(0, np.int32)
    else:
        identity, offsets, table_rows = identity_rows, row_offsets, rows
    if sigmoid_table is None:
        table = np.zeros(0, np.float32)
    else:
        table = sigmoid_table
    if stop_flag is None:
        flag = np.zeros(1, np.int32)
    else:
        flag = stop_flag
    return identity, offsets, table_rows, table, flag


@njit(**_KERNEL_OPTIONS)
def cbow_negative_sampling(input_vectors, output_vectors, hidden_bias, tokens, sentence_starts,
                           keep_probabilities, key, noise_cumulative, negative, C,
                           shrink_window, relu, learn, begin, end, schedule_begin, schedule_end,
                           alpha_start, alpha_end, max_sentence_length, rng_state,
                           identity_rows=True, row_offsets=None, rows=None,
                           skip_saturated=False, fast_dot=False, sigmoid_table=None,
                           alpha_every=1, stop_flag=None, noise_guide=None):
    """CBOW with negative sampling over the centre positions ``[begin, end)`` of ``tokens``.

    Parameters
    ----------
    input_vectors : (V, N) float32, C order; updated in place when ``learn``.
    output_vectors : (V, N) float32, C order; updated in place when ``learn``.
    hidden_bias : (N,) float32; read and updated only when ``relu``.
    tokens : (T,) uint32 word ids; sentence_starts : (S,) int64 (see the module docstring).
    keep_probabilities : (V,) float64 from :func:`keep_probabilities`; key : uint64, the
        subsampling key (:func:`subsample_key`). All ones keeps every word.
    noise_cumulative : (V,) uint32 from :func:`noise_distribution`; negative : int >= 1.
    C : int >= 1, context words on each side; shrink_window : bool, draw ``b`` in
        ``[0, C)`` per example and use ``C - b``.
    relu : bool, hidden = ReLU(mean + hidden_bias) instead of the mean.
    learn : bool, False only scores (held-out loss) and writes nothing.
    begin, end : int, the centre positions trained; contexts may lie outside, in the same
        sentence.
    schedule_begin, schedule_end, alpha_start, alpha_end : the learning rate is
        ``alpha_start + (alpha_end - alpha_start) * (p - schedule_begin) / (schedule_end -
        schedule_begin)`` at centre position ``p``.
    max_sentence_length : int, longest sentence piece (see the module docstring).
    rng_state : uint64, this worker's generator state.
    identity_rows, row_offsets, rows : which input rows a word reads (see :class:`RowTable`).
        ``identity_rows=True`` (the default): word ``w`` reads row ``w``, and ``input_vectors``
        is ``(V, N)``. False: word ``w`` reads ``rows[row_offsets[w]:row_offsets[w + 1]]``
        (``row_offsets`` (V + 1,) int64, ``rows`` (R,) int32, all ``< len(input_vectors)``);
        the hidden layer is the mean of all those rows, and each of them gets the whole hidden
        error (fastText's CBOW). Pass them as :func:`train_range` does, from a ``RowTable``.
    skip_saturated : bool, do not update an output row whose score is at or beyond
        +-:data:`SATURATED` (gensim's rule); False steps every row (the exact gradient).
    fast_dot : bool, score with the reassociated dot product (``train.fast_dot``).
    sigmoid_table, alpha_every : ablation switches (see :func:`train_range`); None and 1: the
        exact sigmoid and a rate for every position.
    stop_flag : (1,) int32 array or None. Read at each sentence piece and every
        :data:`STOP_CHECK_EVERY` centres (a signal handler or another thread sets it): when it
        is not 0 the call returns early, having trained ``[begin, begin + words)`` only; a call
        over ``[begin + words, end)`` with the returned state and the same schedule continues
        exactly where it stopped.
    noise_guide : :func:`make_noise_guide` of ``noise_cumulative`` (``NegativeSampling`` keeps one),
        or None to build it for this call (2**16 steps).

    Returns
    -------
    (rng_state, words, effective_words, examples, loss): the state after the range (pass it to
    the next call to continue the same stream); raw words in the range (trained, when stopped
    early); the centre words kept by
    subsampling (gensim's "effective words"); the examples trained (kept centres with at least
    one kept context word); the summed loss ``-log sigmoid(score of the centre) - sum over the
    noise words of log sigmoid(-score)``, in nats, each row scored just before its own step (a
    noise word drawn twice in one example is scored the second time after its first step).
    """
    no_codes = np.zeros((1, 0), np.uint8)
    no_points = np.zeros((1, 0), np.int32)
    no_lengths = np.zeros(1, np.int32)
    identity, offsets, table_rows, table, flag = _given_switches(identity_rows, row_offsets, rows,
                                                                 sigmoid_table, stop_flag)
    if noise_guide is None:
        guide = make_noise_guide(noise_cumulative)
    else:
        guide = noise_guide
    return _cbow_range(input_vectors, output_vectors, hidden_bias, tokens, sentence_starts,
                       keep_probabilities, key, False, no_codes, no_points, no_lengths,
                       noise_cumulative, guide, negative, C, shrink_window, relu, learn,
                       begin, end, schedule_begin, schedule_end, alpha_start, alpha_end,
                       max_sentence_length, rng_state, identity, offsets, table_rows,
                       skip_saturated, fast_dot, table, alpha_every, flag)


@njit(**_KERNEL_OPTIONS)
def cbow_hierarchical_softmax(input_vectors, output_vectors, hidden_bias, tokens, sentence_starts,
                              keep_probabilities, key, codes, points, code_lengths, C,
                              shrink_window, relu, learn, begin, end, schedule_begin, schedule_end,
                              alpha_start, alpha_end, max_sentence_length, rng_state,
                              identity_rows=True, row_offsets=None, rows=None,
                              skip_saturated=False, fast_dot=False, sigmoid_table=None,
                              alpha_every=1, stop_flag=None):
    """CBOW with hierarchical softmax over the centre positions ``[begin, end)`` of ``tokens``.

    As :func:`cbow_negative_sampling`, except: ``output_vectors`` is ``(V - 1, N)``, one row per
    inner node of the Huffman tree ``codes``/``points``/``code_lengths`` (:func:`huffman_tree`),
    and the loss is the exact negative log-likelihood of the centre word,
    ``-sum over its path of log sigmoid(+-score)``, in nats. The generator is used only to
    shrink windows.
    """
    no_noise = np.zeros(1, np.uint32)
    no_guide = np.zeros(2, np.int32)
    identity, offsets, table_rows, table, flag = _given_switches(identity_rows, row_offsets, rows,
                                                                 sigmoid_table, stop_flag)
    return _cbow_range(input_vectors, output_vectors, hidden_bias, tokens, sentence_starts,
                       keep_probabilities, key, True, codes, points, code_lengths,
                       no_noise, no_guide, 0, C, shrink_window, relu, learn,
                       begin, end, schedule_begin, schedule_end, alpha_start, alpha_end,
                       max_sentence_length, rng_state, identity, offsets, table_rows,
                       skip_saturated, fast_dot, table, alpha_every, flag)


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------

class TrainResult(NamedTuple):
    """What :func:`train_range` did: sums over its workers, and their generator states."""

    words: int            # raw words (centre positions) in the range
    effective_words: int  # centre words kept by subsampling (gensim's "effective words")
    examples: int         # SGD steps: kept centres with at least one kept context word
    loss: float           # summed loss of those examples, nats
    rng_states: np.ndarray  # (workers,) uint64, each worker's state after its piece
    # the (begin, end) parts of the range left untrained because the stop flag was set
    remaining: tuple[tuple[int, int], ...] = ()


class HeldOutLoss(NamedTuple):
    mean: float     # loss per example, nats
    total: float    # summed over the examples
    examples: int   # centre positions with at least one context word
    stopped: bool = False  # the stop flag was set: only part of the stream was scored


def _prepare_stream(tokens, sentence_starts, vocab_size, begin, end, max_sentence_length):
    """The arrays as the kernels take them, after the checks that cost O(what is read)."""
    tokens = np.asarray(tokens)  # a np.memmap becomes a plain view: no copy
    if tokens.dtype != np.uint32 or tokens.ndim != 1 or not tokens.flags.c_contiguous:
        raise TypeError("tokens must be a contiguous 1-D uint32 array (np.asarray(ids, np.uint32)); "
                        f"got {tokens.ndim}-D {tokens.dtype}")
    starts = np.ascontiguousarray(sentence_starts, dtype=np.int64)
    if starts.ndim != 1 or starts.size == 0 or starts[0] != 0 or starts[-1] > tokens.size:
        raise ValueError("sentence_starts must be a 1-D array of offsets starting with 0 and "
                         f"no larger than len(tokens) = {tokens.size}")
    if not 0 <= begin <= end <= tokens.size:
        raise ValueError(f"range [{begin}, {end}) is not inside the {tokens.size} tokens")
    if max_sentence_length < 1:
        raise ValueError(f"max_sentence_length must be >= 1; got {max_sentence_length}")
    # Windows read at most one sentence piece beyond the range on either side.
    read_from, read_to = max(0, begin - max_sentence_length), min(tokens.size, end + max_sentence_length)
    if read_to > read_from and int(tokens[read_from:read_to].max()) >= vocab_size:
        raise ValueError(f"token id {int(tokens[read_from:read_to].max())} is out of range "
                         f"for {vocab_size} words")
    return tokens, starts


def _check_parameters(objective, input_vectors, output_vectors, hidden_bias, row_table=None):
    V, N = objective.vocab_size, np.shape(input_vectors)[-1]
    input_rows = V
    if row_table is not None:
        if not isinstance(row_table, RowTable):
            raise TypeError(f"row_table must be a RowTable; got {type(row_table).__name__}")
        if row_table.vocab_size != V:
            raise ValueError(f"the row table has {row_table.vocab_size} words, the objective {V}")
        input_rows = np.shape(input_vectors)[0]  # V + fastText's buckets, say: any number
        if input_rows < row_table.input_rows:
            raise ValueError(f"input_vectors has {input_rows} rows; the row table reads rows up "
                             f"to {row_table.input_rows - 1}")
    expected = {"input_vectors": (input_vectors, (input_rows, N)),
                "output_vectors": (output_vectors, (objective.output_rows, N)),
                "hidden_bias": (hidden_bias, (N,))}
    for name, (array, shape) in expected.items():
        if not (isinstance(array, np.ndarray) and array.dtype == np.float32
                and array.flags.c_contiguous and array.flags.writeable and array.shape == shape):
            got = f"{array.shape} {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
            raise TypeError(f"{name} must be a writeable C-ordered float32 array of shape {shape}; got {got}")


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


_NO_ROW_OFFSETS = np.zeros(1, np.int64)  # the identity's placeholders: never read
_NO_ROWS = np.zeros(0, np.int32)
_NO_STOP = np.zeros(1, np.int32)  # a flag nobody sets: never written


def _check_stop_flag(stop_flag) -> np.ndarray:
    if stop_flag is None:
        return _NO_STOP
    if not (isinstance(stop_flag, np.ndarray) and stop_flag.shape == (1,)
            and stop_flag.dtype == np.int32 and stop_flag.flags.c_contiguous):
        raise TypeError("stop_flag must be a (1,) int32 array (np.zeros(1, np.int32)); got "
                        f"{getattr(stop_flag, 'shape', type(stop_flag).__name__)}")
    return stop_flag


class StepRules(NamedTuple):
    """How the kernels step, besides the model: gensim's rules and the fast dot product.

    ``skip_saturated``: an output row scored at or beyond +-:data:`SATURATED` takes no step
    (gensim, word2vec's hierarchical softmax); False: every row takes its exact gradient step.
    ``fast_dot``: the dot product may be reassociated (``train.fast_dot``; bits depend on the
    processor's vector width). Two switches exist for the ablations of
    ``benchmarks/ablate_word2vec.py`` only: ``sigmoid_table``, gensim's 1,000-entry sigmoid
    table inside +-6 instead of the exact function, and ``alpha_every``, the rate held for
    blocks of that many positions (gensim sets it per job of 10,000 words) instead of set for
    each one.
    """

    skip_saturated: bool = False
    fast_dot: bool = False
    sigmoid_table: bool = False
    alpha_every: int = 1


def _run_kernel(objective, input_vectors, output_vectors, hidden_bias, tokens, starts, keep, key,
                C, shrink_window, relu, learn, begin, end, schedule, alphas,
                max_sentence_length, rng_state, row_table=None, rules: StepRules = StepRules(),
                stop_flag=None):
    """One kernel call with every argument cast to the one type it is compiled for.

    numba compiles a function once per combination of argument types, and a read-only array (a
    ``np.memmap`` opened with mode "r") is another type than a writeable one: the caller's arrays
    that the kernels only read are therefore always passed as read-only views. The objectives'
    tables are the objects' own writeable copies, the type of the placeholders the two kernels
    pass for the other objective's tables, so both kernels share one compiled core; so do the
    row table's arrays and the placeholders passed for the identity (``row_table=None``).
    """
    tokens, starts, keep = _read_only(tokens), _read_only(starts), _read_only(keep)
    identity = row_table is None
    common = dict(C=int(C), shrink_window=bool(shrink_window), relu=bool(relu),
                  learn=bool(learn), begin=int(begin), end=int(end),
                  schedule_begin=int(schedule[0]), schedule_end=int(schedule[1]),
                  alpha_start=float(alphas[0]), alpha_end=float(alphas[1]),
                  max_sentence_length=int(max_sentence_length), rng_state=np.uint64(rng_state),
                  identity_rows=identity,
                  row_offsets=_NO_ROW_OFFSETS if identity else row_table.offsets,
                  rows=_NO_ROWS if identity else row_table.rows,
                  skip_saturated=bool(rules.skip_saturated), fast_dot=bool(rules.fast_dot),
                  sigmoid_table=GENSIM_SIGMOID_TABLE if rules.sigmoid_table else _NO_SIGMOID_TABLE,
                  alpha_every=int(rules.alpha_every),
                  stop_flag=_NO_STOP if stop_flag is None else stop_flag)
    if isinstance(objective, NegativeSampling):
        return cbow_negative_sampling(input_vectors, output_vectors, hidden_bias, tokens, starts,
                                      keep, np.uint64(key), objective.noise_cumulative,
                                      int(objective.negative), noise_guide=objective.noise_guide,
                                      **common)
    return cbow_hierarchical_softmax(input_vectors, output_vectors, hidden_bias, tokens, starts,
                                     keep, np.uint64(key), objective.codes, objective.points,
                                     objective.code_lengths, **common)


def _executor(workers, executor: Executor | None) -> Executor:
    """The executor given, or the process's threads for ``workers`` (the default executor)."""
    if not (isinstance(workers, (int, np.integer)) and workers >= 1):
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    if executor is None:
        return executors.threads(int(workers))
    if workers not in (1, executor.workers):
        raise ValueError(f"workers={workers} and an executor of {executor.workers} workers: "
                         "pass one of them")
    return executor


class Piece(NamedTuple):
    """What one task trains: centre positions ``[begin, end)``, the learning rate linear from
    ``alpha_start`` at ``schedule_begin`` to ``alpha_end`` at ``schedule_end``."""

    begin: int
    end: int
    schedule_begin: int
    schedule_end: int
    alpha_start: float
    alpha_end: float


class PieceResult(NamedTuple):
    """What one task did (see :class:`TrainResult`)."""

    words: int
    effective_words: int
    examples: int
    loss: float


@dataclass(frozen=True, eq=False)
class KernelSettings:
    """Everything a task reads besides the arrays it updates, its piece and its generator:
    the same for every task of a step. Arrays are read only; ``key`` is the step's
    :func:`subsample_key`; ``learn=False`` only scores (held-out loss)."""

    objective: Objective
    tokens: np.ndarray
    sentence_starts: np.ndarray
    keep: np.ndarray
    key: int
    C: int
    shrink_window: bool
    relu: bool
    learn: bool
    max_sentence_length: int
    row_table: RowTable | None = None
    rules: StepRules = StepRules()
    stop_flag: np.ndarray | None = None  # (1,) int32: the kernels return early when it is not 0


def train_piece(arrays: tuple[np.ndarray, np.ndarray, np.ndarray], piece: Piece, rng_state,
                settings: KernelSettings) -> tuple[PieceResult, np.uint64]:
    """One task of the executor seam (:mod:`cbow.executor`): train ``piece`` on ``arrays`` =
    ``(input_vectors, output_vectors, hidden_bias)``, updated in place, from ``rng_state``.

    Returns ``(PieceResult, rng_state after the piece)``. Bind ``settings`` with
    :func:`functools.partial` to get the ``task(arrays, piece, rng_state)`` an executor runs.
    The arguments are those :func:`train_range` has checked.
    """
    s = settings
    input_vectors, output_vectors, hidden_bias = arrays
    state, words, effective_words, examples, loss = _run_kernel(
        s.objective, input_vectors, output_vectors, hidden_bias, s.tokens, s.sentence_starts,
        s.keep, s.key, s.C, s.shrink_window, s.relu, s.learn, piece.begin, piece.end,
        (piece.schedule_begin, piece.schedule_end), (piece.alpha_start, piece.alpha_end),
        s.max_sentence_length, rng_state, s.row_table, s.rules, s.stop_flag)
    return PieceResult(words, effective_words, examples, loss), np.uint64(state)


def train_range(objective: Objective, input_vectors: np.ndarray, output_vectors: np.ndarray,
                tokens: np.ndarray, sentence_starts: np.ndarray, begin: int, end: int, *,
                alpha_start: float, alpha_end: float, C: int = 5,
                keep: np.ndarray | None = None, shrink_window: bool = True, relu: bool = False,
                hidden_bias: np.ndarray | None = None, workers: int = 1, seed: int = 1,
                epoch: int = 0, rng_states: np.ndarray | None = None,
                schedule: tuple[int, int] | None = None,
                max_sentence_length: int = MAX_SENTENCE_LENGTH,
                row_table: RowTable | None = None,
                executor: Executor | None = None,
                rules: StepRules = StepRules(),
                stop_flag: np.ndarray | None = None) -> TrainResult:
    """Train CBOW on the centre positions ``[begin, end)`` with ``workers`` threads.

    The executor (:mod:`cbow.executor`; by default the process's :func:`cbow.executor.threads`
    of ``workers``) cuts the range into pieces, by default ``workers`` contiguous ones, one per
    thread, each with its own generator state and scratch buffers, all updating
    ``input_vectors``, ``output_vectors`` (and ``hidden_bias``) in place without locks.
    ``workers=1`` runs in the calling thread and is bit-deterministic.

    Parameters
    ----------
    objective : NegativeSampling or HierarchicalSoftmax
    input_vectors : (V, N) float32, or (R, N) with a ``row_table`` (R >= its ``input_rows``);
        output_vectors : (objective.output_rows, N) float32
    tokens : (T,) uint32; sentence_starts : (S,) int64 (see the module docstring)
    begin, end : the centre positions to train.
    alpha_start, alpha_end : the learning rate at ``schedule[0]`` and ``schedule[1]``, linear in
        between. ``schedule`` defaults to ``(begin, end)``; pass the original range's to resume
        it part-way (``workers=1``) with the same rates. With several workers each one decays
        from the rate at ``begin`` to the rate at ``end`` across its own piece, so that all of
        them use about the same rate at the same time, as word2vec's threads do. When the
        executor cuts more pieces than workers, a piece of round ``r`` of ``R``
        (:func:`cbow.executor.rounds`) decays across it from the rate at ``r / R`` of the range
        to the rate at ``(r + 1) / R``: the rate at the time it runs.
    C : context words on each side (``model.C``; word2vec calls it ``window``).
    keep : (V,) float64 from :func:`keep_probabilities`; None keeps every word (``sample=0``).
    shrink_window : draw the window of each example in ``[1, C]``, as word2vec.
    relu : hidden = ReLU(mean + hidden_bias), with ``hidden_bias`` (N,) float32 trained too.
    seed, epoch : derive the subsampling key and, unless ``rng_states`` is given, each worker's
        generator state. Pass a new ``epoch`` each pass over the corpus.
    rng_states : (workers,) uint64, e.g. a returned ``TrainResult.rng_states``, to continue.
    row_table : which input rows each word reads (:class:`RowTable`); None: row ``w`` for word
        ``w`` (word2vec).
    executor : where the pieces run (:class:`cbow.executor.Executor`); it replaces ``workers``
        (``workers`` must then be 1 or ``executor.workers``).
    rules : :class:`StepRules` (skipping saturated rows, the fast dot product, the ablations'
        switches); the default is the exact step of every row.
    stop_flag : (1,) int32 array that a signal handler (or another thread) sets to stop early;
        every piece then returns at the next check (every :data:`STOP_CHECK_EVERY` centres),
        and ``remaining`` lists the parts of the range not trained. With one worker it is
        ``((reached, end),)``: ``train_range`` over it with the returned ``rng_states`` and
        ``schedule`` set to this call's ``(begin, end)`` (or its own ``schedule``) continues bit
        for bit as if nothing had stopped.

    Returns
    -------
    TrainResult(words, effective_words, examples, loss, rng_states, remaining): ``words`` counts
    the positions trained; ``remaining`` is empty unless the stop flag was set.
    """
    executor = _executor(workers, executor)
    workers = executor.workers
    stop_flag = _check_stop_flag(stop_flag)
    if not (isinstance(C, (int, np.integer)) and C >= 1):
        raise ValueError(f"C must be an integer >= 1; got {C!r}")
    V = objective.vocab_size
    if hidden_bias is None:
        if relu:
            raise ValueError("relu=True trains a hidden bias: pass hidden_bias, (N,) float32")
        hidden_bias = np.zeros(np.shape(input_vectors)[-1], np.float32)
    _check_parameters(objective, input_vectors, output_vectors, hidden_bias, row_table)
    tokens, starts = _prepare_stream(tokens, sentence_starts, V, begin, end, max_sentence_length)
    keep = np.ones(V) if keep is None else np.ascontiguousarray(keep, dtype=np.float64)
    if keep.shape != (V,):
        raise ValueError(f"keep must have shape ({V},); got {keep.shape}")
    if rng_states is None:
        rng_states = worker_rng_states(seed, workers, epoch)
    rng_states = np.asarray(rng_states, dtype=np.uint64)
    if rng_states.shape != (workers,):
        raise ValueError(f"rng_states must hold one state per worker, ({workers},); got {rng_states.shape}")

    if schedule is None:
        schedule = (begin, end)
    cut = executor.cut(begin, end)
    if len(cut) == 1:
        pieces = [Piece(begin, end, schedule[0], schedule[1], alpha_start, alpha_end)]
    else:  # the rate follows the time at which a piece runs: its round (cbow.executor.rounds)
        slope = (alpha_end - alpha_start) / max(1, schedule[1] - schedule[0])
        n_rounds = executors.rounds(len(cut), workers)
        pieces = []
        for k, (piece_begin, piece_end) in enumerate(cut):
            round_ = k // workers
            started = begin + (end - begin) * round_ // n_rounds
            finished = begin + (end - begin) * (round_ + 1) // n_rounds
            pieces.append(Piece(piece_begin, piece_end, piece_begin, piece_end,
                                alpha_start + slope * (started - schedule[0]),
                                alpha_start + slope * (finished - schedule[0])))
    settings = KernelSettings(objective, tokens, starts, keep, subsample_key(seed, epoch), C,
                              shrink_window, relu, True, max_sentence_length, row_table, rules,
                              stop_flag)
    if not (isinstance(rules.alpha_every, (int, np.integer)) and rules.alpha_every >= 1):
        raise ValueError(f"rules.alpha_every must be an integer >= 1; got {rules.alpha_every!r}")
    results, states = executor.run(partial(train_piece, settings=settings),
                                   (input_vectors, output_vectors, hidden_bias), pieces, rng_states)
    return TrainResult(words=sum(r.words for r in results),
                       effective_words=sum(r.effective_words for r in results),
                       examples=sum(r.examples for r in results),
                       loss=sum(r.loss for r in results), rng_states=states,
                       remaining=_untrained(pieces, results))


def _untrained(pieces, results) -> tuple[tuple[int, int], ...]:
    """The parts of the pieces their tasks did not reach (a stopped piece trained
    ``[begin, begin + words)``)."""
    return tuple((p.begin + r.words, p.end) for p, r in zip(pieces, results)
                 if p.begin + r.words < p.end)


def _held_out_loss(objective, input_vectors, output_vectors, tokens, sentence_starts, C,
                   seed, relu, hidden_bias, workers, max_sentence_length, row_table,
                   executor, stop_flag) -> HeldOutLoss:
    executor = _executor(workers, executor)
    stop_flag = _check_stop_flag(stop_flag)
    if hidden_bias is None:
        hidden_bias = np.zeros(np.shape(input_vectors)[-1], np.float32)
    _check_parameters(objective, input_vectors, output_vectors, hidden_bias, row_table)
    tokens = np.asarray(tokens)
    tokens, starts = _prepare_stream(tokens, sentence_starts, objective.vocab_size, 0, tokens.size,
                                     max_sentence_length)
    settings = KernelSettings(objective, tokens, starts, np.ones(objective.vocab_size), 0, C,
                              False, relu, False, max_sentence_length, row_table,
                              stop_flag=stop_flag)
    # Nothing is written, so the pieces are independent and the result is deterministic;
    # piece i draws its noise words from a state fixed by (seed, i).
    pieces = [Piece(b, e, b, e, 0.0, 0.0) for b, e in executors.split(0, tokens.size, executor.workers)]
    results, _ = executor.run(partial(train_piece, settings=settings),
                              (input_vectors, output_vectors, hidden_bias), pieces,
                              worker_rng_states(seed, executor.workers))
    total, examples = sum(r.loss for r in results), sum(r.examples for r in results)
    return HeldOutLoss(total / examples if examples else float("nan"), total, examples,
                       stopped=bool(_untrained(pieces, results)))


def negative_sampling_loss(objective: NegativeSampling, input_vectors, output_vectors, tokens,
                           sentence_starts, *, C: int = 5, seed: int = 0, relu: bool = False,
                           hidden_bias=None, workers: int = 1,
                           max_sentence_length: int = MAX_SENTENCE_LENGTH,
                           row_table: RowTable | None = None,
                           executor: Executor | None = None,
                           stop_flag: np.ndarray | None = None) -> HeldOutLoss:
    """Negative-sampling loss over every position of a held-out stream, nothing written.

    Every position is a centre (no subsampling) with all ``C`` context words on each side (no
    shrinking); the loss of one is ``-log sigmoid(h . out[centre]) - sum_k log
    sigmoid(-h . out[noise_k])``. The noise words come from generators fixed by ``seed`` (and
    ``workers``, or the ``executor``'s, which splits the stream into one piece per worker), so
    the same arguments draw the same noise words at every evaluation and the curve is smooth.
    ``row_table``, ``stop_flag``: as for :func:`train_range` (stopped early, ``stopped`` is True
    and the mean covers part of the stream only). Memory: O(max_sentence_length + N) per worker.

    Returns HeldOutLoss(mean, total, examples, stopped), in nats.
    """
    if not isinstance(objective, NegativeSampling):
        raise TypeError("negative_sampling_loss needs a NegativeSampling objective")
    return _held_out_loss(objective, input_vectors, output_vectors, tokens, sentence_starts,
                          C, seed, relu, hidden_bias, workers, max_sentence_length,
                          row_table, executor, stop_flag)


def hierarchical_softmax_loss(objective: HierarchicalSoftmax, input_vectors, output_vectors,
                              tokens, sentence_starts, *, C: int = 5, relu: bool = False,
                              hidden_bias=None, workers: int = 1,
                              max_sentence_length: int = MAX_SENTENCE_LENGTH,
                              row_table: RowTable | None = None,
                              executor: Executor | None = None,
                              stop_flag: np.ndarray | None = None) -> HeldOutLoss:
    """Exact negative log-likelihood of every held-out centre word under hierarchical softmax.

    ``-log P(centre | context) = -sum over the centre's Huffman path of log sigmoid(+-score)``,
    in nats, with no subsampling, no window shrinking and nothing written. It is a proper
    probability over the vocabulary, so it compares with a full softmax's cross-entropy.

    ``workers``/``executor``, ``row_table``, ``stop_flag``: as for
    :func:`negative_sampling_loss`.

    Returns HeldOutLoss(mean, total, examples, stopped).
    """
    if not isinstance(objective, HierarchicalSoftmax):
        raise TypeError("hierarchical_softmax_loss needs a HierarchicalSoftmax objective")
    return _held_out_loss(objective, input_vectors, output_vectors, tokens, sentence_starts,
                          C, 0, relu, hidden_bias, workers, max_sentence_length,
                          row_table, executor, stop_flag)
