"""The training loop: config in, embeddings, checkpoints and metrics out.

``train(cfg)`` prepares the data (corpus -> tokens -> vocabulary -> windows, the last
``val_fraction`` of the corpus held out), then runs gradient descent with the objective's step
(:mod:`cbow.objectives`). It can be stopped at any moment (Ctrl-C, SIGTERM or SIGHUP save a
checkpoint) and resumed exactly: the learning rate is a function of the step, the batch order a
function of the seed and the batcher's saved position, so a resumed run computes the same
numbers as an uninterrupted one.
"""
from __future__ import annotations

import json
import math
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from cbow import checkpoint as ckpt
from cbow import cluster
from cbow.batching import Windows, WindowBatcher, WindowCourseBatcher, check_window_args
from cbow.config import Config, dump, run_identity
from cbow.errors import TrainingDiverged, TrainingError
from cbow.embeddings import Embeddings
from cbow.evaluate import BenchmarkSuite, unigram_cross_entropy
from cbow.io import atomic_write_bytes
from cbow.model import DTYPES
from cbow.objectives import SoftmaxObjective, Word2VecSettings, objective_class
from cbow.prepare import PreparedCorpus, default_workers, prepare
from cbow.run import RunFolder, RunFolderError
from cbow.vocab import Vocabulary

__all__ = ["TrainingData", "Result", "TrainingError", "TrainingDiverged", "train",
           "prepare_training_data", "prepare_corpus", "alpha_at", "total_steps", "STOP_SIGNALS",
           "RESUME_MODES"]

# Signals that stop a run cleanly: finish the step, save, exit with 128 + the signal's number.
# SIGTERM is what `timeout`, `docker stop`, Kubernetes and Slurm send; SIGHUP a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
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
    C: int

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
    model: object  # the objective (cbow.objectives), holding the trained parameters
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
    stopped_by: int | None = None  # the signal that stopped the run early, if any
    already_complete: bool = False
    history: list[dict] = field(default_factory=list)

    @property
    def params(self):
        """The full-softmax model's :class:`cbow.model.Params`."""
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
        lines = [first, f"vocabulary: {len(self.vocab)} words, N = {self.model.N}, "
                        f"objective: {self.model.name}"]
        if not self.already_complete:
            lines.append(f"last batch loss: {fmt(self.last_loss)}")
        lines.append(f"held-out loss: {fmt(self.val_loss_start)} at the start -> "
                     f"{fmt(self.val_loss_end)} at the end (a unigram model of the training "
                     f"tokens: {fmt(self.unigram_val_loss)})")
        lines += [f"{name}: {value:.4f}" for name, value in self.benchmarks.items()
                  if value is not None]
        lines += [
                  f"checkpoint: {self.checkpoint}",
                  f"run folder: {self.out_dir} (vocab.txt, config.yaml, metrics.jsonl)"]
        return "\n".join(lines)


