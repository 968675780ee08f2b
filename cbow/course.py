"""The course's CBOW functions, with the course's names, signatures and dense shapes.

A learner can import these and compare a notebook, function by function, with the course's
reference numbers. They are built on the rest of the package (tokenizer, vocabulary, batcher,
initialisation) and use the dense ``(V, batch_size)`` matrices of the course: clear, and slow.
Training for real goes through :mod:`cbow.training.loop`, which uses the sparse path of :mod:`cbow.models.softmax.model`.

Example
-------
>>> from cbow import course
>>> data = course.preprocess(open("shakespeare.txt").read())     # doctest: +SKIP
>>> word2Ind, Ind2word = course.get_dict(data)                    # doctest: +SKIP
>>> x, y = next(course.get_batches(data, word2Ind, len(word2Ind), C=2, batch_size=4))  # +SKIP
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from cbow.models.softmax import model
from cbow.data.batching import CourseBatcher, check_batch_size, make_windows
from cbow.vectors.pca import pca_project
from cbow.data.text import course_tokenize
from cbow.data.vocab import Vocabulary

__all__ = ["preprocess", "get_dict", "get_batches", "initialize_model", "softmax", "forward_prop",
           "compute_cost", "back_prop", "gradient_descent", "compute_pca"]


def preprocess(text: str) -> list[str]:
    """The course's token stream: punctuation to '.', Punkt + NLTK-3.5 words, lower, alpha or '.'."""
    return course_tokenize(text)


def get_dict(data: list[str]) -> tuple[dict[str, int], dict[int, str]]:
    """``word2Ind`` and ``Ind2word`` over the sorted distinct words of ``data``."""
    words = Vocabulary.from_tokens(data).words
    return {w: i for i, w in enumerate(words)}, dict(enumerate(words))


def _one_hot_columns(ids: np.ndarray, V: int, weight: float = 1.0) -> np.ndarray:
    """Dense ``(V, B)`` matrix with ``weight`` added at ``(ids[b, j], b)`` (repeats add up)."""
    ids = ids.reshape(ids.shape[0], -1)
    out = np.zeros((V, ids.shape[0]))
    np.add.at(out, (ids, np.arange(ids.shape[0])[:, None]), weight)
    return out


def get_batches(data: list[str], word2Ind: dict[str, int], V: int, C: int,
                batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless dense batches ``(x, y)``, each ``(V, batch_size)``, in the course's order.

    ``x[:, b]`` is the average of the one-hots of example ``b``'s ``2C`` context words (a word seen
    twice gets ``2 / (2C)``), ``y[:, b]`` the one-hot of its center word. As in the course, the example
    that arrives when a batch is full is dropped.
    """
    check_batch_size(batch_size)
    ids = np.fromiter((word2Ind[w] for w in data), dtype=np.int64, count=len(data))
    context_ids, center_ids = make_windows(ids, C)
    for ctx, ctr in CourseBatcher(context_ids, center_ids, batch_size):
        yield _one_hot_columns(ctx, V, 1.0 / (2 * C)), _one_hot_columns(ctr, V)


def initialize_model(N: int, V: int, random_seed: int = 1):
    """``W1 (N, V)``, ``W2 (V, N)``, ``b1 (N, 1)``, ``b2 (V, 1)``, uniform [0, 1), course order."""
    p = model.initialize_model(N, V, random_seed)
    return np.ascontiguousarray(p.W1), p.W2, p.b1, p.b2


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax of each column of ``z`` (shape ``(V, batch_size)``)."""
    return model.softmax(z, axis=0)


def _relu_input(x, W1, b1):
    return np.dot(W1, x) + b1


def forward_prop(x, W1, W2, b1, b2):
    """``z = W2 ReLU(W1 x + b1) + b2`` and ``h``: shapes ``(V, batch)`` and ``(N, batch)``."""
    h = np.maximum(0, _relu_input(x, W1, b1))
    z = np.dot(W2, h) + b2
    return z, h


def compute_cost(y, yhat, batch_size):
    """Cross-entropy ``-(1/batch_size) * sum(y * log(yhat))``."""
    return float(-np.sum(y * np.log(yhat)) / batch_size)


def back_prop(x, yhat, y, h, W1, W2, b1, b2, batch_size):
    """Gradients ``grad_W1 (N, V)``, ``grad_W2 (V, N)``, ``grad_b1 (N, 1)``, ``grad_b2 (V, 1)``.

    ``l1 = W2^T (yhat - y)`` is set to 0 where ``z1 = W1 x + b1 < 0``: the true ReLU derivative.
    """
    dz = yhat - y
    l1 = np.dot(W2.T, dz)
    l1[_relu_input(x, W1, b1) < 0] = 0
    grad_W1 = np.dot(l1, x.T) / batch_size
    grad_W2 = np.dot(dz, h.T) / batch_size
    grad_b1 = np.sum(l1, axis=1, keepdims=True) / batch_size
    grad_b2 = np.sum(dz, axis=1, keepdims=True) / batch_size
    return grad_W1, grad_W2, grad_b1, grad_b2


def gradient_descent(data, word2Ind, N, V, num_iters, alpha=0.03, random_seed=282):
    """The course's training loop: batch 128, C = 2, course batcher, alpha *= 0.66 every 100 steps.

    Returns ``W1, W2, b1, b2`` after ``num_iters`` iterations.
    """
    W1, W2, b1, b2 = initialize_model(N, V, random_seed=random_seed)
    batch_size, C = 128, 2
    for iters, (x, y) in enumerate(get_batches(data, word2Ind, V, C, batch_size), start=1):
        z, h = forward_prop(x, W1, W2, b1, b2)
        yhat = softmax(z)
        cost = compute_cost(y, yhat, batch_size)
        if iters % 10 == 0:
            print(f"iters: {iters} cost: {cost:.6f}")
        grad_W1, grad_W2, grad_b1, grad_b2 = back_prop(x, yhat, y, h, W1, W2, b1, b2, batch_size)
        W1 = W1 - alpha * grad_W1
        W2 = W2 - alpha * grad_W2
        b1 = b1 - alpha * grad_b1
        b2 = b2 - alpha * grad_b2
        if iters == num_iters:
            break
        if iters % 100 == 0:
            alpha *= 0.66
    return W1, W2, b1, b2


def compute_pca(data: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Rows of ``data`` (``(m, n)``) projected on their first ``n_components`` principal axes."""
    return pca_project(data, n_components)
