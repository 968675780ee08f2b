"""The objective seam: what the trainer, checkpoints and exports ask of a model.

An objective owns its parameters (named arrays, saved as they are in checkpoints), builds
itself from the config, the vocabulary and an optional checkpoint, and gives the trainer its
:class:`Feed`: the object that runs one training step and the held-out loss over the data it
eats (batches of windows for the course's full softmax, ranges of a token stream for
word2vec's objectives). The trainer knows nothing else of it: a new objective is a package
beside ``softmax`` and ``word2vec``, its class and a settings module that declares its config
keys and rules (:class:`cbow.config.rules.Declaration`), plus its entry in
:data:`cbow.registry.OBJECTIVES`, which names both.

The classes are loaded when first asked for (:func:`objective_class`, or
``from cbow.models.objective import SoftmaxObjective``), so reading a checkpoint's vectors does not
compile word2vec's kernels.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple, Protocol

import numpy as np

from cbow.errors import InputError
from cbow.registry import OBJECTIVES

if TYPE_CHECKING:
    from cbow.models.checkpoint import Checkpoint
    from cbow.config import Config
    from cbow.vectors.embeddings import Embeddings
    from cbow.data.training_data import TrainingData
    from cbow.parallel.executor import Executor
    from cbow.data.vocab import Vocabulary


def objective_class(name: str) -> type["TrainableModel"]:
    """The class of the objective named ``name`` (``model.objective``, a checkpoint's meta)."""
    return OBJECTIVES.load(name)


def __getattr__(attribute: str):
    """``cbow.models.objective.SoftmaxObjective`` and the others, imported on first use."""
    for entry in OBJECTIVES:
        if entry.loader.rpartition(":")[2] == attribute:
            return entry.load()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


class StepResult(NamedTuple):
    """What one training step did."""

    loss: float           # mean loss of the step's examples, nats
    examples: int         # examples trained (full softmax: windows; word2vec: SGD updates)
    words: int            # training positions covered (full softmax: windows)
    effective_words: int  # of those, the centre words kept by subsampling (word2vec's count)
    # seconds of the step spent computing (the full softmax: its model step, feeding left out),
    # as the feed measures it; None if it does not (the trainer then reports no split)
    compute_s: float | None = None
    complete: bool = True  # False: the stop flag cut the step short; the feed keeps the rest


class Feed(Protocol):
    """One objective's training data, served step by step: what the trainer's loop calls."""

    steps_per_epoch: int
    heldout_size: int   # held-out examples, in ``heldout_unit``
    heldout_unit: str

    def step(self, alpha: float, next_alpha: float) -> StepResult:
        """Train the next step, the rate going from ``alpha`` to ``next_alpha`` across it.

        A feed whose steps can be long checks its stop flag (given to ``feed()``) as it goes:
        stopped, it returns ``complete=False`` and keeps the rest of the step in its
        :meth:`state`, so that the next ``step`` (also after a resume) finishes that step."""

    def heldout_loss(self) -> float | None:
        """Mean loss (nats) on the held-out tail; None if nothing is held out, or if the stop
        flag cut the evaluation short."""

    def baseline(self) -> float | None:
        """A unigram model's held-out loss on the same words (for cross-entropy losses)."""

    def state(self) -> dict:
        """The position to resume from (a checkpoint's ``batcher``)."""

    @property
    def epochs_done(self) -> float: ...


class Parameters(Protocol):
    """A model's parameters: named arrays, in checkpoint order."""

    V: int  # words
    N: int  # vector size
    dtype: np.dtype

    def arrays(self) -> dict[str, np.ndarray]: ...

    def all_finite(self) -> bool: ...


class TrainableModel(Protocol):
    """What the trainer, checkpoints and exports need from every objective."""

    name: ClassVar[str]
    VECTORS: ClassVar[tuple[str, ...]]  # the vector sets it can export; the first is the default
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool]  # held-out loss in nats over the vocabulary
    params: Parameters

    @classmethod
    def build(cls, cfg: "Config", vocab: "Vocabulary",
              checkpoint: "Checkpoint | None" = None) -> "TrainableModel":
        """A new model as ``cfg`` says, or the one ``checkpoint`` holds."""

    @staticmethod
    def estimate_bytes(cfg: "Config", V: int) -> dict[str, int]:
        """Bytes it will hold: ``parameters`` (also a checkpoint's size) and ``buffers``."""

    def feed(self, cfg: "Config", data: "TrainingData", state: dict | None,
             stop_flag: np.ndarray | None = None, executor: "Executor | None" = None) -> Feed:
        """Its feed over ``data``, at the position ``state`` (a checkpoint's) or the start.

        ``stop_flag``: a ``(1,)`` int32 array the trainer's signal handler sets (to the
        signal's number); long loops read it and return early (see :meth:`Feed.step`).
        ``executor``: where a step's pieces run (:func:`cbow.parallel.executor_for`: the
        process's threads, or a Dask cluster), for objectives whose steps are cut into
        pieces; others ignore it."""

    def health(self) -> str | None:
        """None, or why the model can never learn again (a collapsed layer): the trainer calls
        it at each held-out evaluation and before each checkpoint, and stops the run as
        diverged, keeping the last good checkpoint."""

    @property
    def V(self) -> int: ...

    @property
    def N(self) -> int: ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    def all_finite(self) -> bool: ...

    def state(self) -> dict: ...  # what a checkpoint's meta keeps besides the arrays

    @classmethod
    def vectors(cls, arrays: dict[str, np.ndarray], which: str) -> np.ndarray: ...

    @classmethod
    def embeddings(cls, arrays: dict[str, np.ndarray], vocab: "Vocabulary", which: str,
                   identity: dict, source: str | None = None) -> "Embeddings":
        """The vectors ``which`` as :class:`~cbow.vectors.embeddings.Embeddings` labelled by ``vocab``.

        ``identity`` is the run's identity settings (:func:`cbow.config.run_identity`, or a
        checkpoint's ``run_identity``): what the arrays alone do not say, such as subwords.
        """

    @classmethod
    def grown(cls, cfg: "Config", vocab: "Vocabulary", origin: "Checkpoint",
              log=None) -> "TrainableModel":
        """A new model for ``vocab``, whose first words are ``origin``'s vocabulary: their
        rows are ``origin``'s, the others' drawn as :meth:`build` draws them."""


