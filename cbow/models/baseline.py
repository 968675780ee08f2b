"""The baseline every model of the centre word should beat: a unigram model's held-out loss.

An objective whose loss is a cross-entropy gives it as its ``baseline()`` beside its held-out
loss, so that a loss curve can be read against the loss of ignoring the context altogether.
"""
from __future__ import annotations

import math

import numpy as np

from cbow.errors import InputError


def unigram_cross_entropy(train_ids, heldout_ids, V: int) -> float:
    """Held-out cross-entropy, in nats, of the add-one-smoothed unigram model of the training ids.

    The model ignores context: ``p(w) = (count(w) + 1) / (n_train + V)``, where ``count(w)``
    is how often id ``w`` occurs in ``train_ids`` and ``n_train`` their number. Adding one to
    every count (Laplace smoothing) gives words never seen in training a small probability,
    so the cross-entropy stays finite. The result is the mean of ``-log p(w)`` over
    ``heldout_ids``: the loss any model of the centre word should beat. To compare it with a
    CBOW held-out loss, pass the words that loss is averaged over (the centre words of the
    held-out windows).

    Parameters
    ----------
    train_ids : array_like of int, shape (n_train,)
        Word ids in ``[0, V)`` of the training tokens.
    heldout_ids : array_like of int, shape (n_heldout,)
        Word ids in ``[0, V)`` of the held-out tokens; at least one.
    V : int
        Vocabulary size.

    Returns
    -------
    float
        ``-mean(log p(heldout_ids))``: ``log(V)`` with no training tokens (the uniform model).
    """
    train_ids = np.asarray(train_ids).reshape(-1)
    heldout_ids = np.asarray(heldout_ids).reshape(-1)
    if V < 1:
        raise InputError(f"V must be >= 1; got {V}")
    if heldout_ids.size == 0:
        raise InputError("heldout_ids is empty: the cross-entropy of no tokens is undefined")
    for name, ids in (("train_ids", train_ids), ("heldout_ids", heldout_ids)):
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0
                         or ids.max() >= V):
            raise InputError(f"{name} must be integer word ids in [0, {V})")
    counts = np.bincount(train_ids.astype(np.int64, copy=False), minlength=V)  # (V,)
    log_p = np.log(counts + 1.0) - math.log(train_ids.size + V)  # (V,)
    return float(-log_p[heldout_ids].mean())
