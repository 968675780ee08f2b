"""The cache of prepared corpora: one folder per corpus and settings, found by a key.

A prepared corpus is kept in ``<cache_root>/<tokenizer>-<key>``. The key is a hash of every
input file's path, size and modification time and of every setting that changes the ids
(:class:`Settings`), so finding a prepared corpus costs a ``stat`` per file, not a read; the
content's SHA-256 (computed while reading, no extra pass) goes into the
:attr:`~cbow.data.prepared_corpus.PreparedCorpus.fingerprint` (:func:`fingerprint`), which
identifies the ids whatever the paths.

A folder is built under a temporary name and renamed into place when complete
(:func:`build_folder`), so an interrupted prepare leaves no partial result; its temporary
folder is removed by the next prepare once its process is gone. A folder is removed the same
way round (:func:`discard_prepared`): renamed aside, then deleted.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from cbow.data.corpus import DATA_DIR
from cbow.data.prepared_corpus import (DESCRIPTION_FILE, FORMAT_VERSION, PreparedCorpus,
                                       load_prepared, open_prepared)
from cbow.data.sources import ERRORS, SourceFile
from cbow.data.vocab import ORDERS, Vocabulary
from cbow.errors import InputError
from cbow.io import fsync_directory
from cbow.registry import TOKENIZERS

__all__ = [
    "Settings",
    "build_folder",
    "cache_folder",
    "cached",
    "check_settings",
    "default_cache_root",
    "discard_prepared",
    "fingerprint",
]

_TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Settings:
    """The settings of a prepare that shape its ids (checked by :func:`check_settings`)."""

    tokenizer: str
    lowercase: bool
    min_count: int
    max_size: int | None
    order: str
    errors: str

    def identity(self) -> dict:
        """Every setting that changes the ids, with the NLTK release Punkt comes from."""
        identity = dict(self.__dict__)
        if TOKENIZERS.get(self.tokenizer).blocks == "punkt":
            identity["nltk"] = importlib.metadata.version("nltk")
        return identity


def check_settings(tokenizer, lowercase, min_count, max_size, order, errors) -> Settings:
    """The :class:`Settings` of these arguments of ``prepare``; :class:`InputError` naming
    every one that is out of range."""
    def is_int(value) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    problems = []
    if tokenizer not in TOKENIZERS:
        problems.append(f"tokenizer must be one of {TOKENIZERS.valid()}; got {tokenizer!r}")
    elif not isinstance(lowercase, bool):
        problems.append(f"lowercase must be true or false; got {lowercase!r}")
    elif not lowercase and not TOKENIZERS.get(tokenizer).keeps_case:
        keeping = " or ".join(repr(t.name) for t in TOKENIZERS if t.keeps_case)
        problems.append(f"the {tokenizer!r} tokenizer always lower-cases; lowercase=False "
                        f"needs tokenizer={keeping}")
    if not is_int(min_count) or min_count < 1:
        problems.append(f"min_count must be an integer >= 1; got {min_count!r}")
    if max_size is not None and (not is_int(max_size) or max_size < 1):
        problems.append(f"max_size must be an integer >= 1 or None; got {max_size!r}")
    if order not in ORDERS:
        problems.append(f"order must be one of {', '.join(map(repr, ORDERS))}; got {order!r}")
    if errors not in ERRORS:
        problems.append(f"errors must be one of {', '.join(map(repr, ERRORS))}; got {errors!r}")
    if problems:
        raise InputError("; ".join(problems))
    return Settings(tokenizer, lowercase, int(min_count),
                    None if max_size is None else int(max_size), order, errors)


# --------------------------------------------------------------------------------------------
# Keys and folders
# --------------------------------------------------------------------------------------------

def default_cache_root() -> Path:
    """``prepared/`` in the data folder (a checkout's ``data/``, see ``cbow.data.corpus``)."""
    return DATA_DIR / "prepared"


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _cache_key(files: list[SourceFile], settings: Settings) -> str:
    return _digest({"format": FORMAT_VERSION, "settings": settings.identity(),
                    "files": [[str(f.path), f.size, f.mtime_ns] for f in files]})


def fingerprint(sha256s: list[str], settings: Settings) -> str:
    """The fingerprint of the ids made of inputs with these contents (their SHA-256s)."""
    return _digest({"format": FORMAT_VERSION, "settings": settings.identity(), "sources": sha256s})


def cache_folder(files, settings: Settings,
                 cache_root: str | os.PathLike | None) -> tuple[Path, str]:
    """The cache folder of ``files`` prepared with ``settings``, and the cache key."""
    key = _cache_key(files, settings)
    root = Path(cache_root).expanduser() if cache_root is not None else default_cache_root()
    return root / f"{settings.tokenizer}-{key[:20]}", key


def cached(folder: Path) -> PreparedCorpus | None:
    """The prepared corpus in ``folder`` if an earlier prepare completed it, else None."""
    if (folder / DESCRIPTION_FILE).is_file():
        return dataclasses.replace(load_prepared(folder), reused=True)
    return None


# --------------------------------------------------------------------------------------------
# Making and removing folders, each in one step
# --------------------------------------------------------------------------------------------

def build_folder(folder: Path, build: Callable[[Path], Vocabulary]) -> PreparedCorpus:
    """``build(temporary folder)``, then the folder renamed to ``folder`` in one step."""
    root = folder.parent
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(root)
    temp = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-", dir=root))
    os.chmod(temp, 0o777 & ~_umask())  # mkdtemp makes it private (0700)
    try:
        vocab = build(temp)
        try:
            os.rename(temp, folder)  # atomic: the folder appears complete or not at all
        except OSError:
            if not (folder / DESCRIPTION_FILE).is_file():
                raise
            # Another process prepared the same corpus meanwhile; its folder is as good.
            vocab = None
        fsync_directory(root)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return open_prepared(folder, vocab)


def discard_prepared(folder: str | os.PathLike) -> None:
    """Remove a prepared-corpus folder: renamed aside first, so it vanishes in one step."""
    folder = Path(folder)
    aside = folder.parent / f"{_TEMP_PREFIX}{os.getpid()}-discarded-{folder.name}"
    os.rename(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    return True


def _remove_abandoned(root: Path) -> None:
    """Delete temporary folders of prepares whose process is gone (killed mid-way)."""
    for entry in root.glob(f"{_TEMP_PREFIX}*"):
        pid = entry.name[len(_TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
