"""The course's model as an objective: ReLU encoder and full softmax, by batches of windows."""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from cbow.models.softmax import model
from cbow.data.batching import Windows, WindowBatcher, WindowCourseBatcher
from cbow.models.baseline import unigram_cross_entropy
from cbow.models.objective import ParamsObjective, StepResult, check_which, collapsed_relu, take
from cbow.registry import OBJECTIVES

if TYPE_CHECKING:
    from cbow.models.checkpoint import Checkpoint
    from cbow.config import Config
    from cbow.data.training_data import TrainingData
    from cbow.data.vocab import Vocabulary


class SoftmaxObjective(ParamsObjective):
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
    VECTORS: ClassVar[tuple[str, ...]] = OBJECTIVES.get("softmax").vectors  # declared there
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool] = True  # over the vocabulary: a unigram model compares
    ARRAYS: ClassVar[tuple[str, ...]] = ("W1", "W2", "b1", "b2")
    # every array, by word (W1 (N, V): columns; W2, b2: rows); b1 whole
    CARRIED: ClassVar[dict[str, int | None]] = {"W1": 1, "W2": 0, "b1": None, "b2": 0}

    def __init__(self, params: model.Params, batch_size: int):
        self.params = params
        self.batch_size = batch_size
        self.workspace = model.Workspace.for_params(params, batch_size)

    @classmethod
    def build(cls, cfg: "Config", vocab: "Vocabulary",
              checkpoint: "Checkpoint | None" = None) -> "SoftmaxObjective":
        """The course's initialisation (``initialize_model``, rounded to ``train.dtype``), or
        the checkpoint's arrays."""
        t = cfg.train
        if checkpoint is not None:
            return cls(model.Params(**take(cls, checkpoint.arrays, cls.ARRAYS)), t.batch_size)
        return cls(model.initialize_model(cfg.model.N, len(vocab), t.seed, model.DTYPES[t.dtype]),
                   t.batch_size)

    @staticmethod
    def estimate_bytes(cfg: "Config", V: int) -> dict[str, int]:
        N, batch_size = cfg.model.N, cfg.train.batch_size
        item = np.dtype(model.DTYPES[cfg.train.dtype]).itemsize
        return {"parameters": (2 * N * V + N + V) * item,
                # the (B, V) scores and the (V, N + 1) update dominate the step's buffers
                "buffers": (batch_size * V + V * (N + 1) + 6 * batch_size * (N + 1)) * item}

    def feed(self, cfg: "Config", data: "TrainingData", state: dict | None,
             stop_flag: np.ndarray | None = None, executor=None) -> "WindowFeed":
        """Its feed; the full softmax's products run in BLAS, so ``executor`` is not used."""
        return WindowFeed(cfg, data, self, state, stop_flag)

    def state(self) -> dict:
        """Nothing beyond the arrays: the batch order is the batcher's state."""
        return {}

    def health(self) -> str | None:
        """Whether the ReLU encoder collapsed (every unit zero for every context)."""
        return collapsed_relu(self.params.W1.max(axis=1), self.params.b1)

    def train_step(self, context_ids: np.ndarray, center_ids: np.ndarray, alpha: float) -> float:
        """One gradient-descent step on a batch; the batch's mean loss before the update."""
        return model.train_step(self.params, context_ids, center_ids, alpha, self.workspace)

    def mean_loss(self, context_ids: np.ndarray, center_ids: np.ndarray) -> float:
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
        W1, W2 = take(cls, arrays, ("W1", "W2")).values()
        if which == "mean":
            return (W1.T + W2) / 2
        if which == "w1":
            return np.array(W1.T, order="C")  # a copy: later training must not change it
        return np.array(W2, order="C")


class WindowFeed:
    """The full softmax's steps: batches of windows gathered by position from the ids."""

    HELDOUT_CHUNK = 1 << 16  # held-out windows gathered at a time
    heldout_unit = "windows"

    def __init__(self, cfg: "Config", data: "TrainingData", model: SoftmaxObjective,
                 state: dict | None, stop_flag: np.ndarray | None = None):
        t, state = cfg.train, state or {}
        self.stop_flag = stop_flag  # read between held-out chunks (a step is one batch)
        C = cfg.model.C
        self.windows = Windows(data.ids, C, data.sentence_starts, 0, data.n_train)
        self.heldout = (Windows(data.ids, C, data.sentence_starts, data.n_train)
                        if data.has_heldout else None)
        if t.batcher == "course":
            self.batcher = WindowCourseBatcher(self.windows, t.batch_size,
                                               served=state.get("served", 0))
        else:
            self.batcher = WindowBatcher(self.windows, t.batch_size, shuffle=t.shuffle,
                                         seed=t.seed, epoch=state.get("epoch", 0),
                                         offset=state.get("offset", 0))
        self.model = model
        self.training_ids, self.V = data.ids[:data.n_train], len(data.vocab)
        self.steps_per_epoch = math.ceil(self.windows.n_windows / t.batch_size)
        self.heldout_size = 0 if self.heldout is None else self.heldout.n_windows

    def step(self, alpha: float, next_alpha: float) -> StepResult:
        """One batch at the constant rate ``alpha``; every window is a word (no subsampling)."""
        context_ids, center_ids = self.batcher.next_batch()
        start = time.perf_counter()
        loss = self.model.train_step(context_ids, center_ids, alpha)
        compute_s = time.perf_counter() - start
        windows = center_ids.shape[0]
        return StepResult(loss, windows, windows, windows, compute_s)

    def _heldout_chunks(self):
        for start in range(0, self.heldout.n_windows, self.HELDOUT_CHUNK):
            yield self.heldout.gather(np.arange(start, min(start + self.HELDOUT_CHUNK,
                                                           self.heldout.n_windows)))

    def heldout_loss(self) -> float | None:
        if self.heldout is None:
            return None
        total = 0.0
        for ctx, ctr in self._heldout_chunks():
            if self.stop_flag is not None and self.stop_flag[0]:
                return None  # stopped: no figure rather than one of part of the windows
            total += self.model.mean_loss(ctx, ctr) * ctr.shape[0]
        return total / self.heldout.n_windows

    def baseline(self) -> float | None:
        """The unigram model's held-out loss on the same center words."""
        if self.heldout is None:
            return None
        centers = np.concatenate([ctr for _, ctr in self._heldout_chunks()])
        return unigram_cross_entropy(self.training_ids, centers, self.V)

    def state(self) -> dict:
        return self.batcher.state()

    @property
    def epochs_done(self) -> float:
        return self.batcher.epochs_done
