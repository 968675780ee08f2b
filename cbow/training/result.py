"""What a run reports: :class:`Result`, and :class:`Throughput`, the speed it measures."""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cbow.data.vocab import Vocabulary
from cbow.models.objective import TrainableModel

__all__ = ["Result", "Throughput"]


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

    def stop_note(self) -> str:
        """How a run stopped by a signal ended: ``interrupted by SIGINT at step 12; saved ...``."""
        name = signal.Signals(self.stopped_by).name
        where = (f", part-way through step {self.step + 1} (the checkpoint of step {self.step} "
                 f"holds how far it got)" if self.stopped_in_step else "")
        return f"interrupted by {name} at step {self.step}{where}; saved {self.checkpoint}"

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