def prepare_training_data(cfg: Config, progress: bool | None = None) -> TrainingData:
    """The prepared corpus (made once, then reused: :mod:`cbow.prepare`), split for training.

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
                        len(ids) - n_val, prepared.fingerprint, C)


def prepare_corpus(cfg: Config, progress: bool | None = None) -> PreparedCorpus:
    """``cbow.prepare.prepare`` with the config's settings (what ``cbow prepare`` runs), or
    its Dask twin when ``cluster.scheduler`` is set (same result)."""
    p, v, c = cfg.prepare, cfg.vocab, cfg.cluster
    settings = dict(tokenizer=cfg.tokenizer, lowercase=p.lowercase, min_count=v.min_count,
                    max_size=v.max_size, order=v.order, cache_root=p.cache_dir,
                    errors=p.errors, progress=progress)
    if c.scheduler is not None:
        from cbow.distributed_prepare import prepare_on_cluster
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


class _WindowFeed:
    """The full softmax's steps: batches of windows gathered by position from the ids."""

    HELDOUT_CHUNK = 1 << 16  # held-out windows gathered at a time

    def __init__(self, cfg: Config, data: TrainingData, model, state: dict | None):
        t, state = cfg.train, state or {}
        self.windows = Windows(data.ids, data.C, data.sentence_starts, 0, data.n_train)
        self.heldout = (Windows(data.ids, data.C, data.sentence_starts, data.n_train)
                        if data.has_heldout else None)
        if t.batcher == "course":
            self.batcher = WindowCourseBatcher(self.windows, t.batch_size,
                                               served=state.get("served", 0))
        else:
            self.batcher = WindowBatcher(self.windows, t.batch_size, shuffle=t.shuffle,
                                         seed=t.seed, epoch=state.get("epoch", 0),
                                         offset=state.get("offset", 0))
        self.model = model
        self.steps_per_epoch = math.ceil(self.windows.n_windows / t.batch_size)
        self.heldout_size = 0 if self.heldout is None else self.heldout.n_windows
        self.heldout_unit = "windows"

    def step(self, alpha: float, next_alpha: float) -> tuple[float, int, int]:
        """One step: ``(mean loss, examples, words)``."""
        context_ids, center_ids = self.batcher.next_batch()
        loss = self.model.train_step(context_ids, center_ids, alpha)
        return loss, center_ids.shape[0], center_ids.shape[0]

    def _heldout_chunks(self):
        for start in range(0, self.heldout.n_windows, self.HELDOUT_CHUNK):
            yield self.heldout.gather(np.arange(start, min(start + self.HELDOUT_CHUNK,
                                                           self.heldout.n_windows)))

    def heldout_loss(self) -> float | None:
        if self.heldout is None:
            return None
        total = sum(self.model.heldout_loss(ctx, ctr) * ctr.shape[0]
                    for ctx, ctr in self._heldout_chunks())
        return total / self.heldout.n_windows

    def baseline(self, data: TrainingData) -> float | None:
        """The unigram model's held-out loss on the same center words."""
        if self.heldout is None:
            return None
        centers = np.concatenate([ctr for _, ctr in self._heldout_chunks()])
        return unigram_cross_entropy(data.ids[:data.n_train], centers, len(data.vocab))

    def state(self) -> dict:
        return self.batcher.state()

    @property
    def epochs_done(self) -> float:
        return self.batcher.epochs_done


class _StreamFeed:
    """word2vec's steps: consecutive ranges of ``batch_size`` center positions, corpus order."""

    def __init__(self, cfg: Config, data: TrainingData, model, state: dict | None):
        self.tokens, self.starts = data.part(heldout=False)
        self.heldout = data.part(heldout=True) if data.has_heldout else None
        self.n = self.tokens.shape[0]
        self.batch_size = cfg.train.batch_size
        state = state or {}
        self.epoch, self.offset = state.get("epoch", 0), state.get("offset", 0)
        self.model = model
        self.steps_per_epoch = math.ceil(self.n / self.batch_size)
        self.heldout_size = 0 if self.heldout is None else self.heldout[0].shape[0]
        self.heldout_unit = "words"

    def step(self, alpha: float, next_alpha: float) -> tuple[float, int, int]:
        if self.offset >= self.n:
            self.epoch, self.offset = self.epoch + 1, 0
        begin, end = self.offset, min(self.offset + self.batch_size, self.n)
        self.offset = end
        # The rate falls linearly across the range, from this step's alpha to the next's.
        return self.model.train_range(self.tokens, self.starts, begin, end, self.epoch,
                                      alpha, next_alpha)

    def heldout_loss(self) -> float | None:
        return None if self.heldout is None else self.model.heldout_loss(*self.heldout)

    def baseline(self, data: TrainingData) -> float | None:
        if self.heldout is None:
            return None
        return unigram_cross_entropy(self.tokens, self.heldout[0], len(data.vocab))

    def state(self) -> dict:
        return {"kind": "stream", "epoch": self.epoch, "offset": self.offset}

    @property
    def epochs_done(self) -> float:
        return self.epoch + self.offset / self.n


def _word2vec_settings(cfg: Config) -> Word2VecSettings:
    m, t = cfg.model, cfg.train
    return Word2VecSettings(window=m.C, negative=m.negative, ns_exponent=m.ns_exponent,
                            relu=m.hidden == "relu", init=m.init, shrink_window=m.shrink_window,
                            sample=t.sample, workers=t.workers or default_workers(), seed=t.seed)


