"""The objective seam: what the trainer, checkpoints and exports ask of a model.

An objective owns its parameters (named arrays, saved as they are in checkpoints), the buffers
of its step, its training step, its held-out loss and the word vectors it can give. The trainer
knows nothing else of it, so new objectives (word2vec's negative sampling and hierarchical
softmax) plug in beside the course's full softmax by registering here.

``OBJECTIVES`` maps the ``model.objective`` name (stored in every checkpoint's meta) to its class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from cbow import model
from cbow.errors import InputError


class Objective(Protocol):
    """What the trainer, checkpoints and exports need from every model.

    How a model trains depends on what it eats, so the trainer pairs each kind with a feed
    (cbow.train): the full softmax has ``train_step(context_ids, center_ids, alpha)`` and
    ``heldout_loss(context_ids, center_ids)`` over batches of windows; word2vec's objectives
    have ``train_range(tokens, sentence_starts, begin, end, epoch, alpha_start, alpha_end)``
    and ``heldout_loss(tokens, sentence_starts)`` over a token stream.
    """

    name: ClassVar[str]
    VECTORS: ClassVar[tuple[str, ...]]  # the vector sets it can export; the first is the default
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool]  # held-out loss in nats over the vocabulary

    @property
    def V(self) -> int: ...

    @property
    def N(self) -> int: ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    def all_finite(self) -> bool: ...

    def state(self) -> dict: ...  # what a checkpoint's meta keeps besides the arrays

    @classmethod
    def vectors(cls, arrays: dict[str, np.ndarray], which: str) -> np.ndarray: ...

    @staticmethod
    def estimate_bytes(N: int, V: int, batch_size: int, dtype) -> dict[str, int]: ...


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
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool] = True  # over the vocabulary: a unigram model compares

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

    def state(self) -> dict:
        """Nothing beyond the arrays: the batch order is the batcher's state."""
        return {}

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


# ------------------------------------------------------------- word2vec's objectives

class _Word2VecObjective:
    """word2vec's CBOW, trained by the compiled kernels of :mod:`cbow.word2vec`.

    Parameters (named as in checkpoints): ``input_vectors`` ``(V, N)``, the word vectors;
    ``output_vectors`` (one row per word for negative sampling, per inner Huffman node for
    hierarchical softmax); ``hidden_bias`` ``(N,)`` (trained by ``hidden: relu`` only). All
    float32. A step trains a range of center positions of the token stream with ``workers``
    threads; the generators' states are part of the state a checkpoint keeps, so that a
    one-worker run resumes bit for bit.
    """

    name: ClassVar[str]
    VECTORS: ClassVar[tuple[str, ...]]
    ARRAYS: ClassVar[tuple[str, ...]] = ("input_vectors", "output_vectors", "hidden_bias")

    def __init__(self, arrays: dict[str, np.ndarray], settings: "Word2VecSettings",
                 counts: np.ndarray, state: dict | None = None):
        from cbow import word2vec
        self.settings = settings
        self.kernel_objective = self._kernel_objective(counts, settings)
        self.input_vectors, self.output_vectors, self.hidden_bias = (
            np.ascontiguousarray(arrays[name], dtype=np.float32) for name in self.ARRAYS)
        self.keep = (word2vec.keep_probabilities(counts, settings.sample)
                     if settings.sample > 0 else None)
        state = state or {}
        self.rng_epoch = state.get("rng_epoch")
        self.rng_states = (None if state.get("rng_states") is None
                           else np.array([int(s) for s in state["rng_states"]], np.uint64))

    @classmethod
    def initialize(cls, N: int, counts: np.ndarray, settings: "Word2VecSettings"):
        from cbow import word2vec
        objective = cls._kernel_objective(counts, settings)
        if settings.init == "word2vec":
            inputs, outputs, bias = word2vec.initial_weights(objective, N, settings.seed)
        else:  # the course's: every weight uniform in [0, 1), drawn in W1, W2, b1 order
            rng = np.random.RandomState(settings.seed)
            inputs = np.ascontiguousarray(rng.rand(N, len(counts)).T, dtype=np.float32)
            outputs = rng.rand(objective.output_rows, N).astype(np.float32)
            bias = rng.rand(N).astype(np.float32)
        arrays = dict(zip(cls.ARRAYS, (inputs, outputs, bias)))
        return cls(arrays, settings, counts)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], settings: "Word2VecSettings",
                    counts: np.ndarray, state: dict | None = None):
        return cls(_take(cls, arrays, cls.ARRAYS), settings, counts, state)

    @staticmethod
    def estimate_bytes(N: int, V: int, batch_size: int, dtype) -> dict[str, int]:
        return {"parameters": (2 * V * N + N) * 4, "buffers": V * 8 + 4 * V}

    @property
    def V(self) -> int:
        return self.input_vectors.shape[0]

    @property
    def N(self) -> int:
        return self.input_vectors.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.input_vectors.dtype

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(zip(self.ARRAYS, (self.input_vectors, self.output_vectors, self.hidden_bias)))

    def all_finite(self) -> bool:
        return all(np.isfinite(a).all() for a in self.arrays().values())

    def state(self) -> dict:
        """What a checkpoint keeps besides the arrays: the generators of the epoch in progress."""
        return {"rng_epoch": self.rng_epoch,
                "rng_states": None if self.rng_states is None else [int(s) for s in self.rng_states]}

    def train_range(self, tokens: np.ndarray, sentence_starts: np.ndarray, begin: int, end: int,
                    epoch: int, alpha_start: float, alpha_end: float) -> tuple[float, int, int]:
        """Train the center positions ``[begin, end)``; ``(mean loss, examples, words)``."""
        from cbow import word2vec
        s = self.settings
        if self.rng_epoch != epoch:  # each epoch starts from generators fixed by (seed, epoch)
            self.rng_epoch = epoch
            self.rng_states = word2vec.worker_rng_states(s.seed, s.workers, epoch)
        result = word2vec.train_range(
            self.kernel_objective, self.input_vectors, self.output_vectors, tokens,
            sentence_starts, begin, end, alpha_start=alpha_start, alpha_end=alpha_end,
            window=s.window, keep=self.keep, shrink_window=s.shrink_window, relu=s.relu,
            hidden_bias=self.hidden_bias, workers=s.workers, seed=s.seed, epoch=epoch,
            rng_states=self.rng_states)
        self.rng_states = result.rng_states
        mean = result.loss / result.examples if result.examples else 0.0
        return mean, result.examples, result.words

    @classmethod
    def vectors(cls, arrays: dict[str, np.ndarray], which: str = "input") -> np.ndarray:
        """``input``: the word vectors (word2vec's syn0); ``output`` (negative sampling):
        each word's output row; ``mean``: their mean."""
        check_which(cls, which)
        inputs = _take(cls, arrays, ("input_vectors",))["input_vectors"]
        if which == "input":
            return np.array(inputs, order="C")
        outputs = _take(cls, arrays, ("output_vectors",))["output_vectors"]
        return np.array(outputs, order="C") if which == "output" else (inputs + outputs) / 2


