"""Checkpoints: ``.npz`` arrays plus JSON metadata, written atomically, read without pickle.

A checkpoint ``OUT/checkpoints/step_00001234.npz`` holds

- the objective's named parameter arrays (for the full softmax ``W1 (N, V)``, ``W2 (V, N)``,
  ``b1 (N, 1)``, ``b2 (V, 1)``: the course's shapes), all finite;
- ``vocab_words (V,)`` (unicode) and ``vocab_counts (V,)``: the vocabulary, so a checkpoint is
  usable on its own;
- ``meta``: a JSON string with the objective's name, the step, the batcher's position, the
  fingerprints of the vocabulary and of the settings that shape the model, and anything else
  needed to resume. Checkpoints written before objectives had names are full-softmax ones.
"""
from __future__ import annotations

import json
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cbow.errors import UserError
from cbow.io import atomic_writer
from cbow.data.vocab import Vocabulary

FORMAT_VERSION = 1
DEFAULT_OBJECTIVE = "softmax"  # what a checkpoint without an objective in its meta holds
_RESERVED = ("vocab_words", "vocab_counts", "meta")
_STEP_FILE = re.compile(r"^step_(\d{8})\.npz$")
#: Sub-folder of a checkpoint folder where unreadable checkpoint files are moved.
UNREADABLE = "unreadable"


class CheckpointError(UserError, ValueError):
    """A checkpoint file that cannot be used: truncated, corrupt, or not a cbow checkpoint.

    ``reason`` says what is wrong without naming the file (for a message that already names
    it); it is the whole message when none is given.
    """

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = message if reason is None else reason


class NonFiniteParameters(ValueError):
    """Parameters holding NaN or infinity, which a checkpoint must never store."""


def checkpoint_path(directory: str | Path, step: int) -> Path:
    return Path(directory) / f"step_{step:08d}.npz"


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoint files in ``directory``, oldest step first (none if the folder is missing)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _STEP_FILE.match(p.name))


