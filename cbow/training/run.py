"""A training run's folder: the one owner of its layout, its metrics file and its lock.

::

    RUN/
      config.yaml             the resolved config (cbow.config.dump)
      vocab.txt               word<TAB>count, one line per word in id order
      metrics.jsonl           one JSON object per logged step
      checkpoints/step_*.npz  cbow.models.checkpoint files, newest last
      ids.npy                 a run started from another (--init-from): the corpus's token ids
                              renumbered to its grown vocabulary (cbow.training.continuation)
      .lock                   held (flock) by the process training into RUN; holds its pid

Everything else that reads or writes a run folder asks :class:`RunFolder` for the path.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TextIO

from cbow.config import DECLARED, declarations, objectives_of
from cbow.models import checkpoint as ckpt
from cbow.vectors import formats
from cbow.vectors.embeddings import Embeddings
from cbow.errors import InputError, TrainingError, UserError
from cbow.io import NamedWriter, atomic_write_bytes, name_file
from cbow.models.objective import objective_class
from cbow.registry import or_list
from cbow.data.vocab import Vocabulary

if TYPE_CHECKING:
    from cbow.vectors.formats.fasttext_bin import FastTextModel


def size(n_bytes: float) -> str:
    """``n_bytes`` for a message, in a unit that shows the number: ``350.5 KiB``, ``5.0 GiB``."""
    if n_bytes < 1024:
        return f"{n_bytes:,.0f} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        n_bytes /= 1024
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes:,.1f} {unit}"


class RunFolderError(UserError):
    """A run folder that cannot be used as asked; the message says which and what to do."""


class RunFolder:
    """Paths and files of the run folder at ``path`` (which need not exist yet)."""

    CONFIG = "config.yaml"
    VOCAB = "vocab.txt"
    METRICS = "metrics.jsonl"
    CHECKPOINTS = "checkpoints"
    IDS = "ids.npy"
    LOCK = ".lock"

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def config_path(self) -> Path:
        return self.path / self.CONFIG

    @property
    def vocab_path(self) -> Path:
        return self.path / self.VOCAB

    @property
    def metrics_path(self) -> Path:
        return self.path / self.METRICS

    @property
    def ids_path(self) -> Path:
        return self.path / self.IDS

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / self.CHECKPOINTS

    def checkpoint_path(self, step: int) -> Path:
        return ckpt.checkpoint_path(self.checkpoint_dir, step)

    def checkpoints(self) -> list[Path]:
        """Checkpoint files, oldest step first."""
        return ckpt.list_checkpoints(self.checkpoint_dir)

    def holds_a_run(self) -> bool:
        """True if a run has written anything here that a new run would overwrite."""
        return bool(self.checkpoints()) or self.metrics_path.exists() or self.config_path.exists()

    def latest_checkpoint(self, log: Callable[[str], None] | None = None,
                          then: str = "using") -> ckpt.Checkpoint | None:
        """Newest readable checkpoint, or None.

        Unreadable newer files are moved into ``checkpoints/unreadable/`` (they would rank
        above every checkpoint the run writes next). ``log`` gets one warning for each: why
        it cannot be read, where it is now, and which checkpoint is used instead (``then``
        says how: ``"resuming from"``).
        """
        skipped: list[tuple[Path, str, Path]] = []
        found = ckpt.load_latest(self.checkpoint_dir, on_skip=lambda path, error: skipped.append(
            (path, error.reason, ckpt.set_aside(path))))
        if log is not None:
            instead = (f"{then} {found.path} (step {found.meta['step']}), the newest readable "
                       f"checkpoint" if found is not None else "no readable checkpoint is left")
            for path, reason, moved in skipped:
                log(f"warning: skipping unreadable checkpoint {path}: {reason}; moved it to "
                    f"{moved}; {instead}")
        return found

    def prune_checkpoints(self, keep: int) -> list[Path]:
        return ckpt.prune_checkpoints(self.checkpoint_dir, keep)

    def remove_temporary_files(self) -> list[Path]:
        """Delete the ``.*.tmp`` files that a process killed mid-write left (cbow.io names them)."""
        removed = []
        for folder in (self.path, self.checkpoint_dir):
            if folder.is_dir():
                for leftover in folder.glob(".*.tmp"):
                    leftover.unlink(missing_ok=True)
                    removed.append(leftover)
        return removed

    def claim(self, resume: str, overwrite: bool) -> None:
        """Refuse, before any work, a start that would mix or destroy runs (hold the lock).

        ``resume`` is ``"yes"`` (a checkpoint must exist), ``"auto"`` or ``"no"`` (the folder
        must hold no run, or ``overwrite`` deletes the old one's files).
        """
        if resume == "yes" and not self.checkpoints():
            raise RunFolderError(f"--resume: there is no checkpoint to resume from (looked for "
                                 f"{self.checkpoint_dir}/step_*.npz). Check the folder (--out or "
                                 f"out_dir), or use --resume auto to start when there is none")
        if resume == "no" and self.holds_a_run():
            if not overwrite:
                raise RunFolderError(f"{self.path} already holds a training run; continue it "
                                     f"with --resume, train into another folder with --out, or "
                                     f"discard it with --overwrite")
            for path in self.checkpoints():
                path.unlink()
            for path in (self.metrics_path, self.config_path, self.vocab_path, self.ids_path):
                path.unlink(missing_ok=True)

    def check_room(self, parameters: int, buffers: int, keep: int, sizes: tuple[str, str],
                   smaller: str) -> None:
        """Refuse, before anything large is allocated, a run that cannot fit.

        In memory: ``parameters + buffers`` bytes; on disk: ``keep`` checkpoints of
        ``parameters`` bytes plus the one being written. ``sizes`` says where the numbers
        come from (parameters, buffers), ``smaller`` what makes them smaller (for the message).
        """
        memory = parameters + buffers
        available = available_memory()
        if available is not None and memory > available:
            raise TrainingError(
                f"this run needs about {size(memory)} of memory (parameters "
                f"{size(parameters)} {sizes[0]}; step buffers {size(buffers)} "
                f"{sizes[1]}) but {size(available)} is available; {smaller}")
        already = sum(p.stat().st_size for p in self.checkpoints())
        disk = max(0, (keep + 1) * parameters - already)
        free = shutil.disk_usage(self.path).free
        if disk > free:
            raise TrainingError(
                f"{keep} checkpoints (checkpoint.keep) of about {size(parameters)} "
                f"each, plus the one being written, need {size(disk)} more disk in "
                f"{self.path}, which has {size(free)} free; free some space, lower "
                f"checkpoint.keep, or train elsewhere (--out)")

    # ---------------------------------------------------------------------------- the lock

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive advisory lock on the folder, or fail at once naming its holder.

        ``flock`` locks belong to the open file: the OS releases them when the process exits,
        however it exits, so a kill -9 leaves no stale lock behind.
        """
        created = not self.path.exists()
        self.make()
        lock_path = self.path / self.LOCK
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                raise RunFolderError(f"{self.path} is in use by another cbow process (pid "
                                     f"{holder}); wait for it to finish, stop it, or train into "
                                     f"another folder with --out") from None
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            except OSError as err:  # a full disk: say which file
                raise name_file(err, lock_path) from err
            yield
        finally:
            os.close(fd)  # releases the lock
            # A run that stopped before writing anything leaves no folder behind.
            if created and os.listdir(self.path) == [self.LOCK]:
                lock_path.unlink(missing_ok=True)
                self.path.rmdir()

    def make(self) -> None:
        """Create the folder, or say in one line why it cannot be."""
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"the run folder {self.path} is a file; choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise RunFolderError(f"cannot create the run folder {self.path}: a part of its path "
                                 f"is a file; choose another --out") from None
        except PermissionError:
            raise RunFolderError(f"cannot create the run folder {self.path}: permission denied; "
                                 f"choose another --out") from None
        if self.checkpoint_dir.exists() and not self.checkpoint_dir.is_dir():
            raise RunFolderError(f"{self.checkpoint_dir} is a file, where the run keeps its "
                                 f"checkpoints; move it away or choose another --out")

    # ----------------------------------------------------------------------------- metrics

    def read_metrics(self, up_to_step: float = float("inf")) -> list[dict]:
        """Rows of ``metrics.jsonl`` with ``step <= up_to_step``.

        A last line that is not valid JSON was cut by a crash and is ignored; a bad line
        anywhere else means the file is not ours, and is an error naming the line.
        """
        return read_metrics_file(self.metrics_path, up_to_step)

    @contextmanager
    def metrics_writer(self, kept_rows: list[dict]) -> Iterator[TextIO]:
        """``metrics.jsonl`` rewritten to ``kept_rows``, then open for appending rows (a failed
        write or flush, a full disk, names the file)."""
        atomic_write_bytes(self.metrics_path,
                           "".join(json.dumps(row) + "\n" for row in kept_rows).encode())
        with NamedWriter(open(self.metrics_path, "a", encoding="utf-8"), self.metrics_path) as f:
            yield f


