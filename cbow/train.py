"""The training loop: config in, embeddings, checkpoints and metrics out.

``train(cfg)`` prepares the data (corpus -> tokens -> vocabulary -> windows, the last
``val_fraction`` of the corpus held out), then runs gradient descent with the fast sparse step of
:mod:`cbow.model`. It can be stopped at any moment (Ctrl-C saves a checkpoint) and resumed
exactly: the learning rate is a function of the step, the batch order a function of the seed and
the batcher's saved position, so a resumed run computes the same numbers as an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import json
import math
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cbow import checkpoint as ckpt
from cbow.batching import CourseBatcher, EpochBatcher, check_window_args, make_windows
from cbow.config import dump, run_identity
from cbow.corpus import find_corpus, read_text
from cbow.io import atomic_write_bytes
from cbow.model import DTYPES, Params, Workspace, initialize_model, mean_loss, train_step
from cbow.text import tokenize
from cbow.vocab import Vocabulary


class TrainingError(RuntimeError):
    """Training cannot start or continue; the message says why and what to do."""


class TrainingDiverged(TrainingError):
    """The loss or the weights stopped being finite."""


@dataclass
class Corpus:
    """Everything training needs from the text, ready as arrays."""

    vocab: Vocabulary
    train_windows: tuple[np.ndarray, np.ndarray]   # context_ids (M, 2C), center_ids (M,)
    val_windows: tuple[np.ndarray, np.ndarray] | None
    text_sha256: str


@dataclass
class Result:
    out_dir: Path
    params: Params
    vocab: Vocabulary
    step: int
    checkpoint: Path | None
    val_loss_start: float | None = None
    val_loss_end: float | None = None
    last_loss: float | None = None
    wall_s: float = 0.0
    examples_per_s: float = 0.0
    interrupted: bool = False
    history: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        def fmt(x):
            return "n/a" if x is None else f"{x:.4f}"
        return "\n".join([
            f"trained {self.step} steps in {self.wall_s:.1f} s ({self.examples_per_s:,.0f} examples/s)",
            f"vocabulary: {len(self.vocab)} words, N = {self.params.N}",
            f"last batch loss: {fmt(self.last_loss)}; held-out loss: {fmt(self.val_loss_start)} "
            f"at the start -> {fmt(self.val_loss_end)} at the end",
            f"checkpoint: {self.checkpoint}",
            f"run folder: {self.out_dir} (vocab.txt, config.yaml, metrics.jsonl)",
        ])


def prepare_corpus(cfg: dict) -> Corpus:
    """Read, tokenize and window the corpus; hold out its last ``val_fraction`` as validation."""
    path = find_corpus(cfg["corpus"])
    text = read_text(path)
    tokens = tokenize(text, cfg["tokenizer"])
    C = cfg["model"]["C"]
    check_window_args(len(tokens), C)
    vocab = Vocabulary.from_tokens(tokens)
    ids = vocab.encode(tokens)
    # A contiguous tail, not random windows: held-out windows then share no tokens with training.
    n_val = int(round(len(ids) * cfg["train"]["val_fraction"]))
    val_windows = None
    if n_val > 0:
        if n_val < 2 * C + 1 or len(ids) - n_val < 2 * C + 1:
            raise TrainingError(
                f"train.val_fraction={cfg['train']['val_fraction']} leaves {n_val} held-out and "
                f"{len(ids) - n_val} training tokens of {len(ids)}; each part needs at least "
                f"2*C+1 = {2 * C + 1}. Use a longer corpus, or set train.val_fraction to 0")
        val_windows = make_windows(ids[len(ids) - n_val:], C)
    return Corpus(vocab, make_windows(ids[:len(ids) - n_val], C), val_windows,
                  hashlib.sha256(text.encode("utf-8")).hexdigest())


def alpha_at(cfg: dict, step: int) -> float:
    """Learning rate of step ``step`` (0-based): alpha * decay ** (step // decay_every)."""
    t = cfg["train"]
    return t["alpha"] * t["decay"] ** (step // t["decay_every"])


def total_steps(cfg: dict, n_windows: int) -> int:
    """Steps of the whole run: ``train.steps``, or ``train.epochs`` worth, whichever is fewer."""
    t = cfg["train"]
    candidates = []
    if t["steps"] is not None:
        candidates.append(t["steps"])
    if t["epochs"] is not None:
        candidates.append(math.ceil(t["epochs"] * math.ceil(n_windows / t["batch_size"])))
    return min(candidates)


def make_batcher(cfg: dict, windows, state: dict | None = None):
    t = cfg["train"]
    state = state or {}
    if t["batcher"] == "course":
        return CourseBatcher(*windows, t["batch_size"], served=state.get("served", 0))
    return EpochBatcher(*windows, t["batch_size"], shuffle=t["shuffle"], seed=t["seed"],
                        epoch=state.get("epoch", 0), offset=state.get("offset", 0))


@contextmanager
def _sigint_flag():
    """While active, Ctrl-C sets ``flag["stop"]`` instead of raising mid-step."""
    flag = {"stop": False}

    def handler(signum, frame):
        flag["stop"] = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave SIGINT alone
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_resumable(cfg: dict, corpus: Corpus, meta: dict, path: Path) -> None:
    saved = meta.get("run_identity", {})
    now = run_identity(cfg)
    changed = [f"{k}: {saved.get(k)!r} in the checkpoint, {now[k]!r} now"
               for k in now if saved.get(k) != now[k]]
    if changed:
        raise TrainingError(f"cannot resume from {path}: the run's settings changed "
                            f"({'; '.join(changed)}). Resume with the same settings, or train "
                            f"into a new out_dir")
    if meta.get("vocab_fingerprint") != corpus.vocab.fingerprint():
        raise TrainingError(f"cannot resume from {path}: it was trained on another vocabulary "
                            f"({meta.get('vocab_size')} words; this corpus gives "
                            f"{len(corpus.vocab)}). Train into a new out_dir")
    if meta.get("corpus_sha256") != corpus.text_sha256:
        raise TrainingError(f"cannot resume from {path}: the corpus text changed since it was "
                            f"written. Train into a new out_dir")


def _read_metrics(path: Path, up_to_step: int) -> list[dict]:
    """Rows of an earlier run, up to the checkpoint we resume from (later ones will be redone)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash
        if row.get("step", math.inf) <= up_to_step:
            rows.append(row)
    return rows


def train(cfg: dict, resume: bool = False, quiet: bool = False, log=print) -> Result:
    """Train CBOW embeddings as ``cfg`` says; write checkpoints and metrics to ``cfg["out_dir"]``.

    Raises
    ------
    TrainingDiverged
        A non-finite loss or weight; the last good checkpoint is kept.
    TrainingError
        A checkpoint that cannot be resumed, or a corpus too small for the settings.
    """
    log = log or (lambda message: None)
    t = cfg["train"]
    out_dir = Path(cfg["out_dir"])
    checkpoint_dir = out_dir / "checkpoints"
    dtype = DTYPES[t["dtype"]]
    corpus = prepare_corpus(cfg)
    vocab = corpus.vocab
    n_train = corpus.train_windows[1].shape[0]
    last_step = total_steps(cfg, n_train)

    found = None
    if resume:
        found = ckpt.load_latest(checkpoint_dir, on_skip=lambda p, err: log(
            f"warning: skipping unreadable checkpoint {p}: {err}"))
        if found is None:
            log(f"no checkpoint in {checkpoint_dir}: starting from step 0")
    if found is not None:
        path, params, _, meta = found
        _check_resumable(cfg, corpus, meta, path)
        step, batcher_state = meta["step"], meta["batcher"]
        val_loss_start = meta.get("val_loss_start")
        log(f"resuming from {path} (step {step})")
    else:
        params = initialize_model(cfg["model"]["N"], len(vocab), t["seed"], dtype)
        step, batcher_state, val_loss_start = 0, None, None

    batcher = make_batcher(cfg, corpus.train_windows, batcher_state)
    ws = Workspace.for_params(params, t["batch_size"])
    metrics_path = out_dir / "metrics.jsonl"
    history = _read_metrics(metrics_path, step) if found else []

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab.save(out_dir / "vocab.txt")
    atomic_write_bytes(out_dir / "config.yaml", dump(cfg).encode("utf-8"))
    # Rows after the checkpoint we resume from are dropped: those steps are about to be redone.
    atomic_write_bytes(metrics_path, "".join(json.dumps(r) + "\n" for r in history).encode())

    def validation_loss() -> float | None:
        if corpus.val_windows is None:
            return None
        # The step's buffers hold nothing between steps, so evaluation can borrow them.
        return mean_loss(params, *corpus.val_windows, batch_size=t["batch_size"], ws=ws)


    def save(at_step: int) -> Path:
        meta = {"step": at_step, "batcher": batcher.state(), "epoch": batcher.epochs_done,
                "alpha": alpha_at(cfg, at_step), "run_identity": run_identity(cfg),
                "vocab_fingerprint": vocab.fingerprint(), "vocab_size": len(vocab),
                "corpus_sha256": corpus.text_sha256, "val_loss_start": val_loss_start}
        path = ckpt.save_checkpoint(ckpt.checkpoint_path(checkpoint_dir, at_step), params,
                                    vocab, meta)
        ckpt.prune_checkpoints(checkpoint_dir, cfg["checkpoint"]["keep"])
        return path

    def diverged(at_step: int, what: str) -> TrainingDiverged:
        bar.close()
        good = ckpt.list_checkpoints(checkpoint_dir)
        kept = f"; the last good checkpoint is {good[-1]}" if good else "; no checkpoint was written"
        return TrainingDiverged(f"training diverged at step {at_step}: {what}. Lower train.alpha "
                                f"(now {t['alpha']}) and train again{kept}")

    def checked_save(at_step: int) -> Path:
        # A checkpoint is the last good state: weights are checked before each one.
        if not params.all_finite():
            raise diverged(at_step, "a weight is not finite")
        return save(at_step)

    started = time.perf_counter()
    examples_done, loss, interrupted = 0, None, False
    last_path = found[0] if found is not None else None
    window_start, window_examples = started, 0
    bar = tqdm(total=last_step, initial=step, disable=quiet, unit="step", dynamic_ncols=True,
               desc="train")
    with _sigint_flag() as sigint, open(metrics_path, "a", encoding="utf-8") as metrics:
        if step == 0 and corpus.val_windows is not None:
            # The untrained model's held-out loss: where the curve starts (no batch loss yet).
            val_loss_start = validation_loss()
            row = {"step": 0, "epoch": 0.0, "loss": None, "alpha": alpha_at(cfg, 0),
                   "examples_per_s": 0.0, "elapsed_s": 0.0, "val_loss": val_loss_start}
            history.append(row)
            metrics.write(json.dumps(row) + "\n")
        while step < last_step and not sigint["stop"]:
            alpha = alpha_at(cfg, step)
            context_ids, center_ids = batcher.next_batch()
            # Overflow shows up as a non-finite loss or weight, reported below with its step.
            with np.errstate(over="ignore", invalid="ignore"):
                loss = train_step(params, context_ids, center_ids, alpha, ws)
            step += 1
            examples_done += center_ids.shape[0]
            window_examples += center_ids.shape[0]
            if not math.isfinite(loss):
                raise diverged(step, f"the loss is {loss}")
            evaluate = step % t["eval_every"] == 0 or step == last_step
            if step % t["log_every"] == 0 or evaluate:
                now = time.perf_counter()
                speed = window_examples / max(now - window_start, 1e-9)
                window_start, window_examples = now, 0
                row = {"step": step, "epoch": round(batcher.epochs_done, 4), "loss": loss,
                       "alpha": alpha, "examples_per_s": round(speed, 1),
                       "elapsed_s": round(now - started, 3)}
                if evaluate:
                    row["val_loss"] = validation_loss()
                history.append(row)
                metrics.write(json.dumps(row) + "\n")
                metrics.flush()  # so that `tail -f metrics.jsonl` follows the run
                bar.set_postfix(loss=f"{loss:.3f}", alpha=f"{alpha:.2g}", ex_s=f"{speed:,.0f}",
                                refresh=False)
            bar.update(1)
            if step % cfg["checkpoint"]["every"] == 0:
                last_path = checked_save(step)
        interrupted = sigint["stop"] and step < last_step
        # The final state (end of run or Ctrl-C), unless the loop just saved it.
        if last_path is None or last_path != ckpt.checkpoint_path(checkpoint_dir, step):
            last_path = checked_save(step)
    bar.close()

    wall = time.perf_counter() - started
    vals = [r["val_loss"] for r in history if r.get("val_loss") is not None]
    return Result(out_dir, params, vocab, step, last_path, val_loss_start=val_loss_start,
                  val_loss_end=vals[-1] if vals else None, last_loss=loss, wall_s=wall,
                  examples_per_s=examples_done / wall if wall > 0 else 0.0,
                  interrupted=interrupted, history=history)
