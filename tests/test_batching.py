"""Windows and batchers on a small corpus written by the test."""
import numpy as np
import pytest

from cbow import course
from cbow.data.batching import (CourseBatcher, EpochBatcher, WindowBatcher, WindowCourseBatcher,
                           Windows, _block_order, make_windows)

TOKENS = "the quick brown fox jumps over the lazy dog . and runs".split()


def ids_of(tokens):
    words = sorted(set(tokens))
    return np.array([words.index(t) for t in tokens]), words


def test_windows_at_both_ends():
    ids, words = ids_of(TOKENS)
    context_ids, center_ids = make_windows(ids, C=2)
    assert context_ids.shape == (len(TOKENS) - 4, 4) and center_ids.shape == (len(TOKENS) - 4,)
    first = [words[i] for i in context_ids[0]]
    last = [words[i] for i in context_ids[-1]]
    assert first == ["the", "quick", "fox", "jumps"] and words[center_ids[0]] == "brown"
    assert last == ["lazy", "dog", "and", "runs"] and words[center_ids[-1]] == "."


@pytest.mark.parametrize("C", [1, 3])
def test_windows_for_other_half_sizes(C):
    ids, _ = ids_of(TOKENS)
    context_ids, center_ids = make_windows(ids, C)
    for k in range(len(center_ids)):
        assert center_ids[k] == ids[k + C]
        assert list(context_ids[k]) == list(ids[k:k + C]) + list(ids[k + C + 1:k + 2 * C + 1])


def test_course_batcher_drops_the_example_that_arrives_when_full():
    ids, _ = ids_of(TOKENS)
    context_ids, center_ids = make_windows(ids, 2)   # 8 windows
    batcher = CourseBatcher(context_ids, center_ids, batch_size=3)
    served = [batcher.next_batch()[1].tolist() for _ in range(4)]
    c = center_ids.tolist()
    # windows 0-2, skip 3, 4-6, skip 7, then the cycle restarts at window 0: 0-2, skip 3, 4-6
    assert served == [c[0:3], c[4:7], c[0:3], c[4:7]]
    assert batcher.state() == {"kind": "course", "served": 16}


def test_course_batcher_equals_the_course_dense_batches():
    ids, words = ids_of(TOKENS)
    word2Ind = {w: i for i, w in enumerate(words)}
    V = len(words)
    context_ids, center_ids = make_windows(ids, 2)
    batcher = CourseBatcher(context_ids, center_ids, batch_size=3)
    dense = course.get_batches(TOKENS, word2Ind, V, 2, 3)
    for _ in range(5):
        x, y = next(dense)
        ctx, ctr = batcher.next_batch()
        assert np.array_equal(np.argmax(y, axis=0), ctr)
        for b in range(3):
            expected = np.bincount(ctx[b], minlength=V) / 4
            np.testing.assert_array_equal(x[:, b], expected)


def test_course_batcher_resumes_from_its_position():
    ids, _ = ids_of(TOKENS)
    windows = make_windows(ids, 2)
    straight = CourseBatcher(*windows, batch_size=3)
    batches = [straight.next_batch() for _ in range(7)]
    first = CourseBatcher(*windows, batch_size=3)
    for _ in range(3):
        first.next_batch()
    resumed = CourseBatcher(*windows, batch_size=3, served=first.state()["served"])
    for expected in batches[3:]:
        got = resumed.next_batch()
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 8, 50])
def test_epoch_batcher_serves_every_window_once_per_epoch(shuffle, batch_size):
    ids, _ = ids_of(TOKENS)
    context_ids, center_ids = make_windows(ids, 2)
    n = len(center_ids)
    rows = np.arange(n)  # tag each window by its row so coverage is checked exactly
    batcher = EpochBatcher(context_ids, rows, batch_size, shuffle=shuffle, seed=5)
    for epoch in range(3):
        seen = []
        while len(seen) < n:
            _, served = batcher.next_batch()
            assert 1 <= len(served) <= batch_size
            seen.extend(served.tolist())
        assert len(seen) == n and sorted(seen) == list(range(n)), f"epoch {epoch}"
        if not shuffle:
            assert seen == list(range(n))
        assert batcher.epochs_done == epoch + 1