def _build_model(cfg: Config, data: TrainingData, found):
    """The objective's model, new or from the checkpoint ``found``."""
    Objective = objective_class(cfg.model.objective)
    t = cfg.train
    if found is not None:
        path, arrays, _, meta = found
        if meta["objective"] != Objective.name:
            raise TrainingError(f"cannot resume from {path}: it holds a {meta['objective']} "
                                f"model, this config trains {Objective.name}")
    if Objective is SoftmaxObjective:
        if found is not None:
            return Objective.from_arrays(found[1], t.batch_size)
        return Objective.initialize(cfg.model.N, len(data.vocab), t.seed, DTYPES[t.dtype],
                                    t.batch_size)
    settings = _word2vec_settings(cfg)
    if found is not None:
        return Objective.from_arrays(found[1], settings, data.vocab.counts,
                                     found[3].get("model_state"))
    return Objective.initialize(cfg.model.N, data.vocab.counts, settings)


@contextmanager
def _stop_signals():
    """While active, STOP_SIGNALS set ``flag["signal"]`` instead of stopping mid-step.

    A second signal while the final checkpoint is written changes nothing: the handler only
    records the first one, and the checkpoint is written atomically anyway.
    """
    flag: dict = {"signal": None}

    def handler(signum, frame):
        if flag["signal"] is None:
            flag["signal"] = signum

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


def _check_resumable(cfg: Config, data: TrainingData, meta: dict, path: Path) -> None:
    saved = meta.get("run_identity", {})
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


def _available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (MemAvailable), if known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _check_resources(cfg: Config, folder: RunFolder, need: dict[str, int],
                     data: TrainingData) -> None:
    """Refuse, before allocating anything large, a run that cannot fit in memory or on disk."""
    gib = 1 << 30
    memory = need["parameters"] + need["buffers"]
    available = _available_memory()
    if available is not None and memory > available:
        raise TrainingError(
            f"this run needs about {memory / gib:.1f} GiB of memory (parameters "
            f"{need['parameters'] / gib:.1f} GiB for V = {len(data.vocab):,}, N = {cfg.model.N:,}; "
            f"step buffers {need['buffers'] / gib:.1f} GiB for batch_size {cfg.train.batch_size}) "
            f"but {available / gib:.1f} GiB is available; lower model.N or train.batch_size, "
            f"or use float32 (train.dtype)")
    already = sum(p.stat().st_size for p in folder.checkpoints())
    disk = max(0, (cfg.checkpoint.keep + 1) * need["parameters"] - already)
    free = shutil.disk_usage(folder.path).free
    if disk > free:
        raise TrainingError(
            f"{cfg.checkpoint.keep} checkpoints (checkpoint.keep) of about "
            f"{need['parameters'] / gib:.2f} GiB each, plus the one being written, need "
            f"{disk / gib:.1f} GiB more disk in {folder.path}, which has {free / gib:.1f} GiB "
            f"free; free some space, lower checkpoint.keep, or train elsewhere (--out)")


def _resume_mode(resume) -> str:
    mode = {True: "yes", False: "no", None: "no"}.get(resume, resume)
    if mode not in RESUME_MODES:
        raise ValueError(f"resume must be one of {RESUME_MODES} or a bool; got {resume!r}")
    return mode


def _claim(folder: RunFolder, mode: str, overwrite: bool) -> None:
    """Refuse, before any work, a start that would mix or destroy runs (the lock is held)."""
    if mode == "yes" and not folder.checkpoints():
        raise RunFolderError(f"--resume: there is no checkpoint to resume from (looked for "
                             f"{folder.checkpoint_dir}/step_*.npz). Check the folder (--out or "
                             f"out_dir), or use --resume auto to start when there is none")
    if mode == "no" and folder.holds_a_run():
        if not overwrite:
            raise RunFolderError(f"{folder.path} already holds a training run; continue it with "
                                 f"--resume, train into another folder with --out, or discard "
                                 f"it with --overwrite")
        for path in folder.checkpoints():
            path.unlink()
        for path in (folder.metrics_path, folder.config_path, folder.vocab_path):
            path.unlink(missing_ok=True)


def train(cfg: Config, resume: bool | str = False, overwrite: bool = False,
          quiet: bool = False, log=print) -> Result:
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
    log = log or (lambda message: None)
    mode = _resume_mode(resume)
    folder = RunFolder(cfg.out_dir)
    # The cluster first: a scheduler that cannot be reached leaves no run folder behind.
    with cluster.session(cfg.cluster.scheduler, timeout=cfg.cluster.connect_timeout), \
            folder.lock(), threadpool_limits(limits=cfg.train.blas_threads, user_api="blas"):
        _claim(folder, mode, overwrite)
        for leftover in folder.remove_temporary_files():
            log(f"removed {leftover}, left by a process killed while writing it")
        return _train_locked(cfg, folder, mode, quiet, log)