def refuse_run_file(path: str | Path, what: str) -> None:
    """Refuse to write ``what`` (a command's output) at ``path`` when that is a training run's
    own file (config, vocabulary, metrics, anything in its checkpoints folder) or the run folder
    itself: replacing it would damage the run, or make the folder read as exported vectors."""
    path = Path(path)
    if RunFolder(path).holds_a_run():
        raise RunFolderError(f"{path} is a training run folder; {what} there would mix with the "
                             f"run's own files: write it elsewhere")
    run = RunFolder(path.parent)
    own = (RunFolder.CONFIG, RunFolder.VOCAB, RunFolder.METRICS, RunFolder.IDS, RunFolder.LOCK)
    if path.parent.name == RunFolder.CHECKPOINTS:  # a checkpoint, or what would rank as one
        run = RunFolder(path.parent.parent)
        own = (path.name,) if path.exists() or path.name.startswith("step_") else ()
    if path.name in own and run.holds_a_run():
        raise RunFolderError(f"{path} is a file of the training run {run.path}; {what} would "
                             f"replace it: write it elsewhere")


def available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (MemAvailable), if known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def read_metrics_file(path: str | Path, up_to_step: float = float("inf"),
                      warn_cut: bool = False) -> list[dict]:
    """The rows of a ``metrics.jsonl`` file; see :meth:`RunFolder.read_metrics`.

    Every row is checked (:func:`metrics_row_problem`, steps never going back), so a reader
    can trust its types; ``warn_cut`` warns of a last line cut short, which is left out.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RunFolder.METRICS
    if not path.is_file():
        raise RunFolderError(f"{path} does not exist; a training run writes it")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    rows = []
    last_step, last_line = None, 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):  # the line a crash cut short
                if warn_cut:
                    warnings.warn(f"{path}, line {number}: left out, not valid JSON ({err.msg}): "
                                  f"the last line, cut short by a crash?", stacklevel=2)
                break
            raise RunFolderError(f"{path}, line {number}: not valid JSON ({err.msg})") from None
        problem = metrics_row_problem(row)
        if problem is None and last_step is not None and row["step"] < last_step:
            problem = (f"step {row['step']} comes after step {last_step} (line {last_line}); "
                       f"a run's steps never go back")
        if problem is not None:
            raise RunFolderError(f"{path}, line {number}: {problem}; is this a metrics file "
                                 f"cbow train wrote?")
        last_step, last_line = row["step"], number
        if row["step"] <= up_to_step:
            rows.append(row)
    return rows


#: The numbers of a metrics row (each a number or null), besides ``step`` and ``benchmarks``.
METRICS_NUMBERS = ("epoch", "loss", "alpha", "examples_per_s", "words_per_s", "elapsed_s",
                   "effective_words", "val_loss", "unigram_val_loss")


def metrics_row_problem(row) -> str | None:
    """What is wrong with a row of ``metrics.jsonl`` as the trainer writes them, or None: an
    object with an integer ``step`` >= 0 and a ``loss``, whose numbers are numbers or null and
    whose ``benchmarks`` map names to numbers or null (other keys are not looked at)."""
    if not isinstance(row, dict) or "step" not in row or "loss" not in row:
        return f"expected an object with 'step' and 'loss'; got {json.dumps(row)[:80]!r}"
    step = row["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return f"'step' must be a whole number >= 0; it is {step!r}"
    for key in METRICS_NUMBERS:
        if key in row and not _number_or_null(row[key]):
            return f"{key!r} must be a number or null; it is {row[key]!r}"
    benchmarks = row.get("benchmarks", {})
    if not isinstance(benchmarks, dict):
        return f"'benchmarks' must map names to numbers; it is {benchmarks!r}"
    for name, value in benchmarks.items():
        if not _number_or_null(value):
            return f"the benchmark {name!r} must be a number or null; it is {value!r}"
    return None


def _number_or_null(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


# ------------------------------------------------------------------- checkpoints of a run

def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint a path means: the newest readable one of a run folder, or the file itself.

    ``path`` may be a run folder, its ``checkpoints/`` folder, or a checkpoint ``.npz``.
    """
    path = Path(path)
    if not path.exists():
        raise RunFolderError(f"training run {path} does not exist (expected a run folder with "
                             f"checkpoints/, or a checkpoint .npz file)")
    if path.is_file():
        return path
    folder = RunFolder(path)
    checkpoint_dir = folder.checkpoint_dir
    if not folder.checkpoints() and ckpt.list_checkpoints(path):
        checkpoint_dir = path  # the checkpoints/ folder itself was given
    if not ckpt.list_checkpoints(checkpoint_dir):
        raise RunFolderError(f"{path} has no checkpoints (looked for {checkpoint_dir}/step_*.npz); "
                             f"is it a training run folder?")
    skipped: list[str] = []
    found = ckpt.load_latest(checkpoint_dir, on_skip=lambda p, err: skipped.append(
        f"{p.name} ({err.reason}{non_finite_word(p, err)})"))
    if found is None:
        raise ckpt.CheckpointError(f"no checkpoint in {checkpoint_dir} can be read: "
                                   f"{'; '.join(skipped)}")
    if skipped:
        warnings.warn(f"using {found.path}: newer checkpoints cannot be read: {'; '.join(skipped)}",
                      stacklevel=2)
    return found.path


