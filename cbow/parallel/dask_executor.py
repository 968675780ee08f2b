"""Training on a Dask cluster: an executor (:mod:`cbow.parallel.executor`) of synchronous model averaging.

The design of Spark MLlib's Word2Vec. A step's centre positions are trained in **rounds** of
``sync_every`` positions (the last round of a step may be shorter; a round never spans two
steps, so checkpoints stay at step boundaries). Each round:

1. the driver sends the round's starting arrays to the workers once (``scatter`` with
   ``broadcast``: every worker holds one copy that the round's tasks share);
2. the round's positions are cut into ``shards`` contiguous pieces, and each piece is one task:
   on a worker, the task copies the round's arrays, trains its piece on the copy with the
   compiled kernel (:func:`cbow.models.word2vec.driver.train_piece`, a pure function of the arrays, the piece
   and its generator state), and returns the copy, its result and its new generator state;
3. the driver merges the copies (in the order of the pieces, in float64) into the next
   round's arrays: ``merge="sum"`` adds every piece's change to the round's arrays (a row one
   piece trained keeps its whole update, a row several trained gets all of theirs, as the
   threads of one machine give it); ``"rows"`` gives each row the mean change of the pieces
   that changed it; ``"mean"`` takes the copies' mean (Spark's); ``"rss"`` adds the pieces'
   summed change to each row shortened, never lengthened, to the root of the sum of the
   squares of the pieces' own change lengths (a row one piece changed, or whose changes point
   apart, keeps the sum; k equal changes give sqrt(k) times one, not k times). Measured on
   GCIDE (README, 3 seeds): with 2 shards ``sum`` came closest to the in-process quality
   (WS353 within 0.01, analogies about 0.55 points below the one-thread run) where the others
   lost some (``rss``) or much of it; with 4 shards ``sum`` diverged (the frequent words'
   rows, which every piece trains to about the same place, took 4 such steps at once, growing
   round after round), ``rss`` trained but stayed below the in-process quality.

So a round's result depends only on the round's arrays, the cut and the generator states:
not on how many workers there are, which worker ran a piece, or whether Dask ran a piece
again after its worker died. With the same ``shards`` a run has the same bits on 1 worker or 8,
and a resumed run equals an uninterrupted one. ``shards`` is a setting of the run (the number
of generator lanes its checkpoints keep), not of the cluster size.

What every task reads besides the arrays (the token stream, sentence starts, the objective's
tables: numpy arrays of the task's bound settings) is sent to the workers once and reused by
every later step while it is the same array. The arrays given to :meth:`DaskExecutor.run` are
written only when the whole step succeeded: if the cluster is lost mid-step they still hold
the state after the previous step, which the trainer saves as a checkpoint.
"""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import uuid
from typing import Any, Callable, Sequence

import numpy as np

from cbow.parallel import cluster
from cbow.parallel.executor import split

__all__ = ["DaskExecutor", "MERGES"]

#: The rules of ``train.merge`` (see :func:`_merge`), named once: the config's rule reads them.
MERGES = ("sum", "rows", "mean", "rss")

#: Arrays of a task's settings at least this large are sent to the workers once and kept
#: there; smaller ones travel with every task.
SHIP_BYTES = 1 << 16


@dataclasses.dataclass(frozen=True)
class _Shipped:
    """Stands, in a task sent to a worker, for an array the worker already holds."""

    key: str


