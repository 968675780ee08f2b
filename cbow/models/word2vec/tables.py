"""The tables the kernels read, built once from the vocabulary: numpy only.

- :func:`noise_distribution` and :class:`NegativeSampling`: negative sampling's noise words,
  drawn from a cumulative table of the unigram distribution raised to 0.75.
- :func:`huffman_tree` and :class:`HierarchicalSoftmax`: hierarchical softmax's binary tree.
- :func:`keep_probabilities`: subsampling of frequent words.
- :class:`RowTable`: which input rows each word reads (fastText's n-gram buckets).

Noise words are drawn by binary search in a cumulative ``uint32`` table (4 bytes per word, where
word2vec's unigram table takes 1e8 entries), as gensim does. A guide of ``2**16 + 1`` entries
(:func:`make_noise_guide`) names, for the draw's top 16 bits, the few words the search must
still look at, so a draw reads a few neighbouring entries instead of ~log2(V) scattered ones,
and picks the word a search of the whole table would pick.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NOISE_DOMAIN = 2**32 - 1
"""The cumulative noise table's last entry: word ``i`` is drawn for integers in
``[cumulative[i - 1], cumulative[i])`` of ``[0, NOISE_DOMAIN)``."""

NOISE_GUIDE_BITS = 16
"""The guide of a noise table has ``2**16 + 1`` entries (256 KiB)."""


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


def make_noise_guide(noise_cumulative, bits: int = NOISE_GUIDE_BITS) -> np.ndarray:
    """Where the noise draw's search starts: ``(2**bits + 1,)`` int32.

    The draw's uniform integer ``u`` (32 bits) picks the word for ``r = u * total >> 32``
    (``total``, the table's last entry); ``u``'s top ``bits`` bits, ``j``, confine ``r`` to
    ``[r_j, r_(j+1))`` with ``r_j = (j << (32 - bits)) * total >> 32``. Entry ``j`` is the word
    ``r_j`` picks (the first whose cumulative entry exceeds it), and the last entry the word
    ``total - 1`` picks: the word for ``u`` lies between entries ``j`` and ``j + 1``, both
    included, because the pick only grows with ``r``. Most of the noise mass is in frequent
    words, whose guide entries span one word.
    """
    cumulative = np.asarray(noise_cumulative).astype(np.uint64)
    total = cumulative[-1]
    if total == 0:  # no word could be drawn, and a search would run past the table's end
        raise ValueError("noise_cumulative ends at 0: no word can be drawn")
    starts = np.arange(1 << bits, dtype=np.uint64) << np.uint64(32 - bits)
    r = np.append(starts * total >> np.uint64(32), total - np.uint64(1))
    # the first entry above r, scanning forward from the previous pick: for a table that is
    # not sorted as well, the same as a search of its running maximum
    return np.searchsorted(np.maximum.accumulate(cumulative), r, side="right").astype(np.int32)


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
    step up the tree per level (in Python: it runs once per vocabulary, and compiling it would
    take longer than running it).

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
    depth = _leaf_depths(parent, n_words)
    codes, points = _leaf_paths(parent, branch, depth, n_words)
    out_codes, out_points, out_lengths = (np.empty_like(codes), np.empty_like(points),
                                          np.empty_like(depth))
    out_codes[order], out_points[order], out_lengths[order] = codes, points, depth
    return out_codes, out_points, out_lengths


def _leaf_depths(parent: np.ndarray, n_words: int) -> np.ndarray:
    """``(V,)`` int32: how many steps each leaf of the merge is below the root (all leaves
    walked up at once)."""
    root = 2 * n_words - 2
    depth = np.zeros(n_words, np.int32)
    node = np.arange(n_words)
    while True:
        below_root = node != root
        if not below_root.any():
            return depth
        depth += below_root
        node = np.where(below_root, parent[node], node)


def _leaf_paths(parent: np.ndarray, branch: np.ndarray, depth: np.ndarray,
                n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """The codes and inner nodes of each leaf's path, root first, filled from the leaves'
    ends (a leaf at depth n fills positions n-1, n-2, ..., 0)."""
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
    return codes, points


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


# Each table class keeps its own writeable copies of its arrays, of one dtype each: numba
# compiles a kernel once per combination of argument types, and a read-only or differently typed
# array would be another type (see cbow.models.word2vec.driver).

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
        object.__setattr__(self, "offsets", np.array(offsets, np.int64, order="C"))
        object.__setattr__(self, "rows", np.array(rows, np.int32, order="C"))
        object.__setattr__(self, "input_rows", int(self.rows.max()) + 1 if self.rows.size else 0)
        object.__setattr__(self, "most_rows", int(np.diff(self.offsets).max()))

    input_rows: int = field(init=False)
    """The fewest input rows the table needs: ``max(rows) + 1``."""
    most_rows: int = field(init=False)
    """The most rows one word reads (the kernels' buffer for a window's rows holds ``2 C`` times
    as many)."""

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