def checkpoint_meta(checkpoint: str | Path) -> dict:
    """The ``meta`` record of a checkpoint (read by :func:`find_checkpoint` or
    :func:`load_embeddings` already), without reading its arrays."""
    import numpy as np

    with np.load(checkpoint, allow_pickle=False) as npz:
        return json.loads(str(npz["meta"])) if "meta" in npz.files else {}


def non_finite_word(path: Path, error: ckpt.CheckpointError) -> str:
    """For a checkpoint refused for NaN or infinity: where the first such number is, in an
    array its objective keeps by word (``CARRIED``), to append to the error's reason:
    ``" (the first in input_vectors: the row of 'w')"``; else ""."""
    import numpy as np

    if "NaN" not in error.reason:
        return ""
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"])) if "meta" in npz.files else {}
            words = npz["vocab_words"].tolist() if "vocab_words" in npz.files else []
            carried = objective_class(meta.get("objective", ckpt.DEFAULT_OBJECTIVE)).CARRIED
            for name, axis in carried.items():
                if axis is None or name not in npz.files or npz[name].ndim != 2:
                    continue
                bad = ~np.isfinite(npz[name]).all(axis=1 - axis)
                if bad.any():
                    row = int(np.flatnonzero(bad)[0])
                    where = f"the row of {words[row]!r}" if row < len(words) else (
                        f"row {row}, an n-gram row")
                    return f" (the first in {name}: {where})"
    except Exception:  # noqa: BLE001 (a file damaged otherwise: its reason is said already)
        return ""
    return ""


