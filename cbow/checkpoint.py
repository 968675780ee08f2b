"""Checkpoints: ``.npz`` arrays plus JSON metadata, written atomically, read without pickle.

A checkpoint ``OUT/checkpoints/step_00001234.npz`` holds

- ``W1 (N, V)``, ``W2 (V, N)``, ``b1 (N, 1)``, ``b2 (V, 1)``: the course's shapes;
- ``vocab_words (V,)`` (unicode) and ``vocab_counts (V,)``: the vocabulary, so a checkpoint is
  usable on its own;
- ``meta``: a JSON string with the step, the batcher's position, the fingerprints of the
  vocabulary and of the settings that shape the model, and anything else needed to resume.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from cbow.io import atomic_writer
from cbow.model import Params
from cbow.vocab import Vocabulary

FORMAT_VERSION = 1
PARAM_NAMES = ("W1", "W2", "b1", "b2")
_STEP_FILE = re.compile(r"^step_(\d{8})\.npz$")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: truncated, corrupt, or not a cbow checkpoint."""


def checkpoint_path(directory: str | Path, step: int) -> Path:
    return Path(directory) / f"step_{step:08d}.npz"


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoint files in ``directory``, oldest step first (none if the folder is missing)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _STEP_FILE.match(p.name))


def save_checkpoint(path: str | Path, params: Params, vocab: Vocabulary, meta: dict) -> Path:
    """Write a checkpoint atomically: the file at ``path`` is either the old one or complete."""
    path = Path(path)
    arrays = dict(params.arrays())
    arrays["vocab_words"] = np.array(vocab.words, dtype=str)
    arrays["vocab_counts"] = vocab.counts
    arrays["meta"] = np.array(json.dumps({"format_version": FORMAT_VERSION, **meta}, sort_keys=True))
    with atomic_writer(path) as f:
        np.savez(f, **arrays)
    return path


def load_checkpoint(path: str | Path) -> tuple[Params, Vocabulary | None, dict]:
    """Read a checkpoint: ``(params, vocab, meta)``; ``vocab`` is None if the file has none.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is truncated, corrupt, or lacks the arrays of a CBOW model.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = set(npz.files)
            missing = [n for n in PARAM_NAMES if n not in names]
            if missing:
                raise CheckpointError(f"{path} is not a CBOW checkpoint: arrays {missing} are "
                                      f"missing (found {sorted(names)})")
            params = Params(**{n: npz[n] for n in PARAM_NAMES})
            vocab = (Vocabulary(npz["vocab_words"].tolist(), npz["vocab_counts"])
                     if "vocab_words" in names else None)
            meta = json.loads(str(npz["meta"])) if "meta" in names else {}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path} is truncated or corrupt and cannot be read ({err}); "
                              f"delete it to use an earlier checkpoint") from err
    if vocab is not None and len(vocab) != params.V:
        raise CheckpointError(f"{path}: the vocabulary has {len(vocab)} words but W1 has "
                              f"{params.V} columns")
    return params, vocab, meta


def load_latest(directory: str | Path, on_skip=None):
    """Newest readable checkpoint in ``directory`` as ``(path, params, vocab, meta)``, or None.

    Unreadable files are skipped for older ones; ``on_skip(path, error)`` is told about each.
    """
    for path in reversed(list_checkpoints(directory)):
        try:
            return (path, *load_checkpoint(path))
        except CheckpointError as err:
            if on_skip is not None:
                on_skip(path, err)
    return None


def prune_checkpoints(directory: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints; return what was deleted."""
    old = list_checkpoints(directory)[:-keep] if keep > 0 else []
    for path in old:
        path.unlink(missing_ok=True)
    return old
