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
    """CBOW weights in the course's shapes.

    ``W1`` is ``(N, V)`` but stored column-major, so that ``W1.T`` (the word vectors, ``(V, N)``)
    is row-major and a word's column is one contiguous run of memory for gathers and scatters.
    """

    W1: np.ndarray  # (N, V), Fortran order
    W2: np.ndarray  # (V, N)
    b1: np.ndarray  # (N, 1)
    b2: np.ndarray  # (V, 1)

    def __post_init__(self):
        self.W1 = np.asfortranarray(self.W1)
        self.W2 = np.ascontiguousarray(self.W2)
        N, V = self.W1.shape
        expected = {"W2": (V, N), "b1": (N, 1), "b2": (V, 1)}
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ValueError(f"{name} must have shape {shape} to match W1 {self.W1.shape}; "
                                 f"got {got}")
        dtypes = {a.dtype for a in self.arrays().values()}
        if len(dtypes) != 1:
            raise ValueError(f"all parameters must share one dtype; got {sorted(map(str, dtypes))}")

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
        self.h = np.empty((batch_size, N), self.dtype)
        self.scores = np.empty((batch_size, V), self.dtype)   # logits, then yhat, then dz
        self.l1 = np.empty((batch_size, N), self.dtype)
        self.grad_W2 = np.empty((V, N), self.dtype)
        self.grad_b2 = np.empty(V, self.dtype)
        self.grad_b1 = np.empty(N, self.dtype)
        self.row_max = np.empty((batch_size, 1), self.dtype)
        self.row_sum = np.empty((batch_size, 1), self.dtype)

    @classmethod
    def for_params(cls, params: Params, batch_size: int) -> "Workspace":
        return cls(params.N, params.V, batch_size, params.dtype)


def _hidden(params: Params, context_ids: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``z1`` and ``h``, each ``(B, N)``: the mean of the context columns of W1, plus b1."""
    B, two_C = context_ids.shape
    z1 = ws.z1[:B]
    np.sum(params.W1.T[context_ids], axis=1, out=z1)
    z1 *= 1.0 / two_C
    z1 += params.b1[:, 0]
    h = np.maximum(z1, 0, out=ws.h[:B])
    return z1, h


def _log_softmax_scores(params: Params, h: np.ndarray, ws: Workspace) -> np.ndarray:
    """Fill ``ws.scores[:B]`` with the logits shifted by each row's max; return that view."""
    B = h.shape[0]
    scores = np.matmul(h, params.W2.T, out=ws.scores[:B])
    scores += params.b2[:, 0]
    row_max = np.max(scores, axis=1, keepdims=True, out=ws.row_max[:B])
    scores -= row_max
    return scores


def compute_gradients(params: Params, context_ids: np.ndarray, center_ids: np.ndarray,
                      ws: Workspace) -> float:
    """Forward and backward pass for one batch; gradients are left in ``ws``.

    Parameters
    ----------
    context_ids : ndarray of int, shape (B, 2C)
    center_ids : ndarray of int, shape (B,)

    Returns
    -------
    float
        The batch's mean cross-entropy (the course's ``compute_cost``).

    After the call, for ``m = B``: ``ws.grad_W2`` is ``(V, N)``, ``ws.grad_b2`` ``(V,)``,
    ``ws.grad_b1`` ``(N,)``, and ``ws.l1[:B]`` holds ``l1 / m`` (masked by the ReLU derivative):
    row ``b`` of it, divided by ``2C``, is what each context word of example ``b`` adds to its
    column of ``grad_W1``.
    """
    B = center_ids.shape[0]
    rows = np.arange(B)
    z1, h = _hidden(params, context_ids, ws)
    scores = _log_softmax_scores(params, h, ws)
    centre_scores = scores[rows, center_ids]
    np.exp(scores, out=scores)
    row_sum = np.sum(scores, axis=1, keepdims=True, out=ws.row_sum[:B])
    loss = float(np.mean(np.log(row_sum[:, 0]) - centre_scores))
    # dz = (yhat - y) / m, written over the probabilities.
    scores *= 1.0 / (row_sum * B)
    scores[rows, center_ids] -= 1.0 / B
    dz = scores
    np.matmul(dz.T, h, out=ws.grad_W2)
    np.sum(dz, axis=0, out=ws.grad_b2)
    l1 = np.matmul(dz, params.W2, out=ws.l1[:B])
    l1[z1 < 0] = 0  # ReLU derivative (the course masks where z1 < 0)
    np.sum(l1, axis=0, out=ws.grad_b1)
    return loss


def apply_gradients(params: Params, context_ids: np.ndarray, ws: Workspace, alpha: float) -> None:
    """Gradient-descent update of all four parameters in place, from ``ws``."""
    B, two_C = context_ids.shape
    ws.grad_W2 *= alpha
    params.W2 -= ws.grad_W2
    params.b2[:, 0] -= alpha * ws.grad_b2
    params.b1[:, 0] -= alpha * ws.grad_b1
    # Each context word's column of W1 moves by alpha * l1[b] / (m * 2C); np.subtract.at adds up
    # repeated words correctly, where fancy-index assignment would keep only the last one.
    word_updates = np.repeat(ws.l1[:B] * (alpha / two_C), two_C, axis=0)
    np.subtract.at(params.W1.T, context_ids.ravel(), word_updates)


def train_step(params: Params, context_ids: np.ndarray, center_ids: np.ndarray, alpha: float,
               ws: Workspace) -> float:
    """One step of gradient descent on one batch; returns the batch loss before the update."""
    loss = compute_gradients(params, context_ids, center_ids, ws)
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
        _, h = _hidden(params, ctx, ws)
        scores = _log_softmax_scores(params, h, ws)
        centre_scores = scores[np.arange(ctr.shape[0]), ctr]
        np.exp(scores, out=scores)
        total += float(np.sum(np.log(scores.sum(axis=1)) - centre_scores))
    return total / n
