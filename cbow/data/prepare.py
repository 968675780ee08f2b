"""Preparing a corpus once: text in, token ids on disk out, memory-mapped by training.

The idea of nanoGPT's ``data/prepare.py``: tokenizing is done once, the ids are written to a
flat binary array, and training maps that array instead of holding text, token strings or
Python lists. Here it works for corpora of any size:

- the text is read as a stream (:mod:`cbow.data.sources`) and cut into blocks
  (:class:`cbow.data.text.BlockSplitter`), grouped into chunks of about :data:`CHUNK_CHARS`
  characters that worker processes tokenize and count;
- each worker writes its chunk's ids against the chunk's own small vocabulary, and returns
  that vocabulary with its counts; the main process adds up the counts, builds the
  vocabulary (``min_count``, ``max_size``, ``order``), then maps every chunk's ids to the
  final ids (one table look-up per chunk) and appends them to ``ids.npy``. Tokenizing once
  and renumbering is what makes two passes cheap: the text is never read twice.

Memory is bounded by the vocabulary and a few chunks, not by the corpus. The chunks are cut
by the main process in corpus order and merged in that order, so the output is the same
byte for byte whatever the number of workers.

The result is a folder in the cache (``<cache_root>/<tokenizer>-<key>``)::

    ids.npy              uint32 (n,)  token ids, in corpus order, tokens of dropped words removed
    sentence_starts.npy  int64 (S,)   offset in ids.npy where each sentence starts (see below)
    vocab.txt            word<TAB>count per line, in id order
    description.json     settings, inputs (path, size, mtime_ns, sha256), counts, timings,
                         and a CRC-32 of each file above, verified with the arrays' ranges
                         every time the folder is loaded (see :func:`load_prepared`)

The key is a hash of every input file's path, size and modification time and of every
setting that changes the ids, so finding a prepared corpus costs a ``stat`` per file, not a
read; the content's SHA-256 (computed while reading, no extra pass) goes into the
:attr:`PreparedCorpus.fingerprint`, which identifies the ids whatever the paths. The folder is
built under a temporary name and renamed into place when complete, so an interrupted prepare
leaves no partial result (its temporary folder is removed by the next prepare).

Sentence starts: ``whitespace`` has one sentence per line, ``nltk`` one per Punkt sentence;
empty sentences (all tokens filtered or dropped) have no entry, so starts are strictly
increasing and begin with 0. The ``course`` tokenizer is one continuous stream, as the course
trains on it (its sentences are separated by the ``.`` tokens themselves), so its starts are
just ``[0]``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
import warnings
import zlib
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
from tqdm import tqdm

from cbow.data.corpus import DATA_DIR
from cbow.errors import InputError, UserError
from cbow.io import NamedWriter, fsync_directory, name_file
from cbow.parallel.executor import default_workers
from cbow.registry import TOKENIZERS
from cbow.data.sources import ERRORS, NoTextError, SourceFile, SourceSpec, TextStream, resolve_sources
from cbow.data.vocab import Vocabulary

__all__ = [
    "CHUNK_CHARS",
    "DamagedPreparedCorpus",
    "FORMAT_VERSION",
    "ORDERS",
    "PreparedCorpus",
    "PreparedCorpusError",
    "WorkerDied",
    "build_vocabulary",
    "default_cache_root",
    "default_workers",
    "discard_prepared",
    "load_prepared",
    "prepare",
]

#: Version of the folder layout and of everything that decides the ids (tokenizer rules,
#: block sizes); part of the cache key, so changing it makes every cache miss.
FORMAT_VERSION = 1
#: Vocabulary orders: ``alpha`` is the course's sorted order; ``frequency`` is word2vec's,
#: most frequent first, ties in alphabetical order.
ORDERS = ("alpha", "frequency")
#: Characters of text per worker task: large enough that the cost of sending a task is
#: nothing, small enough that a worker's tokens (~60 bytes each as Python strings) stay a few
#: tens of MB.
CHUNK_CHARS = 1 << 20

IDS_FILE = "ids.npy"
STARTS_FILE = "sentence_starts.npy"
VOCAB_FILE = "vocab.txt"
DESCRIPTION_FILE = "description.json"
_TEMP_PREFIX = ".tmp-"
_IDS_DTYPE = np.dtype("<u4")
_STARTS_DTYPE = np.dtype("<i8")


class PreparedCorpusError(UserError):
    """A prepared-corpus folder that cannot be used, or settings that leave nothing to train on."""


class DamagedPreparedCorpus(PreparedCorpusError):
    """A prepared-corpus folder whose files are damaged; ``folder`` is where it is."""

    def __init__(self, message: str, folder: Path):
        super().__init__(message)
        self.folder = folder


class WorkerDied(PreparedCorpusError):
    """A worker process that ended while preparing (killed, most likely for lack of memory)."""


@dataclass
class PreparedCorpus:
    """A corpus as token ids, as :func:`prepare` and :func:`load_prepared` return it.

    Attributes
    ----------
    vocab : Vocabulary
        Words in id order with their corpus counts. The counts are those of the whole corpus,
        counted before the tokens of dropped words were removed; for every kept word that is
        also its number of occurrences in ``ids``.
    ids : numpy.memmap of uint32, shape (n_tokens,)
        Token ids, read-only, mapped from ``ids.npy`` (pages are read as they are used).
    sentence_starts : numpy.memmap of int64, shape (n_sentences,)
        Offset in ``ids`` of each sentence's first token, strictly increasing, from 0; ``[0]``
        for the ``course`` tokenizer.
    description : dict
        The contents of ``description.json``.
    folder : pathlib.Path
        Where the files are.
    fingerprint : str
        SHA-256 of the inputs' contents and of the settings that shape the ids: equal
        fingerprints mean equal ``ids`` and ``vocab``, wherever the files were.
    """

    vocab: Vocabulary
    ids: np.ndarray
    sentence_starts: np.ndarray
    description: dict
    folder: Path
    fingerprint: str
    reused: bool = False  # found in the cache by prepare(), not made by this call

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True)
class _Settings:
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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def default_cache_root() -> Path:
    """``prepared/`` in the data folder (a checkout's ``data/``, see ``cbow.data.corpus``)."""
    return DATA_DIR / "prepared"


def build_vocabulary(counts: Mapping[str, int], *, min_count: int = 1,
                     max_size: int | None = None, order: str = "alpha") -> Vocabulary:
    """The vocabulary kept from corpus counts.

    Parameters
    ----------
    counts : mapping of str to int
        Occurrences of every distinct token.
    min_count : int, default 1
        Words seen fewer times are dropped.
    max_size : int, optional
        Keep at most this many words: the most frequent; among words with equal counts the
        one first in alphabetical (code point) order is kept.
    order : {"alpha", "frequency"}, default "alpha"
        Id order: sorted words (the course's; with min_count 1 and no max_size this is exactly
        ``Vocabulary.from_tokens``), or descending count with ties alphabetical (word2vec's).

    Returns
    -------
    Vocabulary
        With the words' full counts.
    """
    kept = sorted(word for word, count in counts.items() if count >= min_count)
    if order == "frequency" or (max_size is not None and len(kept) > max_size):
        # Python's sort is stable, also with reverse=True: equal counts stay alphabetical.
        by_count = sorted(kept, key=counts.__getitem__, reverse=True)
        if max_size is not None:
            by_count = by_count[:max_size]
        kept = by_count if order == "frequency" else sorted(by_count)
    return Vocabulary(kept, [counts[word] for word in kept])


def prepare(sources: SourceSpec = "shakespeare", *, tokenizer: str = "course",
            lowercase: bool = True, min_count: int = 1, max_size: int | None = None,
            order: str = "alpha", workers: int | None = None,
            cache_root: str | os.PathLike | None = None, errors: str = "strict",
            progress: bool | None = None) -> PreparedCorpus:
    """Tokenize a corpus into memory-mapped token ids, or reuse the result of an earlier call.

    Parameters
    ----------
    sources : str, os.PathLike or list of them, default "shakespeare"
        ``"shakespeare"``, text files, folders, glob patterns (see :mod:`cbow.data.sources`);
        ``.gz``/``.bz2``/``.xz`` files are decompressed as they are read.
    tokenizer : str, default "course"
        A name of :data:`cbow.registry.TOKENIZERS` (see :mod:`cbow.data.text`).
    lowercase : bool, default True
        Lower-case tokens; only tokenizers that keep case (``whitespace``) accept False.
    min_count : int, default 1
        Drop words seen fewer times; their tokens are removed from the ids (as word2vec
        does) and counted in the description.
    max_size : int, optional
        Keep only the ``max_size`` most frequent words (ties: alphabetical order first).
    order : {"alpha", "frequency"}, default "alpha"
        Id order (see :func:`build_vocabulary`).
    workers : int, optional
        Processes that tokenize and count; default: the number of cores. 1 works in this
        process. The output does not depend on it.
    cache_root : str or os.PathLike, optional
        Folder of prepared corpora; default :func:`default_cache_root`.
    errors : {"strict", "replace"}, default "strict"
        Invalid UTF-8: an error naming file, line and byte, or replaced by U+FFFD (counted).
    progress : bool, optional
        Progress bar of the bytes read: True shows it, False hides it, None (default) shows
        it when stderr is a terminal.

    Returns
    -------
    PreparedCorpus

    Raises
    ------
    cbow.data.sources.SourceError
        An input that is missing, not UTF-8, binary, or holds no text.
    InputError
        A setting out of range.
    PreparedCorpusError
        Nothing left to train on (every word below ``min_count``), or a damaged cache folder.

    Notes
    -----
    With the course's settings (``tokenizer="course"``, ``min_count=1``, no ``max_size``,
    ``order="alpha"``) the vocabulary and ids are exactly those of
    ``Vocabulary.from_tokens(course_tokenize(text))`` (V = 5,778 on Shakespeare).
    """
    settings = _check_settings(tokenizer, lowercase, min_count, max_size, order, errors)
    workers = default_workers() if workers is None else workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InputError(f"workers must be an integer >= 1; got {workers!r}")
    files = resolve_sources(sources)
    folder, key = _cache_folder(files, settings, cache_root)
    found = _cached(folder)
    if found is not None:
        return found
    return _make(folder, lambda temp: _build(files, settings, temp, workers, progress, key))


def _cache_folder(files, settings: _Settings,
                  cache_root: str | os.PathLike | None) -> tuple[Path, str]:
    """The cache folder of ``files`` prepared with ``settings``, and the cache key."""
    key = _cache_key(files, settings)
    root = Path(cache_root).expanduser() if cache_root is not None else default_cache_root()
    return root / f"{settings.tokenizer}-{key[:20]}", key


def _cached(folder: Path) -> PreparedCorpus | None:
    """The prepared corpus in ``folder`` if an earlier prepare completed it, else None."""
    if (folder / DESCRIPTION_FILE).is_file():
        return dataclasses.replace(load_prepared(folder), reused=True)
    return None


def _make(folder: Path, build: Callable[[Path], Vocabulary]) -> PreparedCorpus:
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
    return _open(folder, vocab)


def load_prepared(folder: str | os.PathLike) -> PreparedCorpus:
    """Open a folder written by :func:`prepare` (ids and sentence starts memory-mapped).

    Raises
    ------
    PreparedCorpusError
        The folder is missing, not a prepared corpus, of another format version, or its
        files do not agree with its description.
    """
    return _open(Path(folder), None)


def _open(folder: Path, vocab: Vocabulary | None) -> PreparedCorpus:
    """:func:`load_prepared`, given the vocabulary if it is in memory already.

    A folder found on disk (``vocab`` None) is verified in full: checksums and ranges.
    """
    description = _read_description(folder)
    name = VOCAB_FILE
    try:
        loaded = Vocabulary.load(folder / VOCAB_FILE) if vocab is None else vocab
        name = IDS_FILE
        ids = np.load(folder / IDS_FILE, mmap_mode="r", allow_pickle=False)
        name = STARTS_FILE
        starts = np.load(folder / STARTS_FILE, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise _damaged(folder, f"{name} cannot be read ({error})") from None
    expected = description["tokens"]["kept"], description["words"]["kept"]
    if (ids.dtype != _IDS_DTYPE or ids.shape != (expected[0],) or len(loaded) != expected[1]
            or starts.dtype != _STARTS_DTYPE or starts.ndim != 1):
        raise _damaged(folder, f"its files do not match {DESCRIPTION_FILE} (ids {ids.dtype} "
                               f"{ids.shape}, {len(loaded)} words, starts {starts.dtype})")
    if vocab is None:
        _verify(folder, description, ids, starts, len(loaded))
    return PreparedCorpus(loaded, ids, starts, description, folder, description["fingerprint"])


# Keys of description.json that loading relies on, and their types.
_REQUIRED = {("format",): int, ("fingerprint",): str, ("tokens", "kept"): int,
             ("words", "kept"): int}


def _read_description(folder: Path) -> dict:
    """``description.json`` of ``folder``, checked to hold what loading needs."""
    try:
        description = json.loads((folder / DESCRIPTION_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PreparedCorpusError(
            f"{folder} is not a prepared corpus: it has no {DESCRIPTION_FILE}. Prepare the "
            f"corpus with cbow.data.prepare.prepare (or `cbow prepare`).") from None
    except (OSError, ValueError) as error:
        raise _damaged(folder, f"{DESCRIPTION_FILE} cannot be read ({error})") from None
    if not isinstance(description, dict):
        raise _damaged(folder, f"{DESCRIPTION_FILE} holds a JSON {type(description).__name__}, "
                               f"not an object")
    for path, kind in _REQUIRED.items():
        value = description
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _damaged(folder, f"{DESCRIPTION_FILE} has no {kind.__name__} "
                                   f"'{'.'.join(path)}' (found {value!r})")
    if description["format"] != FORMAT_VERSION:
        raise DamagedPreparedCorpus(
            f"{folder} was prepared in format {description['format']!r}; this cbow reads "
            f"format {FORMAT_VERSION}. Delete the folder, or run `cbow prepare --force` with "
            f"the same config, to prepare the corpus again.", folder)
    checksums = description.get("checksums")
    if checksums is not None and not (isinstance(checksums, dict) and all(
            isinstance(v, str) for v in checksums.values())):
        raise _damaged(folder, f"'checksums' in {DESCRIPTION_FILE} is not a mapping of file "
                               f"names to checksums")
    return description


# Elements per piece when a whole array is checked: 64 MB of ids.
_SCAN_ELEMENTS = 1 << 24


def _scan(path: Path, array: np.memmap, check: Callable[[np.ndarray, int], None]) -> str:
    """CRC-32 of the ``.npy`` file mapped by ``array``, computed piece by piece over the mapping.

    ``check(piece, start)`` sees every piece of the array on the way (the range checks share the
    one pass). The checksum covers the header and the data, as :class:`_ChecksumWriter` did.
    """
    with open(path, "rb") as f:
        crc = zlib.crc32(f.read(array.offset))
    for start in range(0, array.shape[0], _SCAN_ELEMENTS):
        piece = np.asarray(array[start:start + _SCAN_ELEMENTS])
        crc = zlib.crc32(piece, crc)
        check(piece, start)
    return f"{crc:08x}"


def _file_checksum(path: Path) -> str:
    crc = 0
    with open(path, "rb") as f:
        while data := f.read(1 << 24):
            crc = zlib.crc32(data, crc)
    return f"{crc:08x}"


def _verify(folder: Path, description: dict, ids: np.memmap, starts: np.memmap, V: int) -> None:
    """Check the arrays' ranges and (folders that record them) every file's checksum.

    One pass over each file: about as long as reading it (see the README's "Prepared corpora"
    for the cost per GB). Ranges: every id below V; sentence starts strictly increasing from 0
    and below the number of tokens.
    """
    n = ids.shape[0]

    def ids_below_V(piece: np.ndarray, start: int) -> None:
        if piece.size and int(piece.max()) >= V:
            at = start + int(np.argmax(piece >= V))
            raise _damaged(folder, f"{IDS_FILE} holds id {int(ids[at])} at position {at:,}, but "
                                   f"the vocabulary has {V:,} words")

    previous = [-1]

    def starts_increasing(piece: np.ndarray, start: int) -> None:
        if not piece.size:
            return
        if start == 0 and int(piece[0]) != 0:
            raise _damaged(folder, f"{STARTS_FILE} begins at {int(piece[0])}, not 0")
        steps = np.diff(piece, prepend=previous[0])
        if (steps <= 0).any() or int(piece[-1]) >= n:
            at = start + int(np.argmax((steps <= 0) | (piece >= n)))
            raise _damaged(folder, f"sentence start {at:,} in {STARTS_FILE} is {int(starts[at])}"
                                   f": starts must increase and stay below the {n:,} tokens")
        previous[0] = int(piece[-1])

    found = {IDS_FILE: _scan(folder / IDS_FILE, ids, ids_below_V),
             STARTS_FILE: _scan(folder / STARTS_FILE, starts, starts_increasing)}
    sentences = description.get("sentences")
    if isinstance(sentences, int) and sentences != starts.shape[0]:
        raise _damaged(folder, f"{STARTS_FILE} holds {starts.shape[0]:,} sentence starts; "
                               f"{DESCRIPTION_FILE} says {sentences:,}")
    recorded = description.get("checksums")
    if recorded is None:
        return  # written before cbow recorded checksums: the ranges are all that can be checked
    found[VOCAB_FILE] = _file_checksum(folder / VOCAB_FILE)
    for name, checksum in found.items():
        if recorded.get(name) != checksum:
            raise _damaged(folder, f"{name} does not match the checksum recorded when it was "
                                   f"written (crc32 {checksum}, recorded {recorded.get(name)})")


def discard_prepared(folder: str | os.PathLike) -> None:
    """Remove a prepared-corpus folder: renamed aside first, so it vanishes in one step."""
    folder = Path(folder)
    aside = folder.parent / f"{_TEMP_PREFIX}{os.getpid()}-discarded-{folder.name}"
    os.rename(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Settings, keys, cache housekeeping
# --------------------------------------------------------------------------------------------

def _check_settings(tokenizer, lowercase, min_count, max_size, order, errors) -> _Settings:
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
    return _Settings(tokenizer, lowercase, int(min_count),
                     None if max_size is None else int(max_size), order, errors)


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _cache_key(files: list[SourceFile], settings: _Settings) -> str:
    return _digest({"format": FORMAT_VERSION, "settings": settings.identity(),
                    "files": [[str(f.path), f.size, f.mtime_ns] for f in files]})


def _fingerprint(sha256s: list[str], settings: _Settings) -> str:
    return _digest({"format": FORMAT_VERSION, "settings": settings.identity(), "sources": sha256s})


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


def _damaged(folder: Path, what: str) -> DamagedPreparedCorpus:
    return DamagedPreparedCorpus(
        f"prepared corpus {folder} is damaged: {what}. Delete the folder, or run `cbow prepare "
        f"--force` with the same config; the corpus is then prepared again.", folder)


# --------------------------------------------------------------------------------------------
# Pass 1: tokenize and count, chunk by chunk, in worker processes
# --------------------------------------------------------------------------------------------

def _chunk_path(folder: Path, index: int, kind: str) -> Path:
    return folder / f"{index:08d}.{kind}"


def _tokenize_chunk(task: tuple) -> tuple[int, int, str, np.ndarray]:
    """Worker: tokenize one chunk, write its ids against its own vocabulary, return the counts.

    Writes ``<index>.ids.npy`` (uint32 local ids, shape (n,)) and ``<index>.starts.npy``
    (int64 local offsets of sentence starts). Returns ``(index, n, words, counts)``: the
    chunk's distinct words in order of first appearance (local id = position), joined by
    newlines (no token holds one), and their counts, int64 of shape (number of words,).
    """
    index, blocks, folder, tokenizer, lowercase = task
    ids, starts, words, counts = _tokenize_blocks(blocks, tokenizer, lowercase)
    _save_npy(_chunk_path(folder, index, "ids.npy"), ids)
    _save_npy(_chunk_path(folder, index, "starts.npy"), starts)
    # One string, not the list: it pickles in one piece, and (with workers=1) the main process
    # then keeps no token of the chunk alive, which would pin the memory of all of them and
    # scatter later allocations (measured: tokenizing ran twice as slow).
    return index, len(ids), "\n".join(words), counts


def _tokenize_blocks(blocks, tokenizer: str,
                     lowercase: bool) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Tokens of ``blocks`` as ids against their own vocabulary: ``(ids, starts, words, counts)``.

    ``ids`` uint32 local ids (local id = position in ``words``, the distinct words in order of
    first appearance), ``starts`` int64 offsets of sentence starts in ``ids``, ``counts`` int64
    occurrences of each word.
    """
    from cbow.data.text import tokenize_block

    tokens: list[str] = []
    starts: list[int] = []
    for block in blocks:
        for number, sentence in enumerate(tokenize_block(block.text, tokenizer, lowercase)):
            if sentence:
                # The first line of a block that continues a long line is not a new sentence.
                if number or block.new_sentence:
                    starts.append(len(tokens))
                tokens.extend(sentence)
    # dict.fromkeys + bincount instead of a Counter: the per-token work stays in C.
    words = list(dict.fromkeys(tokens))
    local = dict(zip(words, range(len(words))))
    ids = np.fromiter(map(local.__getitem__, tokens), dtype=_IDS_DTYPE, count=len(tokens))
    return (ids, np.asarray(starts, dtype=_STARTS_DTYPE), words,
            np.bincount(ids, minlength=len(words)).astype(np.int64))


class _Counts:
    """Corpus counts, added chunk by chunk: every distinct word gets a provisional id.

    Provisional ids (order of first appearance) exist only during preparation: the final ids
    are given by :func:`build_vocabulary`, and each chunk's local ids reach them through the
    chunk's provisional ids (saved as ``<index>.words.npy``).
    """

    def __init__(self):
        self.index: dict[str, int] = {}
        self._totals = np.zeros(1 << 16, dtype=np.int64)

    def add(self, words: list[str], counts: np.ndarray) -> np.ndarray:
        """Add one chunk's counts; return the provisional ids of its ``words``."""
        index = self.index
        new = [word for word in words if word not in index]
        index.update(zip(new, range(len(index), len(index) + len(new))))
        if len(index) > self._totals.size:
            self._totals = np.concatenate(
                (self._totals, np.zeros(max(len(index), 2 * self._totals.size)
                                        - self._totals.size, dtype=np.int64)))
        provisional = np.fromiter(map(index.__getitem__, words), np.int64, len(words))
        self._totals[provisional] += counts  # the words of a chunk are distinct
        return provisional

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.index, self._totals[:len(self.index)].tolist()))


def _ignore_interrupts() -> None:
    # Ctrl-C reaches every process of the terminal; the main process alone handles it (and
    # stops the workers), so that it is not reported once per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Workers:
    """``map`` over worker processes, results in task order, few tasks in flight.

    ``Pool.imap`` would read the task iterator ahead as fast as it can (the whole corpus into
    memory); here at most ``2 * workers`` tasks wait. With one worker everything runs in this
    process: no start-up cost, same results. Used as a context manager, so that the pool is
    shut down however the loop over the results is left (an error, Ctrl-C).
    """

    #: Seconds between checks that every worker is alive while a result is awaited.
    POLL_SECONDS = 0.5

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = None
        self._processes: dict[int, multiprocessing.process.BaseProcess] = {}

    def __enter__(self) -> "_Workers":
        if self.workers > 1:
            # fork: workers start in milliseconds with Punkt already loaded. The pool is made
            # before any progress-bar thread exists, and workers only run a pure function.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = context.Pool(self.workers, initializer=_ignore_interrupts)
            self._watch()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def map(self, function: Callable, tasks: Iterable) -> Iterator:
        if self._pool is None:
            yield from map(function, tasks)
            return
        pending: deque = deque()
        for task in tasks:
            pending.append(self._pool.apply_async(function, (task,)))
            if len(pending) >= 2 * self.workers:
                yield self._result(pending.popleft())
        while pending:
            yield self._result(pending.popleft())

    def _result(self, pending):
        """The task's result; a worker that died (its task is lost for good) is an error."""
        while True:
            try:
                return pending.get(self.POLL_SECONDS)
            except multiprocessing.TimeoutError:
                self._watch()

    def _watch(self) -> None:
        """Raise :class:`WorkerDied` if a worker process ended.

        The pool replaces a dead worker but never runs its task again, so waiting would be for
        ever. Workers only end when the pool is closed: an exit code here is a death. The
        pool's list of processes is private; the processes are remembered as they appear so
        that one that died and was replaced between two checks is still seen.
        """
        for process in getattr(self._pool, "_pool", ()):
            self._processes.setdefault(process.pid, process)
        for pid, process in self._processes.items():
            code = process.exitcode
            if code is None:
                continue
            if code < 0:
                try:
                    how = f"was killed by {signal.Signals(-code).name}"
                except ValueError:
                    how = f"was killed by signal {-code}"
            else:
                how = f"exited with status {code}"
            likely = " (most likely by the out-of-memory killer)" if code == -signal.SIGKILL \
                else ""
            raise WorkerDied(
                f"prepare worker process {pid} {how}{likely}; nothing was cached. Use fewer "
                f"workers (prepare.workers) or free some memory, and prepare again.")


def _progress_bar(progress: bool | None, **kwargs) -> tqdm:
    return tqdm(disable=None if progress is None else not progress, unit_scale=True,
                leave=False, **kwargs)


def _build(files: list[SourceFile], settings: _Settings, folder: Path, workers: int,
           progress: bool | None, key: str) -> Vocabulary:
    """Write ids, starts, vocabulary and description of ``files`` into ``folder``."""
    from cbow.data.text import BlockSplitter  # NLTK is imported for the Punkt tokenizers only

    started = time.perf_counter()
    chunk_folder = folder / "chunks"
    chunk_folder.mkdir()
    splitter = BlockSplitter(settings.tokenizer)  # loads Punkt before the workers fork
    reports: list[dict] = []

    def chunks(on_read: Callable[[int], object]) -> Iterator[tuple]:
        """Tasks for the workers: blocks of about CHUNK_CHARS characters, in corpus order."""
        blocks, size, index = [], 0, 0
        for source in files:
            stream = TextStream(source, errors=settings.errors, on_read=on_read)
            for piece in stream:
                for block in splitter.feed(piece):
                    blocks.append(block)
                    size += len(block.text)
                    if size >= CHUNK_CHARS:
                        yield index, blocks, chunk_folder, settings.tokenizer, settings.lowercase
                        blocks, size, index = [], 0, index + 1
            blocks.extend(splitter.end_of_file())
            reports.append(_report(source, stream))
        if blocks:
            yield index, blocks, chunk_folder, settings.tokenizer, settings.lowercase

    totals = _Counts()
    chunk_tokens: list[int] = []
    with _Workers(workers) as pool:
        with _progress_bar(progress, total=sum(f.size for f in files), unit="B",
                           unit_divisor=1024, desc="tokenizing") as bar:
            for index, n, words, local_counts in pool.map(_tokenize_chunk, chunks(bar.update)):
                words = words.split("\n") if words else []
                _save_npy(_chunk_path(chunk_folder, index, "words.npy"),
                          totals.add(words, local_counts))
                chunk_tokens.append(n)

    def encode(final_of: np.ndarray, n_kept: int) -> tuple[int, dict]:
        encoded = _encode(folder, chunk_folder, chunk_tokens, final_of, n_kept, settings,
                          progress)
        shutil.rmtree(chunk_folder)
        return encoded

    return _finish(folder, files, settings, key, reports, totals, sum(chunk_tokens), encode,
                   {"forced_cuts": dict(splitter.forced_cuts), "workers": workers}, started)


def _finish(folder: Path, files: list[SourceFile], settings: _Settings, key: str,
            reports: list[dict], totals: "_Counts", counted: int,
            encode: Callable[[np.ndarray, int], tuple[int, dict]], details: dict,
            started: float) -> Vocabulary:
    """From the counts of pass 1: the vocabulary, pass 2 (``encode(final_of, n_kept)``, which
    writes the ids and returns the number of sentences and the files' checksums),
    ``vocab.txt`` and the description (``details`` say how the work was done)."""
    counts = totals.as_dict()
    _check_has_text(files, reports, counts)
    vocab = build_vocabulary(counts, min_count=settings.min_count, max_size=settings.max_size,
                             order=settings.order)
    if not len(vocab):
        raise PreparedCorpusError(
            f"min_count={settings.min_count} drops every word: the most frequent word of the "
            f"corpus occurs {max(counts.values()):,} times. Lower min_count.")
    # provisional id -> final id, -1 for a dropped word
    final_of = np.full(len(totals.index), -1, dtype=np.int64)
    final_of[np.fromiter(map(totals.index.__getitem__, vocab.words), np.int64, len(vocab))] = \
        np.arange(len(vocab))
    n_words = len(counts)
    del counts, totals  # only the vocabulary is needed from here on
    n_sentences, checksums = encode(final_of, int(vocab.counts.sum()))
    vocab.save(folder / VOCAB_FILE)
    checksums[VOCAB_FILE] = _file_checksum(folder / VOCAB_FILE)

    kept = int(vocab.counts.sum())
    description = {
        "format": FORMAT_VERSION,
        "fingerprint": _fingerprint([r["sha256"] for r in reports], settings),
        "cache_key": key,
        "settings": settings.identity(),
        "sources": reports,
        "empty_files": [r["path"] for r in reports if r["empty"]],
        "replaced_sequences": sum(r["replaced"] for r in reports),
        "tokens": {"counted": counted, "kept": kept, "dropped": counted - kept},
        "words": {"counted": n_words, "kept": len(vocab), "dropped": n_words - len(vocab)},
        "sentences": n_sentences,
        "sentence_rule": TOKENIZERS.get(settings.tokenizer).sentence_rule,
        "counts_rule": "vocab.txt counts are whole-corpus counts, counted before the tokens of "
                       "dropped words were removed from ids.npy",
        **details,
        "seconds": round(time.perf_counter() - started, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": {"ids": IDS_FILE, "sentence_starts": STARTS_FILE, "vocab": VOCAB_FILE},
        "checksums": checksums,
        "checksums_rule": "crc32 of each whole file, verified every time the folder is loaded",
    }
    data = (json.dumps(description, indent=2) + "\n").encode("utf-8")
    with _writing(folder / DESCRIPTION_FILE) as out:
        out.write(data)
    if description["empty_files"]:
        warnings.warn(f"{len(description['empty_files'])} of the {len(files)} corpus files hold "
                      f"no text and were skipped: {', '.join(description['empty_files'][:5])}"
                      f"{' ...' if len(description['empty_files']) > 5 else ''}",
                      stacklevel=6)  # prepare()'s caller: _make and _build lie between
    return vocab


def _report(source: SourceFile, stream: TextStream) -> dict:
    return {"path": str(source.path), "size": source.size, "mtime_ns": source.mtime_ns,
            "sha256": stream.sha256, "compression": source.compression,
            "text_bytes": stream.text_bytes, "lines": stream.lines,
            "replaced": stream.replaced, "empty": not stream.has_text}


def _check_has_text(files: list[SourceFile], reports: list[dict], counts: dict) -> None:
    if counts:
        return
    inputs = ", ".join(sorted({f.spec for f in files}))
    if all(r["empty"] for r in reports):
        raise NoTextError(f"the corpus ({inputs}) holds no text: all {len(files)} of its files "
                          f"are empty or hold only whitespace. Check the paths and that the "
                          f"files were fully written.")
    raise NoTextError(f"the corpus ({inputs}) has no tokens: its text holds no word that the "
                      f"tokenizer keeps (the 'course' and 'nltk' tokenizers keep only "
                      f"alphabetic words and '.'). Check the files, or use "
                      f"tokenizer='whitespace'.")


# --------------------------------------------------------------------------------------------
# Pass 2: renumber the chunks' ids into the final ids.npy
# --------------------------------------------------------------------------------------------

def _write_npy_header(out, dtype: np.dtype, length: int) -> None:
    np.lib.format.write_array_header_1_0(
        out, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": (length,)})


class _ChecksumWriter:
    """A file open for writing that keeps the CRC-32 of what goes through it."""

    def __init__(self, out):
        self._out, self.crc = out, 0

    def write(self, data) -> int:
        self.crc = zlib.crc32(data, self.crc)
        return self._out.write(data)

    @property
    def checksum(self) -> str:
        return f"{self.crc:08x}"


@contextmanager
def _writing(path: Path):
    """``path`` open for writing, fsynced on success; a failed write (a full disk) names it.

    Python's writes raise ``OSError`` with the cause (``ENOSPC``: the CLI says the disk is
    full) but without the file; numpy's ``save``/``tofile`` do not even give the cause, which
    is why every file here is written through Python.
    """
    with open(path, "wb") as out:
        yield NamedWriter(out, path)
        try:
            out.flush()
            os.fsync(out.fileno())
        except OSError as error:
            raise name_file(error, path) from error


def _save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` of a 1-d array, written through :func:`_writing`."""
    array = np.ascontiguousarray(array)
    with _writing(path) as out:
        _write_npy_header(out, array.dtype, array.shape[0])
        out.write(memoryview(array).cast("B"))


def _encode(folder: Path, chunk_folder: Path, chunk_tokens: list[int], final_of: np.ndarray,
            n_kept: int, settings: _Settings, progress: bool | None) -> tuple[int, dict]:
    """Write ``ids.npy`` and ``sentence_starts.npy``; return the number of sentences and the
    files' checksums.

    Each chunk's local ids become final ids through a table, local id -> provisional id ->
    final id (``final_of``, -1 for a dropped word): see :func:`_renumber`.
    """
    sentences = not TOKENIZERS.get(settings.tokenizer).one_stream

    def parts() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        with _progress_bar(progress, total=len(chunk_tokens), desc="writing ids") as bar:
            for index in range(len(chunk_tokens)):
                yield _renumber(
                    final_of[np.load(_chunk_path(chunk_folder, index, "words.npy"))],
                    np.load(_chunk_path(chunk_folder, index, "ids.npy")),
                    np.load(_chunk_path(chunk_folder, index, "starts.npy")), sentences)
                for kind in ("ids.npy", "starts.npy", "words.npy"):
                    _chunk_path(chunk_folder, index, kind).unlink()
                bar.update()

    return _write_ids(folder, parts(), n_kept, sentences)


def _renumber(table: np.ndarray, ids: np.ndarray, local_starts: np.ndarray,
              sentences: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """One chunk's final ids and sentence starts: ``(kept ids, starts among them)``.

    ``table`` maps the chunk's local ids to final ids, -1 for a dropped word; dropped tokens
    are removed, and sentence starts are moved left by the number of tokens removed before
    them (a sentence whose tokens were all dropped starts where the next one does, so starts
    are made unique). Starts are None when the tokenizer has no sentences.
    """
    final = table[ids]
    keep = final >= 0
    kept = final[keep].astype(_IDS_DTYPE)
    if not sentences:
        return kept, None
    # kept_before[p]: tokens kept before local position p.
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    return kept, np.unique(kept_before[local_starts])


def _write_ids(folder: Path, parts: Iterable[tuple[np.ndarray, np.ndarray | None]],
               n_kept: int, sentences: bool) -> tuple[int, dict]:
    """Write the chunks' ``(kept ids, starts)`` (:func:`_renumber`), in corpus order, as
    ``ids.npy`` and ``sentence_starts.npy``; return the number of sentences and the files'
    checksums.

    The total length ``n_kept`` is known in advance (the kept words' counts add up to it), so
    the ids are written straight into place.
    """
    raw_starts = folder / "sentence_starts.raw"
    written, last_start, n_starts = 0, -1, 0
    with _writing(folder / IDS_FILE) as ids_file, _writing(raw_starts) as starts_out:
        ids_out = _ChecksumWriter(ids_file)
        _write_npy_header(ids_out, _IDS_DTYPE, n_kept)
        for kept, starts in parts:
            ids_out.write(memoryview(kept).cast("B"))
            if sentences:
                starts = starts + written
                # A chunk whose first sentences were all dropped starts where the last ended.
                starts = starts[starts > last_start]
                starts_out.write(memoryview(starts.astype(_STARTS_DTYPE)).cast("B"))
                if starts.size:
                    last_start = int(starts[-1])
                n_starts += starts.size
            written += kept.size
        assert written == n_kept, (written, n_kept)
    if not sentences:
        n_starts, last_start = 1, 0
        raw_starts.write_bytes(np.zeros(1, _STARTS_DTYPE).tobytes())
    elif last_start == n_kept:
        n_starts -= 1  # the last sentences had only dropped tokens
    with open(raw_starts, "rb") as source, _writing(folder / STARTS_FILE) as starts_file:
        out = _ChecksumWriter(starts_file)
        _write_npy_header(out, _STARTS_DTYPE, n_starts)
        remaining = n_starts * _STARTS_DTYPE.itemsize
        while remaining:
            data = source.read(min(remaining, 1 << 20))
            out.write(data)
            remaining -= len(data)
    raw_starts.unlink()
    return n_starts, {IDS_FILE: ids_out.checksum, STARTS_FILE: out.checksum}