def _replace(value: Any, leaf: Callable[[Any], bool], swap: Callable[[Any], Any]) -> Any:
    """``value`` with every part for which ``leaf`` holds replaced by ``swap(part)``.

    Looks into tuples (named ones too), lists, dicts, :func:`functools.partial` and dataclass
    instances (copied, their ``__post_init__`` not run again); anything else is kept as is.
    """
    if leaf(value):
        return swap(value)

    def again(item):
        return _replace(item, leaf, swap)

    if isinstance(value, functools.partial):
        return functools.partial(again(value.func), *map(again, value.args),
                                 **{k: again(v) for k, v in value.keywords.items()})
    if isinstance(value, tuple):
        items = [again(item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [again(item) for item in value]
    if isinstance(value, dict):
        return {k: again(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {f.name: again(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if all(changed[name] is getattr(value, name) for name in changed):
            return value
        twin = copy.copy(value)
        for name, item in changed.items():
            object.__setattr__(twin, name, item)
        return twin
    return value


def _train_lane(task, shipped: dict, arrays: list, pieces: list, rng_state):
    """On a worker: train ``pieces`` in order on a copy of the round's ``arrays``.

    Returns ``(the copy, the pieces' results, the generator state after them)``.
    """
    task = _replace(task, lambda v: isinstance(v, _Shipped), lambda v: shipped[v.key])
    own = tuple(np.array(array, copy=True) for array in arrays)  # the round's are shared
    results = []
    state = np.uint64(rng_state)
    for piece in pieces:
        result, state = task(own, piece, state)
        results.append(result)
    return own, results, state


def _merge(start: list[np.ndarray], copies: list[tuple[np.ndarray, ...]], how: str
           ) -> list[np.ndarray]:
    """The next round's arrays from the round's (``start``) and the lanes' copies, summed in
    lane order in float64: ``"sum"``, ``start`` plus every lane's change; ``"rows"``, each row
    (the first axis) ``start`` plus the mean change of the lanes that changed it; ``"mean"``, the
    copies' mean; ``"rss"``, each row ``start`` plus the lanes' summed change scaled by
    ``min(1, sqrt(sum of its lanes' squared change lengths) / its length)``. One lane: its
    copy, exactly."""
    if how != "mean" and len(copies) == 1:
        return list(copies[0])
    merged = []
    for begin, parts in zip(start, zip(*copies)):
        if how == "sum":
            base = np.asarray(begin, np.float64)
            total = base.copy()
            for part in parts:
                total += part
                total -= base
        elif how == "rows":
            base = np.asarray(begin, np.float64)
            change = np.zeros_like(base)
            changed = np.zeros(base.shape[:1], np.int64)
            for part in parts:
                moved = part != begin
                if moved.ndim > 1:
                    moved = moved.any(axis=tuple(range(1, moved.ndim)))
                changed += moved
                change += part
                change -= base
            change /= np.maximum(changed, 1).reshape((-1,) + (1,) * (base.ndim - 1))
            total = base + change
        elif how == "rss":
            base = np.asarray(begin, np.float64)
            change = np.zeros_like(base)
            squares = np.zeros(base.shape[:1], np.float64)
            for part in parts:
                moved = part - base
                change += moved
                squares += _row_squares(moved)
            length = _row_squares(change)
            scale = np.ones_like(squares)
            longer = length > squares  # never 0 there: squares >= 0
            scale[longer] = np.sqrt(squares[longer] / length[longer])
            total = base + change * scale.reshape((-1,) + (1,) * (base.ndim - 1))
        else:
            total = parts[0].astype(np.float64)
            for part in parts[1:]:
                total += part
            total /= len(parts)
        merged.append(total.astype(parts[0].dtype))
    return merged


def _row_squares(values: np.ndarray) -> np.ndarray:
    """The squared length of each row (the first axis) of ``values``."""
    squared = values * values
    return squared.reshape(squared.shape[0], -1).sum(axis=1)


#: Times a round is submitted when the scheduler drops one of its tasks (a worker died holding
#: an input): the same inputs and generator states, so the same bits.
ROUND_ATTEMPTS = 3


class DaskExecutor:
    """The executor seam's Dask implementation: ``shards`` lanes, averaged every round.

    Parameters
    ----------
    client : distributed.Client
        From :func:`cbow.parallel.cluster.session`.
    shards : int
        Pieces per round, each with its own generator lane (``train.shards``).
    sync_every : int
        Centre positions per round (``train.sync_every``).
    merge : {"sum", "rows", "mean", "rss"}
        How the pieces' copies become the next round's arrays (``train.merge``).
    """

    def __init__(self, client, shards: int, sync_every: int, merge: str = "sum"):
        if shards < 1 or sync_every < 1 or merge not in MERGES:
            raise ValueError(f"shards and sync_every must be >= 1 and merge one of {MERGES}; "
                             f"got {shards}, {sync_every}, {merge!r}")
        self.client, self.workers, self.sync_every = client, int(shards), int(sync_every)
        self.merge = merge
        self._shipped: dict[str, tuple[np.ndarray, Any]] = {}
        self._token = uuid.uuid4().hex[:12]
        self._rounds = 0

    def cut(self, begin: int, end: int) -> list[tuple[int, int]]:
        """Rounds of at most ``sync_every`` positions, each cut into ``shards`` pieces."""
        n_rounds = max(1, -(-(end - begin) // self.sync_every))
        return [piece for first, last in split(begin, end, n_rounds)
                for piece in split(first, last, self.workers)]

    def run(self, task, arrays: tuple, pieces: Sequence, rng_states: np.ndarray
            ) -> tuple[list, np.ndarray]:
        states = np.array(rng_states, dtype=np.uint64)
        k = self.workers
        if states.shape != (k,) or not pieces or len(pieces) % k:
            raise ValueError(f"a DaskExecutor of {k} shards runs whole rounds of {k} pieces with "
                             f"one state per shard; got {len(pieces)} pieces and states of "
                             f"shape {states.shape}")
        try:
            skeleton, shipped = self._ship(task)
        except (OSError, TimeoutError, asyncio.CancelledError) as error:
            raise cluster.lost(error) from None
        current = [np.asarray(array) for array in arrays]
        results: list = [None] * len(pieces)
        for first in range(0, len(pieces), k):
            for attempt in range(1, ROUND_ATTEMPTS + 1):
                self._rounds += 1  # a new key for each attempt
                try:
                    sent = self.client.scatter(current, broadcast=True, hash=False)
                    futures = [self.client.submit(
                        cluster.task, _train_lane, skeleton, shipped, sent,
                        [pieces[first + lane]], states[lane],
                        key=f"cbow-lane-{self._token}-{self._rounds}-{lane}") for lane in range(k)]
                except (OSError, TimeoutError, asyncio.CancelledError) as error:
                    raise cluster.lost(error) from None
                try:
                    lanes = cluster.results(futures)
                    break
                except cluster.TaskDropped as dropped:  # the round is pure: run it again
                    if attempt == ROUND_ATTEMPTS:
                        raise cluster.lost(dropped) from None
                    self._shipped.clear()  # the input it lost may be one sent for an earlier step
                    try:
                        skeleton, shipped = self._ship(task)
                    except (OSError, TimeoutError, asyncio.CancelledError) as error:
                        raise cluster.lost(error) from None
            for lane, (_, lane_results, state) in enumerate(lanes):
                results[first + lane] = lane_results[0]
                states[lane] = state
            current = _merge(current, [lane[0] for lane in lanes], self.merge)
            del sent, lanes
        for array, averaged in zip(arrays, current):  # the step succeeded: commit it
            array[...] = averaged
        return results, states

    def _ship(self, task) -> tuple[Any, dict]:
        """``task`` with its large arrays replaced by :class:`_Shipped` markers, and the
        markers' futures; an array sent for an earlier step is not sent again."""
        used: dict[str, tuple[np.ndarray, Any]] = {}

        def ship(array: np.ndarray) -> _Shipped:
            interface = array.__array_interface__
            key = (f"{interface['data'][0]:x}-{array.dtype.str}-{array.shape}-"
                   f"{interface['strides']}")
            if key not in used:
                # The stored array keeps its memory alive: no other array can take its place.
                used[key] = self._shipped.get(key) or (
                    array, self.client.scatter(np.ascontiguousarray(array), broadcast=True,
                                               hash=False))
            return _Shipped(key)

        skeleton = _replace(task, lambda v: isinstance(v, np.ndarray) and v.nbytes >= SHIP_BYTES,
                            ship)
        self._shipped = used  # arrays no step uses any more are released
        return skeleton, {key: future for key, (_, future) in used.items()}
