"""The records a kernel takes: plain ``NamedTuple``\\ s of arrays and scalars, which numba
compiles as structs, and what makes them from the vocabulary's tables. numpy only.

Each record is built for one kernel call by :func:`cbow.models.word2vec.driver.train_piece`
from arrays of one dtype and writeability each, and scalars of one type each, so that one
compiled kernel serves every call. :func:`objective_tables` and :func:`rows_of` are the
tables of :mod:`cbow.models.word2vec.tables` as the kernel reads them: an absent table is
``None``, which numba compiles away.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cbow.models.word2vec.tables import NegativeSampling, Objective, RowTable


class Weights(NamedTuple):
    """What training updates in place: float32, C order."""

    input_vectors: np.ndarray   # (V, N), or (R, N) read through a row table
    output_vectors: np.ndarray  # (V, N) negative sampling; (V - 1, N) hierarchical softmax
    hidden_bias: np.ndarray     # (N,): read and trained with relu only


class Text(NamedTuple):
    """The token stream a piece lies in, how it is cut into sentences, which words are kept."""

    tokens: np.ndarray              # (T,) uint32 word ids
    sentence_starts: np.ndarray     # (S,) int64, from 0, non-decreasing
    max_sentence_length: int        # longer sentences are cut into pieces of this length
    keep_probabilities: np.ndarray  # (V,) float64 (tables.keep_probabilities)
    subsample_key: np.uint64        # this epoch's (rng.subsample_key)


class NoiseTables(NamedTuple):
    """Negative sampling's tables (:class:`~cbow.models.word2vec.tables.NegativeSampling`)."""

    cumulative: np.ndarray  # (V,) uint32
    guide: np.ndarray       # (2**bits + 1,) int32
    guide_shift: np.uint64  # 32 - bits
    negative: int           # noise words per example


class HuffmanTree(NamedTuple):
    """Hierarchical softmax's tree (:func:`~cbow.models.word2vec.tables.huffman_tree`)."""

    codes: np.ndarray         # (V, L) uint8
    points: np.ndarray        # (V, L) int32
    code_lengths: np.ndarray  # (V,) int32


class Rows(NamedTuple):
    """A :class:`~cbow.models.word2vec.tables.RowTable`'s arrays: word ``w`` reads input rows
    ``rows[offsets[w]:offsets[w + 1]]``."""

    offsets: np.ndarray  # (V + 1,) int64
    rows: np.ndarray     # (R,) int32
    most_rows: int       # the most rows one word reads


class Steps(NamedTuple):
    """How each example is trained (the settings read at run time)."""

    C: int                # context words on each side
    shrink_window: bool   # draw the span of each window in [1, C]
    relu: bool            # hidden = ReLU(mean + hidden_bias)
    learn: bool           # False: score only, write nothing (held-out loss)
    skip_saturated: bool  # gensim's rule: no step for a row scored at or beyond +-SATURATED


class Piece(NamedTuple):
    """The centre positions ``[begin, end)`` one task trains, the learning rate linear from
    ``alpha_start`` at ``schedule_begin`` to ``alpha_end`` at ``schedule_end``."""

    begin: int
    end: int
    schedule_begin: int
    schedule_end: int
    alpha_start: float
    alpha_end: float


class Scratch(NamedTuple):
    """A kernel call's buffers (:meth:`allocate`), its own: a call that runs beside it (another
    thread) has others."""

    hidden: np.ndarray          # (N,) float32: word2vec's neu1
    hidden_error: np.ndarray    # (N,) float32: word2vec's neu1e
    kept_words: np.ndarray      # (max_sentence_length,) int64: one sentence piece's kept words
    kept_positions: np.ndarray  # (max_sentence_length,) int64: and their positions
    context_rows: np.ndarray    # (2 C most_rows,) int64: a window's input rows (a row table)

    @classmethod
    def allocate(cls, dim: int, max_sentence_length: int, context_rows: int) -> "Scratch":
        """Buffers for ``dim`` dimensions; the two read with every output row start on a cache
        line (numpy's own start on 16 bytes, and a vector load across two lines is slower)."""
        return cls(_on_cache_line(dim, np.float32), _on_cache_line(dim, np.float32),
                   np.empty(max_sentence_length, np.int64),
                   np.empty(max_sentence_length, np.int64), np.empty(context_rows, np.int64))


_CACHE_LINE = 64  # bytes


def _on_cache_line(size: int, dtype) -> np.ndarray:
    """An uninitialised ``(size,)`` array whose first element starts a cache line."""
    nbytes = size * np.dtype(dtype).itemsize
    memory = np.empty(nbytes + _CACHE_LINE, np.uint8)
    skip = -memory.ctypes.data % _CACHE_LINE
    return memory[skip:skip + nbytes].view(dtype)


def objective_tables(objective: Objective) -> tuple[NoiseTables | None, HuffmanTree | None]:
    """``(noise, tree)``: the objective's tables as the kernel takes them, the other None."""
    if isinstance(objective, NegativeSampling):
        guide = objective.noise_guide
        bits = (guide.shape[0] - 1).bit_length() - 1  # the guide has 2**bits + 1 entries
        return NoiseTables(objective.noise_cumulative, guide, np.uint64(32 - bits),
                           int(objective.negative)), None
    return None, HuffmanTree(objective.codes, objective.points, objective.code_lengths)


def rows_of(row_table: RowTable | None) -> Rows | None:
    """A row table as the kernel takes it; None (one row per word) stays None."""
    if row_table is None:
        return None
    return Rows(row_table.offsets, row_table.rows, int(row_table.most_rows))
