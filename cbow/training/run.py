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
from cbow.vectors.embeddings import Embeddings, unit_rows
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


def read_metrics_file(path: str | Path, up_to_step: float = float("inf")) -> list[dict]:
    """The rows of a ``metrics.jsonl`` file; see :meth:`RunFolder.read_metrics`."""
    path = Path(path)
    if path.is_dir():
        path = path / RunFolder.METRICS
    if not path.is_file():
        raise RunFolderError(f"{path} does not exist; a training run writes it")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):
                break  # the line a crash cut short
            raise RunFolderError(f"{path}, line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(row, dict) or "step" not in row or "loss" not in row:
            raise RunFolderError(f"{path}, line {number}: expected an object with 'step' and "
                                 f"'loss'; got {line.strip()[:80]!r}")
        if row["step"] <= up_to_step:
            rows.append(row)
    return rows


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
    found = ckpt.load_latest(checkpoint_dir,
                             on_skip=lambda p, err: skipped.append(f"{p.name} ({err.reason})"))
    if found is None:
        raise ckpt.CheckpointError(f"no checkpoint in {checkpoint_dir} can be read: "
                                   f"{'; '.join(skipped)}")
    if skipped:
        warnings.warn(f"using {found.path}: newer checkpoints cannot be read: {'; '.join(skipped)}",
                      stacklevel=2)
    return found.path


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
        arrays, vocab, meta = ckpt.load_checkpoint(checkpoint)
        Objective = objective_class(meta["objective"])
        which = which or Objective.VECTORS[0]
        if vocab is None:  # an old checkpoint: its run folder's vocab.txt (size checked)
            vocab = vocabulary_beside(checkpoint, Objective.vectors(arrays, which).shape[0])
        embeddings = Objective.embeddings(arrays, vocab, which, meta.get("run_identity", {}),
                                          source=str(checkpoint))
        if normalize:  # unit word vectors (a subword model's n-gram rows are not kept)
            embeddings = Embeddings(embeddings.words, unit_rows(embeddings.vectors),
                                    counts=embeddings.counts, source=embeddings.source,
                                    which=which)
        return embeddings
    if which is not None:
        raise InputError(f"{path} is a vector file: it holds one set of vectors, so --which "
                         f"applies only to training runs and checkpoints")
    embeddings = Embeddings.load(path)
    if normalize:
        embeddings = Embeddings(embeddings.words, unit_rows(embeddings.vectors),
                                counts=embeddings.counts, source=embeddings.source)
    return embeddings


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
