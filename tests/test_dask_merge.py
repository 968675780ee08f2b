"""How a round's pieces become the next round's weights on a cluster (cbow.dask_executor)."""
import numpy as np

from cbow.dask_executor import _merge


def test_sum_keeps_each_pieces_whole_update_and_mean_divides_it():
    start = [np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], np.float32)]
    a = start[0].copy()
    a[0] += 0.5                  # only piece a trained row 0
    b = start[0].copy()
    b[1] -= 0.25                 # only piece b trained row 1
    a[2] += 0.125
    b[2] += 0.125                # both trained row 2
    summed = _merge(start, [(a,), (b,)], "sum")[0]
    assert summed.dtype == np.float32
    assert np.array_equal(summed, [[1.5, 1.5], [1.75, 1.75], [3.25, 3.25]])
    mean = _merge(start, [(a,), (b,)], "mean")[0]
    assert np.array_equal(mean, [[1.25, 1.25], [1.875, 1.875], [3.125, 3.125]])


def test_one_piece_is_its_copy_exactly():
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(50, 4)).astype(np.float32) * 1e-9]
    piece = (rng.normal(size=(50, 4)).astype(np.float32) * 1e9,)
    for how in ("sum", "mean"):
        assert _merge(start, [piece], how)[0].tobytes() == piece[0].tobytes()
