"""The training loop: config in, embeddings, checkpoints and metrics out.

``train(cfg)`` prepares the data (corpus -> tokens -> vocabulary -> windows, the last
``val_fraction`` of the corpus held out), then runs gradient descent with the objective's step
(:mod:`cbow.models.objective`). It can be stopped at any moment (Ctrl-C, SIGTERM or SIGHUP save a
checkpoint; so does a log whose reader went away, as SIGPIPE) and resumed exactly: the
learning rate is a function of the step, the batch order a function of the seed and the
batcher's saved position, so a resumed run computes the same numbers as an uninterrupted one.

Steps and held-out evaluations run in a helper thread while the main thread waits for them,
so that a stop signal is handled at once: the handler sets a flag that the compiled kernels
read as they go (a word2vec step then returns part-way, and its feed saves where it stopped;
an evaluation is dropped), and the run saves and exits within seconds however long a step is.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from cbow.training import checkpoint as ckpt
from cbow.parallel import cluster
from cbow.training import continuation
from cbow.data.batching import check_window_args
from cbow.config import KEYS, Config, dump, run_identity
from cbow.errors import TrainingDiverged, TrainingError
from cbow.evaluation.suite import BenchmarkSuite
from cbow.io import atomic_write_bytes
from cbow.models.objective import TrainableModel, objective_class
from cbow.data.prepare import PreparedCorpus, prepare
from cbow.training.run import RunFolder
from cbow.data.vocab import Vocabulary

__all__ = ["TrainingData", "Result", "TrainingError", "TrainingDiverged", "train",
           "prepare_training_data", "prepare_corpus", "alpha_at", "total_steps", "Throughput",
           "STOP_SIGNALS", "RESUME_MODES"]

# Signals that stop a run cleanly: stop the step where it is, save, exit with 128 + the signal's
# number. SIGTERM is what `timeout`, `docker stop`, Kubernetes and Slurm send; SIGHUP a closed
# terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How often the main thread, waiting for a step, wakes to run a signal's handler (a signal
# delivered to a worker thread is handled only when the main thread runs Python code).
_WAKE_S = 0.1
RESUME_MODES = ("no", "yes", "auto")


@dataclass
class TrainingData:
    """Everything training needs from the text: token ids, split into training and held-out.

    ``ids[:n_train]`` is trained on, ``ids[n_train:]`` (the last ``val_fraction`` of the
    corpus, a contiguous tail that shares no window with training) is held out.
    ``sentence_starts`` are offsets in ``ids`` where sentences start (``[0]``: one stream).
    """

    vocab: Vocabulary
    ids: np.ndarray              # (n,) uint32
    sentence_starts: np.ndarray  # (S,) int64
    n_train: int
    fingerprint: str             # identifies the ids: a resume must see the same

    @property
    def has_heldout(self) -> bool:
        return self.n_train < self.ids.shape[0]

    def part(self, heldout: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(tokens, sentence_starts)`` of the training part or of the held-out tail."""
        begin, end = (self.n_train, self.ids.shape[0]) if heldout else (0, self.n_train)
        starts = self.sentence_starts
        inside = starts[(starts > begin) & (starts < end)] - begin
        return (np.ascontiguousarray(self.ids[begin:end]),
                np.concatenate(([0], inside)).astype(np.int64))


