"""Context windows and the two batchers that feed them to training.

A window is one training example: the ``2C`` context ids around a center position and the center id.
Batches are index arrays, ``context_ids`` of shape ``(B, 2C)`` and ``center_ids`` of shape ``(B,)``;
the dense ``(V, B)`` matrices of the course are built only in :mod:`cbow.course`.
"""
from __future__ import annotations

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


class CourseBatcher:
    """The course's ``get_batches``, on indices: endless, with the course's skipped example.

    It cycles through the windows forever; each time a batch is full it is yielded and the window
    that arrived at that moment is discarded, so batch ``k`` holds windows
    ``k*(B+1) .. k*(B+1)+B-1`` (modulo the number of windows) and window ``k*(B+1)+B`` is skipped.

    The whole state is :attr:`served`, how many windows of the endless stream were consumed
    (the skipped ones included).
    """

    def __init__(self, context_ids: np.ndarray, center_ids: np.ndarray, batch_size: int,
                 served: int = 0):
        check_batch_size(batch_size)
        self.context_ids, self.center_ids = context_ids, center_ids
        self.batch_size = int(batch_size)
        self.served = int(served)

    @property
    def n_windows(self) -> int:
        return self.center_ids.shape[0]

    def next_batch(self) -> Batch:
        rows = np.arange(self.served, self.served + self.batch_size) % self.n_windows
        self.served += self.batch_size + 1  # +1: the window the course drops
        return self.context_ids[rows], self.center_ids[rows]

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next_batch()

    @property
    def epochs_done(self) -> float:
        return self.served / self.n_windows

    def state(self) -> dict:
        return {"kind": "course", "served": self.served}


class EpochBatcher:
    """Every window exactly once per epoch, in a seeded random order or in corpus order.

    The order of epoch ``e`` depends only on ``(seed, e)``, so the state needed to resume is
    ``(epoch, offset)``: the epoch in progress and how many of its windows were already served.
    The last batch of an epoch may be smaller than ``batch_size``; no window is lost.
    """

    def __init__(self, context_ids: np.ndarray, center_ids: np.ndarray, batch_size: int,
                 shuffle: bool = True, seed: int = 0, epoch: int = 0, offset: int = 0):
        check_batch_size(batch_size)
        self.context_ids, self.center_ids = context_ids, center_ids
        self.batch_size = int(batch_size)
        self.shuffle, self.seed = bool(shuffle), int(seed)
        self.epoch, self.offset = int(epoch), int(offset)
        self._order = self._epoch_order(self.epoch)

    @property
    def n_windows(self) -> int:
        return self.center_ids.shape[0]

    def batches_per_epoch(self) -> int:
        return -(-self.n_windows // self.batch_size)

    def _epoch_order(self, epoch: int) -> np.ndarray | None:
        if not self.shuffle:
            return None
        return np.random.default_rng([self.seed, epoch]).permutation(self.n_windows)

    def next_batch(self) -> Batch:
        if self.offset >= self.n_windows:
            self.epoch, self.offset = self.epoch + 1, 0
            self._order = self._epoch_order(self.epoch)
        stop = min(self.offset + self.batch_size, self.n_windows)
        rows = (slice(self.offset, stop) if self._order is None else self._order[self.offset:stop])
        self.offset = stop
        return self.context_ids[rows], self.center_ids[rows]

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next_batch()

    @property
    def epochs_done(self) -> float:
        """Epochs completed, fractional: 1.5 means half-way through the second epoch."""
        return self.epoch + self.offset / self.n_windows

    def state(self) -> dict:
        return {"kind": "epoch", "epoch": self.epoch, "offset": self.offset}