def check_which(cls, which: str) -> None:
    if which not in cls.VECTORS:
        raise InputError(f"a {cls.name} model gives the vectors {', '.join(cls.VECTORS)}; "
                         f"got {which!r}")


def take(cls, arrays: dict[str, np.ndarray], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of a checkpoint, or one clear error naming those missing."""
    missing = [n for n in names if n not in arrays]
    if missing:
        raise InputError(f"a {cls.name} model needs the arrays {', '.join(names)}; "
                         f"{', '.join(missing)} missing (found {', '.join(sorted(arrays))})")
    return {n: arrays[n] for n in names}


class ParamsObjective:
    """What every objective reads off its ``params`` (:class:`Parameters`), and its growth."""

    params: Parameters
    #: The arrays a model started from another run's checkpoint (``--init-from``) takes from
    #: it, each with the axis of its rows per word (None: the whole array is carried). An
    #: array not named here starts as :meth:`build` draws it.
    CARRIED: ClassVar[dict[str, int | None]]

    @classmethod
    def grown(cls, cfg: "Config", vocab: "Vocabulary", origin: "Checkpoint", log=None):
        """A new model for ``vocab``, whose first words are ``origin``'s vocabulary.

        The model is drawn as :meth:`build` draws a new one (seeded by ``train.seed``), then
        the first ``len(origin.vocab)`` rows of each :attr:`CARRIED` array are overwritten with
        ``origin``'s: the old words keep their rows, the new words have the rows a new model
        would give them.
        """
        model = cls.build(cfg, vocab)
        arrays, old_words = model.arrays(), len(origin.vocab)
        for name, old in take(cls, origin.arrays, tuple(cls.CARRIED)).items():
            axis = cls.CARRIED[name]
            rows = arrays[name][(...,) if axis is None else
                                (slice(None),) * axis + (slice(0, old_words),)]  # a view
            if old.dtype != rows.dtype or old.shape != rows.shape:
                raise InputError(f"cannot start from {origin.path}: its {name} is {old.dtype} "
                                 f"{old.shape}; this run needs {rows.dtype} {rows.shape} "
                                 f"(model.N, train.dtype)")
            rows[...] = old
        return model

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

    @classmethod
    def embeddings(cls, arrays: dict[str, np.ndarray], vocab: "Vocabulary", which: str,
                   identity: dict, source: str | None = None) -> "Embeddings":
        """One vector per word: :meth:`vectors` labelled by ``vocab`` (sizes checked)."""
        from cbow.vectors.embeddings import Embeddings
        vectors = cls.vectors(arrays, which)
        check_rows(vocab, vectors.shape[0], source)
        return Embeddings(vocab.words, vectors, counts=vocab.counts, source=source, which=which)


def check_rows(vocab: "Vocabulary", rows: int, source: str | None) -> None:
    """A model's ``rows`` word rows must be ``vocab``'s words, one each."""
    if len(vocab) != rows:
        from cbow.models.checkpoint import CheckpointError
        raise CheckpointError(f"{source or 'the model'}: the vocabulary has {len(vocab)} words "
                              f"but the model has {rows}")


def collapsed_relu(largest_input: np.ndarray, bias: np.ndarray) -> str | None:
    """Whether a ReLU hidden layer is dead for every input: None, or what is wrong.

    The pre-activation of unit ``j`` is ``mean of some input rows [j] + bias[j]``; a mean is at
    most the largest of its terms, so with ``largest_input[j]`` the largest entry of column
    ``j`` over every input row, unit ``j`` is zero for *every* possible context when
    ``largest_input[j] + bias[j] < 0``. Such a unit gets no gradient (the ReLU masks it), so it
    stays dead; when every unit is, the output no longer depends on the input and nothing but
    the output biases can learn again: what a far too large learning rate leaves. Exact and
    cheap (one pass over the input matrix), no data needed, and never true of a layer in which
    a single unit can still fire.
    """
    margin = np.asarray(largest_input, np.float64).reshape(-1) + np.asarray(
        bias, np.float64).reshape(-1)
    if margin.size == 0 or not (margin < 0).all():
        return None
    return (f"the hidden layer collapsed: each of its {margin.size} ReLU units is zero for "
            f"every input (its bias is below minus its largest input weight, by "
            f"{-margin.max():.3g} or more), so the model can no longer learn")
