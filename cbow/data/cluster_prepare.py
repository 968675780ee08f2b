"""Preparing a corpus on a Dask cluster, with the ids, vocabulary and sentence starts of
:func:`cbow.data.prepare.prepare`.

The inputs are cut into pieces that the workers tokenize; this process (the driver) only
plans, merges counts and assembles the result:

1. **Plan.** Small files are grouped into pieces of about :data:`PIECE_BYTES`. A large file
   is cut into byte ranges of about that size, each ending just after a ``\\n``, but only for
   the ``whitespace`` tokenizer, whose sentences are lines: a range then starts a line, and
   its tokens and sentences are those the in-process path gives for the same lines. The
   Punkt tokenizers (``course``, ``nltk``) decide a sentence break from the text around it,
   and the in-process path cuts its blocks where its own reading of the file puts them, so a
   range boundary is not proven to give the same tokens: their files are never cut (a piece
   holds whole files). Compressed files are never cut either (their bytes cannot be entered
   in the middle).
2. **Pass 1, on the workers.** Each piece is read (a local path, or an fsspec URL such as
   ``s3://`` that every worker can open), tokenized exactly as :mod:`cbow.data.prepare` does it
   (the same :class:`cbow.data.text.BlockSplitter` and block tokenizer), and written to the shared
   storage as token ids against the piece's own small vocabulary; the task returns that
   vocabulary with its counts. The driver adds up the counts and builds the vocabulary with
   :func:`cbow.data.vocab.build_vocabulary`. The SHA-256 of a file cut into ranges is computed
   by one more task that reads it whole (hashes cannot be combined from parts), so the
   fingerprint is the in-process one.
3. **Pass 2, on the workers.** Each piece's ids are mapped to the final ids (a table sent
   with the task), dropped words removed, and written back as a shard of uint32 ids with its
   sentence starts.
4. **Assembly, on the driver.** The shards are appended in corpus order to the prepared
   corpus's ``ids.npy`` and ``sentence_starts.npy`` in the cache (the folder
   :func:`cbow.data.prepared_corpus.load_prepared` opens and training maps), exactly as
   in-process.

Every file a task writes has a name of its own (a random suffix) that the task returns:
only the names of tasks that completed are ever read, so a task whose worker died (Dask
runs it again elsewhere) leaves at most an unused file, removed with the storage folder at
the end. Errors in the input (not UTF-8, a NUL byte, a missing Punkt model on a worker) come
back as one message naming the file and line; an error in a range that does not start the
file is found again by reading the file from its start, so it names the line as the
in-process path does.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import numpy as np

from cbow.data.cache import build_folder, cache_folder, cached, check_settings
from cbow.data.counting import Counts, renumber, tokenize_blocks
from cbow.data.prepare import CHUNK_CHARS, file_report, finish, progress_bar
from cbow.data.prepared_corpus import IDS_DTYPE, PreparedCorpus, write_ids
from cbow.data.sources import (COMPRESSED_SUFFIXES, NoTextError, SourceError,
                               SourceNotFoundError, SourceSpec, TextStream, resolve_sources)
from cbow.data.vocab import Vocabulary
from cbow.parallel import cluster
from cbow.registry import TOKENIZERS

__all__ = ["PIECE_BYTES", "RemoteFile", "prepare_on_cluster", "resolve_inputs"]

#: Bytes of input per piece (one task): large enough that the cost of a task is nothing next
#: to its work, small enough that a large file keeps every worker busy. A piece's ids are held
#: by its worker: about 4 bytes per token.
PIECE_BYTES = 32 << 20
_SEARCH_BYTES = 1 << 16  # read at a time when looking for the end of a line


# --------------------------------------------------------------------------------------------
# Inputs: local files as cbow.data.sources resolves them, and fsspec URLs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RemoteFile:
    """A corpus file named by an fsspec URL (``s3://bucket/a.txt``, ``memory://x``).

    Attributes as :class:`cbow.data.sources.SourceFile`: ``path`` is the URL, ``mtime_ns`` the
    store's modification time (0 if it gives none), ``spec`` the input that named it.
    """

    path: str
    size: int
    mtime_ns: int
    spec: str

    @property
    def compression(self) -> str | None:
        suffix = PurePosixPath(self.path).suffix.lower()
        return suffix[1:] if suffix in COMPRESSED_SUFFIXES else None


def _modified_ns(info: dict) -> int:
    """The modification time in an fsspec ``info`` (stores name it differently), in ns."""
    for name in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(name)
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(value, datetime.datetime):
            return int(value.timestamp() * 1e9)
        if isinstance(value, (int, float)):
            return int(value * 1e9)
    return 0


def _resolve_url(url: str) -> list[RemoteFile]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as error:
        raise SourceError(f"corpus URL {url!r} cannot be opened ({error}); for s3:// install "
                          f"s3fs, for gs:// gcsfs (the fsspec package of the store), on this "
                          f"machine and on the workers") from None
    if any(c in path for c in "*?["):
        found = []
        for match in sorted(fs.glob(path)):
            found += sorted(fs.find(match)) if fs.isdir(match) else [match]
    elif fs.isdir(path):
        base = path.rstrip("/") + "/"
        found = sorted((p for p in fs.find(path)
                        if not any(part.startswith(".") for part in p[len(base):].split("/"))),
                       key=lambda p: p[len(base):].split("/"))
    elif fs.isfile(path):
        found = [path]
    else:
        raise SourceNotFoundError(f"corpus URL {url!r} names no file or folder; check it "
                                  f"(and that this machine has access to it)")
    if not found:
        raise NoTextError(f"corpus URL {url!r} names no file; check it")
    files = []
    for name in found:
        info = fs.info(name)
        files.append(RemoteFile(fs.unstrip_protocol(name), int(info["size"]),
                                _modified_ns(info), url))
    return files


def resolve_inputs(sources: SourceSpec) -> list:
    """:func:`cbow.data.sources.resolve_sources`, where an input may also be an fsspec URL."""
    items = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    if not items:
        return resolve_sources(items)  # the error for an empty list
    files: list = []
    for item in items:
        if isinstance(item, str) and "://" in item:
            files += _resolve_url(item)
        else:
            files += resolve_sources(item)
    return files


# --------------------------------------------------------------------------------------------
# Reading part of a file
# --------------------------------------------------------------------------------------------

def _open(source):
    if isinstance(source, RemoteFile):
        import fsspec

        try:
            return fsspec.open(source.path, "rb").open()
        except FileNotFoundError:
            raise SourceNotFoundError(f"corpus file {source.path} disappeared before it was "
                                      f"read (named by {source.spec!r})") from None
    return TextStream(source).open_bytes()


class _Limited:
    """The bytes of a binary file from ``start`` to ``end``, as a file object."""

    def __init__(self, raw, start: int, end: int):
        raw.seek(start)
        self._raw, self._left = raw, end - start

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._raw.close()

    def fileno(self) -> int:
        return self._raw.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@dataclass(frozen=True)
class _Range:
    """Bytes ``[start, end)`` of the corpus's file number ``file``; ``end`` None: all of it."""

    file: int
    source: object
    start: int = 0
    end: int | None = None


class _RangeStream(TextStream):
    """:class:`cbow.data.sources.TextStream` over a :class:`_Range` (from a line start)."""

    def __init__(self, part: _Range, errors: str):
        super().__init__(part.source, errors=errors)
        self.part = part
        self.starts_file = part.start == 0

    def open_bytes(self):
        raw = _open(self.part.source)
        if self.part.end is None:
            return raw
        return _Limited(raw, self.part.start, self.part.end)

    def _now(self, raw) -> tuple[int, int]:
        if isinstance(self.source, RemoteFile):
            import fsspec

            fs, path = fsspec.core.url_to_fs(self.source.path)
            info = fs.info(path)
            return int(info["size"]), _modified_ns(info)
        return super()._now(raw)

    def _check_unchanged(self, bytes_read: int, size: int, mtime_ns: int) -> None:
        # The whole range read counts as the whole file read; the file's size and time are
        # checked against those seen when the pieces were planned.
        part = self.part
        if part.end is not None and bytes_read == part.end - part.start:
            bytes_read = self.source.size
        super()._check_unchanged(bytes_read, size, mtime_ns)


def _line_cuts(source, piece_bytes: int) -> list[int]:
    """Offsets just after a ``\\n``, about ``piece_bytes`` apart, from 0 to the file's size."""
    cuts = [0]
    with _open(source) as raw:
        position = piece_bytes
        while position < source.size:
            raw.seek(position - 1)  # a "\n" just before `position` ends a line there
            offset, cut = position - 1, None
            while cut is None:
                data = raw.read(_SEARCH_BYTES)
                if not data:
                    return cuts + [source.size]
                newline = data.find(b"\n")
                if newline >= 0:
                    cut = offset + newline + 1
                offset += len(data)
            if cut >= source.size:
                break
            cuts.append(cut)
            position = cut + piece_bytes
    return cuts + [source.size]


def _plan(files: list, tokenizer: str, piece_bytes: int) -> list[list[_Range]]:
    """The pieces, in corpus order: lists of whole files or one byte range of a file."""
    lines = TOKENIZERS.get(tokenizer).blocks == "lines"  # a line is a sentence: cut after one
    pieces: list[list[_Range]] = []
    current: list[_Range] = []
    size = 0
    for number, source in enumerate(files):
        if lines and source.compression is None and source.size > piece_bytes:
            cuts = _line_cuts(source, piece_bytes)
            if len(cuts) > 2:
                if current:
                    pieces.append(current)
                    current, size = [], 0
                pieces += [[_Range(number, source, a, b)] for a, b in zip(cuts, cuts[1:])]
                continue
        current.append(_Range(number, source))
        size += source.size
        if size >= piece_bytes:
            pieces.append(current)
            current, size = [], 0
    if current:
        pieces.append(current)
    return pieces


# --------------------------------------------------------------------------------------------
# Shared storage
# --------------------------------------------------------------------------------------------

class _Store:
    """A folder (a path or an fsspec URL) where tasks write arrays under names of their own."""

    def __init__(self, url: str):
        self.url = url

    def _fs(self):
        import fsspec

        return fsspec.core.url_to_fs(self.url)

    def make(self) -> None:
        fs, root = self._fs()
        fs.makedirs(root, exist_ok=True)

    def remove(self) -> None:
        fs, root = self._fs()
        if fs.exists(root):
            fs.rm(root, recursive=True)

    def save(self, prefix: str, array: np.ndarray) -> str:
        """Write ``array``; return its name (unique, so a rerun task never meets it)."""
        fs, root = self._fs()
        name = f"{prefix}-{uuid.uuid4().hex}.npy"
        with fs.open(f"{root.rstrip('/')}/{name}", "wb") as out:
            np.save(out, array, allow_pickle=False)
        return name

    def load(self, name: str) -> np.ndarray:
        fs, root = self._fs()
        with fs.open(f"{root.rstrip('/')}/{name}", "rb") as source:
            return np.load(source, allow_pickle=False)


# --------------------------------------------------------------------------------------------
# The tasks (run on the workers; pure functions of their arguments)
# --------------------------------------------------------------------------------------------

def _read_blocks(part: _Range, settings, splitter, on_block) -> dict:
    """Feed one range's text through ``splitter``; return what the report needs of it."""
    stream = _RangeStream(part, settings.errors)
    try:
        for text in stream:
            for block in splitter.feed(text):
                on_block(block)
        for block in splitter.end_of_file():
            on_block(block)
    except SourceError:
        if part.start:
            # Read from the file's start: the error then names its line as in-process.
            for _ in _RangeStream(_Range(part.file, part.source, 0, part.end), settings.errors):
                pass
        raise
    return {"sha256": stream.sha256 if part.end is None else None,
            "text_bytes": stream.text_bytes, "lines": stream.lines,
            "replaced": stream.replaced, "has_text": stream.has_text}


def _count_piece(piece: list[_Range], settings, store: _Store) -> dict:
    """Pass 1: tokenize a piece; write its ids against its own vocabulary to ``store``."""
    from cbow.data.text import BlockSplitter

    splitter = BlockSplitter(settings.tokenizer)
    words = Counts()
    ids: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    blocks: list = []
    state = {"chars": 0, "tokens": 0}

    def tokenize() -> None:  # a chunk of blocks at a time, as prepare does
        chunk_ids, chunk_starts, chunk_words, counts = tokenize_blocks(
            blocks, settings.tokenizer, settings.lowercase)
        ids.append(words.add(chunk_words, counts)[chunk_ids].astype(IDS_DTYPE))
        starts.append(chunk_starts + state["tokens"])
        state["tokens"] += len(chunk_ids)
        blocks.clear()
        state["chars"] = 0

    def on_block(block) -> None:
        blocks.append(block)
        state["chars"] += len(block.text)
        if state["chars"] >= CHUNK_CHARS:
            tokenize()

    reads = [_read_blocks(part, settings, splitter, on_block) for part in piece]
    tokenize()
    counts = words.as_dict()
    return {"ids": store.save("count-ids", np.concatenate(ids)),
            "starts": store.save("count-starts", np.concatenate(starts)),
            "tokens": state["tokens"], "words": "\n".join(counts),
            "counts": np.fromiter(counts.values(), np.int64, len(counts)),
            "reads": reads, "forced_cuts": splitter.forced_cuts}


def _encode_piece(counted: dict, table: np.ndarray, sentences: bool, store: _Store) -> dict:
    """Pass 2: a piece's ids as final ids (``table``: its local id -> final id, -1 dropped)."""
    kept, starts = renumber(table, store.load(counted["ids"]), store.load(counted["starts"]),
                            sentences)
    return {"ids": store.save("shard-ids", kept),
            "starts": None if starts is None else store.save("shard-starts", starts)}


def _hash_file(source) -> str:
    """SHA-256 of a file's bytes (for a file whose ranges were read by several tasks)."""
    digest = hashlib.sha256()
    with _open(source) as raw:
        while data := raw.read(1 << 20):
            digest.update(data)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------

def prepare_on_cluster(sources: SourceSpec = "shakespeare", *, scheduler: str,
                       tokenizer: str = "course", lowercase: bool = True, min_count: int = 1,
                       max_size: int | None = None, order: str = "alpha",
                       cache_root: str | os.PathLike | None = None, errors: str = "strict",
                       shared_dir: str | None = None, timeout: float = 5.0,
                       piece_bytes: int = PIECE_BYTES,
                       progress: bool | None = None, client=None) -> PreparedCorpus:
    """:func:`cbow.data.prepare.prepare` with the work done by the workers of a Dask cluster.

    The result is the prepared corpus that ``prepare`` makes of the same inputs and settings,
    in the same cache folder (a later in-process ``prepare`` finds it, and the other way
    round); its ids, vocabulary, sentence starts and fingerprint are identical.

    Parameters
    ----------
    sources
        As for ``prepare``; an input may also be an fsspec URL (``s3://bucket/corpus/``,
        ``file:///data/a.txt``; the store's fsspec package installed here and on the workers).
    scheduler : str
        ``"local:N"`` or a scheduler address (see :mod:`cbow.parallel.cluster`).
    shared_dir : str, optional
        A folder or fsspec URL that the workers write the pieces to and this process reads;
        default: a folder inside the cache's temporary folder, which the workers of
        ``local:N`` (or workers sharing the cache's file system) reach.
    timeout : float
        Seconds to reach the scheduler (``cluster.connect_timeout``).
    piece_bytes : int
        Bytes of input per task (:data:`PIECE_BYTES`); the result does not depend on it.
    client : distributed.Client, optional
        The client of a session already open for ``scheduler`` (the trainer's): used instead
        of opening one.
    tokenizer, lowercase, min_count, max_size, order, cache_root, errors, progress
        As for ``prepare`` (``progress`` is one bar over the pieces, counted once per pass).
    """
    settings = check_settings(tokenizer, lowercase, min_count, max_size, order, errors)
    files = resolve_inputs(sources)
    folder, key = cache_folder(files, settings, cache_root)
    found = cached(folder)
    if found is not None:
        return found
    if client is not None:
        return build_folder(folder, lambda temp: _build(
            client, scheduler, files, settings, temp, key, shared_dir, piece_bytes, progress))
    with cluster.session(scheduler, timeout=timeout) as opened:
        return build_folder(folder, lambda temp: _build(
            opened, scheduler, files, settings, temp, key, shared_dir, piece_bytes, progress))


def _build(client, scheduler: str, files: list, settings, folder: Path, key: str,
           shared_dir: str | None, piece_bytes: int, progress: bool | None) -> Vocabulary:
    started = time.perf_counter()
    pieces = _plan(files, settings.tokenizer, piece_bytes)
    token = uuid.uuid4().hex[:12]  # task keys of this prepare
    store = _Store(str(folder / "shards") if shared_dir is None else
                   f"{shared_dir.rstrip('/')}/cbow-{key[:20]}-{token}")
    store.make()
    sentences = not TOKENIZERS.get(settings.tokenizer).one_stream
    try:
        with progress_bar(progress, total=2 * len(pieces), desc="pieces") as bar:
            ranges = {}
            for piece in pieces:
                for part in piece:
                    ranges[part.file] = ranges.get(part.file, 0) + 1
            hashes = {number: client.submit(cluster.task, _hash_file, files[number],
                                            key=f"cbow-hash-{token}-{number}")
                      for number, n_ranges in ranges.items() if n_ranges > 1}
            counted = cluster.results([
                client.submit(cluster.task, _count_piece, piece, settings, store,
                              key=f"cbow-count-{token}-{n}")
                for n, piece in enumerate(pieces)], bar.update)
            digests = dict(zip(hashes, cluster.results(list(hashes.values()))))

            totals = Counts()
            tables = []
            for result in counted:
                tables.append(totals.add(result["words"].split("\n") if result["words"] else [],
                                         result["counts"]))
                del result["words"], result["counts"]
            reports = _reports(files, pieces, counted, digests)

            def encode(final_of: np.ndarray, n_kept: int) -> int:
                shards = cluster.results([
                    client.submit(cluster.task, _encode_piece, result, final_of[table],
                                  sentences, store, key=f"cbow-encode-{token}-{n}")
                    for n, (result, table) in enumerate(zip(counted, tables))], bar.update)
                parts = ((store.load(shard["ids"]),
                          None if shard["starts"] is None else store.load(shard["starts"]))
                         for shard in shards)
                return write_ids(folder, parts, n_kept, sentences)

            forced = {}
            for result in counted:
                for kind, n in result["forced_cuts"].items():
                    forced[kind] = forced.get(kind, 0) + n
            details = {"forced_cuts": forced, "scheduler": scheduler, "pieces": len(pieces),
                       "workers": len(client.scheduler_info(n_workers=-1)["workers"])}
            return finish(folder, files, settings, key, reports, totals,
                          sum(result["tokens"] for result in counted), encode, details, started)
    finally:
        store.remove()


def _reports(files: list, pieces: list, counted: list, digests: dict) -> list[dict]:
    """Each file's entry of the description, from the reads of its ranges."""
    reads: dict[int, list[dict]] = {}
    for piece, result in zip(pieces, counted):
        for part, read in zip(piece, result["reads"]):
            reads.setdefault(part.file, []).append(read)
    reports = []
    for number, source in enumerate(files):
        parts = reads[number]
        merged = SimpleNamespace(
            sha256=digests.get(number, parts[0]["sha256"]),
            text_bytes=sum(p["text_bytes"] for p in parts), lines=sum(p["lines"] for p in parts),
            replaced=sum(p["replaced"] for p in parts),
            has_text=any(p["has_text"] for p in parts))
        reports.append(file_report(source, merged))
    return reports
