"""Windows and batchers on a small corpus written by the test."""
import numpy as np
import pytest

from cbow import course
from cbow.batching import CourseBatcher, EpochBatcher, make_windows

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
