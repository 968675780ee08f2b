"""The CBOW model: parameters, softmax, and the fast sparse training step.

Maths (course notation, one example per column)::

    z1 = W1 x + b1        x = mean of the context one-hots, shape (V, 1)
    h  = ReLU(z1)         (N, 1)
    z  = W2 h + b2        (V, 1)
    yhat = softmax(z)     cost = -log yhat[centre]

The training path never builds ``x``: ``W1 x`` is the mean of the context words' columns of W1
(a gather), and ``grad_W1 = l1 x^T / m`` touches only those columns (a scatter-add). Work is done
batch-major: row ``b`` of every buffer is example ``b``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass
class Params:
    """CBOW weights in the course's shapes, laid out in memory for the fast step.

    - ``W1`` is ``(N, V)`` but stored column-major, so that ``W1.T`` (the word vectors,
      ``(V, N)``) is row-major and a word's column is one contiguous run for gathers and scatters.
    - ``W2`` ``(V, N)`` and ``b2`` ``(V, 1)`` are views of one ``(V, N + 1)`` block, ``W2b``:
      with a column of ones appended to ``h``, one matrix product gives ``W2 h + b2`` and another
      gives both of their gradients, which saves passes over ``(V, batch)`` arrays. The block
      is column-major, like its gradient in :class:`Workspace`: OpenBLAS computes that gradient
      faster in this layout, and the update is then one contiguous pass.
    """

    W1: np.ndarray  # (N, V), Fortran order
    W2: np.ndarray  # (V, N), a view of W2b[:, :N]
    b1: np.ndarray  # (N, 1)
    b2: np.ndarray  # (V, 1), a view of W2b[:, N:]

    def __post_init__(self):
        self.W1 = np.asfortranarray(self.W1)
        N, V = self.W1.shape
        expected = {"W2": (V, N), "b1": (N, 1), "b2": (V, 1)}
        for name, shape in expected.items():
            got = np.shape(getattr(self, name))
            if got != shape:
                raise ValueError(f"{name} must have shape {shape} to match W1 {self.W1.shape}; "
                                 f"got {got}")
        dtypes = {np.asarray(a).dtype for a in self.arrays().values()}
        if len(dtypes) != 1:
            raise ValueError(f"all parameters must share one dtype; got {sorted(map(str, dtypes))}")
        self.W2b = np.empty((V, N + 1), self.W1.dtype, order="F")
        self.W2b[:, :N], self.W2b[:, N:] = self.W2, self.b2
        self.W2, self.b2 = self.W2b[:, :N], self.W2b[:, N:]

    @property
    def N(self) -> int:
        return self.W1.shape[0]

    @property
    def V(self) -> int:
        return self.W1.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.W1.dtype

    def arrays(self) -> dict[str, np.ndarray]:
        return {"W1": self.W1, "W2": self.W2, "b1": self.b1, "b2": self.b2}

    def copy(self) -> "Params":
        return Params(**{k: a.copy(order="K") for k, a in self.arrays().items()})

    def astype(self, dtype) -> "Params":
        return Params(**{k: a.astype(dtype, order="K") for k, a in self.arrays().items()})

    def all_finite(self) -> bool:
        return all(np.isfinite(a).all() for a in self.arrays().values())


def initialize_model(N: int, V: int, random_seed: int = 1, dtype=np.float64) -> Params:
    """Uniform [0, 1) weights drawn in the course's order: W1, W2, b1, b2.

    Uses a private ``RandomState`` seeded like ``np.random.seed(random_seed)``, so the numbers are
    the course's without touching numpy's global random state. ``float32`` rounds those numbers.
    """
    if N < 1 or V < 1:
        raise ValueError(f"N and V must be >= 1; got N={N}, V={V}")
    rng = np.random.RandomState(random_seed)
    W1, W2, b1, b2 = rng.rand(N, V), rng.rand(V, N), rng.rand(N, 1), rng.rand(V, 1)
    return Params(W1, W2, b1, b2).astype(dtype)


def softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    """Softmax along ``axis`` (the course's columns by default), stable for large scores."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


class Workspace:
    """Buffers reused by every step, sized for batches of up to ``batch_size`` examples."""

    def __init__(self, N: int, V: int, batch_size: int, dtype=np.float64):
        self.batch_size = batch_size
        self.dtype = np.dtype(dtype)
        self.z1 = np.empty((batch_size, N), self.dtype)
        self.h1 = np.ones((batch_size, N + 1), self.dtype)  # [h, 1]: the 1 multiplies b2
        self.h = self.h1[:, :N]
        self.scores = np.empty((batch_size, V), self.dtype)  # logits, then exp(logits - max)
        self.row_max = np.empty((batch_size, 1), self.dtype)
        self.row_sum = np.empty((batch_size, 1), self.dtype)
        self.ones_V = np.ones(V, self.dtype)  # row sums as a BLAS product: 3-6x faster than np.sum
        self.row_scale = np.empty((batch_size, 1), self.dtype)
        self.weighted_h1 = np.empty((batch_size, N + 1), self.dtype)
        self.l1 = np.empty((batch_size, N), self.dtype)
        # column-major: OpenBLAS computes E^T [h, 1] faster as the transposed product
        self.grad_W2b = np.empty((V, N + 1), self.dtype, order="F")
        self.grad_W2 = self.grad_W2b[:, :N]
        self.grad_b2 = self.grad_W2b[:, N]
        self.grad_b1 = np.empty(N, self.dtype)

    @classmethod
    def for_params(cls, params: Params, batch_size: int) -> "Workspace":
        return cls(params.N, params.V, batch_size, params.dtype)


def _hidden(params: Params, context_ids: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``z1`` and ``[h, 1]``, ``(B, N)`` and ``(B, N + 1)``: mean of context columns of W1, + b1."""
    B, two_C = context_ids.shape
    z1 = ws.z1[:B]
    np.sum(params.W1.T[context_ids], axis=1, out=z1)
    z1 *= 1.0 / two_C
    z1 += params.b1[:, 0]
    np.maximum(z1, 0, out=ws.h[:B])
    return z1, ws.h1[:B]


def _shifted_logits(params: Params, h1: np.ndarray, ws: Workspace) -> np.ndarray:
    """``ws.scores[:B]`` := logits ``h W2^T + b2`` minus each row's max; returns that view."""
    B = h1.shape[0]
    scores = np.matmul(h1, params.W2b.T, out=ws.scores[:B])
    row_max = np.max(scores, axis=1, keepdims=True, out=ws.row_max[:B])
    scores -= row_max
    return scores


def compute_gradients(params: Params, context_ids: np.ndarray, center_ids: np.ndarray,
                      ws: Workspace, scale: float = 1.0) -> float:
    """Forward and backward pass for one batch; gradients are left in ``ws``.

    Parameters
    ----------
    context_ids : ndarray of int, shape (B, 2C)
    center_ids : ndarray of int, shape (B,)
    scale : float
        Multiplies the ``W2``/``b2`` gradients (the step passes its learning rate, which saves
        a pass over them).

    Returns
    -------
    float
        The batch's mean cross-entropy (the course's ``compute_cost``).

    After the call, with ``m = B``: ``ws.grad_W2`` ``(V, N)`` and ``ws.grad_b2`` ``(V,)`` hold
    ``scale`` times their gradients, ``ws.grad_b1`` ``(N,)`` the gradient of b1, and
    ``ws.l1[:B]`` holds ``l1 / m`` masked by the ReLU derivative: row ``b`` of it, divided by
    ``2C``, is what each context word of example ``b`` adds to its column of ``grad_W1``.

    Notes
    -----
    With ``E = exp(z - max)``, row sums ``s`` and ``r = 1 / (m s)``, the course's
    ``dz = (yhat - y) / m`` is ``r (E - s y)``. It is never formed: ``E - s y`` changes only the
    B centre entries of E in place, and ``r`` scales the small ``(B, N)`` operands instead of
    the ``(B, V)`` one. ``ws.scores`` is left holding ``E - s y``.
    """
    B = center_ids.shape[0]
    rows = np.arange(B)
    z1, h1 = _hidden(params, context_ids, ws)
    scores = _shifted_logits(params, h1, ws)
    centre_scores = scores[rows, center_ids]
    np.exp(scores, out=scores)
    row_sum = ws.row_sum[:B]
    np.matmul(scores, ws.ones_V, out=row_sum[:, 0])
    loss = float(np.mean(np.log(row_sum[:, 0]) - centre_scores))
    r = np.reciprocal(row_sum * B, out=ws.row_scale[:B])
    # dz = r (E - s y): subtracting s from each row's centre entry of E (B entries, no pass)
    # lets both products below yield dz-based results directly.
    scores[rows, center_ids] -= row_sum[:, 0]
    # l1 = dz W2 = r (E' W2), using W2 before any update.
    l1 = np.matmul(scores, params.W2, out=ws.l1[:B])
    l1 *= r
    l1[z1 < 0] = 0  # ReLU derivative (the course masks where z1 < 0)
    np.sum(l1, axis=0, out=ws.grad_b1)
    # [grad_W2 | grad_b2] = dz^T [h, 1] = E'^T (r [h, 1]), times scale.
    weighted = np.multiply(h1, r * scale, out=ws.weighted_h1[:B])
    np.matmul(scores.T, weighted, out=ws.grad_W2b)
    return loss


def apply_gradients(params: Params, context_ids: np.ndarray, ws: Workspace, alpha: float) -> None:
    """Gradient-descent update of all four parameters in place, from ``ws``.

    ``ws.grad_W2b`` must already hold ``alpha`` times its gradient, as left by
    ``compute_gradients(..., scale=alpha)``.
    """
    B, two_C = context_ids.shape
    params.W2b -= ws.grad_W2b
    params.b1[:, 0] -= alpha * ws.grad_b1
    # Each context word's column of W1 moves by alpha * l1[b] / (m * 2C). A word may occur several
    # times in the batch, and fancy-index assignment would keep only its last update, so the
    # updates are sorted by word and summed per word (np.add.reduceat, much cheaper than
    # np.subtract.at); a stable sort keeps each word's updates in example order.
    ids = context_ids.ravel()
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    word_updates = ws.l1[:B][order // two_C]
    word_updates *= alpha / two_C
    params.W1.T[sorted_ids[first]] -= np.add.reduceat(word_updates, first, axis=0)


def train_step(params: Params, context_ids: np.ndarray, center_ids: np.ndarray, alpha: float,
               ws: Workspace) -> float:
    """One step of gradient descent on one batch; returns the batch loss before the update."""
    loss = compute_gradients(params, context_ids, center_ids, ws, scale=alpha)
    apply_gradients(params, context_ids, ws, alpha)
    return loss


def dense_grad_W1(context_ids: np.ndarray, ws: Workspace, V: int) -> np.ndarray:
    """The ``(N, V)`` ``grad_W1`` that :func:`compute_gradients` applies sparsely (for checks)."""
    B, two_C = context_ids.shape
    grad = np.zeros((V, ws.l1.shape[1]), ws.dtype)
    np.add.at(grad, context_ids.ravel(), np.repeat(ws.l1[:B] / two_C, two_C, axis=0))
    return grad.T


def mean_loss(params: Params, context_ids: np.ndarray, center_ids: np.ndarray,
              batch_size: int = 1024, ws: Workspace | None = None) -> float:
    """Mean cross-entropy over many windows, computed in chunks of ``batch_size``."""
    n = center_ids.shape[0]
    if n == 0:
        raise ValueError("no windows to evaluate")
    if ws is None or ws.batch_size < batch_size:
        ws = Workspace.for_params(params, batch_size)
    total = 0.0
    for start in range(0, n, batch_size):
        ctx, ctr = context_ids[start:start + batch_size], center_ids[start:start + batch_size]
        _, h1 = _hidden(params, ctx, ws)
        scores = _shifted_logits(params, h1, ws)
        centre_scores = scores[np.arange(ctr.shape[0]), ctr]
        np.exp(scores, out=scores)
        total += float(np.sum(np.log(scores.sum(axis=1)) - centre_scores))
    return total / n
