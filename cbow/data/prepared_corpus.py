"""A prepared corpus on disk: its folder's files, how they are written, how they are read back.

:func:`cbow.data.prepare.prepare` writes a corpus's token ids once, into a folder that
training memory-maps::

    ids.npy              uint32 (n,)  token ids, in corpus order, tokens of dropped words removed
    sentence_starts.npy  int64 (S,)   offset in ids.npy where each sentence starts (see below)
    vocab.txt            word<TAB>count per line, in id order
    description.json     settings, inputs (path, size, mtime_ns, sha256), counts, timings,
                         and a CRC-32 of each file above, verified with the arrays' ranges
                         every time the folder is loaded (see :func:`load_prepared`)

Sentence starts: ``whitespace`` has one sentence per line, ``nltk`` one per Punkt sentence;
empty sentences (all tokens filtered or dropped) have no entry, so starts are strictly
increasing and begin with 0. The ``course`` tokenizer is one continuous stream, as the course
trains on it (its sentences are separated by the ``.`` tokens themselves), so its starts are
just ``[0]``.

Every file is written through Python (:func:`save_npy`, :func:`write_ids`,
:func:`write_description`) and fsynced, so that a full disk names the file it stopped; the
CRC-32 of each file is computed as it is written. A folder read from disk is verified in full
(checksums, the ids' range, the starts' order) before it is used, and a damaged one is one
error that says how to prepare it again (:class:`DamagedPreparedCorpus`).
"""
from __future__ import annotations

import json
import os
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from cbow.data.vocab import Vocabulary
from cbow.errors import UserError
from cbow.io import NamedWriter, name_file

__all__ = [
    "DESCRIPTION_FILE",
    "DamagedPreparedCorpus",
    "FORMAT_VERSION",
    "IDS_DTYPE",
    "IDS_FILE",
    "PreparedCorpus",
    "PreparedCorpusError",
    "STARTS_DTYPE",
    "STARTS_FILE",
    "VOCAB_FILE",
    "load_prepared",
    "open_prepared",
    "save_npy",
    "save_vocabulary",
    "write_description",
    "write_ids",
]

#: Version of the folder layout and of everything that decides the ids (tokenizer rules,
#: block sizes); part of the cache key, so changing it makes every cache miss.
FORMAT_VERSION = 1

IDS_FILE = "ids.npy"
STARTS_FILE = "sentence_starts.npy"
VOCAB_FILE = "vocab.txt"
DESCRIPTION_FILE = "description.json"
#: Types of the ids and of the sentence starts, on disk and in memory.
IDS_DTYPE = np.dtype("<u4")
STARTS_DTYPE = np.dtype("<i8")


class PreparedCorpusError(UserError):
    """A prepared-corpus folder that cannot be used, or settings that leave nothing to train on."""


class DamagedPreparedCorpus(PreparedCorpusError):
    """A prepared-corpus folder whose files are damaged; ``folder`` is where it is."""

    def __init__(self, message: str, folder: Path):
        super().__init__(message)
        self.folder = folder


@dataclass
class PreparedCorpus:
    """A corpus as token ids, as :func:`cbow.data.prepare.prepare` and :func:`load_prepared`
    return it.

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


# --------------------------------------------------------------------------------------------
# Reading a folder back, verified
# --------------------------------------------------------------------------------------------

def load_prepared(folder: str | os.PathLike) -> PreparedCorpus:
    """Open a folder written by :func:`cbow.data.prepare.prepare` (ids and sentence starts
    memory-mapped).

    Raises
    ------
    PreparedCorpusError
        The folder is missing, not a prepared corpus, of another format version, or its
        files do not agree with its description.
    """
    return open_prepared(Path(folder), None)


def open_prepared(folder: Path, vocab: Vocabulary | None) -> PreparedCorpus:
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
    if (ids.dtype != IDS_DTYPE or ids.shape != (expected[0],) or len(loaded) != expected[1]
            or starts.dtype != STARTS_DTYPE or starts.ndim != 1):
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

    One pass over each file, so about as long as reading it. Ranges: every id below V;
    sentence starts strictly increasing from 0 and below the number of tokens.
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


def _damaged(folder: Path, what: str) -> DamagedPreparedCorpus:
    return DamagedPreparedCorpus(
        f"prepared corpus {folder} is damaged: {what}. Delete the folder, or run `cbow prepare "
        f"--force` with the same config; the corpus is then prepared again.", folder)


# --------------------------------------------------------------------------------------------
# Writing the files
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


def save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` of a 1-d array, written through :func:`_writing`."""
    array = np.ascontiguousarray(array)
    with _writing(path) as out:
        _write_npy_header(out, array.dtype, array.shape[0])
        out.write(memoryview(array).cast("B"))


def write_ids(folder: Path, parts: Iterable[tuple[np.ndarray, np.ndarray | None]],
              n_kept: int, sentences: bool) -> tuple[int, dict]:
    """Write the chunks' ``(kept ids, starts)`` (:func:`cbow.data.counting.renumber`), in corpus
    order, as ``ids.npy`` and ``sentence_starts.npy``; return the number of sentences and the
    files' checksums.

    The total length ``n_kept`` is known in advance (the kept words' counts add up to it), so
    the ids are written straight into place.
    """
    raw_starts = folder / "sentence_starts.raw"
    written, last_start, n_starts = 0, -1, 0
    with _writing(folder / IDS_FILE) as ids_file, _writing(raw_starts) as starts_out:
        ids_out = _ChecksumWriter(ids_file)
        _write_npy_header(ids_out, IDS_DTYPE, n_kept)
        for kept, starts in parts:
            ids_out.write(memoryview(kept).cast("B"))
            if sentences:
                starts = starts + written
                # A chunk whose first sentences were all dropped starts where the last ended.
                starts = starts[starts > last_start]
                starts_out.write(memoryview(starts.astype(STARTS_DTYPE)).cast("B"))
                if starts.size:
                    last_start = int(starts[-1])
                n_starts += starts.size
            written += kept.size
        assert written == n_kept, (written, n_kept)
    if not sentences:
        n_starts, last_start = 1, 0
        raw_starts.write_bytes(np.zeros(1, STARTS_DTYPE).tobytes())
    elif last_start == n_kept:
        n_starts -= 1  # the last sentences had only dropped tokens
    with open(raw_starts, "rb") as source, _writing(folder / STARTS_FILE) as starts_file:
        out = _ChecksumWriter(starts_file)
        _write_npy_header(out, STARTS_DTYPE, n_starts)
        remaining = n_starts * STARTS_DTYPE.itemsize
        while remaining:
            data = source.read(min(remaining, 1 << 20))
            out.write(data)
            remaining -= len(data)
    raw_starts.unlink()
    return n_starts, {IDS_FILE: ids_out.checksum, STARTS_FILE: out.checksum}


def save_vocabulary(folder: Path, vocab: Vocabulary) -> str:
    """Write ``vocab.txt``; return its CRC-32 (for the description's checksums)."""
    vocab.save(folder / VOCAB_FILE)
    return _file_checksum(folder / VOCAB_FILE)


def write_description(folder: Path, description: dict) -> None:
    """Write ``description.json``, the folder's last file (without it a folder is not a
    prepared corpus)."""
    data = (json.dumps(description, indent=2) + "\n").encode("utf-8")
    with _writing(folder / DESCRIPTION_FILE) as out:
        out.write(data)
