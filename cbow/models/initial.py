"""Initial weights more than one model family draws: the course's.

The course's model starts every weight uniform in [0, 1), drawn from one generator in a fixed
order; word2vec's objectives may start the same way (``model.init: course``), their output
layer sized for the objective.
"""
from __future__ import annotations

import numpy as np

__all__ = ["course_draws"]


def course_draws(N: int, V: int, random_seed: int = 1, output_rows: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The course's initial weights as float64 arrays: ``W1 (N, V)``, ``W2 (rows, N)``,
    ``b1 (N, 1)``, ``b2 (rows, 1)``, uniform in [0, 1) and drawn in that order.

    ``output_rows`` (default ``V``) is the number of output rows: another objective's output
    layer (hierarchical softmax's ``V - 1`` tree nodes) takes the same draws in the same order.
    """
    rows = V if output_rows is None else output_rows
    rng = np.random.RandomState(random_seed)
    return rng.rand(N, V), rng.rand(rows, N), rng.rand(N, 1), rng.rand(rows, 1)