def test_epoch_batcher_shuffle_is_seeded_and_differs_by_epoch():
    ids, _ = ids_of(TOKENS * 5)
    context_ids, center_ids = make_windows(ids, 2)
    rows = np.arange(len(center_ids))

    def epoch_orders(seed):
        b = EpochBatcher(context_ids, rows, len(rows), shuffle=True, seed=seed)
        return [b.next_batch()[1].tolist() for _ in range(2)]

    assert epoch_orders(1) == epoch_orders(1)
    assert epoch_orders(1) != epoch_orders(2)
    first, second = epoch_orders(1)
    assert first != second and first != sorted(first)


def test_epoch_batcher_resumes_mid_epoch():
    ids, _ = ids_of(TOKENS * 3)
    windows = make_windows(ids, 2)
    straight = EpochBatcher(*windows, 4, shuffle=True, seed=3)
    expected = [straight.next_batch() for _ in range(20)]
    first = EpochBatcher(*windows, 4, shuffle=True, seed=3)
    for _ in range(11):
        first.next_batch()
    state = first.state()
    resumed = EpochBatcher(*windows, 4, shuffle=True, seed=3, epoch=state["epoch"],
                           offset=state["offset"])
    for want in expected[11:]:
        got = resumed.next_batch()
        assert all(np.array_equal(a, b) for a, b in zip(got, want))


@pytest.mark.parametrize("n_tokens, C, message", [
    (0, 2, "no tokens"),
    (4, 2, "fewer than the 2.C.1 = 5"),
    (10, 0, "C .* must be an integer >= 1"),
])
def test_bad_window_arguments(n_tokens, C, message):
    with pytest.raises(ValueError, match=message):
        make_windows(np.zeros(n_tokens, dtype=int), C)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_bad_batch_size(batch_size):
    windows = make_windows(np.arange(10), 2)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        CourseBatcher(*windows, batch_size)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        EpochBatcher(*windows, batch_size)


# --- windows gathered by position (prepared, memory-mapped corpora) ---------------------------

@pytest.fixture(scope="module")
def shakespeare_ids(shakespeare_tokens) -> np.ndarray:
    words = sorted(set(shakespeare_tokens))
    index = {w: i for i, w in enumerate(words)}
    return np.array([index[t] for t in shakespeare_tokens], dtype=np.uint32)


def same_batches(a, b, n: int) -> bool:
    for _ in range(n):
        (ctx_a, ctr_a), (ctx_b, ctr_b) = a.next_batch(), b.next_batch()
        for x, y in ((ctx_a, ctx_b), (ctr_a, ctr_b)):
            assert x.dtype == y.dtype == np.int64 and x.shape == y.shape
            if not np.array_equal(x, y):
                return False
    return True


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("C, part", [(2, "train"), (2, "held-out"), (3, "train")])
def test_window_batches_equal_make_windows_and_epoch_batcher(shakespeare_ids, shuffle, C, part):
    # The course stream as a uint32 array (as prepare writes it), split like train.py does.
    n_val = 3_050
    start, stop = ((0, len(shakespeare_ids) - n_val) if part == "train"
                   else (len(shakespeare_ids) - n_val, len(shakespeare_ids)))
    as_int64 = shakespeare_ids[start:stop].astype(np.int64)
    old = EpochBatcher(*make_windows(as_int64, C), 128, shuffle=shuffle, seed=282)
    new = WindowBatcher(Windows(shakespeare_ids, C, np.array([0]), start=start, stop=stop), 128,
                        shuffle=shuffle, seed=282)
    assert new.n_windows == old.n_windows and new.batches_per_epoch() == old.batches_per_epoch()
    epochs = 3 if part == "train" else 40
    assert same_batches(old, new, epochs * old.batches_per_epoch() + 7)  # bit-identical
    assert new.state() == old.state() and new.epochs_done == old.epochs_done