@dataclass
class Result:
    out_dir: Path
    model: TrainableModel  # the objective (cbow.models.objective), holding the trained parameters
    vocab: Vocabulary
    step: int
    checkpoint: Path | None
    val_loss_start: float | None = None
    val_loss_end: float | None = None
    unigram_val_loss: float | None = None
    benchmarks: dict = field(default_factory=dict)  # the last evaluation's figures
    last_loss: float | None = None
    wall_s: float = 0.0
    words_per_s: float = 0.0  # training positions (full softmax: windows) per second of training
    eval_s: float = 0.0       # of wall_s, the time spent on held-out evaluations
    checkpoint_s: float = 0.0  # of wall_s, the time spent checking weights and saving checkpoints
    # of wall_s, the time the objective's steps spent computing (the full softmax: its model
    # step); the rest of training time is the loop's own (feeding, checks, logging). None if the
    # objective's feed does not measure it
    compute_s: float | None = None
    # centre words kept by subsampling, summed over the run since step 0 (all positions when
    # nothing is subsampled; None when resumed from a checkpoint that did not count them)
    effective_words: int | None = 0
    stopped_by: int | None = None  # the signal that stopped the run early, if any
    stopped_in_step: bool = False  # it stopped part-way through step ``step + 1`` (saved)
    already_complete: bool = False
    history: list[dict] = field(default_factory=list)
    init_from: dict | None = None  # the checkpoint the run started from: {path, step, sha256}

    @property
    def params(self):
        """The trained parameters (every objective's have ``arrays()`` and ``all_finite()``)."""
        return self.model.params

    @property
    def interrupted(self) -> bool:
        return self.stopped_by is not None

    def summary(self) -> str:
        def fmt(x):
            return "n/a" if x is None else f"{x:.4f}"
        first = (f"the run was already complete at step {self.step}; nothing to do"
                 if self.already_complete else
                 f"trained to step {self.step} in {self.wall_s:.1f} s "
                 f"({self.words_per_s:,.0f} words/s; {self.eval_s:.1f} s of it evaluating)")
        effective = ("unknown (resumed from a checkpoint that did not count them)"
                     if self.effective_words is None else f"{self.effective_words:,}")
        lines = [first, f"vocabulary: {len(self.vocab)} words, N = {self.model.N}, "
                        f"objective: {self.model.name}"]
        if self.init_from is not None:
            lines.append(f"started from: {self.init_from['path']} (step "
                         f"{self.init_from['step']}, sha256 {self.init_from['sha256'][:12]}...)")
        if not self.already_complete:
            lines.append(f"last batch loss: {fmt(self.last_loss)}")
        lines.append(f"effective words (kept by subsampling) since step 0: {effective}")
        # A stop signal during the last evaluation drops it: say which step the figure is of.
        evaluated = [r["step"] for r in self.history if r.get("val_loss") is not None]
        end = ("at the end" if not evaluated or evaluated[-1] == self.step
               else f"at step {evaluated[-1]} (the last evaluation)")
        lines.append(f"held-out loss: {fmt(self.val_loss_start)} at the start -> "
                     f"{fmt(self.val_loss_end)} {end} (a unigram model of the training "
                     f"tokens: {fmt(self.unigram_val_loss)})")
        lines += [f"{name}: {value:.4f}" for name, value in self.benchmarks.items()
                  if value is not None]
        lines += [
                  f"checkpoint: {self.checkpoint}",
                  f"run folder: {self.out_dir} (vocab.txt, config.yaml, metrics.jsonl)"]
        return "\n".join(lines)


def prepare_training_data(cfg: Config, progress: bool | None = None) -> TrainingData:
    """The prepared corpus (made once, then reused: :mod:`cbow.data.prepare`), split for training.

    The last ``val_fraction`` of the token ids is held out: a contiguous tail, so that no
    held-out window shares a token with a training window.
    """
    prepared = prepare_corpus(cfg, progress)
    ids = prepared.ids
    C = cfg.model.C
    check_window_args(len(ids), C)
    n_val = int(round(len(ids) * cfg.train.val_fraction))
    if n_val > 0 and (n_val < 2 * C + 1 or len(ids) - n_val < 2 * C + 1):
        raise TrainingError(
            f"train.val_fraction={cfg.train.val_fraction} leaves {n_val} held-out and "
            f"{len(ids) - n_val} training tokens of {len(ids)}; each part needs at least "
            f"2*C+1 = {2 * C + 1}. Use a longer corpus, or set train.val_fraction to 0")
    return TrainingData(prepared.vocab, ids, np.asarray(prepared.sentence_starts),
                        len(ids) - n_val, prepared.fingerprint)


def prepare_corpus(cfg: Config, progress: bool | None = None) -> PreparedCorpus:
    """``cbow.data.prepare.prepare`` with the config's settings (what ``cbow prepare`` runs), or
    its Dask twin when ``cluster.scheduler`` is set (same result)."""
    p, v, c = cfg.prepare, cfg.vocab, cfg.cluster
    settings = dict(tokenizer=cfg.tokenizer, lowercase=p.lowercase, min_count=v.min_count,
                    max_size=v.max_size, order=v.order, cache_root=p.cache_dir,
                    errors=p.errors, progress=progress)
    if c.scheduler is not None:
        from cbow.data.cluster_prepare import prepare_on_cluster
        return prepare_on_cluster(cfg.corpus, scheduler=c.scheduler, shared_dir=c.shared_dir,
                                  timeout=c.connect_timeout, **settings)
    return prepare(cfg.corpus, workers=p.workers, **settings)