class NegativeSamplingObjective(_Word2VecObjective):
    name: ClassVar[str] = "negative"
    VECTORS: ClassVar[tuple[str, ...]] = ("input", "output", "mean")
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool] = False  # binary losses: no unigram baseline

    @staticmethod
    def _kernel_objective(counts, settings):
        from cbow import word2vec
        return word2vec.NegativeSampling.from_counts(counts, settings.negative,
                                                     settings.ns_exponent)

    def heldout_loss(self, tokens: np.ndarray, sentence_starts: np.ndarray) -> float:
        """Mean negative-sampling loss (nats), noise words from a fixed seed: comparable curves."""
        from cbow import word2vec
        s = self.settings
        return word2vec.negative_sampling_loss(
            self.kernel_objective, self.input_vectors, self.output_vectors, tokens,
            sentence_starts, window=s.window, seed=s.seed, relu=s.relu,
            hidden_bias=self.hidden_bias, workers=s.workers).mean


class HierarchicalSoftmaxObjective(_Word2VecObjective):
    name: ClassVar[str] = "hierarchical"
    VECTORS: ClassVar[tuple[str, ...]] = ("input",)  # output rows are tree nodes, not words
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool] = True

    @staticmethod
    def _kernel_objective(counts, settings):
        from cbow import word2vec
        return word2vec.HierarchicalSoftmax.from_counts(counts)

    def heldout_loss(self, tokens: np.ndarray, sentence_starts: np.ndarray) -> float:
        """Exact mean negative log-likelihood (nats), comparable with a full softmax's."""
        from cbow import word2vec
        s = self.settings
        return word2vec.hierarchical_softmax_loss(
            self.kernel_objective, self.input_vectors, self.output_vectors, tokens,
            sentence_starts, window=s.window, relu=s.relu, hidden_bias=self.hidden_bias,
            workers=s.workers).mean


@dataclass(frozen=True)
class Word2VecSettings:
    """What the word2vec objectives take from the config (see cbow.config for each)."""

    window: int
    negative: int = 5
    ns_exponent: float = 0.75
    relu: bool = False
    init: str = "word2vec"
    shrink_window: bool = True
    sample: float = 1e-3
    workers: int = 1
    seed: int = 1


OBJECTIVES: dict[str, type] = {cls.name: cls for cls in (
    SoftmaxObjective, NegativeSamplingObjective, HierarchicalSoftmaxObjective)}


def objective_class(name: str) -> type:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise InputError(f"unknown objective {name!r}; cbow knows "
                         f"{', '.join(OBJECTIVES)}") from None