def test_window_course_batcher_equals_course_batcher(shakespeare_ids):
    old = CourseBatcher(*make_windows(shakespeare_ids.astype(np.int64), 2), 128)
    new = WindowCourseBatcher(Windows(shakespeare_ids, 2), 128)
    assert same_batches(old, new, 1_000)  # over two passes of the endless stream
    assert new.state() == old.state() == {"kind": "course", "served": 129_000}
    resumed = WindowCourseBatcher(Windows(shakespeare_ids, 2), 128, served=new.served)
    assert same_batches(CourseBatcher(*make_windows(shakespeare_ids.astype(np.int64), 2), 128,
                                      served=old.served), resumed, 5)


def random_sentences(seed: int, n_sentences: int = 400, V: int = 50):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, size=n_sentences)
    ids = rng.integers(0, V, size=int(lengths.sum())).astype(np.uint32)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return ids, starts, lengths


@pytest.mark.parametrize("C", [1, 2, 3])
def test_windows_never_cross_a_sentence_boundary(C):
    ids, starts, lengths = random_sentences(C)
    sentence_of = np.repeat(np.arange(len(lengths)), lengths)
    windows = Windows(ids, C, starts)
    centres = windows.centres(np.arange(windows.n_windows))
    # Exactly the centres with C words on each side inside their own sentence, in order.
    expected = [p for p in range(len(ids)) if p - C >= 0 and p + C < len(ids)
                and sentence_of[p - C] == sentence_of[p] == sentence_of[p + C]]
    assert centres.tolist() == expected
    assert windows.n_windows == int(np.maximum(lengths - 2 * C, 0).sum())
    context, centre = windows.gather(np.arange(windows.n_windows))
    assert np.array_equal(centre, ids[centres])
    for column, offset in enumerate([*range(-C, 0), *range(1, C + 1)]):
        assert np.array_equal(context[:, column], ids[centres + offset])
        assert np.array_equal(sentence_of[centres + offset], sentence_of[centres])


def test_windows_of_a_range_cut_sentences_at_its_ends():
    ids, starts, lengths = random_sentences(5)
    sentence_of = np.repeat(np.arange(len(lengths)), lengths)
    start, stop = int(starts[10]) + 3, int(starts[300]) + 2  # both inside a sentence
    windows = Windows(ids, 2, starts, start=start, stop=stop)
    expected = [p for p in range(start + 2, stop - 2) if sentence_of[p - 2] == sentence_of[p + 2]]
    assert windows.centres(np.arange(windows.n_windows)).tolist() == expected


def test_window_arguments_are_checked():
    ids = np.arange(20, dtype=np.uint32)
    with pytest.raises(ValueError, match="no sentence of tokens 0..20 has the 2.C.1 = 5"):
        Windows(ids, 2, np.arange(0, 20, 4))
    with pytest.raises(ValueError, match="need 0 <= start <= stop <= 20"):
        Windows(ids, 2, start=5, stop=30)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        WindowBatcher(Windows(ids, 2), 0)


def block_batcher(windows, **kwargs):
    # Thresholds small enough that a few hundred windows take the block-shuffle path.
    return WindowBatcher(windows, 7, shuffle=True, seed=11, full_shuffle_max=100, block=8,
                         group=5, **kwargs)


