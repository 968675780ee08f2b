"""The objective seam: what the trainer, checkpoints and exports ask of a model.

An objective owns its parameters (named arrays, saved as they are in checkpoints), the buffers
of its step, its training step, its held-out loss and the word vectors it can give. The trainer
knows nothing else of it, so new objectives (word2vec's negative sampling and hierarchical
softmax) plug in beside the course's full softmax by registering here.

``OBJECTIVES`` maps the ``model.objective`` name (stored in every checkpoint's meta) to its class.
"""
from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

from cbow import model
from cbow.errors import InputError


class Objective(Protocol):
    """What the trainer needs from a model (see :class:`SoftmaxObjective` for the contract)."""

    name: ClassVar[str]
    VECTORS: ClassVar[tuple[str, ...]]  # the vector sets it can export; the first is the default

    @property
    def V(self) -> int: ...

    @property
    def N(self) -> int: ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    def all_finite(self) -> bool: ...

    def train_step(self, context_ids: np.ndarray, center_ids: np.ndarray, alpha: float) -> float: ...

    def heldout_loss(self, context_ids: np.ndarray, center_ids: np.ndarray) -> float: ...


def check_which(cls, which: str) -> None:
    if which not in cls.VECTORS:
        raise InputError(f"a {cls.name} model gives the vectors {', '.join(cls.VECTORS)}; "
                         f"got {which!r}")


class SoftmaxObjective:
    """The course's model: ReLU encoder and full softmax, trained by the sparse batch step.

    Parameters
    ----------
    params : model.Params
        ``W1 (N, V)``, ``W2 (V, N)``, ``b1 (N, 1)``, ``b2 (V, 1)``, updated in place.
    batch_size : int
        The largest batch a step or an evaluation chunk will see; the step's ``(B, V)``
        buffers are sized for it, and the held-out loss borrows them between steps.
    """

    name: ClassVar[str] = "softmax"
    VECTORS: ClassVar[tuple[str, ...]] = ("mean", "w1", "w2")

    def __init__(self, params: model.Params, batch_size: int):
        self.params = params
        self.batch_size = batch_size
        self.workspace = model.Workspace.for_params(params, batch_size)

    @classmethod
    def initialize(cls, N: int, V: int, seed: int, dtype, batch_size: int) -> "SoftmaxObjective":
        """The course's initialisation (``initialize_model``), rounded to ``dtype``."""
        return cls(model.initialize_model(N, V, seed, dtype), batch_size)

    @staticmethod
    def estimate_bytes(N: int, V: int, batch_size: int, dtype) -> dict[str, int]:
        """Bytes the model will hold: ``parameters`` (also a checkpoint's size) and ``buffers``."""
        item = np.dtype(dtype).itemsize
        return {"parameters": (2 * N * V + N + V) * item,
                # the (B, V) scores and the (V, N + 1) update dominate the step's buffers
                "buffers": (batch_size * V + V * (N + 1) + 6 * batch_size * (N + 1)) * item}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], batch_size: int) -> "SoftmaxObjective":
        return cls(model.Params(**_take(cls, arrays, ("W1", "W2", "b1", "b2"))), batch_size)

    @property
    def V(self) -> int:
        return self.params.V

    @property
    def N(self) -> int:
        return self.params.N

    @property
    def dtype(self) -> np.dtype:
        return self.params.dtype

    def arrays(self) -> dict[str, np.ndarray]:
        return self.params.arrays()

    def all_finite(self) -> bool:
        return self.params.all_finite()

    def train_step(self, context_ids: np.ndarray, center_ids: np.ndarray, alpha: float) -> float:
        """One gradient-descent step on a batch; the batch's mean loss before the update."""
        return model.train_step(self.params, context_ids, center_ids, alpha, self.workspace)

    def heldout_loss(self, context_ids: np.ndarray, center_ids: np.ndarray) -> float:
        """Mean cross-entropy in nats over the windows, in chunks of ``batch_size``."""
        # The step's buffers hold nothing between steps, so evaluation can borrow them.
        return model.mean_loss(self.params, context_ids, center_ids,
                               batch_size=self.batch_size, ws=self.workspace)

    @classmethod
    def vectors(cls, arrays: dict[str, np.ndarray], which: str = "mean") -> np.ndarray:
        """One ``(V, N)`` row per word from the saved arrays (a new C-ordered array).

        ``"mean"``: ``(W1^T + W2) / 2``, the course's embeddings; ``"w1"``: ``W1^T``, the
        context (input) vectors; ``"w2"``: ``W2``, the center (output) vectors.
        """
        check_which(cls, which)
        W1, W2 = _take(cls, arrays, ("W1", "W2")).values()
        if which == "mean":
            return (W1.T + W2) / 2
        if which == "w1":
            return np.array(W1.T, order="C")  # a copy: later training must not change it
        return np.array(W2, order="C")


def _take(cls, arrays: dict[str, np.ndarray], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    missing = [n for n in names if n not in arrays]
    if missing:
        raise InputError(f"a {cls.name} model needs the arrays {', '.join(names)}; "
                         f"{', '.join(missing)} missing (found {', '.join(sorted(arrays))})")
    return {n: arrays[n] for n in names}


OBJECTIVES: dict[str, type] = {SoftmaxObjective.name: SoftmaxObjective}


def objective_class(name: str) -> type:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise InputError(f"unknown objective {name!r}; cbow knows "
                         f"{', '.join(OBJECTIVES)}") from None
