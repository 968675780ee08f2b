"""cbow.parallel.executor: the cut, where tasks run, and the task contract word2vec's training keeps."""
import threading
from functools import partial

import numpy as np
import pytest

from cbow.parallel import executor as executors
from cbow.models import word2vec as w2v


def recording_task(arrays, piece, rng_state, calls):
    """Adds the piece's length to arrays[0]; records (piece, state, thread)."""
    arrays[0][0] += piece[1] - piece[0]
    calls.append((piece, int(rng_state), threading.get_ident()))
    return piece[1] - piece[0], np.uint64(int(rng_state) + 1)


def test_split_covers_the_range_in_equal_contiguous_pieces():
    assert executors.split(0, 10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert executors.split(5, 6, 2) == [(5, 5), (5, 6)]
    pieces = executors.split(7, 1007, 4)
    assert [b for b, _ in pieces[1:]] == [e for _, e in pieces[:-1]] and pieces[-1][1] == 1007
    assert {e - b for b, e in pieces} == {250}


def test_one_worker_runs_in_the_calling_thread():
    executor = executors.ThreadExecutor(1)
    assert executor.cut(3, 9) == [(3, 9)]
    calls, arrays = [], (np.zeros(1),)
    results, states = executor.run(partial(recording_task, calls=calls), arrays, [(3, 9)],
                                   np.array([41], np.uint64))
    assert results == [6] and states.tolist() == [42] and states.dtype == np.uint64
    assert calls == [((3, 9), 41, threading.get_ident())] and arrays[0][0] == 6


def test_threads_share_the_arrays_and_keep_each_lane_state():
    executor = executors.ThreadExecutor(3)
    pieces = executor.cut(0, 30)
    calls, arrays = [], (np.zeros(1),)
    results, states = executor.run(partial(recording_task, calls=calls), arrays, pieces,
                                   np.array([10, 20, 30], np.uint64))
    assert results == [10, 10, 10] and states.tolist() == [11, 21, 31]
    assert sorted((piece, state) for piece, state, _ in calls) == list(zip(pieces, [10, 20, 30]))
    assert threading.get_ident() not in {thread for *_, thread in calls}
    assert arrays[0][0] == 30  # every task updated the same array
    for _ in range(5):
        executor.run(partial(recording_task, calls=calls), arrays, pieces, states)
    assert len({thread for *_, thread in calls}) <= 3  # threads kept from run to run
    executor.close()


def test_the_runs_shape_is_checked():
    executor = executors.ThreadExecutor(2)
    with pytest.raises(ValueError, match="one state per worker"):
        executor.run(partial(recording_task, calls=[]), (np.zeros(1),), [(0, 1), (1, 2)],
                     np.zeros(1, np.uint64))
    with pytest.raises(ValueError, match="at least 2 pieces"):
        executor.run(partial(recording_task, calls=[]), (np.zeros(1),), [(0, 1)],
                     np.zeros(2, np.uint64))
    with pytest.raises(ValueError, match="workers"):
        executors.ThreadExecutor(0)
    assert executors.threads(2) is executors.threads(2) and executors.threads(2).workers == 2


def test_shared_threads_one_executor_per_workers_and_piece_size():
    queue = executors.threads(2, 500)
    assert queue is executors.threads(2, 500)
    assert queue is not executors.threads(2) and executors.threads(2).piece_words is None
    assert (queue.workers, queue.piece_words) == (2, 500)
    assert queue.cut(0, 2000) == [(0, 500), (500, 1000), (1000, 1500), (1500, 2000)]


class CopyingExecutor:
    """A stand-in for a cluster executor: each lane trains its own copy of the arrays, one lane
    after the other, and the copies' mean is written back (model averaging)."""

    def __init__(self, workers):
        self.workers = workers

    def cut(self, begin, end):
        return executors.split(begin, end, self.workers)

    def run(self, task, arrays, pieces, rng_states):
        outcomes, copies = [], []
        for piece, state in zip(pieces, rng_states):
            copy = tuple(a.copy() for a in arrays)
            outcomes.append(task(copy, piece, state))
            copies.append(copy)
        for i, array in enumerate(arrays):
            array[...] = np.mean([copy[i] for copy in copies], axis=0)
        return [r for r, _ in outcomes], np.array([s for _, s in outcomes], np.uint64)


COUNTS = np.array([40, 3, 25, 7, 12, 1, 9, 30, 5, 2, 18, 6])


def corpus():
    rng = np.random.default_rng(3)
    tokens = rng.choice(COUNTS.size, 2000, p=COUNTS / COUNTS.sum()).astype(np.uint32)
    return tokens, np.arange(0, 2000, 20)


@pytest.mark.parametrize("objective", [w2v.NegativeSampling.from_counts(COUNTS, negative=3),
                                       w2v.HierarchicalSoftmax.from_counts(COUNTS)])
def test_word2vec_tasks_are_pure_functions_of_their_arguments(objective):
    tokens, starts = corpus()
    settings = dict(alpha_start=0.05, alpha_end=0.01, C=3, seed=2, epoch=1,
                    keep=w2v.keep_probabilities(COUNTS, 0.05))
    # An explicit one-thread executor is the default one, bit for bit.
    default = w2v.initial_weights(objective, 8, seed=1)
    expected = w2v.train_range(objective, default[0], default[1], tokens, starts, 0, 2000, **settings)
    explicit = w2v.initial_weights(objective, 8, seed=1)
    result = w2v.train_range(objective, explicit[0], explicit[1], tokens, starts, 0, 2000,
                             executor=executors.ThreadExecutor(1), **settings)
    for a, b in zip(default, explicit):
        np.testing.assert_array_equal(a, b)
    assert result[:4] == expected[:4] and result.rng_states.tolist() == expected.rng_states.tolist()

    # Two lanes on copies: the same cut and states give the same bits, run after run, and each
    # piece's result is that of the task run by hand on a copy of the arrays.
    runs = []
    for _ in range(2):
        arrays = w2v.initial_weights(objective, 8, seed=1)
        runs.append((arrays, w2v.train_range(objective, arrays[0], arrays[1], tokens, starts, 0,
                                             2000, hidden_bias=arrays[2],
                                             executor=CopyingExecutor(2), **settings)))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    start = w2v.initial_weights(objective, 8, seed=1)
    states = w2v.worker_rng_states(2, 2, epoch=1)
    by_hand = w2v.TaskInputs(w2v.KernelSettings(objective, 3, True, False, 2, settings["keep"]),
                             tokens, starts, w2v.subsample_key(2, 1), True, np.zeros(1, np.int32))
    copies, totals = [], []
    for (begin, end), state in zip(executors.split(0, 2000, 2), states):
        copy = tuple(a.copy() for a in start)
        piece = w2v.Piece(begin, end, begin, end, 0.05, 0.01)
        result, new_state = w2v.train_piece(copy, piece, state, by_hand)
        copies.append(copy)
        totals.append((result, int(new_state)))
    np.testing.assert_array_equal(runs[0][0][0], np.mean([c[0] for c in copies], axis=0))
    result = runs[0][1]
    assert result.rng_states.tolist() == [state for _, state in totals]
    assert result.examples == sum(r.examples for r, _ in totals)
    assert result.loss == sum(r.loss for r, _ in totals)


def test_an_executor_replaces_workers():
    objective = w2v.HierarchicalSoftmax.from_counts(COUNTS)
    tokens, starts = corpus()
    inputs, outputs, _ = w2v.initial_weights(objective, 8, seed=1)
    result = w2v.train_range(objective, inputs, outputs, tokens, starts, 0, 2000, alpha_start=0.05,
                             alpha_end=0.01, executor=CopyingExecutor(3))
    assert result.rng_states.shape == (3,) and result.words == 2000
    with pytest.raises(ValueError, match="pass one of them"):
        w2v.train_range(objective, inputs, outputs, tokens, starts, 0, 2000, alpha_start=0.05,
                        alpha_end=0.01, workers=2, executor=CopyingExecutor(3))
    loss = w2v.hierarchical_softmax_loss(objective, inputs, outputs, tokens, starts, C=3,
                                         executor=CopyingExecutor(2))
    assert loss == w2v.hierarchical_softmax_loss(objective, inputs, outputs, tokens, starts,
                                                 C=3, workers=2)
    with pytest.raises(ValueError, match="pass one of them"):
        w2v.hierarchical_softmax_loss(objective, inputs, outputs, tokens, starts, workers=3,
                                      executor=CopyingExecutor(2))


# ---------------------------------------------------------------------------------------------
# Small pieces from a shared counter (gensim's job queue)
# ---------------------------------------------------------------------------------------------

def test_small_pieces_cover_the_step_and_one_worker_keeps_one_piece():
    executor = executors.ThreadExecutor(2, piece_words=10)
    pieces = executor.cut(0, 95)
    assert len(pieces) == 10 and pieces[0] == (0, 9) and pieces[-1][1] == 95
    assert executor.cut(0, 5) == [(0, 2), (2, 5)]  # never fewer pieces than workers
    assert executors.ThreadExecutor(1, piece_words=10).cut(0, 95) == [(0, 95)]
    assert [executors.rounds(n, 2) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    with pytest.raises(ValueError, match="piece_words"):
        executors.ThreadExecutor(2, piece_words=0)


def test_a_stalled_lane_does_not_stall_the_others():
    executor = executors.ThreadExecutor(2, piece_words=1)
    pieces = executor.cut(0, 12)
    others_done, released, lock, done = threading.Event(), [], threading.Lock(), []

    def task(arrays, piece, rng_state):
        if piece == pieces[0]:  # the first piece stalls until every other piece is trained
            released.append(others_done.wait(timeout=20))
        else:
            with lock:
                done.append(piece)
                if len(done) == len(pieces) - 1:
                    others_done.set()
        return (piece, threading.get_ident()), np.uint64(int(rng_state) + 1)

    results, states = executor.run(task, (), pieces, np.array([100, 200], np.uint64))
    assert released == [True]
    assert [piece for piece, _ in results] == pieces  # in the order of the pieces
    stalled = results[0][1]
    assert all(thread != stalled for _, thread in results[1:])  # the other lane did the rest
    assert sorted(states.tolist()) == [101, 211]  # each lane passed its state along its pieces


class RecordingExecutor(executors.ThreadExecutor):
    def run(self, task, arrays, pieces, rng_states):
        self.pieces = list(pieces)
        return super().run(task, arrays, pieces, rng_states)


def test_small_pieces_train_at_the_rate_of_their_round_and_one_worker_is_unchanged():
    objective = w2v.NegativeSampling.from_counts(COUNTS, negative=3)
    tokens, starts = corpus()
    settings = dict(alpha_start=0.05, alpha_end=0.01, C=3, seed=2,
                    keep=w2v.keep_probabilities(COUNTS, 0.05))
    arrays = w2v.initial_weights(objective, 8, seed=1)
    whole = w2v.train_range(objective, arrays[0], arrays[1], tokens, starts, 0, 2000, **settings)
    pieces = w2v.initial_weights(objective, 8, seed=1)
    one = RecordingExecutor(1, piece_words=300)
    result = w2v.train_range(objective, pieces[0], pieces[1], tokens, starts, 0, 2000,
                             executor=one, **settings)
    for a, b in zip(arrays, pieces):
        np.testing.assert_array_equal(a, b)
    assert result[:4] == whole[:4] and len(one.pieces) == 1

    queue = RecordingExecutor(2, piece_words=500)
    result = w2v.train_range(objective, *w2v.initial_weights(objective, 8, seed=1)[:2], tokens,
                             starts, 0, 2000, executor=queue, **settings)
    assert [(p.begin, p.end) for p in queue.pieces] == executors.split(0, 2000, 4)
    rate = lambda position: 0.05 + (0.01 - 0.05) * position / 2000
    np.testing.assert_allclose([(p.alpha_start, p.alpha_end) for p in queue.pieces],
                               [(rate(0), rate(1000))] * 2 + [(rate(1000), rate(2000))] * 2)
    # Subsampling hashes positions, so the same words are kept however the step is cut.
    assert (result.words, result.effective_words) == (whole.words, whole.effective_words)
    static = RecordingExecutor(2)
    w2v.train_range(objective, *w2v.initial_weights(objective, 8, seed=1)[:2], tokens, starts,
                    0, 2000, executor=static, **settings)
    np.testing.assert_allclose([(p.alpha_start, p.alpha_end) for p in static.pieces],
                               [(0.05, 0.01)] * 2)  # one round: each piece the whole schedule
