"""How a round's pieces become the next round's weights on a cluster (cbow.parallel.dask_executor)."""
import numpy as np

from cbow.parallel.dask_executor import _merge


def test_rows_keep_one_pieces_whole_update_and_average_shared_rows():
    start = [np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]], np.float32),
             np.array([0.0, 0.0], np.float32)]
    a, b = [x.copy() for x in start], [x.copy() for x in start]
    a[0][0] += 0.5                # only piece a trained row 0
    b[0][1, 1] -= 0.25            # only piece b trained row 1 (one of its numbers)
    a[0][2] += 0.125
    b[0][2] += 0.375              # both trained row 2; nobody row 3
    a[1][0] += 1.0                # a 1-D array: each entry is a row
    merged = _merge(start, [tuple(a), tuple(b)], "rows")
    assert merged[0].dtype == np.float32
    assert np.array_equal(merged[0], [[1.5, 1.5], [2.0, 1.75], [3.25, 3.25], [4.0, 4.0]])
    assert np.array_equal(merged[1], [1.0, 0.0])
    summed = _merge(start, [tuple(a), tuple(b)], "sum")
    assert np.array_equal(summed[0], [[1.5, 1.5], [2.0, 1.75], [3.5, 3.5], [4.0, 4.0]])
    mean = _merge(start, [tuple(a), tuple(b)], "mean")
    assert np.array_equal(mean[0], [[1.25, 1.25], [2.0, 1.875], [3.25, 3.25], [4.0, 4.0]])


def test_one_piece_is_its_copy_exactly():
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(50, 4)).astype(np.float32) * 1e-9]
    piece = (rng.normal(size=(50, 4)).astype(np.float32) * 1e9,)
    for how in ("sum", "rows", "mean"):
        assert _merge(start, [piece], how)[0].tobytes() == piece[0].tobytes()


def test_rss_keeps_lone_and_crossing_changes_and_shortens_agreeing_ones():
    start = [np.zeros((4, 2), np.float32), np.zeros(3, np.float32)]
    a, b = [x.copy() for x in start], [x.copy() for x in start]
    a[0][0] = [3.0, 4.0]            # only piece a trained row 0: its whole change
    a[0][1] = [1.0, 0.0]
    b[0][1] = [0.0, 1.0]            # orthogonal changes: |sum|^2 = 2 = the sum of squares
    a[0][2] = [1.0, 1.0]
    b[0][2] = [1.0, 1.0]            # equal changes: sqrt(2) times one, not 2 times
    a[0][3] = [2.0, 0.0]
    b[0][3] = [-1.0, 0.0]           # opposed changes: never lengthened
    a[1][:] = [1.0, 2.0, 0.0]
    b[1][:] = [1.0, -2.0, 0.0]      # a 1-D array: each entry is a row
    merged = _merge(start, [tuple(a), tuple(b)], "rss")
    assert merged[0].dtype == np.float32
    assert np.array_equal(merged[0][:2], [[3.0, 4.0], [1.0, 1.0]])
    assert np.allclose(merged[0][2], [np.sqrt(2.0)] * 2, rtol=1e-7)
    assert np.array_equal(merged[0][3], [1.0, 0.0])
    assert np.allclose(merged[1], [np.sqrt(2.0), 0.0, 0.0], rtol=1e-7)
    # k equal changes give sqrt(k) times one
    four = [tuple(x + 0.5 for x in start) for _ in range(4)]
    assert np.allclose(_merge(start, four, "rss")[0], 1.0)


def test_rss_with_one_piece_is_its_copy_exactly():
    rng = np.random.default_rng(1)
    start = [rng.normal(size=(50, 4)).astype(np.float32)]
    piece = (rng.normal(size=(50, 4)).astype(np.float32),)
    assert _merge(start, [piece], "rss")[0].tobytes() == piece[0].tobytes()
