"""Where a training step's work runs: the executor seam.

A training step trains the centre positions ``[begin, end)`` of a token stream. An executor
decides two things, and nothing else:

- **the cut**: ``executor.cut(begin, end)`` returns the pieces, contiguous ``(begin, end)``
  ranges that cover the step in order;
- **where the tasks run**: ``executor.run(task, arrays, pieces, rng_states)`` trains every
  piece and returns ``(results, rng_states)``.

The model, the learning rate and the kernels stay with the caller (:func:`cbow.models.word2vec.driver.
train`), which turns the cut into its tasks' pieces (adding e.g. each piece's learning
rates) before calling ``run``.

**A task** is a function ``task(arrays, piece, rng_state) -> (result, rng_state)``:

- ``arrays``: the tuple of model arrays the task reads and updates *in place* (for word2vec's
  CBOW: ``(input_vectors, output_vectors, hidden_bias)``). They are an argument, not something
  the task closes over, so that an executor may hand a task the shared arrays (threads) or its
  own copy of them (a process or a cluster node, which sends its updated copy back to be merged);
- ``piece``: what to train (whatever the caller put in the list of pieces);
- ``rng_state``: the generator state it starts from; it returns the state it ends with.

Everything else a task needs (token stream, objective, settings) is bound in beforehand, e.g.
with :func:`functools.partial`, and must not change during the step. A task is thus a pure
function of (arrays, piece, generator state, settings) -> (result, new generator state): the
same cut and the same states give the same result wherever the task runs.

**Lanes.** ``rng_states`` holds one state per lane (``executor.workers`` of them): a lane runs
its pieces one after the other, passing its state on from one to the next, and ``run`` returns
each lane's last state (a trainer keeps them for the next step, and a checkpoint keeps them to
resume). ``results`` are in the order of ``pieces``.

:class:`ThreadExecutor` is the in-process implementation. One worker runs in the calling thread
(bit-deterministic); several run in threads that share the arrays without locks (Hogwild, as
word2vec's threads do; the compiled kernels release the GIL). By default it cuts a step into
``workers`` equal pieces, piece ``i`` in lane ``i``. With ``piece_words`` it cuts a step into
pieces of about that many positions that the lanes take in order from a shared counter (gensim's
job queue), so that a thread the machine stalls holds up one small piece, not half the step;
which lane trains which piece then depends on timing (one worker still trains them all in
order). Its threads are started once and live as long as the executor: a trainer calls ``run``
for every step, and starting threads each time would cost a part of every step.
:func:`threads` gives one shared executor per number of workers and piece size.

**Rounds.** When there are more pieces than lanes, the lanes take them in order, ``workers`` at
a time: piece ``k`` runs in round ``k // workers`` of :func:`rounds` (``pieces``, ``workers``).
A caller whose settings follow the progress of the step (word2vec's learning rate) may use the
round as the time at which a piece runs.

A cluster executor (e.g. Dask) fits behind the same two methods: ``run`` sends each lane a copy
of ``arrays`` with its pieces and state, and writes the merged (e.g. averaged) copies back into
``arrays`` before it returns.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol, Sequence

import numpy as np

Task = Callable[[tuple, Any, np.uint64], tuple[Any, np.uint64]]
"""``task(arrays, piece, rng_state) -> (result, rng_state)``; see the module docstring."""


class Executor(Protocol):
    """Cuts a step into pieces and runs a task on each; see the module docstring."""

    workers: int
    """Lanes: how many generator states ``run`` takes and returns."""

    def cut(self, begin: int, end: int) -> list[tuple[int, int]]:
        """Contiguous pieces covering ``[begin, end)`` in order."""
        ...

    def run(self, task: Task, arrays: tuple, pieces: Sequence, rng_states: np.ndarray
            ) -> tuple[list, np.ndarray]:
        """``task`` on every piece; ``(results in the order of pieces, (workers,) uint64 states)``."""
        ...


def split(begin: int, end: int, pieces: int) -> list[tuple[int, int]]:
    """``[begin, end)`` in ``pieces`` contiguous ranges whose lengths differ by at most one."""
    bounds = [begin + (end - begin) * i // pieces for i in range(pieces + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def rounds(pieces: int, workers: int) -> int:
    """How many rounds ``workers`` lanes take to run ``pieces`` pieces in order."""
    return max(1, -(-pieces // workers))


class ThreadExecutor:
    """Lanes in threads of this process sharing the arrays (one worker: the calling thread).

    ``piece_words=None``: ``workers`` equal pieces per step, piece ``i`` in lane ``i``.
    ``piece_words=n``: pieces of about ``n`` positions (one piece for one worker), taken in
    order from a shared counter by whichever lane is free.
    """

    def __init__(self, workers: int, piece_words: int | None = None):
        if not (isinstance(workers, (int, np.integer)) and workers >= 1):
            raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
        if piece_words is not None and not (isinstance(piece_words, (int, np.integer))
                                            and piece_words >= 1):
            raise ValueError(f"piece_words must be None or an integer >= 1; got {piece_words!r}")
        self.workers = int(workers)
        self.piece_words = None if piece_words is None else int(piece_words)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def cut(self, begin: int, end: int) -> list[tuple[int, int]]:
        if self.piece_words is None or self.workers == 1:
            return split(begin, end, self.workers)
        return split(begin, end, max(self.workers, -(-(end - begin) // self.piece_words)))

    def run(self, task: Task, arrays: tuple, pieces: Sequence, rng_states: np.ndarray
            ) -> tuple[list, np.ndarray]:
        states = np.asarray(rng_states, dtype=np.uint64)
        if states.shape != (self.workers,) or len(pieces) < self.workers:
            raise ValueError(f"a ThreadExecutor of {self.workers} workers runs at least "
                             f"{self.workers} pieces with one state per worker; got "
                             f"{len(pieces)} pieces and states of shape {states.shape}")
        if len(pieces) == self.workers:  # piece i in lane i
            assigned = [iter([i]) for i in range(self.workers)]

            def next_piece(worker: int) -> int | None:
                return next(assigned[worker], None)
        else:  # whichever lane is free takes the next piece
            counter, counter_lock = iter(range(len(pieces))), threading.Lock()

            def next_piece(worker: int) -> int | None:
                with counter_lock:
                    return next(counter, None)
        results = [None] * len(pieces)

        def lane(worker: int) -> np.uint64:
            state = states[worker]
            while (index := next_piece(worker)) is not None:
                results[index], state = task(arrays, pieces[index], state)
            return state

        if self.workers == 1:
            final = [lane(0)]
        else:
            pool = self._threads()
            futures = [pool.submit(lane, worker) for worker in range(self.workers)]
            final = [future.result() for future in futures]
        return results, np.array(final, np.uint64)

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers,
                                                thread_name_prefix="cbow-worker")
            return self._pool

    def close(self) -> None:
        """Stop the threads (a later ``run`` starts new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def default_workers() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_shared: dict[tuple[int, int | None], ThreadExecutor] = {}
_shared_lock = threading.Lock()


def threads(workers: int, piece_words: int | None = None) -> ThreadExecutor:
    """The process's one :class:`ThreadExecutor` of ``workers`` workers cutting steps into
    pieces of ``piece_words`` (None: one per worker), made on first use."""
    with _shared_lock:
        executor = _shared.get((workers, piece_words))
        if executor is None:
            executor = _shared[workers, piece_words] = ThreadExecutor(workers, piece_words)
        return executor
