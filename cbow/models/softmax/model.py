"""The course's CBOW model: parameters, softmax, and the fast sparse training step.

Maths (course notation, one example per column)::

    z1 = W1 x + b1        x = mean of the context one-hots, shape (V, 1)     } the encoder
    h  = ReLU(z1)         (N, 1)                                              }
    z  = W2 h + b2        (V, 1)                                              } the output:
    yhat = softmax(z)     cost = -log yhat[center]                            } full softmax

The code keeps the two halves apart: the **encoder** (context ids -> hidden: :func:`encode`,
:func:`encoder_backward`, :func:`update_encoder`) owns ``W1`` and ``b1``; the **full-softmax
output** (:func:`softmax_output_backward`, :func:`update_output`) owns ``W2`` and ``b2``. The
training path never builds ``x``: ``W1 x`` is the mean of the context words' columns of W1 (a
gather), and ``grad_W1 = l1 x^T / m`` touches only those columns (a scatter-add). Work is done
batch-major: row ``b`` of every buffer is example ``b``.
"""
from __future__ import annotations

import numpy as np

from cbow.models.initial import course_draws

DTYPES = {"float64": np.float64, "float32": np.float32}


class Params:
    """CBOW weights in the course's shapes, laid out in memory for the fast step.

    - ``W1`` is ``(N, V)`` but stored column-major, so that ``W1.T`` (the word vectors,
      ``(V, N)``) is row-major and a word's column is one contiguous run for gathers and scatters.
    - ``W2`` ``(V, N)`` and ``b2`` ``(V, 1)`` are read-only properties: views of one
      ``(V, N + 1)`` block, ``W2b``. With a column of ones appended to ``h``, one matrix product
      gives ``W2 h + b2`` and another gives both of their gradients, which saves passes over
      ``(V, batch)`` arrays. Change them in place (``params.W2[...] = ...``); assigning a new
      array to ``params.W2`` is refused, since it would silently detach it from the block.
      The block is column-major, like its gradient in :class:`Workspace`: OpenBLAS computes
      that gradient faster in this layout, and the update is then one contiguous pass.
    """

    def __init__(self, W1, W2, b1, b2):
        self.W1 = np.asfortranarray(W1)  # (N, V)
        self.b1 = np.asarray(b1)         # (N, 1)
        N, V = self.W1.shape
        given = {"W2": W2, "b1": b1, "b2": b2}
        expected = {"W2": (V, N), "b1": (N, 1), "b2": (V, 1)}
        for name, shape in expected.items():
            got = np.shape(given[name])
            if got != shape:
                raise ValueError(f"{name} must have shape {shape} to match W1 {self.W1.shape}; "
                                 f"got {got}")
        dtypes = {np.asarray(a).dtype for a in (W1, W2, b1, b2)}
        if len(dtypes) != 1:
            raise ValueError(f"all parameters must share one dtype; got {sorted(map(str, dtypes))}")
        self.W2b = np.empty((V, N + 1), self.W1.dtype, order="F")  # [W2 | b2]
        self.W2b[:, :N], self.W2b[:, N:] = W2, b2

    @property
    def W2(self) -> np.ndarray:
        return self.W2b[:, :-1]

    @property
    def b2(self) -> np.ndarray:
        return self.W2b[:, -1:]

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
        return all(np.isfinite(a).all() for a in (self.W1, self.b1, self.W2b))


def initialize_model(N: int, V: int, random_seed: int = 1, dtype=np.float64) -> Params:
    """Uniform [0, 1) weights drawn in the course's order: W1, W2, b1, b2.

    Uses a private ``RandomState`` seeded like ``np.random.seed(random_seed)``, so the numbers are
    the course's without touching numpy's global random state. ``float32`` rounds those numbers.
    """
    if N < 1 or V < 1:
        raise ValueError(f"N and V must be >= 1; got N={N}, V={V}")
    return Params(*course_draws(N, V, random_seed)).astype(dtype)


def softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    """Softmax along ``axis`` (the course's columns by default), stable for large scores."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


class Workspace:
    """Buffers reused by every step, sized for batches of up to ``batch_size`` examples.

    After :func:`compute_gradients` on a batch of ``B = m`` examples:

    - ``grad_z1[:B]`` ``(B, N)``: the gradient of the batch's mean loss with respect to ``z1``
      (the course's ``l1 / m``, ReLU mask applied);
    - ``grad_b1`` ``(N,)``: the gradient of ``b1``;
    - ``update_W2b`` ``(V, N + 1)``: ``scale`` (the learning rate, in a step) times the
      gradient of ``[W2 | b2]``, i.e. what the step subtracts: folding the learning rate into
      the product saves a pass over a ``(V, N + 1)`` array. ``update_W2`` and ``update_b2`` are
      its views.
    """

    def __init__(self, N: int, V: int, batch_size: int, dtype=np.float64):
        self.batch_size = batch_size
        self.dtype = np.dtype(dtype)
        self.z1 = np.empty((batch_size, N), self.dtype)
        self.h1 = np.ones((batch_size, N + 1), self.dtype)  # [h, 1]: the 1 multiplies b2
        self.h = self.h1[:, :N]
        self.scores = np.empty((batch_size, V), self.dtype)  # logits, then exp(logits - max)
        self.row_max = np.empty((batch_size, 1), self.dtype)
        self.row_sum = np.empty((batch_size, 1), self.dtype)
        self.ones_V = np.ones(V, self.dtype)  # row sums as a BLAS product (faster than np.sum)
        self.row_scale = np.empty((batch_size, 1), self.dtype)
        self.weighted_h1 = np.empty((batch_size, N + 1), self.dtype)
        self.grad_z1 = np.empty((batch_size, N), self.dtype)
        # column-major: OpenBLAS computes E^T [h, 1] faster as the transposed product
        self.update_W2b = np.empty((V, N + 1), self.dtype, order="F")
        self.update_W2 = self.update_W2b[:, :N]
        self.update_b2 = self.update_W2b[:, N]
        self.grad_b1 = np.empty(N, self.dtype)

    @classmethod
    def for_params(cls, params: Params, batch_size: int) -> "Workspace":
        return cls(params.N, params.V, batch_size, params.dtype)


# ------------------------------------------------------------------ the encoder: W1, b1, ReLU

def encode(params: Params, context_ids: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``z1`` and ``[h, 1]``, ``(B, N)`` and ``(B, N + 1)``: mean of context columns of W1, + b1."""
    B, two_C = context_ids.shape
    z1 = ws.z1[:B]
    np.sum(params.W1.T[context_ids], axis=1, out=z1)
    z1 *= 1.0 / two_C
    z1 += params.b1[:, 0]
    np.maximum(z1, 0, out=ws.h[:B])
    return z1, ws.h1[:B]


def encoder_backward(z1: np.ndarray, grad_z1: np.ndarray, ws: Workspace) -> None:
    """Turn ``dL/dh`` in ``grad_z1`` (B, N) into ``dL/dz1`` in place; ``ws.grad_b1`` := its sum."""
    grad_z1[z1 < 0] = 0  # ReLU derivative (the course masks where z1 < 0)
    np.sum(grad_z1, axis=0, out=ws.grad_b1)


def update_encoder(params: Params, context_ids: np.ndarray, ws: Workspace, alpha: float) -> None:
    """Gradient-descent update of ``b1`` and of the context words' columns of ``W1``."""
    B, two_C = context_ids.shape
    params.b1[:, 0] -= alpha * ws.grad_b1
    # Each context word's column of W1 moves by alpha * l1[b] / (m * 2C). A word may occur several
    # times in the batch, and fancy-index assignment would keep only its last update, so the
    # updates are sorted by word and summed per word (np.add.reduceat, much cheaper than
    # np.subtract.at); a stable sort keeps each word's updates in example order.
    ids = context_ids.ravel()
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    word_updates = ws.grad_z1[:B][order // two_C]
    word_updates *= alpha / two_C
    params.W1.T[sorted_ids[first]] -= np.add.reduceat(word_updates, first, axis=0)


# -------------------------------------------------------------- the output: full softmax

def _shifted_logits(params: Params, h1: np.ndarray, ws: Workspace) -> np.ndarray:
    """``ws.scores[:B]`` := logits ``h W2^T + b2`` minus each row's max; returns that view."""
    B = h1.shape[0]
    scores = np.matmul(h1, params.W2b.T, out=ws.scores[:B])
    row_max = np.max(scores, axis=1, keepdims=True, out=ws.row_max[:B])
    scores -= row_max
    return scores


def softmax_output_backward(params: Params, h1: np.ndarray, center_ids: np.ndarray,
                            ws: Workspace, scale: float) -> tuple[float, np.ndarray]:
    """Loss and gradients of the full softmax for hidden rows ``h1`` ``(B, N + 1)``.

    Returns the batch's mean cross-entropy and ``dL/dh`` ``(B, N)`` (a view of
    ``ws.grad_z1``, which the encoder then masks); ``ws.update_W2b`` := ``scale`` times the
    gradient of ``[W2 | b2]``.

    With ``E = exp(z - max)``, row sums ``s`` and ``r = 1 / (m s)``, the course's
    ``dz = (yhat - y) / m`` is ``r (E - s y)``. It is never formed: ``E - s y`` changes only the
    B center entries of E in place, and ``r`` scales the small ``(B, N)`` operands instead of
    the ``(B, V)`` one. ``ws.scores`` is left holding ``E - s y``.
    """
    B = center_ids.shape[0]
    rows = np.arange(B)
    scores = _shifted_logits(params, h1, ws)
    center_scores = scores[rows, center_ids]
    np.exp(scores, out=scores)
    row_sum = ws.row_sum[:B]
    np.matmul(scores, ws.ones_V, out=row_sum[:, 0])
    loss = float(np.mean(np.log(row_sum[:, 0]) - center_scores))
    r = np.reciprocal(row_sum * B, out=ws.row_scale[:B])
    # dz = r (E - s y): subtracting s from each row's center entry of E (B entries, no pass)
    # lets both products below yield dz-based results directly.
    scores[rows, center_ids] -= row_sum[:, 0]
    # dL/dh = dz W2 = r (E' W2), using W2 before any update.
    grad_h = np.matmul(scores, params.W2, out=ws.grad_z1[:B])
    grad_h *= r
    # [grad_W2 | grad_b2] = dz^T [h, 1] = E'^T (r [h, 1]), times scale.
    weighted = np.multiply(h1, r * scale, out=ws.weighted_h1[:B])
    np.matmul(scores.T, weighted, out=ws.update_W2b)
    return loss, grad_h


def update_output(params: Params, ws: Workspace) -> None:
    """``[W2 | b2] -= ws.update_W2b`` (which already holds the learning rate)."""
    params.W2b -= ws.update_W2b


# ------------------------------------------------------------------------- the whole model

def compute_gradients(params: Params, context_ids: np.ndarray, center_ids: np.ndarray,
                      ws: Workspace, scale: float = 1.0) -> float:
    """Forward and backward pass for one batch; gradients are left in ``ws``.

    Parameters
    ----------
    context_ids : ndarray of int, shape (B, 2C)
    center_ids : ndarray of int, shape (B,)
    scale : float
        Multiplies the ``[W2 | b2]`` gradient (a step passes its learning rate).

    Returns
    -------
    float
        The batch's mean cross-entropy (the course's ``compute_cost``). What ``ws`` holds
        afterwards is listed in :class:`Workspace`.
    """
    z1, h1 = encode(params, context_ids, ws)
    loss, grad_h = softmax_output_backward(params, h1, center_ids, ws, scale)
    encoder_backward(z1, grad_h, ws)
    return loss


def train_step(params: Params, context_ids: np.ndarray, center_ids: np.ndarray, alpha: float,
               ws: Workspace) -> float:
    """One step of gradient descent on one batch; returns the batch loss before the update."""
    loss = compute_gradients(params, context_ids, center_ids, ws, scale=alpha)
    update_output(params, ws)
    update_encoder(params, context_ids, ws, alpha)
    return loss


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
        _, h1 = encode(params, ctx, ws)
        scores = _shifted_logits(params, h1, ws)
        center_scores = scores[np.arange(ctr.shape[0]), ctr]
        np.exp(scores, out=scores)
        total += float(np.sum(np.log(scores.sum(axis=1)) - center_scores))
    return total / n