def alpha_at(cfg: Config, step: int, last_step: int | None = None) -> float:
    """Learning rate of step ``step`` (0-based) of a run of ``last_step`` steps.

    ``step`` schedule: alpha * decay ** (step // decay_every). ``linear``: from alpha at step 0
    to min_alpha at ``last_step``, as word2vec decays it over the whole run.
    """
    t = cfg.train
    if t.schedule == "linear":
        return t.alpha + (t.min_alpha - t.alpha) * min(step / max(last_step, 1), 1.0)
    return t.alpha * t.decay ** (step // t.decay_every)


def total_steps(cfg: Config, steps_per_epoch: int) -> int:
    """Steps of the whole run: ``train.steps``, or ``train.epochs`` worth, whichever is fewer."""
    t = cfg.train
    candidates = []
    if t.steps is not None:
        candidates.append(t.steps)
    if t.epochs is not None:
        candidates.append(math.ceil(t.epochs * steps_per_epoch))
    return min(candidates)


def loss_ceiling(V: int) -> float:
    """The largest loss a run may show before it counts as diverged: 10 ln V nats.

    A model that predicts uniformly scores ln V; the course's untrained model about 1.2 ln V.
    Ten times ln V is far beyond anything a learning run passes through, and far below what a
    run whose learning rate blew up reaches while its numbers are still finite.
    """
    return 10 * math.log(max(V, 2))


def step_rates(cfg: Config, step: int, last_step: int) -> tuple[float, float]:
    """The learning rate at the start and at the end of step ``step``.

    The ``linear`` schedule falls across the step to the next step's rate (word2vec's steps
    use both ends); the ``step`` schedule holds its rate for the whole step.
    """
    alpha = alpha_at(cfg, step, last_step)
    return alpha, alpha if cfg.train.schedule == "step" else alpha_at(cfg, step + 1, last_step)


class Throughput:
    """Training speed with evaluation left out: per logging window and for the whole run.

    It also splits the elapsed time: ``paused_s`` (evaluating), ``checkpoint_s`` (saving) and
    ``compute_s``, the steps' computation as their feed reports it (None once a step did not).
    """

    def __init__(self):
        self.started = self._window_start = time.perf_counter()
        self.words = 0             # positions trained by this process
        self.paused_s = 0.0        # of the elapsed time, spent in :meth:`paused`
        self.checkpoint_s = 0.0    # of the elapsed time, spent saving checkpoints
        self.compute_s: float | None = 0.0
        self._examples = self._window_words = 0
        self._window_paused_s = 0.0

    def count(self, examples: int, words: int, compute_s: float | None = None) -> None:
        self.words += words
        self._examples += examples
        self._window_words += words
        if compute_s is None or self.compute_s is None:
            self.compute_s = None
        else:
            self.compute_s += compute_s

    @contextmanager
    def paused(self):
        """Time spent inside (evaluating) is not training time."""
        begin = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - begin
            self.paused_s += spent
            self._window_paused_s += spent

    @contextmanager
    def saving(self):
        """Time spent inside (checking the weights, writing a checkpoint) is counted apart."""
        begin = time.perf_counter()
        try:
            yield
        finally:
            self.checkpoint_s += time.perf_counter() - begin

    def window(self) -> tuple[float, float]:
        """Examples and words per second since the last call (or the start); starts a new one."""
        now = time.perf_counter()
        seconds = max(now - self._window_start - self._window_paused_s, 1e-9)
        rates = self._examples / seconds, self._window_words / seconds
        self._window_start, self._examples, self._window_words = now, 0, 0
        self._window_paused_s = 0.0
        return rates

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def words_per_s(self) -> float:
        """Words per second of training over the whole of this process's run."""
        return self.words / max(self.elapsed() - self.paused_s, 1e-9)


@contextmanager
def _stop_signals(flag: np.ndarray):
    """While active, STOP_SIGNALS write their number into ``flag[0]`` instead of stopping.

    ``flag`` is the ``(1,)`` int32 array the feed's long loops read (the compiled kernels
    included, in other threads). A second signal while the final checkpoint is written changes
    nothing: the handler only records the first one, and the checkpoint is written atomically
    anyway.
    """

    def handler(signum, frame):
        if flag[0] == 0:
            flag[0] = signum

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave the signals alone
        pass
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _waiting(pool: ThreadPoolExecutor, function, *args):
    """``function(*args)`` run in ``pool``'s thread, the calling (main) thread waiting for it.

    Waiting in short sleeps of the main thread lets Python run a signal handler at once, even
    while the work is inside compiled code that holds the thread for minutes; an exception is
    raised here as if the function had been called directly.
    """
    future = pool.submit(function, *args)
    while True:
        try:
            return future.result(timeout=_WAKE_S)
        except FutureTimeout:
            continue


def _check_resumable(cfg: Config, data: TrainingData, meta: dict, path: Path) -> None:
    # A key newer than the checkpoint is missing from it: the run had that key's default.
    saved = {k: v.default for k, v in KEYS.items()} | meta.get("run_identity", {})
    now = run_identity(cfg)
    changed = [f"{k}: {saved.get(k)!r} in the checkpoint, {now[k]!r} now"
               for k in now if saved.get(k) != now[k]]
    if changed:
        raise TrainingError(f"cannot resume from {path}: the run's settings changed "
                            f"({'; '.join(changed)}). Resume with the same settings, or train "
                            f"into a new out_dir")
    if meta.get("vocab_fingerprint") != data.vocab.fingerprint():
        raise TrainingError(f"cannot resume from {path}: it was trained on another vocabulary "
                            f"({meta.get('vocab_size')} words; this corpus gives "
                            f"{len(data.vocab)}). Train into a new out_dir")
    if meta.get("corpus_sha256") != data.fingerprint:
        raise TrainingError(f"cannot resume from {path}: the corpus text changed since it was "
                            f"written. Train into a new out_dir")
    if meta["objective"] != cfg.model.objective:
        raise TrainingError(f"cannot resume from {path}: it holds a {meta['objective']} "
                            f"model, this config trains {cfg.model.objective}")


def _resume_mode(resume) -> str:
    mode = {True: "yes", False: "no", None: "no"}.get(resume, resume)
    if mode not in RESUME_MODES:
        raise ValueError(f"resume must be one of {RESUME_MODES} or a bool; got {resume!r}")
    return mode


def train(cfg: Config, resume: bool | str = False, overwrite: bool = False,
          quiet: bool = False, log=print, init_from=None) -> Result:
    """Train CBOW embeddings as ``cfg`` says; write checkpoints and metrics to ``cfg.out_dir``.

    Parameters
    ----------
    resume : bool or {"no", "yes", "auto"}
        ``"yes"`` (True) continues from the newest readable checkpoint and fails if there is
        none; ``"auto"`` continues if there is one and starts otherwise; ``"no"`` (False)
        starts a new run, refused if the folder already holds one (unless ``overwrite``).
    overwrite : bool
        With ``resume="no"``: delete the folder's old run (checkpoints, metrics, config).
    log : callable or None
        Receives warnings and notes (skipped checkpoints, resuming); ``quiet`` never hides them.
    init_from : str, os.PathLike or dict, optional
        Start from another run (its folder: the newest readable checkpoint; or a checkpoint
        file; or a record ``{path, step, sha256}`` as a run's config.yaml keeps it), its
        vocabulary grown by this corpus's words (:mod:`cbow.training.continuation`); in place of
        ``cfg.init_from``. A resume continues the run's own checkpoints and re-reads nothing.

    Raises
    ------
    TrainingDiverged
        A non-finite or implausibly large loss, or a non-finite weight; the last good
        checkpoint is kept.
    TrainingError
        A checkpoint that cannot be resumed, or a corpus too small for the settings.
    RunFolderError
        The run folder is in use, holds another run, or cannot be created.
    """
    stop = np.zeros(1, np.int32)  # the signal that stops the run (0: none), read by the feed
    log = _minding_output(log or (lambda message: None), stop)
    mode = _resume_mode(resume)
    if init_from is not None:
        cfg = dataclasses.replace(cfg, init_from=init_from if isinstance(init_from, dict)
                                  else os.fspath(init_from))
    if cfg.init_from is not None:  # before claiming: --overwrite would delete it
        continuation.check_outside(cfg.init_from, cfg.out_dir)
    folder = RunFolder(cfg.out_dir)
    # The cluster first: a scheduler that cannot be reached leaves no run folder behind.
    with cluster.session(cfg.cluster.scheduler, timeout=cfg.cluster.connect_timeout), \
            folder.lock(), threadpool_limits(limits=cfg.train.blas_threads, user_api="blas"):
        folder.claim(mode, overwrite)
        for leftover in folder.remove_temporary_files():
            log(f"removed {leftover}, left by a process killed while writing it")
        return _train_locked(cfg, folder, mode, quiet, log, stop)


def _find_checkpoint(folder: RunFolder, mode: str, log) -> ckpt.Checkpoint | None:
    """The checkpoint to resume from (``mode`` ``"yes"`` or ``"auto"``), or None to start."""
    if mode == "no":
        return None
    found = folder.latest_checkpoint(log, then="resuming from")
    if found is None and mode == "yes":
        raise ckpt.CheckpointError(f"no checkpoint in {folder.checkpoint_dir} can be read "
                                   f"(see the warnings above); nothing to resume from")
    if found is None:
        log(f"no checkpoint in {folder.checkpoint_dir}: starting from step 0")
    return found


def _minding_output(log, stop: np.ndarray):
    """``log``, except that an output whose reader went away (``cbow train 2>&1 | head -1``:
    ``BrokenPipeError``) stops the run as a stop signal does, as SIGPIPE: the current step
    finishes, a checkpoint is saved, nothing is lost. Nothing more is written to it.

    Stopping, not training on unseen: the shell that runs the pipeline waits for the run to
    end, so a run going on silently would hold the terminal, without a word, for all of it.
    """
    closed = False

    def minded(message: str) -> None:
        nonlocal closed
        if closed:
            return
        try:
            log(message)
        except BrokenPipeError:
            closed = True
            if stop[0] == 0:
                stop[0] = signal.SIGPIPE

    return minded


def _train_locked(cfg: Config, folder: RunFolder, mode: str, quiet: bool, log,
                  stop: np.ndarray) -> Result:
    t = cfg.train
    # ---- the data, the model and its feed (new, or where the checkpoint left them)
    data = prepare_training_data(cfg, progress=False if quiet else None)
    Objective = objective_class(cfg.model.objective)

    def check_room(V: int) -> None:
        need = Objective.estimate_bytes(cfg, V)
        folder.check_room(need["parameters"], need["buffers"], cfg.checkpoint.keep,
                          (f"for V = {V:,}, N = {cfg.model.N:,}", f"for batch_size {t.batch_size}"),
                          "lower model.N or train.batch_size, or use float32 (train.dtype)")

    check_room(len(data.vocab))
    found = _find_checkpoint(folder, mode, log)
    # A run started from another (--init-from) trains on a grown vocabulary: its record goes
    # into config.yaml and the checkpoints; a resume finds it in its own checkpoint.
    origin, record, data = continuation.carry_over(cfg, data, found, folder.ids_path, log)
    cfg = dataclasses.replace(cfg, init_from=record)
    vocab = data.vocab
    if record is not None:
        check_room(len(vocab))
    if found is not None:
        _check_resumable(cfg, data, found.meta, found.path)
    model = (Objective.build(cfg, vocab, found) if origin is None else
             Objective.grown(cfg, vocab, origin.checkpoint, log))
    if found is not None:
        log(f"resuming from {found.path} (step {found.meta['step']})")
    meta = found.meta if found is not None else {"step": 0, "effective_words": 0}
    # effective_words: centre words kept by subsampling since step 0 (older checkpoints: None)
    step, val_loss_start, effective_words = (meta["step"], meta.get("val_loss_start"),
                                             meta.get("effective_words"))
    feed = model.feed(cfg, data, meta.get("batcher"), stop)
    last_step = total_steps(cfg, feed.steps_per_epoch)
    unigram_val_loss = feed.baseline() if model.LOSS_IS_CROSS_ENTROPY else None
    benchmarks = BenchmarkSuite(tuple(cfg.eval.pairs), tuple(cfg.eval.analogies),
                                cfg.eval.restrict)
    history = folder.read_metrics(up_to_step=step) if found is not None else []
    last_path = found.path if found is not None else None
    vocab.save(folder.vocab_path)
    atomic_write_bytes(folder.config_path, dump(cfg).encode("utf-8"))
    if found is not None and step >= last_step:
        vals = [r["val_loss"] for r in history if r.get("val_loss") is not None]
        return Result(folder.path, model, vocab, step, last_path, val_loss_start=val_loss_start,
                      val_loss_end=vals[-1] if vals else None,
                      unigram_val_loss=unigram_val_loss, effective_words=effective_words,
                      already_complete=True, history=history, init_from=record)

    errors = np.geterr()  # the caller's: evaluations run with them, the steps ignore overflow

    def evaluate_into(row: dict) -> None:
        with np.errstate(**errors):
            row["val_loss"] = feed.heldout_loss()
            if benchmarks and not stop[0]:
                row["benchmarks"] = benchmarks.score(model.embeddings(
                    model.arrays(), vocab, model.VECTORS[0], run_identity(cfg)))

    def evaluation(row: dict, at_step: int) -> dict:
        """``row`` with the held-out loss and, if configured, the benchmark figures; without
        them if a stop signal came meanwhile (a figure of part of the held-out data would be
        wrong). A collapsed model is divergence."""
        with speed.paused():
            _waiting(pool, evaluate_into, row)
        if stop[0]:
            row.pop("val_loss", None)
            row.pop("benchmarks", None)
        problem = model.health()
        if problem:
            raise diverged(at_step, problem)
        return row

    def run_step(alpha: float, next_alpha: float):
        # Overflow shows up as a non-finite loss or weight, reported below with its step.
        with np.errstate(over="ignore", invalid="ignore"):
            return feed.step(alpha, next_alpha)

    def diverged(at_step: int, what: str) -> TrainingDiverged:
        good = folder.checkpoints()
        kept = f"; the last good checkpoint is {good[-1]}" if good else "; no checkpoint was written"
        return TrainingDiverged(f"training diverged at step {at_step}: {what}. Lower train.alpha "
                                f"(now {t.alpha}) and train again{kept}")

    def save(at_step: int, feed_state: dict | None = None) -> Path:
        # A checkpoint is the last good state: the weights are checked before each one.
        if not model.all_finite():
            raise diverged(at_step, "a weight is not finite")
        problem = model.health()
        if problem:
            raise diverged(at_step, problem)
        meta = {"objective": model.name, "step": at_step, "batcher": feed_state or feed.state(),
                "epoch": feed.epochs_done, "alpha": alpha_at(cfg, at_step, last_step),
                "run_identity": run_identity(cfg), "vocab_fingerprint": vocab.fingerprint(),
                "vocab_size": len(vocab), "corpus_sha256": data.fingerprint,
                "val_loss_start": val_loss_start, "model_state": model.state(),
                "effective_words": effective_words, "init_from": record}
        path = ckpt.save_checkpoint(folder.checkpoint_path(at_step), model.arrays(), vocab, meta)
        folder.prune_checkpoints(cfg.checkpoint.keep)
        return path

    # ---- the loop: step, check, log (and evaluate), checkpoint
    ceiling = loss_ceiling(len(vocab))
    interactive = sys.stderr.isatty()
    speed = Throughput()
    loss, stopped_by, stopped_in_step = None, None, False
    bar = tqdm(total=last_step, initial=step, disable=quiet or not interactive, unit="step",
               dynamic_ncols=True, desc="train")
    # Steps and evaluations run in this thread, the main thread waiting: see the docstring.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cbow-step")
    try:
        with _stop_signals(stop), folder.metrics_writer(history) as metrics:
            def write_row(row: dict) -> None:
                history.append(row)
                metrics.write(json.dumps(row) + "\n")
                metrics.flush()  # so that `tail -f metrics.jsonl` follows the run

            if step == 0 and data.has_heldout and not history:
                # The untrained model's held-out loss: where the curve starts (no batch loss).
                # (Resumed inside step 1, the model is no longer untrained: its row is there.)
                if not quiet:
                    start = "untrained model" if record is None else "model it starts from"
                    log(f"held-out loss of the {start} ({feed.heldout_size:,} "
                        f"{feed.heldout_unit})...")
                row = evaluation({"step": 0, "epoch": 0.0, "loss": None,
                                  "alpha": alpha_at(cfg, 0, last_step), "examples_per_s": 0.0,
                                  "elapsed_s": 0.0, "effective_words": 0}, 0)
                val_loss_start = row.get("val_loss")
                row["unigram_val_loss"] = unigram_val_loss
                if not stop[0]:  # else the resumed run evaluates step 0 again
                    write_row(row)
            while step < last_step and not stop[0]:
                alpha, next_alpha = step_rates(cfg, step, last_step)
                before = feed.state()
                try:
                    done = _waiting(pool, run_step, alpha, next_alpha)
                except cluster.ClusterError as error:
                    # The weights are those after step `step` (a cluster step changes them
                    # only once it succeeded): save them where the feed was then.
                    last_path = save(step, feed_state=before)
                    raise cluster.ClusterLost(f"{error} The run stopped at step {step}, saved "
                                              f"in {last_path}.", last_path) from None
                if not done.complete:  # stopped part-way: the feed's state holds the rest
                    stopped_in_step = True
                    break
                step, loss = step + 1, done.loss
                speed.count(done.examples, done.words, done.compute_s)
                if effective_words is not None:
                    effective_words += done.effective_words
                if not math.isfinite(loss):
                    raise diverged(step, f"the loss is {loss}")
                if loss > ceiling:
                    raise diverged(step, f"the batch loss {loss:.4g} exceeds 10 ln V = "
                                         f"{ceiling:.4g} nats")
                evaluate = step % t.eval_every == 0 or step == last_step
                if step % t.log_every == 0 or evaluate:
                    examples_per_s, words_per_s = speed.window()
                    row = {"step": step, "epoch": round(feed.epochs_done, 4), "loss": loss,
                           "alpha": alpha, "examples_per_s": round(examples_per_s, 1),
                           "words_per_s": round(words_per_s, 1),
                           "elapsed_s": round(speed.elapsed(), 3),
                           "effective_words": effective_words}
                    if evaluate:
                        evaluation(row, step)
                        if not interactive and not quiet and "val_loss" in row:
                            figures = "".join(f", {k} {_fmt(v)}"
                                              for k, v in row.get("benchmarks", {}).items())
                            log(f"step {step}/{last_step}: loss {loss:.4f}, held-out "
                                f"{_fmt(row['val_loss'])}{figures}, {words_per_s:,.0f} words/s")
                    write_row(row)
                    bar.set_postfix(loss=f"{loss:.3f}", alpha=f"{alpha:.2g}",
                                    words_s=f"{words_per_s:,.0f}", refresh=False)
                bar.update(1)
                if step % cfg.checkpoint.every == 0:
                    with speed.saving():
                        last_path = save(step)
            stopped_by = int(stop[0]) if step < last_step else None
            # The final state (end of run or a stop signal), unless the loop just saved it (a
            # step stopped part-way is saved over the checkpoint of the step before it).
            if (last_path is None or last_path != folder.checkpoint_path(step)
                    or stopped_in_step):
                with speed.saving():
                    last_path = save(step)
    finally:
        bar.close()
        pool.shutdown(wait=True)

    vals = [r["val_loss"] for r in history if r.get("val_loss") is not None]
    scored = [r["benchmarks"] for r in history if "benchmarks" in r]
    return Result(folder.path, model, vocab, step, last_path, val_loss_start=val_loss_start,
                  val_loss_end=vals[-1] if vals else None, unigram_val_loss=unigram_val_loss,
                  benchmarks=scored[-1] if scored else {}, last_loss=loss,
                  checkpoint_s=speed.checkpoint_s, compute_s=speed.compute_s,
                  wall_s=speed.elapsed(), words_per_s=speed.words_per_s(),
                  eval_s=speed.paused_s, effective_words=effective_words,
                  stopped_by=stopped_by, stopped_in_step=stopped_in_step, history=history,
                  init_from=record)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"
