"""The training loop: config in, embeddings, checkpoints and metrics out.

``train(cfg)`` prepares the data (corpus -> tokens -> vocabulary -> windows, the last
``val_fraction`` of the corpus held out: :mod:`cbow.data.training_data`), builds the objective
(:mod:`cbow.models`) or reads it back from a checkpoint, then runs gradient descent with the
objective's feed. It can be stopped at any moment (Ctrl-C, SIGTERM or SIGHUP save a
checkpoint; so does a log whose reader went away, as SIGPIPE: :mod:`cbow.training.stopping`)
and resumed exactly: the learning rate is a function of the step
(:mod:`cbow.training.schedule`), the batch order a function of the seed and the feed's saved
position, so a resumed run computes the same numbers as an uninterrupted one.

A run's loop is :class:`_Run`: every number it carries from step to step is one of its fields,
and :meth:`_Run.loop` reads top to bottom: evaluate the untrained model, then step, check, log
(and evaluate), checkpoint, and save the final state.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from cbow.config import KEYS, Config, dump, run_identity
from cbow.data.training_data import TrainingData
from cbow.errors import TrainingDiverged, TrainingError
from cbow.evaluation.suite import BenchmarkSuite
from cbow.io import atomic_write_bytes
from cbow.models import checkpoint as ckpt
from cbow.models.objective import TrainableModel, objective_class
from cbow.parallel import cluster, executor_for
from cbow.training import continuation
from cbow.training.result import Result, Throughput
from cbow.training.preparation import prepare_training_data
from cbow.training.run import RunFolder
from cbow.training.schedule import alpha_at, loss_ceiling, step_rates, total_steps
from cbow.training.stopping import minding_output, stop_signals, waiting

__all__ = ["Result", "TrainingError", "TrainingDiverged", "train", "RESUME_MODES"]

RESUME_MODES = ("no", "yes", "auto")


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
    log = minding_output(log or (lambda message: None), stop)
    mode = _resume_mode(resume)
    if init_from is not None:
        cfg = dataclasses.replace(cfg, init_from=init_from if isinstance(init_from, dict)
                                  else os.fspath(init_from))
    if cfg.init_from is not None:  # before claiming: --overwrite would delete it
        continuation.check_outside(cfg.init_from, cfg.out_dir)
    folder = RunFolder(cfg.out_dir)
    # The cluster first: a scheduler that cannot be reached leaves no run folder behind.
    with cluster.session(cfg.cluster.scheduler, timeout=cfg.cluster.connect_timeout) as client, \
            folder.lock(), threadpool_limits(limits=cfg.train.blas_threads, user_api="blas"):
        folder.claim(mode, overwrite)
        for leftover in folder.remove_temporary_files():
            log(f"removed {leftover}, left by a process killed while writing it")
        return _train_locked(cfg, folder, mode, quiet, log, stop, client)


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


def _check_room(cfg: Config, folder: RunFolder, objective: type[TrainableModel], V: int) -> None:
    """Refuse a run whose parameters, buffers and checkpoints would not fit (memory, disk)."""
    need = objective.estimate_bytes(cfg, V)
    folder.check_room(need["parameters"], need["buffers"], cfg.checkpoint.keep,
                      (f"for V = {V:,}, N = {cfg.model.N:,}",
                       f"for batch_size {cfg.train.batch_size}"),
                      "lower model.N or train.batch_size, or use float32 (train.dtype)")


def _train_locked(cfg: Config, folder: RunFolder, mode: str, quiet: bool, log,
                  stop: np.ndarray, client) -> Result:
    """The data, the model and its feed (new, or where the checkpoint left them), then the
    loop; the run folder is locked and claimed."""
    data = prepare_training_data(cfg, progress=False if quiet else None, client=client)
    Objective = objective_class(cfg.model.objective)
    _check_room(cfg, folder, Objective, len(data.vocab))
    found = _find_checkpoint(folder, mode, log)
    # A run started from another (--init-from) trains on a grown vocabulary: its record goes
    # into config.yaml and the checkpoints; a resume finds it in its own checkpoint.
    origin, record, data = continuation.carry_over(cfg, data, found, folder.ids_path, log)
    cfg = dataclasses.replace(cfg, init_from=record)
    if record is not None:
        _check_room(cfg, folder, Objective, len(data.vocab))
    if found is not None:
        _check_resumable(cfg, data, found.meta, found.path)
    model = (Objective.build(cfg, data.vocab, found) if origin is None else
             Objective.grown(cfg, data.vocab, origin.checkpoint, log))
    if found is not None:
        log(f"resuming from {found.path} (step {found.meta['step']})")
    run = _Run(cfg, folder, model, data, found, executor_for(cfg, client), stop, quiet, log)
    data.vocab.save(folder.vocab_path)
    atomic_write_bytes(folder.config_path, dump(cfg).encode("utf-8"))
    if found is not None and run.step >= run.last_step:
        return run.result(already_complete=True)
    return run.loop()


class _Run:
    """One run of the training loop: the model, its feed and every number carried from step
    to step, as fields. Built at the step the run starts from (0, or a checkpoint's)."""

    def __init__(self, cfg: Config, folder: RunFolder, model: TrainableModel,
                 data: TrainingData, found: ckpt.Checkpoint | None, executor, stop: np.ndarray,
                 quiet: bool, log):
        self.cfg, self.folder, self.model, self.vocab = cfg, folder, model, data.vocab
        self.corpus_fingerprint, self.has_heldout = data.fingerprint, data.has_heldout
        self.stop, self.quiet, self.log = stop, quiet, log
        self.record = cfg.init_from  # the run this one started from: {path, step, sha256}
        meta = found.meta if found is not None else {"step": 0, "effective_words": 0}
        self.step: int = meta["step"]
        self.val_loss_start: float | None = meta.get("val_loss_start")
        # centre words kept by subsampling since step 0 (None: an older checkpoint's run)
        self.effective_words: int | None = meta.get("effective_words")
        self.feed = model.feed(cfg, data, meta.get("batcher"), stop, executor)
        self.last_step = total_steps(cfg, self.feed.steps_per_epoch)
        self.unigram_val_loss = self.feed.baseline() if model.LOSS_IS_CROSS_ENTROPY else None
        self.benchmarks = BenchmarkSuite(tuple(cfg.eval.pairs), tuple(cfg.eval.analogies),
                                         cfg.eval.restrict)
        self.history = folder.read_metrics(up_to_step=self.step) if found is not None else []
        self.last_path: Path | None = found.path if found is not None else None
        self.loss: float | None = None
        self.stopped_by: int | None = None
        self.stopped_in_step = False
        self.speed = Throughput()
        self.errors = np.geterr()  # the caller's: evaluations run with them, steps ignore overflow
        self.pool: ThreadPoolExecutor | None = None
        self.metrics = None

    # ---- the loop
    def loop(self) -> Result:
        """Step, check, log (and evaluate), checkpoint, until the last step or a stop."""
        self.speed = Throughput()
        interactive = sys.stderr.isatty() or _notebook_bar()
        bar = tqdm(total=self.last_step, initial=self.step, unit="step", dynamic_ncols=True,
                   disable=self.quiet or not interactive, desc="train")
        # Steps and evaluations run in this thread, the main thread waiting (cbow.training.stopping).
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cbow-step")
        try:
            with stop_signals(self.stop), self.folder.metrics_writer(self.history) as metrics:
                self.metrics = metrics
                if self.step == 0 and self.has_heldout and not self.history:
                    self.evaluate_untrained()
                while self.step < self.last_step and not self.stop[0]:
                    alpha = self.train_step()
                    if alpha is None:  # stopped part-way: the feed's state holds the rest
                        break
                    self.log_step(alpha, interactive, bar)
                    bar.update(1)
                    if self.step % self.cfg.checkpoint.every == 0:
                        with self.speed.saving():
                            self.last_path = self.save(self.step)
                self.stopped_by = int(self.stop[0]) if self.step < self.last_step else None
                # The final state (end of run or a stop signal), unless the loop just saved it
                # (a step stopped part-way is saved over the checkpoint of the step before it).
                if (self.last_path is None or self.stopped_in_step
                        or self.last_path != self.folder.checkpoint_path(self.step)):
                    with self.speed.saving():
                        self.last_path = self.save(self.step)
        finally:
            bar.close()
            self.pool.shutdown(wait=True)
        scored = [r["benchmarks"] for r in self.history if "benchmarks" in r]
        return self.result(benchmarks=scored[-1] if scored else {}, last_loss=self.loss,
                           checkpoint_s=self.speed.checkpoint_s, compute_s=self.speed.compute_s,
                           wall_s=self.speed.elapsed(), words_per_s=self.speed.words_per_s(),
                           eval_s=self.speed.paused_s, stopped_by=self.stopped_by,
                           stopped_in_step=self.stopped_in_step)

    def evaluate_untrained(self) -> None:
        """The held-out loss at step 0: where the curve starts (no batch loss). Resumed inside
        step 1, the model is no longer untrained: its row is there already."""
        if not self.quiet:
            start = "untrained model" if self.record is None else "model it starts from"
            self.log(f"held-out loss of the {start} ({self.feed.heldout_size:,} "
                     f"{self.feed.heldout_unit})...")
        row = self.evaluation({"step": 0, "epoch": 0.0, "loss": None,
                               "alpha": alpha_at(self.cfg, 0, self.last_step),
                               "examples_per_s": 0.0, "elapsed_s": 0.0, "effective_words": 0}, 0)
        self.val_loss_start = row.get("val_loss")
        row["unigram_val_loss"] = self.unigram_val_loss
        if not self.stop[0]:  # else the resumed run evaluates step 0 again
            self.write_row(row)

    def train_step(self) -> float | None:
        """Train step ``self.step + 1`` and check its loss; its rate, or None if a stop cut it
        short (the feed's state then holds the rest of it)."""
        alpha, next_alpha = step_rates(self.cfg, self.step, self.last_step)
        before = self.feed.state()
        try:
            done = waiting(self.pool, self._step_quietly, alpha, next_alpha)
        except cluster.ClusterError as error:
            # The weights are those after step `step` (a cluster step changes them only once
            # it succeeded): save them where the feed was then.
            self.last_path = self.save(self.step, feed_state=before)
            raise cluster.ClusterLost(f"{error} The run stopped at step {self.step}, saved "
                                      f"in {self.last_path}.", self.last_path) from None
        if not done.complete:
            self.stopped_in_step = True
            return None
        self.step, self.loss = self.step + 1, done.loss
        self.speed.count(done.examples, done.words, done.compute_s)
        if self.effective_words is not None:
            self.effective_words += done.effective_words
        if not math.isfinite(self.loss):
            raise self.diverged(self.step, f"the loss is {self.loss}")
        ceiling = loss_ceiling(len(self.vocab))
        if self.loss > ceiling:
            raise self.diverged(self.step, f"the batch loss {self.loss:.4g} exceeds 10 ln V = "
                                           f"{ceiling:.4g} nats")
        return alpha

    def _step_quietly(self, alpha: float, next_alpha: float):
        # Overflow shows up as a non-finite loss or weight, reported with its step.
        with np.errstate(over="ignore", invalid="ignore"):
            return self.feed.step(alpha, next_alpha)

    def log_step(self, alpha: float, interactive: bool, bar) -> None:
        """A row of metrics.jsonl every ``log_every`` steps, with a held-out evaluation every
        ``eval_every`` steps and at the last."""
        t, step = self.cfg.train, self.step
        evaluate = step % t.eval_every == 0 or step == self.last_step
        if not (step % t.log_every == 0 or evaluate):
            return
        examples_per_s, words_per_s = self.speed.window()
        row = {"step": step, "epoch": round(self.feed.epochs_done, 4), "loss": self.loss,
               "alpha": alpha, "examples_per_s": round(examples_per_s, 1),
               "words_per_s": round(words_per_s, 1), "elapsed_s": round(self.speed.elapsed(), 3),
               "effective_words": self.effective_words}
        if evaluate:
            self.evaluation(row, step)
            if not interactive and not self.quiet and "val_loss" in row:
                figures = "".join(f", {k} {_fmt(v)}" for k, v in row.get("benchmarks", {}).items())
                self.log(f"step {step}/{self.last_step}: loss {self.loss:.4f}, held-out "
                         f"{_fmt(row['val_loss'])}{figures}, {words_per_s:,.0f} words/s")
        self.write_row(row)
        bar.set_postfix(loss=f"{self.loss:.3f}", alpha=f"{alpha:.2g}",
                        words_s=f"{words_per_s:,.0f}", refresh=False)

    # ---- evaluating, saving, reporting
    def evaluation(self, row: dict, at_step: int) -> dict:
        """``row`` with the held-out loss and, if configured, the benchmark figures; without
        them if a stop signal came meanwhile (a figure of part of the held-out data would be
        wrong). A collapsed model is divergence."""
        with self.speed.paused():
            waiting(self.pool, self._evaluate_into, row)
        if self.stop[0]:
            row.pop("val_loss", None)
            row.pop("benchmarks", None)
        problem = self.model.health()
        if problem:
            raise self.diverged(at_step, problem)
        return row

    def _evaluate_into(self, row: dict) -> None:
        model = self.model
        with np.errstate(**self.errors):
            row["val_loss"] = self.feed.heldout_loss()
            if self.benchmarks and not self.stop[0]:
                row["benchmarks"] = self.benchmarks.score(model.embeddings(
                    model.arrays(), self.vocab, model.VECTORS[0], run_identity(self.cfg)))

    def write_row(self, row: dict) -> None:
        self.history.append(row)
        self.metrics.write(json.dumps(row) + "\n")
        self.metrics.flush()  # so that `tail -f metrics.jsonl` follows the run

    def diverged(self, at_step: int, what: str) -> TrainingDiverged:
        good = self.folder.checkpoints()
        kept = f"; the last good checkpoint is {good[-1]}" if good else "; no checkpoint was written"
        return TrainingDiverged(f"training diverged at step {at_step}: {what}. Lower train.alpha "
                                f"(now {self.cfg.train.alpha}) and train again{kept}")

    def save(self, at_step: int, feed_state: dict | None = None) -> Path:
        """A checkpoint of step ``at_step``: the last good state, so the weights are checked
        before each one."""
        model = self.model
        if not model.all_finite():
            raise self.diverged(at_step, "a weight is not finite")
        problem = model.health()
        if problem:
            raise self.diverged(at_step, problem)
        meta = {"objective": model.name, "step": at_step,
                "batcher": feed_state or self.feed.state(), "epoch": self.feed.epochs_done,
                "alpha": alpha_at(self.cfg, at_step, self.last_step),
                "run_identity": run_identity(self.cfg),
                "vocab_fingerprint": self.vocab.fingerprint(), "vocab_size": len(self.vocab),
                "corpus_sha256": self.corpus_fingerprint, "val_loss_start": self.val_loss_start,
                "model_state": model.state(), "effective_words": self.effective_words,
                "init_from": self.record}
        path = ckpt.save_checkpoint(self.folder.checkpoint_path(at_step), model.arrays(),
                                    self.vocab, meta)
        self.folder.prune_checkpoints(self.cfg.checkpoint.keep)
        return path

    def result(self, **figures) -> Result:
        vals = [r["val_loss"] for r in self.history if r.get("val_loss") is not None]
        return Result(self.folder.path, self.model, self.vocab, self.step, self.last_path,
                      val_loss_start=self.val_loss_start, val_loss_end=vals[-1] if vals else None,
                      unigram_val_loss=self.unigram_val_loss,
                      effective_words=self.effective_words, history=self.history,
                      init_from=self.record, **figures)


def _notebook_bar() -> bool:
    """Whether the bar is tqdm's notebook widget (tqdm.auto chose it: a Jupyter kernel with
    ipywidgets), shown like a terminal's bar in place of progress lines."""
    notebook = sys.modules.get("tqdm.notebook")
    return notebook is not None and issubclass(tqdm, notebook.tqdm_notebook)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"
