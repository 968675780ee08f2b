"""The training loop: config in, embeddings, checkpoints and metrics out.

``train(cfg)`` prepares the data (corpus -> tokens -> vocabulary -> windows, the last
``val_fraction`` of the corpus held out), then runs gradient descent with the objective's step
(:mod:`cbow.objectives`). It can be stopped at any moment (Ctrl-C, SIGTERM or SIGHUP save a
checkpoint) and resumed exactly: the learning rate is a function of the step, the batch order a
function of the seed and the batcher's saved position, so a resumed run computes the same
numbers as an uninterrupted one.
"""
from __future__ import annotations

import hashlib
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
from cbow.batching import CourseBatcher, EpochBatcher, check_window_args, make_windows
from cbow.config import Config, dump, run_identity
from cbow.corpus import find_corpus, read_text
from cbow.errors import TrainingDiverged, TrainingError
from cbow.embeddings import Embeddings
from cbow.evaluate import BenchmarkSuite, unigram_cross_entropy
from cbow.io import atomic_write_bytes
from cbow.model import DTYPES
from cbow.objectives import objective_class
from cbow.run import RunFolder, RunFolderError
from cbow.text import tokenize
from cbow.vocab import Vocabulary

__all__ = ["TrainingData", "Result", "TrainingError", "TrainingDiverged", "train",
           "prepare_training_data", "alpha_at", "total_steps", "STOP_SIGNALS", "RESUME_MODES"]

# Signals that stop a run cleanly: finish the step, save, exit with 128 + the signal's number.
# SIGTERM is what `timeout`, `docker stop`, Kubernetes and Slurm send; SIGHUP a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
RESUME_MODES = ("no", "yes", "auto")


@dataclass
class TrainingData:
    """Everything training needs from the text, ready as arrays."""

    vocab: Vocabulary
    train_windows: tuple[np.ndarray, np.ndarray]   # context_ids (M, 2C), center_ids (M,)
    val_windows: tuple[np.ndarray, np.ndarray] | None
    text_sha256: str
    unigram_val_loss: float | None = None  # the baseline: see prepare_training_data


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
    examples_per_s: float = 0.0
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
                 f"({self.examples_per_s:,.0f} examples/s)")
        lines = [first, f"vocabulary: {len(self.vocab)} words, N = {self.model.N}"]
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


def prepare_training_data(cfg: Config) -> TrainingData:
    """Read, tokenize and window the corpus; hold out its last ``val_fraction`` as validation."""
    path = find_corpus(cfg.corpus)
    text = read_text(path)
    tokens = tokenize(text, cfg.tokenizer)
    C = cfg.model.C
    check_window_args(len(tokens), C)
    vocab = Vocabulary.from_tokens(tokens)
    ids = vocab.encode(tokens)
    # A contiguous tail, not random windows: held-out windows then share no tokens with training.
    n_val = int(round(len(ids) * cfg.train.val_fraction))
    val_windows = None
    if n_val > 0:
        if n_val < 2 * C + 1 or len(ids) - n_val < 2 * C + 1:
            raise TrainingError(
                f"train.val_fraction={cfg.train.val_fraction} leaves {n_val} held-out and "
                f"{len(ids) - n_val} training tokens of {len(ids)}; each part needs at least "
                f"2*C+1 = {2 * C + 1}. Use a longer corpus, or set train.val_fraction to 0")
        val_windows = make_windows(ids[len(ids) - n_val:], C)
    # What a model knowing only word frequencies scores on the same held-out center words.
    baseline = (None if val_windows is None else
                unigram_cross_entropy(ids[:len(ids) - n_val], val_windows[1], len(vocab)))
    return TrainingData(vocab, make_windows(ids[:len(ids) - n_val], C), val_windows,
                        hashlib.sha256(text.encode("utf-8")).hexdigest(), baseline)