def all_finite(array: np.ndarray, chunk_elements: int = 1 << 20) -> bool:
    """``np.isfinite(array).all()`` without its boolean copy of the whole array: a slice of
    about ``chunk_elements`` at a time (the copy would be a quarter of a float32 array's size)."""
    array = np.asarray(array)
    if array.ndim == 0 or array.size <= chunk_elements:
        return bool(np.isfinite(array).all())
    rows = max(1, chunk_elements // (array.size // array.shape[0] or 1))
    return all(np.isfinite(array[first:first + rows]).all()
               for first in range(0, array.shape[0], rows))


def save_checkpoint(path: str | Path, params: dict[str, np.ndarray], vocab: Vocabulary,
                    meta: dict) -> Path:
    """Write a checkpoint atomically: the file at ``path`` is either the old one or complete.

    ``params`` maps names to the objective's arrays; ``meta`` should name the objective.

    Raises
    ------
    NonFiniteParameters
        If an array holds NaN or infinity (nothing is written: a checkpoint is a good state).
    """
    path = Path(path)
    bad = [name for name, a in params.items() if not all_finite(a)]
    if bad:
        raise NonFiniteParameters(f"not writing {path}: {', '.join(bad)} hold non-finite values")
    clash = [name for name in params if name in _RESERVED]
    if clash:
        raise ValueError(f"parameter names {clash} are reserved in checkpoints")
    arrays = dict(params)
    arrays["vocab_words"] = np.array(vocab.words, dtype=str)
    arrays["vocab_counts"] = vocab.counts
    arrays["meta"] = np.array(json.dumps({"format_version": FORMAT_VERSION, **meta}, sort_keys=True))
    with atomic_writer(path) as f:
        write_npz(f, **arrays)
    return path


WRITE_CHUNK_BYTES = 1 << 22
""":func:`write_npz` writes a large array this many bytes at a time (4 MiB)."""


def write_npz(f, **arrays: np.ndarray) -> None:
    """The file ``np.savez(f, **arrays)`` writes (stored, not compressed: one ``NAME.npy`` per
    array, zip64), each C-ordered array's data written straight from its memory,
    :data:`WRITE_CHUNK_BYTES` at a time. ``np.savez`` copies every 16 MiB through a buffer and
    then ``tobytes``, which raises the peak memory of a run with millions of n-gram rows."""
    chunk_bytes = WRITE_CHUNK_BYTES
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as npz:
        for name, value in arrays.items():
            value = np.asanyarray(value)
            with npz.open(name + ".npy", "w", force_zip64=True) as out:
                if not (value.flags.c_contiguous and value.size and value.dtype.isbuiltin
                        and not value.dtype.hasobject):
                    np.lib.format.write_array(out, value, allow_pickle=False)
                    continue
                np.lib.format.write_array_header_1_0(
                    out, np.lib.format.header_data_from_array_1_0(value))
                data = memoryview(value.reshape(-1)).cast("B")
                for first in range(0, data.nbytes, chunk_bytes):
                    out.write(data[first:first + chunk_bytes])


def load_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], Vocabulary | None, dict]:
    """Read a checkpoint: ``(arrays, vocab, meta)``; ``vocab`` is None if the file has none.

    ``arrays`` maps parameter names to arrays; ``meta["objective"]`` names the objective that
    owns them (:data:`DEFAULT_OBJECTIVE` is filled in for older checkpoints).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is truncated, corrupt, not a cbow checkpoint, or holds non-finite numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = set(npz.files)
            meta = json.loads(str(npz["meta"])) if "meta" in names else {}
            arrays = {n: npz[n] for n in npz.files if n not in _RESERVED}
            if not arrays:
                reason = (f"not a cbow checkpoint: it holds no parameter arrays (found "
                          f"{sorted(names)})")
                raise CheckpointError(f"{path} is {reason}", reason)
            vocab = (Vocabulary(npz["vocab_words"].tolist(), npz["vocab_counts"])
                     if "vocab_words" in names else None)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        reason = why_unreadable(path)  # numpy's text would suggest loading it with pickle
        raise CheckpointError(f"{path} cannot be read: {reason}", reason) from err
    meta.setdefault("objective", DEFAULT_OBJECTIVE)
    bad = [name for name, a in arrays.items()
           if np.issubdtype(a.dtype, np.inexact) and not all_finite(a)]
    if bad:
        reason = f"{', '.join(bad)} hold NaN or infinite values"
        raise CheckpointError(f"{path}: {reason}", reason)
    return arrays, vocab, meta


def why_unreadable(path: str | Path) -> str:
    """Why a checkpoint ``np.load`` could not read is unusable, in a few words: not a ``.npz``
    archive at all, or a damaged one (cut short, or an array that fails its checksum)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if not head:
            return "the file is empty"
        if head != b"PK\x03\x04":
            return "it is not a .npz archive (a checkpoint is a zip file; this is not one)"
        with zipfile.ZipFile(path) as archive:
            failed = archive.testzip()  # the first member whose checksum is wrong
    except OSError as err:
        return f"it cannot be read ({err.strerror or err})"
    except (zipfile.BadZipFile, EOFError, ValueError, RuntimeError, NotImplementedError):
        return "it is a damaged .npz archive: cut short, or its table of contents is damaged"
    if failed is not None:
        return f"it is a damaged .npz archive: its array {failed} fails its checksum"
    return "it is a damaged .npz archive: an array in it cannot be read"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read from ``path``: what :func:`load_checkpoint` returns, named."""

    path: Path
    arrays: dict[str, np.ndarray]
    vocab: Vocabulary | None
    meta: dict


def load_latest(directory: str | Path, on_skip=None) -> Checkpoint | None:
    """Newest readable checkpoint in ``directory``, or None.

    Unreadable files are skipped for older ones; ``on_skip(path, error)`` is told about each.
    """
    for path in reversed(list_checkpoints(directory)):
        try:
            return Checkpoint(path, *load_checkpoint(path))
        except CheckpointError as err:
            if on_skip is not None:
                on_skip(path, err)
    return None


def set_aside(path: str | Path) -> Path:
    """Move an unreadable checkpoint into ``unreadable/`` beside it (never over another file).

    Out of ``step_*.npz`` it no longer ranks as the newest checkpoint, and nothing is deleted:
    the file can still be looked at.
    """
    path = Path(path)
    folder = path.parent / UNREADABLE
    folder.mkdir(exist_ok=True)
    target, n = folder / path.name, 1
    while target.exists():
        target, n = folder / f"{path.stem}.{n}{path.suffix}", n + 1
    os.rename(path, target)
    return target


def _looks_complete(path: Path) -> bool:
    """Whether ``path`` is a whole checkpoint of its step: its zip directory and meta read.

    Cheap (the zip's directory sits at the end of the file, and meta is small): a truncated
    or garbage file fails; damage inside an array is found by :func:`load_checkpoint`'s CRC
    check when the file is loaded.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            if "meta.npy" not in archive.namelist():  # older checkpoints have no meta
                return bool(archive.namelist())
            with archive.open("meta.npy") as member:
                meta = json.loads(str(np.lib.format.read_array(member, allow_pickle=False)))
        step = meta.get("step") if isinstance(meta, dict) else None
        return step is None or int(step) == int(_STEP_FILE.match(path.name).group(1))
    except Exception:  # noqa: BLE001 -- any failure to read it means it is not usable
        return False


def prune_checkpoints(directory: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` readable checkpoints; return what was deleted.

    Unreadable files (garbage, truncated, another step's meta) are not ranked: they are moved
    into ``unreadable/`` with a warning, so that they never push a good checkpoint out. The
    checkpoint written last (newest modification time) is never deleted.
    """
    paths = list_checkpoints(directory)
    if keep <= 0 or not paths:
        return []
    newest = max(paths, key=lambda p: p.stat().st_mtime_ns)
    readable, moved = [], []
    for path in paths:
        if _looks_complete(path):
            readable.append(path)
        else:
            moved.append(set_aside(path))
    if moved:
        warnings.warn(f"moved {len(moved)} unreadable checkpoint file(s) out of the way, into "
                      f"{moved[0].parent}: {', '.join(p.name for p in moved)}", stacklevel=2)
    old = [path for path in readable[:-keep] if path != newest]
    for path in old:
        path.unlink(missing_ok=True)
    return old