def vocabulary_beside(checkpoint: Path, V: int) -> Vocabulary:
    """The ``vocab.txt`` beside ``checkpoint`` or in its run folder (for checkpoints without one)."""
    places = [checkpoint.parent / RunFolder.VOCAB]
    if checkpoint.parent.name == RunFolder.CHECKPOINTS:
        places.append(checkpoint.parent.parent / RunFolder.VOCAB)
    for place in places:
        if place.is_file():
            vocab = Vocabulary.load(place)
            if len(vocab) != V:
                raise ckpt.CheckpointError(f"{place} has {len(vocab)} words but the model in "
                                           f"{checkpoint} has V = {V}; they are not from the "
                                           f"same run")
            return vocab
    raise RunFolderError(f"{checkpoint} holds no vocabulary and there is no vocab.txt to use "
                         f"instead (looked for {' and '.join(map(str, places))})")


# ----------------------------------------------------------------- vectors out of a run

def load_embeddings(path: str | Path, which: str | None = None,
                    normalize: bool = False) -> Embeddings:
    """Vectors from whatever ``path`` is: a run folder, a checkpoint, or a vector file.

    Parameters
    ----------
    path : str or Path
        A run folder (its newest readable checkpoint is used), its ``checkpoints/`` folder, a
        checkpoint ``.npz``, or anything :meth:`Embeddings.load` reads (a vector file, an npy
        or projector folder). Every command that reads vectors reads them here (``similar``,
        ``evaluate``; ``export`` then refuses vectors that are not a run's).
    which : str, optional
        For runs and checkpoints: which of the objective's vector sets (the full softmax's
        ``mean`` (the default), ``w1`` or ``w2``). A vector file holds one set only.
    normalize : bool
        Scale every vector to unit length.
    """
    path = Path(path)
    if not path.exists():
        raise RunFolderError(f"{path} does not exist (expected a training run folder, a "
                             f"checkpoint .npz, or a vector file or folder)")
    is_vector_folder = path.is_dir() and formats.folder_format(path) is not None
    is_checkpoint = path.is_file() and (path.suffix == ".npz" or formats.is_zip(path))
    if (path.is_dir() and not is_vector_folder) or is_checkpoint:
        checkpoint = find_checkpoint(path)
        try:
            arrays, vocab, meta = ckpt.load_checkpoint(checkpoint)
        except ckpt.CheckpointError as err:
            where = non_finite_word(checkpoint, err)
            if not where:
                raise
            raise ckpt.CheckpointError(f"{err}{where}", err.reason + where) from None
        Objective = objective_class(meta["objective"])
        which = which or Objective.VECTORS[0]
        if vocab is None:  # an old checkpoint: its run folder's vocab.txt (size checked)
            vocab = vocabulary_beside(checkpoint, Objective.vectors(arrays, which).shape[0])
        embeddings = Objective.embeddings(arrays, vocab, which, meta.get("run_identity", {}),
                                          source=str(checkpoint))
        return embeddings.normalized() if normalize else embeddings  # n-gram rows not kept
    if which is not None:
        raise InputError(f"{path} is a vector file: it holds one set of vectors, so --which "
                         f"applies only to training runs and checkpoints")
    embeddings = Embeddings.load(path)
    return embeddings.normalized() if normalize else embeddings


def fasttext_model(path: str | Path, which: str | None = None) -> "FastTextModel | None":
    """A run's model as fastText's ``.bin`` holds it (its own settings, every input row and the
    output rows), if its objective has one (:attr:`cbow.config.rules.Declaration.fasttext`)
    whose word vectors are the vector set ``which`` (None: whichever they are); else None.

    ``path`` is a run folder or a checkpoint, which must hold its vocabulary.
    """
    checkpoint = find_checkpoint(path)
    arrays, vocab, meta = ckpt.load_checkpoint(checkpoint)
    declared = DECLARED.get(meta["objective"])
    if (declared is None or declared.fasttext is None
            or which not in (None, declared.fasttext_vectors)):
        return None
    if vocab is None:
        families = [f"a {d.family} objective's ({or_list(objectives_of(d))})"
                    for d in declarations() if d.fasttext is not None]
        raise InputError(f"{checkpoint}: a fastText model is {' or '.join(families)} with its "
                         f"vocabulary; this checkpoint holds a {meta['objective']} model without "
                         f"one")
    return declared.fasttext(meta["objective"], arrays, vocab, meta, str(checkpoint))