def alpha_at(cfg: Config, step: int) -> float:
    """Learning rate of step ``step`` (0-based): alpha * decay ** (step // decay_every)."""
    t = cfg.train
    return t.alpha * t.decay ** (step // t.decay_every)


def total_steps(cfg: Config, n_windows: int) -> int:
    """Steps of the whole run: ``train.steps``, or ``train.epochs`` worth, whichever is fewer."""
    t = cfg.train
    candidates = []
    if t.steps is not None:
        candidates.append(t.steps)
    if t.epochs is not None:
        candidates.append(math.ceil(t.epochs * math.ceil(n_windows / t.batch_size)))
    return min(candidates)


def loss_ceiling(V: int) -> float:
    """The largest loss a run may show before it counts as diverged: 10 ln V nats.

    A model that predicts uniformly scores ln V; the course's untrained model about 1.2 ln V.
    Ten times ln V is far beyond anything a learning run passes through, and far below what a
    run whose learning rate blew up reaches while its numbers are still finite.
    """
    return 10 * math.log(max(V, 2))


def make_batcher(cfg: Config, windows, state: dict | None = None):
    t = cfg.train
    state = state or {}
    if t.batcher == "course":
        return CourseBatcher(*windows, t.batch_size, served=state.get("served", 0))
    return EpochBatcher(*windows, t.batch_size, shuffle=t.shuffle, seed=t.seed,
                        epoch=state.get("epoch", 0), offset=state.get("offset", 0))


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
    if meta.get("corpus_sha256") != data.text_sha256:
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
    with folder.lock(), threadpool_limits(limits=cfg.train.blas_threads, user_api="blas"):
        _claim(folder, mode, overwrite)
        for leftover in folder.remove_temporary_files():
            log(f"removed {leftover}, left by a process killed while writing it")
        return _train_locked(cfg, folder, mode, quiet, log)


def _train_locked(cfg: Config, folder: RunFolder, mode: str, quiet: bool, log) -> Result:
    t = cfg.train
    data = prepare_training_data(cfg)
    vocab = data.vocab
    last_step = total_steps(cfg, data.train_windows[1].shape[0])
    Objective = objective_class("softmax")

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
        path, arrays, _, meta = found
        if meta["objective"] != Objective.name:
            raise TrainingError(f"cannot resume from {path}: it holds a {meta['objective']} "
                                f"model, this config trains {Objective.name}")
        _check_resumable(cfg, data, meta, path)
        model = Objective.from_arrays(arrays, t.batch_size)
        step, batcher_state = meta["step"], meta["batcher"]
        val_loss_start = meta.get("val_loss_start")
        log(f"resuming from {path} (step {step})")
    else:
        model = Objective.initialize(cfg.model.N, len(vocab), t.seed, DTYPES[t.dtype],
                                     t.batch_size)
        step, batcher_state, val_loss_start = 0, None, None

    benchmarks = BenchmarkSuite(tuple(cfg.eval.pairs), tuple(cfg.eval.analogies),
                                cfg.eval.restrict)
    batcher = make_batcher(cfg, data.train_windows, batcher_state)
    history = folder.read_metrics(up_to_step=step) if found else []
    vocab.save(folder.vocab_path)
    atomic_write_bytes(folder.config_path, dump(cfg).encode("utf-8"))

    def validation_loss() -> float | None:
        return None if data.val_windows is None else model.heldout_loss(*data.val_windows)

    def evaluation(row: dict) -> dict:
        """``row`` with the held-out loss and, if configured, the benchmark figures."""
        row["val_loss"] = validation_loss()
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
        meta = {"objective": model.name, "step": at_step, "batcher": batcher.state(),
                "epoch": batcher.epochs_done, "alpha": alpha_at(cfg, at_step),
                "run_identity": run_identity(cfg), "vocab_fingerprint": vocab.fingerprint(),
                "vocab_size": len(vocab), "corpus_sha256": data.text_sha256,
                "val_loss_start": val_loss_start}
        path = ckpt.save_checkpoint(folder.checkpoint_path(at_step), model.arrays(), vocab, meta)
        folder.prune_checkpoints(cfg.checkpoint.keep)
        return path

    if found is not None and step >= last_step:
        vals = [r["val_loss"] for r in history if r.get("val_loss") is not None]
        return Result(folder.path, model, vocab, step, found[0], val_loss_start=val_loss_start,
                      val_loss_end=vals[-1] if vals else None,
                      unigram_val_loss=data.unigram_val_loss, already_complete=True,
                      history=history)

    ceiling = loss_ceiling(len(vocab))
    alphas = {}  # alpha_at per decay period, computed once
    interactive = sys.stderr.isatty()
    started = time.perf_counter()
    examples_done, loss, stopped_by = 0, None, None
    last_path = found[0] if found is not None else None
    window_start, window_examples, window_eval_s = started, 0, 0.0
    bar = tqdm(total=last_step, initial=step, disable=quiet or not interactive, unit="step",
               dynamic_ncols=True, desc="train")
    try:
        with _stop_signals() as stop, folder.metrics_writer(history) as metrics:
            def write_row(row: dict) -> None:
                history.append(row)
                metrics.write(json.dumps(row) + "\n")
                metrics.flush()  # so that `tail -f metrics.jsonl` follows the run

            if step == 0 and data.val_windows is not None:
                # The untrained model's held-out loss: where the curve starts (no batch loss).
                if not quiet:
                    log(f"held-out loss of the untrained model ({data.val_windows[1].shape[0]:,} "
                        f"windows)...")
                row = evaluation({"step": 0, "epoch": 0.0, "loss": None,
                                  "alpha": alpha_at(cfg, 0), "examples_per_s": 0.0,
                                  "elapsed_s": 0.0})
                val_loss_start = row["val_loss"]
                row["unigram_val_loss"] = data.unigram_val_loss
                write_row(row)
                window_start = time.perf_counter()
            while step < last_step and stop["signal"] is None:
                period = step // t.decay_every
                alpha = alphas.get(period)
                if alpha is None:
                    alpha = alphas[period] = alpha_at(cfg, step)
                context_ids, center_ids = batcher.next_batch()
                # Overflow shows up as a non-finite loss or weight, reported below with its step.
                with np.errstate(over="ignore", invalid="ignore"):
                    loss = model.train_step(context_ids, center_ids, alpha)
                step += 1
                examples_done += center_ids.shape[0]
                window_examples += center_ids.shape[0]
                if not math.isfinite(loss):
                    raise diverged(step, f"the loss is {loss}")
                if loss > ceiling:
                    raise diverged(step, f"the batch loss {loss:.4g} exceeds 10 ln V = "
                                         f"{ceiling:.4g} nats")
                evaluate = step % t.eval_every == 0 or step == last_step
                if step % t.log_every == 0 or evaluate:
                    now = time.perf_counter()
                    # Speed of training alone: time spent evaluating is left out.
                    speed = window_examples / max(now - window_start - window_eval_s, 1e-9)
                    row = {"step": step, "epoch": round(batcher.epochs_done, 4), "loss": loss,
                           "alpha": alpha, "examples_per_s": round(speed, 1),
                           "elapsed_s": round(now - started, 3)}
                    window_start, window_examples, window_eval_s = now, 0, 0.0
                    if evaluate:
                        evaluation(row)
                        window_eval_s = time.perf_counter() - now
                        if not interactive and not quiet:
                            figures = "".join(f", {k} {_fmt(v)}"
                                              for k, v in row.get("benchmarks", {}).items())
                            log(f"step {step}/{last_step}: loss {loss:.4f}, held-out "
                                f"{_fmt(row['val_loss'])}{figures}, {speed:,.0f} examples/s")
                    write_row(row)
                    bar.set_postfix(loss=f"{loss:.3f}", alpha=f"{alpha:.2g}",
                                    ex_s=f"{speed:,.0f}", refresh=False)
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
                  val_loss_end=vals[-1] if vals else None,
                  unigram_val_loss=data.unigram_val_loss,
                  benchmarks=scored[-1] if scored else {}, last_loss=loss, wall_s=wall,
                  examples_per_s=examples_done / wall if wall > 0 else 0.0,
                  stopped_by=stopped_by, history=history)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"