def test_block_shuffle_serves_every_window_once_per_epoch_in_a_seeded_order():
    ids, starts, _ = random_sentences(7)
    windows = Windows(ids, 2, starts)
    n = windows.n_windows
    assert n > 300
    tagged = Windows(np.arange(len(ids), dtype=np.int64), 2, starts)  # ids = positions
    batcher = block_batcher(tagged)
    orders = []
    for epoch in range(3):
        served = []
        while len(served) < n:
            served.extend(batcher.next_batch()[1].tolist())
        assert sorted(served) == sorted(windows.centres(np.arange(n)).tolist()), epoch
        orders.append(served)
        assert batcher._order is None  # no permutation of the whole epoch was made
    assert orders[0] != orders[1] != orders[2] and orders[0] != sorted(orders[0])
    again = block_batcher(tagged)
    assert [again.next_batch()[1].tolist() for _ in range(3)] == [
        orders[0][:7], orders[0][7:14], orders[0][14:21]]
    # The blocks of one group come from all over the corpus, not from one place.
    blocks, firsts = _block_order(n, 11, 0, 8, 5)
    assert firsts[-1] == n and len(blocks[0]) == 5 and np.ptp(blocks[0]) > 5


@pytest.mark.parametrize("full_shuffle_max", [100, 10**9])
def test_window_batcher_resumes_mid_epoch(full_shuffle_max):
    ids, starts, _ = random_sentences(9)
    windows = Windows(ids, 2, starts)
    settings = dict(shuffle=True, seed=3, full_shuffle_max=full_shuffle_max, block=8, group=5)
    straight = WindowBatcher(windows, 7, **settings)
    expected = [straight.next_batch() for _ in range(150)]  # about two epochs
    first = WindowBatcher(windows, 7, **settings)
    for _ in range(61):
        first.next_batch()
    state = first.state()
    resumed = WindowBatcher(windows, 7, epoch=state["epoch"], offset=state["offset"], **settings)
    for want in expected[61:]:
        assert all(np.array_equal(a, b) for a, b in zip(resumed.next_batch(), want))


def _sentences_corpus(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 40, n).astype(np.uint32)
    starts = np.unique(np.concatenate(([0], rng.integers(1, n, 200))))
    return ids, starts


@pytest.mark.parametrize("batch_size", [1, 7, 64, 5000])
@pytest.mark.parametrize("kind", ["shuffled", "blocks", "in order", "course"])
def test_batches_gathered_ahead_equal_batches_gathered_one_by_one(monkeypatch, batch_size,
                                                                  kind):
    """The batchers read many batches' windows at once; the batches stay exactly the same,
    across epoch ends, resumes and whatever the number gathered ahead."""
    import cbow.data.batching as batching

    ids, starts = _sentences_corpus()
    windows = Windows(ids, 2, starts)
    default = batching.GATHER_AHEAD

    def batcher(**state):
        if kind == "course":
            return WindowCourseBatcher(windows, batch_size, **state)
        return WindowBatcher(windows, batch_size, shuffle=kind != "in order", seed=3,
                             full_shuffle_max=100 if kind == "blocks" else 10**6,
                             block=50, group=4, **state)

    def served(ahead, steps, **state):
        monkeypatch.setattr(batching, "GATHER_AHEAD", ahead)
        b = batcher(**state)
        out = [b.next_batch() for _ in range(steps)]
        return [(ctx.copy(), ctr.copy()) for ctx, ctr in out], b.state()

    steps = 3 * -(-windows.n_windows // batch_size) + 2  # three epochs and a bit
    one_by_one, end = served(1, steps)
    for ahead in (default, 100, 2 * batch_size + 1):
        got, got_end = served(ahead, steps)
        assert got_end == end
        for (ctx, ctr), (ctx1, ctr1) in zip(got, one_by_one, strict=True):
            assert ctx.dtype == ctx1.dtype == ctr.dtype == ctr1.dtype == np.int64
            assert np.array_equal(ctx, ctx1) and np.array_equal(ctr, ctr1)
    # resumed from the state after a few batches: the same batches follow
    b = batcher()
    for _ in range(5):
        b.next_batch()
    state = {k: v for k, v in b.state().items() if k != "kind"}
    resumed, resumed_end = served(default, steps - 5, **state)
    assert resumed_end == end
    for (ctx, ctr), (ctx1, ctr1) in zip(resumed, one_by_one[5:], strict=True):
        assert np.array_equal(ctx, ctx1) and np.array_equal(ctr, ctr1)