def _train_locked(cfg: Config, folder: RunFolder, mode: str, quiet: bool, log) -> Result:
    t = cfg.train
    data = prepare_training_data(cfg, progress=False if quiet else None)
    vocab = data.vocab
    Objective = objective_class(cfg.model.objective)
    _check_resources(cfg, folder, Objective.estimate_bytes(cfg.model.N, len(vocab), t.batch_size,
                                                           DTYPES[t.dtype]), data)
    found = None
    if mode != "no":
        found = folder.latest_checkpoint(on_skip=lambda p, err: log(
            f"warning: skipping unreadable checkpoint {p}: {err}"))
        if found is None and mode == "yes":
            raise ckpt.CheckpointError(f"no checkpoint in {folder.checkpoint_dir} can be read "
                                       f"(see the warnings above); nothing to resume from")
        if found is None:
            log(f"no checkpoint in {folder.checkpoint_dir}: starting from step 0")
    if found is not None:
        _check_resumable(cfg, data, found[3], found[0])
    model = _build_model(cfg, data, found)
    if found is not None:
        meta = found[3]
        step, feed_state, val_loss_start = meta["step"], meta["batcher"], meta.get("val_loss_start")
        log(f"resuming from {found[0]} (step {step})")
    else:
        step, feed_state, val_loss_start = 0, None, None
    Feed = _WindowFeed if isinstance(model, SoftmaxObjective) else _StreamFeed
    feed = Feed(cfg, data, model, feed_state)
    last_step = total_steps(cfg, feed.steps_per_epoch)
    unigram_val_loss = feed.baseline(data) if model.LOSS_IS_CROSS_ENTROPY else None

    benchmarks = BenchmarkSuite(tuple(cfg.eval.pairs), tuple(cfg.eval.analogies),
                                cfg.eval.restrict)
    history = folder.read_metrics(up_to_step=step) if found else []
    vocab.save(folder.vocab_path)
    atomic_write_bytes(folder.config_path, dump(cfg).encode("utf-8"))

    def evaluation(row: dict) -> dict:
        """``row`` with the held-out loss and, if configured, the benchmark figures."""
        row["val_loss"] = feed.heldout_loss()
        if benchmarks:
            vectors = model.vectors(model.arrays(), model.VECTORS[0])
            row["benchmarks"] = benchmarks.score(Embeddings(vocab.words, vectors,
                                                            counts=vocab.counts))
        return row

    def diverged(at_step: int, what: str) -> TrainingDiverged:
        good = folder.checkpoints()
        kept = f"; the last good checkpoint is {good[-1]}" if good else "; no checkpoint was written"
        return TrainingDiverged(f"training diverged at step {at_step}: {what}. Lower train.alpha "
                                f"(now {t.alpha}) and train again{kept}")

    def save(at_step: int) -> Path:
        # A checkpoint is the last good state: the weights are checked before each one.
        if not model.all_finite():
            raise diverged(at_step, "a weight is not finite")
        meta = {"objective": model.name, "step": at_step, "batcher": feed.state(),
                "epoch": feed.epochs_done, "alpha": alpha_at(cfg, at_step, last_step),
                "run_identity": run_identity(cfg), "vocab_fingerprint": vocab.fingerprint(),
                "vocab_size": len(vocab), "corpus_sha256": data.fingerprint,
                "val_loss_start": val_loss_start, "model_state": model.state()}
        path = ckpt.save_checkpoint(folder.checkpoint_path(at_step), model.arrays(), vocab, meta)
        folder.prune_checkpoints(cfg.checkpoint.keep)
        return path

    if found is not None and step >= last_step:
        vals = [r["val_loss"] for r in history if r.get("val_loss") is not None]
        return Result(folder.path, model, vocab, step, found[0], val_loss_start=val_loss_start,
                      val_loss_end=vals[-1] if vals else None,
                      unigram_val_loss=unigram_val_loss, already_complete=True,
                      history=history)

    ceiling = loss_ceiling(len(vocab))
    constant_rate = t.schedule == "step"
    alphas: dict[int, float] = {}  # the step schedule's rate per decay period, computed once
    interactive = sys.stderr.isatty()
    started = time.perf_counter()
    words_done, loss, stopped_by, eval_s = 0, None, None, 0.0
    last_path = found[0] if found is not None else None
    window_start, window_examples, window_words, window_eval_s = started, 0, 0, 0.0
    bar = tqdm(total=last_step, initial=step, disable=quiet or not interactive, unit="step",
               dynamic_ncols=True, desc="train")
    try:
        with _stop_signals() as stop, folder.metrics_writer(history) as metrics:
            def write_row(row: dict) -> None:
                history.append(row)
                metrics.write(json.dumps(row) + "\n")
                metrics.flush()  # so that `tail -f metrics.jsonl` follows the run

            if step == 0 and data.has_heldout:
                # The untrained model's held-out loss: where the curve starts (no batch loss).
                if not quiet:
                    log(f"held-out loss of the untrained model ({feed.heldout_size:,} "
                        f"{feed.heldout_unit})...")
                row = evaluation({"step": 0, "epoch": 0.0, "loss": None,
                                  "alpha": alpha_at(cfg, 0, last_step), "examples_per_s": 0.0,
                                  "elapsed_s": 0.0})
                val_loss_start = row["val_loss"]
                row["unigram_val_loss"] = unigram_val_loss
                write_row(row)
                window_start = time.perf_counter()
                eval_s = window_start - started
            while step < last_step and stop["signal"] is None:
                if constant_rate:
                    period = step // t.decay_every
                    alpha = alphas.get(period)
                    if alpha is None:
                        alpha = alphas[period] = alpha_at(cfg, step)
                    next_alpha = alpha
                else:
                    alpha = alpha_at(cfg, step, last_step)
                    next_alpha = alpha_at(cfg, step + 1, last_step)
                # Overflow shows up as a non-finite loss or weight, reported below with its step.
                with np.errstate(over="ignore", invalid="ignore"):
                    loss, examples, words = feed.step(alpha, next_alpha)
                step += 1
                words_done += words
                window_examples += examples
                window_words += words
                if not math.isfinite(loss):
                    raise diverged(step, f"the loss is {loss}")
                if loss > ceiling:
                    raise diverged(step, f"the batch loss {loss:.4g} exceeds 10 ln V = "
                                         f"{ceiling:.4g} nats")
                evaluate = step % t.eval_every == 0 or step == last_step
                if step % t.log_every == 0 or evaluate:
                    now = time.perf_counter()
                    # Speed of training alone: time spent evaluating is left out.
                    seconds = max(now - window_start - window_eval_s, 1e-9)
                    speed, word_speed = window_examples / seconds, window_words / seconds
                    row = {"step": step, "epoch": round(feed.epochs_done, 4), "loss": loss,
                           "alpha": alpha, "examples_per_s": round(speed, 1),
                           "words_per_s": round(word_speed, 1),
                           "elapsed_s": round(now - started, 3)}
                    window_start, window_examples, window_words = now, 0, 0
                    window_eval_s = 0.0
                    if evaluate:
                        evaluation(row)
                        window_eval_s = time.perf_counter() - now
                        eval_s += window_eval_s
                        if not interactive and not quiet:
                            figures = "".join(f", {k} {_fmt(v)}"
                                              for k, v in row.get("benchmarks", {}).items())
                            log(f"step {step}/{last_step}: loss {loss:.4f}, held-out "
                                f"{_fmt(row['val_loss'])}{figures}, {word_speed:,.0f} words/s")
                    write_row(row)
                    bar.set_postfix(loss=f"{loss:.3f}", alpha=f"{alpha:.2g}",
                                    words_s=f"{word_speed:,.0f}", refresh=False)
                bar.update(1)
                if step % cfg.checkpoint.every == 0:
                    last_path = save(step)
            stopped_by = stop["signal"] if step < last_step else None
            # The final state (end of run or a stop signal), unless the loop just saved it.
            if last_path is None or last_path != folder.checkpoint_path(step):
                last_path = save(step)
    finally:
        bar.close()

    wall = time.perf_counter() - started
    vals = [r["val_loss"] for r in history if r.get("val_loss") is not None]
    scored = [r["benchmarks"] for r in history if "benchmarks" in r]
    return Result(folder.path, model, vocab, step, last_path, val_loss_start=val_loss_start,
                  val_loss_end=vals[-1] if vals else None, unigram_val_loss=unigram_val_loss,
                  benchmarks=scored[-1] if scored else {}, last_loss=loss, wall_s=wall,
                  words_per_s=words_done / max(wall - eval_s, 1e-9), eval_s=eval_s,
                  stopped_by=stopped_by, history=history)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"
