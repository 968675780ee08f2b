"""word2vec's CBOW objectives (negative sampling, hierarchical softmax), over a token stream.

The models train with the compiled kernels of :mod:`cbow.models.word2vec.driver`; their feed serves
consecutive ranges of centre positions in corpus order, as word2vec reads its corpus.

With ``model.maxn > 0`` they are fastText's CBOW: the input matrix has ``V + model.bucket``
rows, and a word reads its own row and the rows of its character n-grams (:mod:`cbow.data.subwords`,
the row table built once from the vocabulary when the model is built); the hidden layer is the
mean of every row of every context word, and each of those rows gets the whole hidden error.
Its word vectors are :class:`~cbow.vectors.subword.SubwordEmbeddings`.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from cbow.data import subwords
from cbow.data.batching import EpochRanges
from cbow.errors import InputError
from cbow.models.baseline import unigram_cross_entropy
from cbow.models.checkpoint import all_finite
from cbow.models.initial import course_draws
from cbow.models.objective import (ParamsObjective, StepResult, check_rows, check_which,
                                   collapsed_relu, take)
from cbow.models.word2vec import driver, initialisation, rng, tables
from cbow.models.word2vec.settings import INITIALISATIONS, Word2VecSettings
from cbow.parallel import executor as executors
from cbow.registry import OBJECTIVES
from cbow.vectors.embeddings import Embeddings
from cbow.vectors.subword import SubwordEmbeddings

if TYPE_CHECKING:
    from cbow.config import Config
    from cbow.data.training_data import TrainingData
    from cbow.data.vocab import Vocabulary
    from cbow.models.checkpoint import Checkpoint
    from cbow.parallel.executor import Executor


class Word2VecParams:
    """word2vec's parameters (named as in checkpoints), all float32.

    ``input_vectors`` ``(V + ngram_rows, N)``: the word vectors, then (with subwords) the
    n-gram buckets; ``output_vectors`` (one row per word for negative sampling, per inner
    Huffman node for hierarchical softmax); ``hidden_bias`` ``(N,)`` (trained by ``hidden:
    relu`` only).
    """

    NAMES: ClassVar[tuple[str, ...]] = ("input_vectors", "output_vectors", "hidden_bias")

    def __init__(self, input_vectors, output_vectors, hidden_bias, ngram_rows: int = 0):
        self.input_vectors, self.output_vectors, self.hidden_bias = (
            np.ascontiguousarray(a, dtype=np.float32)
            for a in (input_vectors, output_vectors, hidden_bias))
        # the arrays are updated in place, never replaced
        self.V, self.N = self.input_vectors.shape[0] - ngram_rows, self.input_vectors.shape[1]
        self.dtype = self.input_vectors.dtype

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(zip(self.NAMES, (self.input_vectors, self.output_vectors, self.hidden_bias)))

    def all_finite(self) -> bool:
        return all(all_finite(a) for a in self.arrays().values())


class _Word2VecObjective(ParamsObjective):
    """word2vec's CBOW, trained by the compiled kernels of :mod:`cbow.models.word2vec.driver`.

    A step trains a range of center positions of the token stream with ``workers`` threads,
    or with a scheduler on a Dask cluster by model averaging (:mod:`cbow.parallel.dask_executor`); the
    generators' states are part of the state a checkpoint keeps, so that a one-worker run (or
    any cluster run) resumes bit for bit.
    """

    name: ClassVar[str]
    VECTORS: ClassVar[tuple[str, ...]]
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool]
    ARRAYS: ClassVar[tuple[str, ...]] = Word2VecParams.NAMES

    def __init__(self, params: Word2VecParams, settings: Word2VecSettings, vocab: "Vocabulary",
                 state: dict | None = None, row_table: "tables.RowTable | None" = None):
        self.params, self.settings = params, settings
        self.kernel_settings = self._kernel_settings(vocab, settings, row_table)
        state = state or {}
        self.rng_epoch = state.get("rng_epoch")
        self.rng_states = (None if state.get("rng_states") is None
                           else np.array([int(s) for s in state["rng_states"]], np.uint64))

    @classmethod
    def _kernel_settings(cls, vocab: "Vocabulary", settings: Word2VecSettings,
                         row_table: "tables.RowTable | None" = None) -> driver.KernelSettings:
        """The settings as the kernels read them, derived once from the objective's settings
        and the vocabulary; ``row_table``: the one :meth:`build` made, else made here."""
        counts = vocab.counts
        keep = tables.keep_probabilities(counts, settings.sample) if settings.sample > 0 else None
        return driver.KernelSettings(
            cls._kernel_objective(counts, settings), C=settings.C,
            shrink_window=settings.shrink_window, relu=settings.relu, seed=settings.seed, keep=keep,
            # each word's input rows, once per vocabulary (None: its own row, word2vec's)
            row_table=row_table if row_table is not None else cls._row_table(vocab, settings),
            rules=driver.StepRules(skip_saturated=settings.skip_saturated,
                                   fast_dot=settings.fast_dot))

    @staticmethod
    def _row_table(vocab: "Vocabulary", settings: Word2VecSettings) -> "tables.RowTable | None":
        return None if settings.maxn == 0 else tables.RowTable(
            *subwords.row_table(vocab.words, settings.minn, settings.maxn, settings.bucket))

    @classmethod
    def build(cls, cfg: "Config", vocab: "Vocabulary", checkpoint: "Checkpoint | None" = None):
        """New weights as ``model.init`` says, or the checkpoint's arrays and generators."""
        settings, counts = Word2VecSettings.from_config(cfg), vocab.counts
        extra = settings.ngram_rows
        if checkpoint is not None:
            params = Word2VecParams(**take(cls, checkpoint.arrays, cls.ARRAYS), ngram_rows=extra)
            check_rows(vocab, params.V, str(checkpoint.path))
            return cls(params, settings, vocab, checkpoint.meta.get("model_state"))
        kernel_objective = cls._kernel_objective(counts, settings)
        row_table = cls._row_table(vocab, settings)
        if settings.init in INITIALISATIONS:  # n-gram rows drawn after the words'
            # A bucket that no word's n-gram reaches is never trained: its row stays zero and
            # its memory untouched (most of 2M buckets on a corpus of 40k words).
            drawn = None
            if row_table is not None:
                drawn = np.zeros(len(counts) + extra, dtype=bool)
                drawn[row_table.rows] = True
            params = Word2VecParams(*initialisation.initial_weights(
                kernel_objective, cfg.model.N, settings.seed, settings.init,
                input_rows=len(counts) + extra, drawn=drawn), ngram_rows=extra)
        else:  # the course's draws (W1, W2, b1 order), the output layer sized for the objective
            W1, W2, b1, _ = course_draws(cfg.model.N, len(counts), settings.seed,
                                               output_rows=kernel_objective.output_rows)
            params = Word2VecParams(W1.T, W2, b1[:, 0])
        return cls(params, settings, vocab, row_table=row_table)

    @classmethod
    def grown(cls, cfg: "Config", vocab: "Vocabulary", origin: "Checkpoint", log=None):
        """:meth:`ParamsObjective.grown`; with subwords the n-gram rows, which follow the
        words' rows, are carried too (the same settings hash an n-gram to the same bucket)."""
        extra = Word2VecSettings.from_config(cfg).ngram_rows
        old_inputs, old_words = origin.arrays.get("input_vectors"), len(origin.vocab)
        if not extra or old_inputs is None:
            return super().grown(cfg, vocab, origin, log)
        words_only = dataclasses.replace(
            origin, arrays=dict(origin.arrays, input_vectors=old_inputs[:old_words]))
        model = super().grown(cfg, vocab, words_only, log)
        new_inputs = model.params.input_vectors
        if old_inputs.shape[0] - old_words != new_inputs.shape[0] - len(vocab):
            raise InputError(f"cannot start from {origin.path}: it has "
                             f"{old_inputs.shape[0] - old_words:,} n-gram rows, this config "
                             f"{extra:,}; set model.bucket as it was trained")
        new_inputs[len(vocab):] = old_inputs[old_words:]
        return model

    @staticmethod
    def estimate_bytes(cfg: "Config", V: int) -> dict[str, int]:
        """Weights (float32), and the kernels' tables; with subwords the bucket rows and the
        row table (about ``(maxn - minn + 1) x 10`` n-grams per word, for words of ~8 letters).
        """
        m = cfg.model
        extra = m.bucket if m.maxn > 0 else 0
        table = 0 if m.maxn == 0 else (V + 1) * 8 + V * (1 + (m.maxn - m.minn + 1) * 10) * 4
        return {"parameters": ((2 * V + extra) * m.N + m.N) * 4,
                "buffers": V * 8 + 4 * V + table}

    def feed(self, cfg: "Config", data: "TrainingData", state: dict | None,
             stop_flag: np.ndarray | None = None,
             executor: "Executor | None" = None) -> "StreamFeed":
        return StreamFeed(cfg, data, self, state, stop_flag, executor)

    def health(self) -> str | None:
        """With ``hidden: relu``: whether the hidden layer collapsed (every unit zero for every
        context); the linear layer cannot."""
        if not self.settings.relu:
            return None
        return collapsed_relu(self.params.input_vectors.max(axis=0), self.params.hidden_bias)

    def state(self) -> dict:
        """What a checkpoint keeps besides the arrays: the generators of the epoch in progress."""
        return {"rng_epoch": self.rng_epoch,
                "rng_states": None if self.rng_states is None else [int(s) for s in self.rng_states]}

    def train_range(self, tokens: np.ndarray, sentence_starts: np.ndarray, begin: int, end: int,
                    epoch: int, alpha_start: float, alpha_end: float,
                    schedule: tuple[int, int] | None = None,
                    stop_flag: np.ndarray | None = None,
                    executor: "Executor | None" = None) -> driver.TrainResult:
        """Train the center positions ``[begin, end)``, the rate falling linearly from
        ``alpha_start`` at ``schedule[0]`` to ``alpha_end`` at ``schedule[1]`` (by default
        ``begin`` and ``end``); ``stop_flag`` stops it early
        (:func:`cbow.models.word2vec.driver.train`). ``executor`` runs the pieces
        (:func:`cbow.parallel.executor_for`; default: ``workers`` threads of this process);
        it has one generator per lane, which a checkpoint keeps.
        """
        s = self.settings
        if executor is None:
            executor = executors.threads(s.workers)
        lanes = executor.workers
        if self.rng_epoch != epoch:  # each epoch starts from generators fixed by (seed, epoch)
            self.rng_epoch = epoch
            self.rng_states = rng.worker_rng_states(s.seed, lanes, epoch)
        elif self.rng_states.shape != (lanes,):  # resumed with another number of workers
            self.rng_states = rng.resize_rng_states(self.rng_states, lanes)
        p = self.params
        result = driver.train(
            self.kernel_settings, (p.input_vectors, p.output_vectors, p.hidden_bias),
            (tokens, sentence_starts), begin, end, (alpha_start, alpha_end), executor=executor,
            epoch=epoch, schedule=schedule, rng_states=self.rng_states, stop_flag=stop_flag)
        self.rng_states = result.rng_states
        return result

    def _held_out_loss(self, tokens: np.ndarray, sentence_starts: np.ndarray,
                       stop_flag: np.ndarray | None) -> driver.HeldOutLoss:
        """The objective's loss on a held-out stream (:func:`cbow.models.word2vec.driver.
        held_out_loss`), with ``workers`` threads of this process."""
        p = self.params
        return driver.held_out_loss(
            self.kernel_settings, (p.input_vectors, p.output_vectors, p.hidden_bias),
            (tokens, sentence_starts), executor=executors.threads(self.settings.workers),
            stop_flag=stop_flag)

    @classmethod
    def vectors(cls, arrays: dict[str, np.ndarray], which: str = "input") -> np.ndarray:
        """``input``: the word vectors (word2vec's syn0); ``output`` (negative sampling):
        each word's output row; ``mean``: their mean."""
        check_which(cls, which)
        inputs = take(cls, arrays, ("input_vectors",))["input_vectors"]
        if which == "input":
            return np.array(inputs, order="C")
        outputs = take(cls, arrays, ("output_vectors",))["output_vectors"]
        return np.array(outputs, order="C") if which == "output" else (inputs + outputs) / 2

    @classmethod
    def embeddings(cls, arrays: dict[str, np.ndarray], vocab: "Vocabulary", which: str,
                   identity: dict, source: str | None = None) -> Embeddings:
        """As :meth:`ParamsObjective.embeddings`; a subword model's (``identity`` with
        ``model.maxn`` > 0) ``input`` vectors are :class:`SubwordEmbeddings` (unseen words
        too), its ``mean`` the mean of the composed input vectors and the output rows."""
        maxn = identity.get("model.maxn", 0)
        if not maxn:
            return super().embeddings(arrays, vocab, which, identity, source)
        check_which(cls, which)
        inputs = take(cls, arrays, ("input_vectors",))["input_vectors"]
        check_rows(vocab, inputs.shape[0] - identity["model.bucket"], source)
        composed = SubwordEmbeddings.from_input_matrix(
            vocab.words, inputs, identity["model.minn"], maxn, counts=vocab.counts,
            source=source, which=which)
        if which == "input":
            return composed
        outputs = take(cls, arrays, ("output_vectors",))["output_vectors"]
        vectors = outputs if which == "output" else (composed.vectors + outputs) / 2
        return Embeddings(vocab.words, vectors, counts=vocab.counts, source=source, which=which)


