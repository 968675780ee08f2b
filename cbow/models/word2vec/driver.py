"""Training and scoring a token stream with the kernels: settings and arguments checked once, a
range cut into pieces, each piece run as a task by an executor (:mod:`cbow.parallel.executor`).

Arrays and shapes (``V`` words, ``N`` dimensions):

- ``input_vectors`` ``(V, N)`` float32, C order: word2vec's ``syn0``, the word vectors; or
  ``(R, N)`` with a :class:`~cbow.models.word2vec.tables.RowTable` saying which rows each word
  reads (fastText: ``V`` word rows and the hash buckets of the character n-grams).
- ``output_vectors`` float32, C order: ``(V, N)`` for negative sampling (``syn1neg``, one row
  per word) or ``(V - 1, N)`` for hierarchical softmax (``syn1``, one row per inner node of the
  Huffman tree).
- ``hidden_bias`` ``(N,)`` float32: ``b1``, used only by the ``relu`` variant.
- ``tokens`` ``(T,)`` uint32 word ids (a ``np.memmap`` is fine), in-vocabulary words only: like
  word2vec and gensim, drop unknown words before building the stream.
- ``sentence_starts`` ``(S,)`` int64: the offset in ``tokens`` where each sentence (line)
  begins; ``sentence_starts[0] == 0``, non-decreasing, the last sentence ends at ``T``.
  A context window never reaches across a sentence boundary. Sentences longer than
  ``max_sentence_length`` words are cut into pieces of that length, counted from the sentence's
  start (word2vec does this at 1,000 words, gensim's corpus-file mode at 10,000).

The settings of a run are one :class:`KernelSettings`, built once (the word2vec objectives
build theirs from the config); :func:`train` and :func:`held_out_loss` take it.
:func:`train_range`, :func:`negative_sampling_loss` and :func:`hierarchical_softmax_loss` take
the same settings as keyword arguments, for direct callers.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from cbow.models.word2vec import kernels, records
from cbow.models.word2vec.records import Piece
from cbow.models.word2vec.rng import subsample_key, worker_rng_states
from cbow.models.word2vec.tables import HierarchicalSoftmax, NegativeSampling, Objective, RowTable
from cbow.parallel import executor as executors
from cbow.parallel.executor import Executor

MAX_SENTENCE_LENGTH = 10_000
"""Default longest piece of a sentence trained as one (gensim's MAX_WORDS_IN_BATCH)."""


class StepRules(NamedTuple):
    """How the kernels step, besides the model: gensim's rule and the fast dot product.

    ``skip_saturated``: an output row scored at or beyond +-:data:`~cbow.models.word2vec.
    kernels.SATURATED` takes no step (gensim, word2vec's hierarchical softmax); False: every row
    takes its exact gradient step. ``fast_dot``: the dot product may be reassociated
    (``train.fast_dot``; bits depend on the processor's vector width). ``sigmoid_table``, for
    the ablations of ``benchmarks/ablate_word2vec.py`` only: gensim's 1,000-entry sigmoid table
    inside +-6 instead of the exact function. ``fast_dot`` and ``sigmoid_table`` each select
    another compiled kernel (:func:`~cbow.models.word2vec.kernels.kernel`).
    """

    skip_saturated: bool = False
    fast_dot: bool = False
    sigmoid_table: bool = False


@dataclass(frozen=True, eq=False)
class KernelSettings:
    """What the kernels read besides the weights, the text and the range: fixed for a run.

    objective : NegativeSampling or HierarchicalSoftmax (:mod:`cbow.models.word2vec.tables`)
    C : context words on each side (``model.C``; word2vec calls it ``window``).
    shrink_window : draw the window of each example in ``[1, C]``, as word2vec.
    relu : hidden = ReLU(mean + hidden_bias), with the hidden bias trained too.
    seed : fixes the generators: each epoch's subsampling key and, unless a caller passes its
        states, each worker's first state; the held-out loss's noise words.
    keep : (V,) float64 from :func:`~cbow.models.word2vec.tables.keep_probabilities`; None keeps
        every word (``sample=0``).
    row_table : which input rows each word reads (:class:`RowTable`); None: row ``w`` for word
        ``w`` (word2vec).
    rules : :class:`StepRules`; the default is the exact step of every row.
    max_sentence_length : the longest sentence piece (see the module docstring).
    """

    objective: Objective
    C: int
    shrink_window: bool
    relu: bool
    seed: int
    keep: np.ndarray | None = None
    row_table: RowTable | None = None
    rules: StepRules = StepRules()
    max_sentence_length: int = MAX_SENTENCE_LENGTH

    def __post_init__(self):
        V = self.objective.vocab_size
        if not (isinstance(self.C, (int, np.integer)) and self.C >= 1):
            raise ValueError(f"C must be an integer >= 1; got {self.C!r}")
        keep = np.ones(V) if self.keep is None else np.ascontiguousarray(self.keep, np.float64)
        if keep.shape != (V,):
            raise ValueError(f"keep must have shape ({V},); got {keep.shape}")
        object.__setattr__(self, "keep", keep)
        if self.row_table is not None:
            if not isinstance(self.row_table, RowTable):
                raise TypeError("row_table must be a RowTable; got "
                                f"{type(self.row_table).__name__}")
            if self.row_table.vocab_size != V:
                raise ValueError(f"the row table has {self.row_table.vocab_size} words, the "
                                 f"objective {V}")
        if self.max_sentence_length < 1:
            raise ValueError(f"max_sentence_length must be >= 1; got {self.max_sentence_length}")

    def for_scoring(self) -> "KernelSettings":
        """These settings as a held-out loss reads them: every word kept, every window whole,
        the exact step rules (no row is stepped)."""
        return dataclasses.replace(self, keep=None, shrink_window=False, rules=StepRules())


class TrainResult(NamedTuple):
    """What :func:`train` did: sums over its workers, and their generator states."""

    words: int            # raw words (centre positions) in the range
    effective_words: int  # centre words kept by subsampling (gensim's "effective words")
    examples: int         # SGD steps: kept centres with at least one kept context word
    loss: float           # summed loss of those examples, nats
    rng_states: np.ndarray  # (workers,) uint64, each worker's state after its piece
    # the (begin, end) parts of the range left untrained because the stop flag was set
    remaining: tuple[tuple[int, int], ...] = ()


class HeldOutLoss(NamedTuple):
    mean: float     # loss per example, nats
    total: float    # summed over the examples
    examples: int   # centre positions with at least one context word
    stopped: bool = False  # the stop flag was set: only part of the stream was scored


class PieceResult(NamedTuple):
    """What one task did (see :class:`TrainResult`)."""

    words: int
    effective_words: int
    examples: int
    loss: float


class TaskInputs(NamedTuple):
    """What every task of one call reads besides its arrays, its piece and its generator state;
    the arrays are read only. ``learn=False`` only scores (held-out loss)."""

    settings: KernelSettings
    tokens: np.ndarray
    sentence_starts: np.ndarray
    subsample_key: np.uint64
    learn: bool
    stop_flag: np.ndarray  # (1,) int32: the kernels return early when it is not 0


# ---------------------------------------------------------------------------------------------
# One task
# ---------------------------------------------------------------------------------------------

def train_piece(arrays: tuple[np.ndarray, np.ndarray, np.ndarray], piece: Piece, rng_state,
                inputs: TaskInputs) -> tuple[PieceResult, np.uint64]:
    """One task of the executor seam (:mod:`cbow.parallel.executor`): train ``piece`` on
    ``arrays`` = ``(input_vectors, output_vectors, hidden_bias)``, updated in place, from
    ``rng_state``.

    Returns ``(PieceResult, rng_state after the piece)``. Bind ``inputs`` with
    :func:`functools.partial` to get the ``task(arrays, piece, rng_state)`` an executor runs.
    The arguments are those :func:`train` has checked.

    numba compiles a kernel once per combination of argument types, and a read-only array (a
    ``np.memmap`` opened with mode "r") is another type than a writeable one: the arrays the
    kernel only reads are passed as read-only views, every scalar as one type, so that one
    compiled kernel serves every call (and a Dask worker's unpickled copies).
    """
    s = inputs.settings
    noise, tree = records.objective_tables(s.objective)
    rows = records.rows_of(s.row_table)
    text = records.Text(_read_only(inputs.tokens), _read_only(inputs.sentence_starts),
                        int(s.max_sentence_length), _read_only(s.keep),
                        np.uint64(inputs.subsample_key))
    steps = records.Steps(int(s.C), bool(s.shrink_window), bool(s.relu), bool(inputs.learn),
                          bool(s.rules.skip_saturated))
    piece = Piece(int(piece.begin), int(piece.end), int(piece.schedule_begin),
                  int(piece.schedule_end), float(piece.alpha_start), float(piece.alpha_end))
    scratch = records.Scratch.allocate(np.shape(arrays[0])[1], text.max_sentence_length,
                                       2 * steps.C * (0 if rows is None else rows.most_rows))
    train_kernel = kernels.kernel(s.rules.fast_dot, s.rules.sigmoid_table)
    state, words, effective_words, examples, loss = train_kernel(
        records.Weights(*arrays), text, noise, tree, rows, steps, piece, np.uint64(rng_state),
        inputs.stop_flag, scratch)
    return PieceResult(words, effective_words, examples, loss), np.uint64(state)


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


# ---------------------------------------------------------------------------------------------
# Training and scoring a stream
# ---------------------------------------------------------------------------------------------

def train(settings: KernelSettings, weights: tuple[np.ndarray, np.ndarray, np.ndarray],
          text: tuple[np.ndarray, np.ndarray], begin: int, end: int,
          alphas: tuple[float, float], *, executor: Executor, epoch: int = 0,
          schedule: tuple[int, int] | None = None, rng_states: np.ndarray | None = None,
          stop_flag: np.ndarray | None = None) -> TrainResult:
    """Train CBOW on the centre positions ``[begin, end)`` of ``text`` = ``(tokens,
    sentence_starts)``, updating ``weights`` = ``(input_vectors, output_vectors, hidden_bias)``
    in place.

    The executor cuts the range into pieces, by default one per worker, each with its own
    generator state and scratch buffers, all updating the weights without locks; one worker
    runs in the calling thread and is bit-deterministic.

    ``alphas``: the learning rate at ``schedule[0]`` and ``schedule[1]``, linear in between.
    ``schedule`` defaults to ``(begin, end)``; pass the original range's to resume it part-way
    (one worker) with the same rates. With several workers each one decays from the rate at
    ``begin`` to the rate at ``end`` across its own piece, so that all of them use about the
    same rate at the same time, as word2vec's threads do. When the executor cuts more pieces
    than workers, a piece of round ``r`` of ``R`` (:func:`cbow.parallel.executor.rounds`)
    decays across it from the rate at ``r / R`` of the range to the rate at ``(r + 1) / R``.
    ``epoch`` and ``settings.seed`` fix the subsampling key and, unless ``rng_states``
    ((workers,) uint64, e.g. a returned ``TrainResult.rng_states``) is given, each worker's
    generator. ``stop_flag``: a (1,) int32 array that a signal handler (or another thread)
    sets to stop early: every piece returns at its next check and ``remaining`` lists the parts
    of the range not trained. With one worker that is ``((reached, end),)``, and training it
    with the returned ``rng_states`` and this call's schedule continues bit for bit.
    """
    workers = executor.workers
    stop_flag = _check_stop_flag(stop_flag)
    _check_weights(settings, weights)
    tokens, starts = _prepare_stream(*text, settings.objective.vocab_size, begin, end,
                                     settings.max_sentence_length)
    if rng_states is None:
        rng_states = worker_rng_states(settings.seed, workers, epoch)
    rng_states = np.asarray(rng_states, dtype=np.uint64)
    if rng_states.shape != (workers,):
        raise ValueError(f"rng_states must hold one state per worker, ({workers},); got {rng_states.shape}")
    pieces = _pieces(executor, begin, end, alphas, (begin, end) if schedule is None else schedule)
    inputs = TaskInputs(settings, tokens, starts, subsample_key(settings.seed, epoch), True,
                        stop_flag)
    results, states = executor.run(partial(train_piece, inputs=inputs), tuple(weights), pieces,
                                   rng_states)
    return TrainResult(words=sum(r.words for r in results),
                       effective_words=sum(r.effective_words for r in results),
                       examples=sum(r.examples for r in results),
                       loss=sum(r.loss for r in results), rng_states=states,
                       remaining=_untrained(pieces, results))


def _pieces(executor: Executor, begin: int, end: int, alphas: tuple[float, float],
            schedule: tuple[int, int]) -> list[Piece]:
    """The executor's cut of ``[begin, end)``, each piece with its learning rates (see
    :func:`train`)."""
    alpha_start, alpha_end = alphas
    cut = executor.cut(begin, end)
    if len(cut) == 1:
        return [Piece(begin, end, schedule[0], schedule[1], alpha_start, alpha_end)]
    # the rate follows the time at which a piece runs: its round (cbow.parallel.executor.rounds)
    slope = (alpha_end - alpha_start) / max(1, schedule[1] - schedule[0])
    n_rounds = executors.rounds(len(cut), executor.workers)
    pieces = []
    for k, (piece_begin, piece_end) in enumerate(cut):
        round_ = k // executor.workers
        started = begin + (end - begin) * round_ // n_rounds
        finished = begin + (end - begin) * (round_ + 1) // n_rounds
        pieces.append(Piece(piece_begin, piece_end, piece_begin, piece_end,
                            alpha_start + slope * (started - schedule[0]),
                            alpha_start + slope * (finished - schedule[0])))
    return pieces


def _untrained(pieces, results) -> tuple[tuple[int, int], ...]:
    """The parts of the pieces their tasks did not reach (a stopped piece trained
    ``[begin, begin + words)``)."""
    return tuple((p.begin + r.words, p.end) for p, r in zip(pieces, results)
                 if p.begin + r.words < p.end)


def held_out_loss(settings: KernelSettings, weights: tuple[np.ndarray, np.ndarray, np.ndarray],
                  text: tuple[np.ndarray, np.ndarray], *, executor: Executor,
                  stop_flag: np.ndarray | None = None) -> HeldOutLoss:
    """The objective's loss over every position of a held-out ``text``, nothing written.

    Every position is a centre (no subsampling) with all ``C`` context words on each side (no
    shrinking), scored with the exact step rules (:meth:`KernelSettings.for_scoring`). The
    executor splits the stream into one piece per worker; piece ``i`` draws its noise words
    (negative sampling) from a generator fixed by ``(settings.seed, i)``, so the same arguments
    give the same loss at every evaluation and the curve is smooth. Stopped early by
    ``stop_flag``, ``stopped`` is True and the mean covers part of the stream only.
    """
    stop_flag = _check_stop_flag(stop_flag)
    _check_weights(settings, weights)
    tokens = np.asarray(text[0])
    tokens, starts = _prepare_stream(tokens, text[1], settings.objective.vocab_size, 0,
                                     tokens.size, settings.max_sentence_length)
    inputs = TaskInputs(settings.for_scoring(), tokens, starts, np.uint64(0), False, stop_flag)
    # Nothing is written, so the pieces are independent and the result is deterministic.
    pieces = [Piece(b, e, b, e, 0.0, 0.0)
              for b, e in executors.split(0, tokens.size, executor.workers)]
    results, _ = executor.run(partial(train_piece, inputs=inputs), tuple(weights), pieces,
                              worker_rng_states(settings.seed, executor.workers))
    total, examples = sum(r.loss for r in results), sum(r.examples for r in results)
    return HeldOutLoss(total / examples if examples else float("nan"), total, examples,
                       stopped=bool(_untrained(pieces, results)))


# ---------------------------------------------------------------------------------------------
# Checks: the cost of each is O(what the call reads)
# ---------------------------------------------------------------------------------------------

def _prepare_stream(tokens, sentence_starts, vocab_size, begin, end, max_sentence_length):
    """The arrays as the kernels take them, after the checks that cost O(what is read)."""
    tokens = np.asarray(tokens)  # a np.memmap becomes a plain view: no copy
    if tokens.dtype != np.uint32 or tokens.ndim != 1 or not tokens.flags.c_contiguous:
        raise TypeError("tokens must be a contiguous 1-D uint32 array (np.asarray(ids, np.uint32)); "
                        f"got {tokens.ndim}-D {tokens.dtype}")
    starts = np.ascontiguousarray(sentence_starts, dtype=np.int64)
    if starts.ndim != 1 or starts.size == 0 or starts[0] != 0 or starts[-1] > tokens.size:
        raise ValueError("sentence_starts must be a 1-D array of offsets starting with 0 and "
                         f"no larger than len(tokens) = {tokens.size}")
    if not 0 <= begin <= end <= tokens.size:
        raise ValueError(f"range [{begin}, {end}) is not inside the {tokens.size} tokens")
    # Windows read at most one sentence piece beyond the range on either side.
    read_from, read_to = max(0, begin - max_sentence_length), min(tokens.size, end + max_sentence_length)
    if read_to > read_from and int(tokens[read_from:read_to].max()) >= vocab_size:
        raise ValueError(f"token id {int(tokens[read_from:read_to].max())} is out of range "
                         f"for {vocab_size} words")
    return tokens, starts


def _check_weights(settings: KernelSettings, weights) -> None:
    input_vectors, output_vectors, hidden_bias = weights
    objective, row_table = settings.objective, settings.row_table
    V, N = objective.vocab_size, np.shape(input_vectors)[-1]
    input_rows = V
    if row_table is not None:
        input_rows = np.shape(input_vectors)[0]  # V + fastText's buckets, say: any number
        if input_rows < row_table.input_rows:
            raise ValueError(f"input_vectors has {input_rows} rows; the row table reads rows up "
                             f"to {row_table.input_rows - 1}")
    expected = {"input_vectors": (input_vectors, (input_rows, N)),
                "output_vectors": (output_vectors, (objective.output_rows, N)),
                "hidden_bias": (hidden_bias, (N,))}
    for name, (array, shape) in expected.items():
        if not (isinstance(array, np.ndarray) and array.dtype == np.float32
                and array.flags.c_contiguous and array.flags.writeable and array.shape == shape):
            got = f"{array.shape} {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
            raise TypeError(f"{name} must be a writeable C-ordered float32 array of shape {shape}; got {got}")


_NO_STOP = np.zeros(1, np.int32)  # a flag nobody sets: never written


def _check_stop_flag(stop_flag) -> np.ndarray:
    if stop_flag is None:
        return _NO_STOP
    if not (isinstance(stop_flag, np.ndarray) and stop_flag.shape == (1,)
            and stop_flag.dtype == np.int32 and stop_flag.flags.c_contiguous):
        raise TypeError("stop_flag must be a (1,) int32 array (np.zeros(1, np.int32)); got "
                        f"{getattr(stop_flag, 'shape', type(stop_flag).__name__)}")
    return stop_flag


def _executor(workers, executor: Executor | None) -> Executor:
    """The executor given, or the process's threads for ``workers`` (the default executor)."""
    if not (isinstance(workers, (int, np.integer)) and workers >= 1):
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    if executor is None:
        return executors.threads(int(workers))
    if workers not in (1, executor.workers):
        raise ValueError(f"workers={workers} and an executor of {executor.workers} workers: "
                         "pass one of them")
    return executor


# ---------------------------------------------------------------------------------------------
# The same with keyword arguments, for direct callers
# ---------------------------------------------------------------------------------------------

def train_range(objective: Objective, input_vectors: np.ndarray, output_vectors: np.ndarray,
                tokens: np.ndarray, sentence_starts: np.ndarray, begin: int, end: int, *,
                alpha_start: float, alpha_end: float, C: int = 5,
                keep: np.ndarray | None = None, shrink_window: bool = True, relu: bool = False,
                hidden_bias: np.ndarray | None = None, workers: int = 1, seed: int = 1,
                epoch: int = 0, rng_states: np.ndarray | None = None,
                schedule: tuple[int, int] | None = None,
                max_sentence_length: int = MAX_SENTENCE_LENGTH,
                row_table: RowTable | None = None, executor: Executor | None = None,
                rules: StepRules = StepRules(),
                stop_flag: np.ndarray | None = None) -> TrainResult:
    """:func:`train` with the :class:`KernelSettings` (``objective``, ``C``, ``keep``,
    ``shrink_window``, ``relu``, ``seed``, ``row_table``, ``rules``, ``max_sentence_length``)
    as keyword arguments, the weights and the text as arrays, and ``workers`` threads unless an
    ``executor`` is given (``workers`` must then be 1 or ``executor.workers``).

    ``hidden_bias`` (N,) float32 is trained with ``relu``, which needs it; without, zeros.

    Returns TrainResult(words, effective_words, examples, loss, rng_states, remaining):
    ``words`` counts the positions trained; ``remaining`` is empty unless the stop flag was set.
    """
    executor = _executor(workers, executor)
    if hidden_bias is None:
        if relu:
            raise ValueError("relu=True trains a hidden bias: pass hidden_bias, (N,) float32")
        hidden_bias = np.zeros(np.shape(input_vectors)[-1], np.float32)
    settings = KernelSettings(objective, C, shrink_window, relu, seed, keep, row_table, rules,
                              max_sentence_length)
    return train(settings, (input_vectors, output_vectors, hidden_bias), (tokens, sentence_starts),
                 begin, end, (alpha_start, alpha_end), executor=executor, epoch=epoch,
                 schedule=schedule, rng_states=rng_states, stop_flag=stop_flag)


def _keyword_held_out_loss(objective, input_vectors, output_vectors, tokens, sentence_starts,
                           C, seed, relu, hidden_bias, workers, max_sentence_length, row_table,
                           executor, stop_flag) -> HeldOutLoss:
    executor = _executor(workers, executor)
    if hidden_bias is None:
        hidden_bias = np.zeros(np.shape(input_vectors)[-1], np.float32)
    settings = KernelSettings(objective, C, False, relu, seed, row_table=row_table,
                              max_sentence_length=max_sentence_length)
    return held_out_loss(settings, (input_vectors, output_vectors, hidden_bias),
                         (tokens, sentence_starts), executor=executor, stop_flag=stop_flag)


def negative_sampling_loss(objective: NegativeSampling, input_vectors, output_vectors, tokens,
                           sentence_starts, *, C: int = 5, seed: int = 0, relu: bool = False,
                           hidden_bias=None, workers: int = 1,
                           max_sentence_length: int = MAX_SENTENCE_LENGTH,
                           row_table: RowTable | None = None,
                           executor: Executor | None = None,
                           stop_flag: np.ndarray | None = None) -> HeldOutLoss:
    """Negative-sampling loss over every position of a held-out stream, nothing written
    (:func:`held_out_loss`).

    The loss of one position is ``-log sigmoid(h . out[centre]) - sum_k log
    sigmoid(-h . out[noise_k])``; the noise words come from generators fixed by ``seed`` and
    the number of workers (``workers``, or the ``executor``'s). Memory: O(max_sentence_length
    + N) per worker.

    Returns HeldOutLoss(mean, total, examples, stopped), in nats.
    """
    if not isinstance(objective, NegativeSampling):
        raise TypeError("negative_sampling_loss needs a NegativeSampling objective")
    return _keyword_held_out_loss(objective, input_vectors, output_vectors, tokens,
                                  sentence_starts, C, seed, relu, hidden_bias, workers,
                                  max_sentence_length, row_table, executor, stop_flag)


def hierarchical_softmax_loss(objective: HierarchicalSoftmax, input_vectors, output_vectors,
                              tokens, sentence_starts, *, C: int = 5, relu: bool = False,
                              hidden_bias=None, workers: int = 1,
                              max_sentence_length: int = MAX_SENTENCE_LENGTH,
                              row_table: RowTable | None = None,
                              executor: Executor | None = None,
                              stop_flag: np.ndarray | None = None) -> HeldOutLoss:
    """Exact negative log-likelihood of every held-out centre word under hierarchical softmax
    (:func:`held_out_loss`).

    ``-log P(centre | context) = -sum over the centre's Huffman path of log sigmoid(+-score)``,
    in nats, with no subsampling, no window shrinking and nothing written. It is a proper
    probability over the vocabulary, so it compares with a full softmax's cross-entropy.

    Returns HeldOutLoss(mean, total, examples, stopped).
    """
    if not isinstance(objective, HierarchicalSoftmax):
        raise TypeError("hierarchical_softmax_loss needs a HierarchicalSoftmax objective")
    return _keyword_held_out_loss(objective, input_vectors, output_vectors, tokens,
                                  sentence_starts, C, 0, relu, hidden_bias, workers,
                                  max_sentence_length, row_table, executor, stop_flag)
