"""The temporary area of ``cbow.train`` called from Python: token lists written as a corpus
file, and the run folders of calls given no ``out=``.

::

    <temp>/cbow-<uid>/                 <temp>: tempfile.gettempdir() (TMPDIR)
      tokens-<sha256>.txt              token lists as a `whitespace` corpus, while a call prepares
      prepared/                        their prepared corpora (the cache, prepare.cache_dir)
      runs/<identity>-<random>/        a run folder; <identity> hashes the run's identity settings

A corpus of token lists is written once, one sentence per line, streamed (never held whole)
and named by the SHA-256 of its bytes, its modification time fixed: the same tokens give the
same path, size and time, so a later call finds their prepared corpus in the cache
(:mod:`cbow.data.cache` keys it by the three) and a resume sees the same ``corpus`` setting.
The file itself is deleted when the call has prepared it.

A run folder made here belongs to the :class:`ScratchRun` that the models trained into it
share: it is deleted when the last of them is gone (or at exit), unless its run stopped before
its end, when it is kept for ``resume=True``, which finds it by the run's identity
(:func:`stopped_runs`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from cbow.config import Config, run_identity
from cbow.errors import InputError
from cbow.models import checkpoint as ckpt

__all__ = ["ScratchRun", "scratch_root", "token_corpus", "new_run_folder", "stopped_runs",
           "has_checkpoint"]

#: The modification time of every token file (2000-01-01 UTC, in ns): its name says its content.
TOKEN_FILE_MTIME_NS = 946_684_800 * 10**9


def scratch_root() -> Path:
    """``<temp>/cbow-<uid>``: the temporary area of this user."""
    return Path(tempfile.gettempdir()) / f"cbow-{os.getuid()}"


def _make(folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


# -------------------------------------------------------------------------- token lists

def _line(sentence, number: int) -> str:
    """``sentence`` (an iterable of tokens) as one line of the token file; a sentence the
    `whitespace` tokenizer would not read back as the same tokens is an error naming it."""
    where = f"corpus, sentence {number:,}"
    if isinstance(sentence, (str, bytes)):
        raise InputError(f"{where} is a string, not a list of tokens: give each sentence as "
                         f"a list of tokens (e.g. line.split()), or give a text file's path "
                         f"as the corpus")
    try:
        tokens = list(sentence)
    except TypeError:
        raise InputError(f"{where} is of type {type(sentence).__name__}, not a list of tokens; "
                         f"give each sentence as a list of strings") from None
    odd = next((t for t in tokens if not isinstance(t, str)), None)
    if odd is not None:
        raise InputError(f"{where}: the token {odd!r} is of type {type(odd).__name__}; tokens are "
                         f"strings")
    line = " ".join(tokens)
    if line.split() != tokens:
        bad = next(t for t in tokens if t.split() != [t])
        what = "is empty" if not bad else "holds whitespace"
        raise InputError(f"{where}: the token {bad!r} {what}; the tokens are written one "
                         f"sentence per line, separated by spaces, and read back split at "
                         f"whitespace, so it would change them. Drop it or replace its "
                         f"whitespace (e.g. with '_')")
    if "\x00" in line:
        bad = next(t for t in tokens if "\x00" in t)
        raise InputError(f"{where}: the token {bad!r} holds a NUL character (a corpus file "
                         f"holding one is read as binary); remove it")
    return line


@contextmanager
def token_corpus(sentences: Iterable, root: Path | None = None) -> Iterator[Path]:
    """``sentences`` (token lists, iterated once) written as a one-sentence-per-line file,
    named by its SHA-256; yields its path, and deletes it afterwards."""
    root = _make(root or scratch_root())
    fd, name = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=root)
    temporary, digest, tokens = Path(name), hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            for number, sentence in enumerate(sentences, 1):
                line = _line(sentence, number)
                if number == 1 and line.startswith("\ufeff"):  # read as a byte-order mark
                    raise InputError(f"corpus, sentence 1: the token {line.split()[0]!r} "
                                     f"starts with U+FEFF, which at the start of a file is "
                                     f"read as a byte-order mark; remove it")
                try:
                    data = (line + "\n").encode("utf-8")
                except UnicodeEncodeError as err:
                    raise InputError(f"corpus, sentence {number:,}: {line[err.start:err.end]!r} "
                                     f"is not a character UTF-8 can hold (a lone surrogate); "
                                     f"remove it") from None
                digest.update(data)
                out.write(data)
                tokens += line.count(" ") + 1 if line else 0
        if tokens == 0:
            raise InputError("corpus: the token lists hold no token")
        path = root / f"tokens-{digest.hexdigest()[:20]}.txt"
        os.utime(temporary, ns=(TOKEN_FILE_MTIME_NS, TOKEN_FILE_MTIME_NS))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


# -------------------------------------------------------------------------- run folders

def _runs() -> Path:
    return scratch_root() / "runs"


def identity_key(cfg: Config) -> str:
    """What names the run folders of one run's settings: a hash of its identity (the settings
    a resume must keep, :func:`cbow.config.run_identity`)."""
    text = json.dumps(run_identity(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def new_run_folder(cfg: Config) -> Path:
    """A new, empty run folder for ``cfg`` in the temporary area."""
    return Path(tempfile.mkdtemp(prefix=f"{identity_key(cfg)}-", dir=_make(_runs())))


def has_checkpoint(folder: Path) -> bool:
    return bool(ckpt.list_checkpoints(folder / "checkpoints"))


def stopped_runs(cfg: Config) -> list[Path]:
    """The run folders of the temporary area with ``cfg``'s identity and a checkpoint, the
    newest checkpoint first."""
    found = [folder for folder in _runs().glob(f"{identity_key(cfg)}-*")
             if folder.is_dir() and has_checkpoint(folder)]

    def newest(folder: Path) -> int:
        return max(path.stat().st_mtime_ns for path in ckpt.list_checkpoints(
            folder / "checkpoints"))
    return sorted(found, key=newest, reverse=True)


def _remove_unless_kept(path: str, state: dict) -> None:
    if not state["keep"]:
        shutil.rmtree(path, ignore_errors=True)


class ScratchRun:
    """A run folder of the temporary area, shared by the models trained into it in this
    process: deleted when the last of them is gone, or at exit, unless :meth:`keep` says so
    (a run stopped before its end, to be resumed)."""

    _live: "weakref.WeakValueDictionary[str, ScratchRun]" = weakref.WeakValueDictionary()

    def __init__(self, path: Path):
        self.path = Path(path)
        self._state = {"keep": True}
        weakref.finalize(self, _remove_unless_kept, str(self.path), self._state)

    @classmethod
    def at(cls, path: Path) -> "ScratchRun":
        """The :class:`ScratchRun` of ``path``: the one a live model shares, or a new one."""
        key = os.path.realpath(path)
        found = cls._live.get(key)
        if found is None:
            found = cls._live[key] = cls(path)
        return found

    def keep(self, kept: bool) -> None:
        self._state["keep"] = kept

    def remove(self) -> None:
        """Delete the folder now (its run was saved elsewhere)."""
        shutil.rmtree(self.path, ignore_errors=True)
