"""Context windows and the two batchers that feed them to training.

A window is one training example: the ``2C`` context ids around a center position and the center id.
Batches are index arrays, ``context_ids`` of shape ``(B, 2C)`` and ``center_ids`` of shape ``(B,)``;
the dense ``(V, B)`` matrices of the course are built only in :mod:`cbow.course`.

For corpora of any size (the memory-mapped ids of :mod:`cbow.data.prepare`), :class:`Windows`
gathers the same windows by position instead of materialising them, never across a sentence
boundary, and :class:`WindowBatcher` / :class:`WindowCourseBatcher` serve them as the two
batchers do.
"""
from __future__ import annotations

import sys
from typing import Iterator

import numpy as np

from cbow.errors import InputError


Batch = tuple[np.ndarray, np.ndarray]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_batch_size(batch_size: int) -> None:
    if not _is_int(batch_size) or batch_size < 1:
        raise InputError(f"batch_size must be an integer >= 1; got {batch_size!r}")


def check_window_args(n_tokens: int, C: int) -> None:
    """Raise ``ValueError`` with an actionable message for impossible window settings."""
    if not _is_int(C) or C < 1:
        raise InputError(f"C (the context half-size) must be an integer >= 1; got {C!r}")
    if n_tokens == 0:
        raise InputError("the corpus has no tokens: there is nothing to train on")
    if n_tokens < 2 * C + 1:
        raise InputError(f"the corpus has {n_tokens} tokens, fewer than the 2*C+1 = {2 * C + 1} "
                         f"that one window of C={C} needs; use a longer text or a smaller C")


def make_windows(token_ids: np.ndarray, C: int) -> Batch:
    """All windows of half-size ``C`` over ``token_ids``, in corpus order.

    Parameters
    ----------
    token_ids : ndarray of int, shape (n,)
    C : int
        Context half-size: C words before and C after each center.

    Returns
    -------
    context_ids : ndarray of int64, shape (n - 2C, 2C)
        Row ``k`` holds the ids at positions ``k .. k+C-1`` and ``k+C+1 .. k+2C``.
    center_ids : ndarray of int64, shape (n - 2C,)
        The id at position ``k + C``, for center positions ``C .. n-C-1``.
    """
    token_ids = np.asarray(token_ids, dtype=np.int64)
    check_window_args(token_ids.shape[0], C)
    spans = np.lib.stride_tricks.sliding_window_view(token_ids, 2 * C + 1)
    context_ids = np.ascontiguousarray(np.delete(spans, C, axis=1))
    center_ids = spans[:, C].copy()
    return context_ids, center_ids


# --------------------------------------------------------------------------------------------
# Windows gathered by position: for token ids of any size (a memory-mapped prepared corpus)
# --------------------------------------------------------------------------------------------

#: Epochs of up to this many windows are shuffled with one full permutation (8 bytes per
#: window: 8 MB at the limit), exactly as :class:`EpochBatcher` does; larger ones by blocks,
#: so that training memory beyond the parameters stays near the 4 bytes per token of the ids
#: (a full permutation adds 8 bytes per window, and there is up to one window per token).
FULL_SHUFFLE_MAX = 1 << 20
#: Block shuffle: consecutive windows per block ...
SHUFFLE_BLOCK = 4096
#: ... and blocks, from all over the corpus, mixed together in one permutation.
SHUFFLE_GROUP = 256
#: The batchers gather the windows of this many positions ahead at once (whole batches, at
#: least one): one vectorized read serves the next batches, each then a slice of it, instead
#: of a gather with its small allocations per batch. 8,192 windows of C = 2 are 400 KB of ids.
GATHER_AHEAD = 8192