class NegativeSamplingObjective(_Word2VecObjective):
    name: ClassVar[str] = "negative"
    VECTORS: ClassVar[tuple[str, ...]] = OBJECTIVES.get("negative").vectors  # declared there
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool] = False  # binary losses: no unigram baseline
    # one output row per word: carried by word like the input rows
    CARRIED: ClassVar[dict[str, int | None]] = {"input_vectors": 0, "output_vectors": 0,
                                                "hidden_bias": None}

    @staticmethod
    def _kernel_objective(counts, settings):
        return tables.NegativeSampling.from_counts(counts, settings.negative,
                                                   settings.ns_exponent)

    def stream_loss(self, tokens: np.ndarray, sentence_starts: np.ndarray,
                    stop_flag: np.ndarray | None = None) -> driver.HeldOutLoss:
        """Mean negative-sampling loss (nats), noise words from a fixed seed: comparable curves."""
        return self._held_out_loss(tokens, sentence_starts, stop_flag)


class HierarchicalSoftmaxObjective(_Word2VecObjective):
    name: ClassVar[str] = "hierarchical"
    VECTORS: ClassVar[tuple[str, ...]] = OBJECTIVES.get("hierarchical").vectors  # declared there
    LOSS_IS_CROSS_ENTROPY: ClassVar[bool] = True
    # output rows are the inner nodes of a Huffman tree of the counts: a grown vocabulary has
    # another tree, whose nodes start as a new model's
    CARRIED: ClassVar[dict[str, int | None]] = {"input_vectors": 0, "hidden_bias": None}

    @classmethod
    def grown(cls, cfg: "Config", vocab: "Vocabulary", origin: "Checkpoint", log=None):
        if log is not None:
            log(f"hierarchical softmax: the Huffman tree is rebuilt from the merged counts "
                f"({len(vocab):,} words); its output rows (tree nodes) start afresh, the input "
                f"rows of the {len(origin.vocab):,} carried words are kept")
        return super().grown(cfg, vocab, origin, log)

    @staticmethod
    def _kernel_objective(counts, settings):
        return tables.HierarchicalSoftmax.from_counts(counts)

    def stream_loss(self, tokens: np.ndarray, sentence_starts: np.ndarray,
                    stop_flag: np.ndarray | None = None) -> driver.HeldOutLoss:
        """Exact mean negative log-likelihood (nats), comparable with a full softmax's."""
        return self._held_out_loss(tokens, sentence_starts, stop_flag)


