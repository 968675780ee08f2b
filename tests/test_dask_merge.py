"""How a round's pieces become the next round's weights on a cluster (cbow.dask_executor)."""
import numpy as np

from cbow.dask_executor import _merge


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