def batches_ahead(batch_size: int) -> int:
    """How many batches of ``batch_size`` windows a batcher gathers at once."""
    return max(1, GATHER_AHEAD // batch_size)


class Windows:
    """The windows of a token-id array, gathered by position: no ``(n, 2C)`` matrix is built.

    A window is identified by its index ``k`` in ``[0, n_windows)``, in corpus order;
    :meth:`gather` reads the ids around the centres of a batch of indices. The ids may be a
    ``np.memmap`` (only the pages a batch touches are read) and are never copied.

    Parameters
    ----------
    token_ids : ndarray of int, shape (n,)
        E.g. ``PreparedCorpus.ids`` (uint32).
    C : int
        Context half-size.
    sentence_starts : ndarray of int, shape (S,), optional
        Offsets where sentences start (``PreparedCorpus.sentence_starts``). A window never
        crosses a sentence boundary: a centre needs its ``C`` words on each side inside its
        own sentence, so the first and last ``C`` words of a sentence are never centres and
        a sentence shorter than ``2C + 1`` gives no window (word2vec instead shrinks the
        window at the edges; the full-softmax model needs exactly ``2C`` context words).
        None, or ``[0]`` (the ``course`` tokenizer's starts), means one stream: then the
        windows are exactly the rows of ``make_windows(token_ids[start:stop], C)``.
    start, stop : int, optional
        Use only ``token_ids[start:stop]`` (e.g. the training part and the held-out tail of
        one array); sentences are cut at both ends.

    Attributes
    ----------
    n_windows : int

    Notes
    -----
    Memory: 16 bytes per sentence that has a window (its first centre and first window
    index), nothing per token; finding the centre of window ``k`` is a binary search.
    """

    def __init__(self, token_ids: np.ndarray, C: int, sentence_starts: np.ndarray | None = None,
                 start: int = 0, stop: int | None = None):
        n = token_ids.shape[0]
        stop = n if stop is None else int(stop)
        start = int(start)
        if not 0 <= start <= stop <= n:
            raise InputError(f"need 0 <= start <= stop <= {n} tokens; got start={start}, "
                             f"stop={stop}")
        check_window_args(stop - start, C)
        self.token_ids, self.C = token_ids, int(C)
        # context offsets around a centre: -C .. -1, +1 .. +C (make_windows' column order)
        self._offsets = np.concatenate((np.arange(-C, 0), np.arange(1, C + 1)))
        # Segments: pieces of [start, stop) inside one sentence. Each keeps its first centre
        # position and the index of its first window (running total of windows before it).
        if sentence_starts is None:
            bounds = np.array([start, stop], dtype=np.int64)
        else:
            starts = np.asarray(sentence_starts, dtype=np.int64)
            inside = starts[(starts > start) & (starts < stop)]
            bounds = np.concatenate(([start], inside, [stop]))
        lengths = np.diff(bounds) - 2 * self.C
        useful = lengths > 0
        self._first_centre = bounds[:-1][useful] + self.C
        counts = lengths[useful]
        self._first_window = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self.n_windows = int(counts.sum())
        if self.n_windows == 0:
            raise InputError(f"no sentence of tokens {start}..{stop} has the 2*C+1 = "
                             f"{2 * self.C + 1} tokens one window of C={self.C} needs; use "
                             f"longer sentences (lines) or a smaller C")

    def centres(self, windows: np.ndarray) -> np.ndarray:
        """Centre positions (int64) of window indices."""
        windows = np.asarray(windows, dtype=np.int64)
        if self._first_centre.size == 1:
            return windows + self._first_centre[0]
        segment = np.searchsorted(self._first_window, windows, side="right") - 1
        return self._first_centre[segment] + (windows - self._first_window[segment])

    def gather(self, windows: np.ndarray) -> Batch:
        """Context and centre ids of window indices.

        Returns
        -------
        context_ids : ndarray of int64, shape (B, 2C)
            Ids at positions ``p-C .. p-1, p+1 .. p+C`` of each centre ``p``.
        center_ids : ndarray of int64, shape (B,)
        """
        centres = self.centres(windows)
        context = np.array(self.token_ids[centres[:, None] + self._offsets], dtype=np.int64)
        return context, np.array(self.token_ids[centres], dtype=np.int64)


def _block_order(n: int, seed: int, epoch: int, block: int, group: int):
    """The pieces of a block-shuffled epoch order, for epochs too large for one permutation.

    The windows are cut into blocks of ``block`` consecutive windows; the blocks are put in
    a random order (``rng(seed, epoch)``); each run of ``group`` blocks of that order is one
    group, whose windows are served in a random order of their own
    (``rng(seed, epoch, g)``). A batch thus mixes windows from ``group`` places of the corpus,
    and memory is ``n / block`` block numbers plus one group's permutation.

    Returns ``(group_blocks, group_first)``: the blocks of each group, and the epoch offset of
    each group's first window (with the epoch's length appended).
    """
    n_blocks = -(-n // block)
    blocks = np.random.default_rng([seed, epoch]).permutation(n_blocks)
    sizes = np.full(n_blocks, block, dtype=np.int64)
    sizes[-1] = n - block * (n_blocks - 1)
    group_blocks = [blocks[g:g + group] for g in range(0, n_blocks, group)]
    group_first = np.concatenate(([0], np.cumsum([sizes[b].sum() for b in group_blocks])))
    return group_blocks, group_first


class _Batcher:
    """What both batchers share: ``windows`` (with ``n_windows`` and ``gather``), iteration."""

    windows: "Windows"

    @property
    def n_windows(self) -> int:
        return self.windows.n_windows

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next_batch()


class EpochRanges:
    """Consecutive ranges of ``batch_size`` positions out of ``n``, epoch after epoch.

    The one place an epoch rolls over: a range never crosses the end of an epoch (the last
    range of an epoch may be shorter), and the next range starts epoch ``epoch + 1`` at 0.
    ``(epoch, offset)`` is the whole state: the epoch in progress and the positions of it
    already served.
    """

    def __init__(self, n: int, batch_size: int, epoch: int = 0, offset: int = 0):
        check_batch_size(batch_size)
        self.n, self.batch_size = int(n), int(batch_size)
        self.epoch, self.offset = int(epoch), int(offset)

    def next_range(self) -> tuple[int, int]:
        """``(begin, end)`` of the next range, in the (possibly new) epoch ``self.epoch``."""
        if self.offset >= self.n:
            self.epoch, self.offset = self.epoch + 1, 0
        begin, end = self.offset, min(self.offset + self.batch_size, self.n)
        self.offset = end
        return begin, end

    def ranges_per_epoch(self) -> int:
        return -(-self.n // self.batch_size)

    @property
    def epochs_done(self) -> float:
        """Epochs completed, fractional: 1.5 means half-way through the second epoch."""
        return self.epoch + self.offset / self.n


class WindowBatcher(EpochRanges, _Batcher):
    """Every window of :class:`Windows` once per epoch, in a seeded random order or in order.

    The order of epoch ``e`` depends only on ``(seed, e)``, so resuming needs only
    ``(epoch, offset)``: the epoch in progress and how many of its windows were served. The
    last batch of an epoch may be smaller than ``batch_size``; no window is lost. Up to
    ``full_shuffle_max`` windows the order is one full permutation, so on a single stream
    (the ``course`` tokenizer) the batches are bit-identical to those of its subclass
    :class:`EpochBatcher` (the same batcher over the arrays of ``make_windows(ids, C)``) with
    the same seed. Larger epochs are shuffled by blocks (see :func:`_block_order`), which
    needs memory for one group, not for the corpus.

    Parameters
    ----------
    windows : Windows
    batch_size : int
    shuffle : bool, default True
    seed, epoch, offset : int
        The order's seed, and the position to start from.
    full_shuffle_max, block, group : int
        Shuffle settings (:data:`FULL_SHUFFLE_MAX`, :data:`SHUFFLE_BLOCK`,
        :data:`SHUFFLE_GROUP`); they change the order, so a resumed run must use the same.
    """

    def __init__(self, windows: Windows, batch_size: int, shuffle: bool = True, seed: int = 0,
                 epoch: int = 0, offset: int = 0, *, full_shuffle_max: int = FULL_SHUFFLE_MAX,
                 block: int = SHUFFLE_BLOCK, group: int = SHUFFLE_GROUP):
        super().__init__(windows.n_windows, batch_size, epoch, offset)
        self.windows = windows
        self.shuffle, self.seed = bool(shuffle), int(seed)
        self.full_shuffle_max = int(full_shuffle_max)
        self.block, self.group = int(block), int(group)
        self._order_epoch = None  # epoch whose order is cached below
        self._order = None        # that epoch's full permutation, when there is one
        self._group = -1          # index of the cached group (block shuffle)
        # windows gathered ahead: (epoch, begin, end, context_ids, center_ids) of positions
        # begin .. end-1 of that epoch's order
        self._ahead = None

    def batches_per_epoch(self) -> int:
        return self.ranges_per_epoch()

    def _rows(self, begin: int, end: int) -> np.ndarray:
        """Window indices at positions ``begin .. end-1`` of the current epoch's order."""
        if not self.shuffle:
            return np.arange(begin, end, dtype=np.int64)
        if self._order_epoch != self.epoch:
            self._order_epoch, self._group = self.epoch, -1
            if self.n_windows <= self.full_shuffle_max:
                self._order = np.random.default_rng([self.seed, self.epoch]).permutation(
                    self.n_windows)
            else:
                self._order = None
                self._blocks, self._group_first = _block_order(
                    self.n_windows, self.seed, self.epoch, self.block, self.group)
        if self._order is not None:
            return self._order[begin:end]
        pieces = []
        while begin < end:  # a batch may span two groups
            g = int(np.searchsorted(self._group_first, begin, side="right")) - 1
            if g != self._group:
                windows = np.concatenate([np.arange(b * self.block,
                                                    min((b + 1) * self.block, self.n_windows))
                                          for b in self._blocks[g]])
                rng = np.random.default_rng([self.seed, self.epoch, g])
                self._group, self._group_order = g, windows[rng.permutation(windows.size)]
            first = int(self._group_first[g])
            stop = min(end, int(self._group_first[g + 1]))
            pieces.append(self._group_order[begin - first:stop - first])
            begin = stop
        return np.concatenate(pieces)

    def next_batch(self) -> Batch:
        begin, end = self.next_range()
        ahead = self._ahead
        if ahead is None or ahead[0] != self.epoch or not ahead[1] <= begin < end <= ahead[2]:
            stop = min(self.n, begin + self.batch_size * batches_ahead(self.batch_size))
            ahead = self._ahead = (self.epoch, begin, stop,
                                   *self.windows.gather(self._rows(begin, stop)))
        first = ahead[1]
        return ahead[3][begin - first:end - first], ahead[4][begin - first:end - first]

    def state(self) -> dict:
        return {"kind": "epoch", "epoch": self.epoch, "offset": self.offset}


class WindowCourseBatcher(_Batcher):
    """:class:`CourseBatcher` for :class:`Windows`: the course's endless batcher, by position."""

    def __init__(self, windows: Windows, batch_size: int, served: int = 0):
        check_batch_size(batch_size)
        self.windows = windows
        self.batch_size = int(batch_size)
        self.served = int(served)
        self._ahead = None  # (served at its first batch, batches, context_ids, center_ids)

    def next_batch(self) -> Batch:
        B, stride = self.batch_size, self.batch_size + 1  # +1: the window the course drops
        ahead = self._ahead
        k, rest = divmod(self.served - ahead[0], stride) if ahead is not None else (-1, 0)
        if ahead is None or rest != 0 or not 0 <= k < ahead[1]:
            count = batches_ahead(B)
            firsts = self.served + stride * np.arange(count)
            rows = (firsts[:, None] + np.arange(B)) % self.n_windows
            ahead = self._ahead = (self.served, count, *self.windows.gather(rows.ravel()))
            k = 0
        self.served += stride
        return ahead[2][k * B:(k + 1) * B], ahead[3][k * B:(k + 1) * B]

    @property
    def epochs_done(self) -> float:
        return self.served / self.n_windows

    def state(self) -> dict:
        return {"kind": "course", "served": self.served}


# --------------------------------------------------------------------------------------------
# The same batchers over windows held as arrays (make_windows' output)
# --------------------------------------------------------------------------------------------

class WindowMatrix:
    """Windows already built as arrays, with the interface of :class:`Windows`."""

    def __init__(self, context_ids: np.ndarray, center_ids: np.ndarray):
        self.context_ids, self.center_ids = context_ids, center_ids
        self.n_windows = center_ids.shape[0]

    def gather(self, windows: np.ndarray) -> Batch:
        return self.context_ids[windows], self.center_ids[windows]


class CourseBatcher(WindowCourseBatcher):
    """The course's ``get_batches``, on indices: endless, with the course's skipped example.

    It cycles through the windows forever; each time a batch is full it is yielded and the window
    that arrived at that moment is discarded, so batch ``k`` holds windows
    ``k*(B+1) .. k*(B+1)+B-1`` (modulo the number of windows) and window ``k*(B+1)+B`` is skipped.

    The whole state is :attr:`served`, how many windows of the endless stream were consumed
    (the skipped ones included).
    """

    def __init__(self, context_ids: np.ndarray, center_ids: np.ndarray, batch_size: int,
                 served: int = 0):
        super().__init__(WindowMatrix(context_ids, center_ids), batch_size, served)


class EpochBatcher(WindowBatcher):
    """Every window exactly once per epoch, in a seeded random order or in corpus order.

    The order of epoch ``e`` depends only on ``(seed, e)``, so the state needed to resume is
    ``(epoch, offset)``: the epoch in progress and how many of its windows were already served.
    The last batch of an epoch may be smaller than ``batch_size``; no window is lost. The
    windows are in memory already, so the order is always one full permutation.
    """

    def __init__(self, context_ids: np.ndarray, center_ids: np.ndarray, batch_size: int,
                 shuffle: bool = True, seed: int = 0, epoch: int = 0, offset: int = 0):
        super().__init__(WindowMatrix(context_ids, center_ids), batch_size, shuffle, seed,
                         epoch, offset, full_shuffle_max=sys.maxsize)