class StreamFeed(EpochRanges):
    """word2vec's steps: consecutive ranges of ``batch_size`` center positions, corpus order.

    A step stopped part-way by the stop flag (a signal: the kernels check it every
    ``STOP_CHECK_EVERY`` centres) is remembered in :attr:`partial`, saved with the position
    (:meth:`state`): the range, the parts of it not trained yet and the sums so far. The next
    :meth:`step` (in this process or after a resume) trains those parts at the rates the whole
    range would have had, so with one worker the step ends bit for bit as if never stopped.
    """

    heldout_unit = "words"

    def __init__(self, cfg: "Config", data: "TrainingData", model: _Word2VecObjective,
                 state: dict | None, stop_flag: np.ndarray | None = None,
                 executor: "Executor | None" = None):
        self.tokens, self.starts = data.part(heldout=False)
        self.heldout = data.part(heldout=True) if data.has_heldout else None
        state = state or {}
        super().__init__(self.tokens.shape[0], cfg.train.batch_size, state.get("epoch", 0),
                         state.get("offset", 0))
        self.model, self.V = model, len(data.vocab)
        self.steps_per_epoch = self.ranges_per_epoch()
        self.heldout_size = 0 if self.heldout is None else self.heldout[0].shape[0]
        self.stop_flag, self.executor = stop_flag, executor
        self.partial: dict | None = state.get("partial")

    def step(self, alpha: float, next_alpha: float) -> StepResult:
        """The next range, or the rest of a stopped one; ``complete`` False if stopped again."""
        if self.partial is None:
            begin, end = self.next_range()
            self.partial = {"begin": begin, "end": end, "remaining": [[begin, end]],
                            "loss": 0.0, "examples": 0, "words": 0, "effective_words": 0}
        part = self.partial
        remaining = []
        for begin, end in part["remaining"]:
            if remaining:  # stopped: the later parts wait too
                remaining.append([begin, end])
                continue
            # The rate falls linearly across the whole range, from this step's alpha to the
            # next's, whichever part of it is trained now.
            done = self.model.train_range(self.tokens, self.starts, begin, end, self.epoch,
                                          alpha, next_alpha, (part["begin"], part["end"]),
                                          self.stop_flag, self.executor)
            part["loss"] += float(done.loss)
            for key in ("examples", "words", "effective_words"):
                part[key] += int(getattr(done, key))
            remaining += [list(r) for r in done.remaining]
        part["remaining"] = remaining
        mean = part["loss"] / part["examples"] if part["examples"] else 0.0
        result = StepResult(mean, part["examples"], part["words"], part["effective_words"],
                            complete=not remaining)
        if not remaining:
            self.partial = None
        return result

    def heldout_loss(self) -> float | None:
        """The held-out loss; None if nothing is held out or the stop flag cut it short."""
        if self.heldout is None:
            return None
        loss = self.model.stream_loss(*self.heldout, stop_flag=self.stop_flag)
        return None if loss.stopped else loss.mean

    def baseline(self) -> float | None:
        if self.heldout is None:
            return None
        return unigram_cross_entropy(self.tokens, self.heldout[0], self.V)

    def state(self) -> dict:
        state = {"kind": "stream", "epoch": self.epoch, "offset": self.offset}
        if self.partial is not None:
            state["partial"] = self.partial
        return state
