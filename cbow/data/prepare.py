"""Preparing a corpus once: text in, token ids on disk out, memory-mapped by training.

The idea of nanoGPT's ``data/prepare.py``: tokenizing is done once, the ids are written to a
flat binary array, and training maps that array instead of holding text, token strings or
Python lists. Here it works for corpora of any size:

- the text is read as a stream (:mod:`cbow.data.sources`) and cut into blocks
  (:class:`cbow.data.text.BlockSplitter`), grouped into chunks of about :data:`CHUNK_CHARS`
  characters that worker processes (:mod:`cbow.data.worker_pool`) tokenize and count;
- each worker writes its chunk's ids against the chunk's own small vocabulary, and returns
  that vocabulary with its counts; the main process adds up the counts, builds the
  vocabulary (``min_count``, ``max_size``, ``order``), then maps every chunk's ids to the
  final ids (one table look-up per chunk) and appends them to ``ids.npy``. These steps
  (:mod:`cbow.data.counting`) are shared with :mod:`cbow.data.cluster_prepare`.

Memory is bounded by the vocabulary and a few chunks, not by the corpus. The chunks are cut
by the main process in corpus order and merged in that order, so the output is the same
byte for byte whatever the number of workers.

The result is a folder in the cache (:mod:`cbow.data.cache`: found again by a key of the
inputs and settings, built under a temporary name and renamed into place when complete),
whose files :mod:`cbow.data.prepared_corpus` writes, reads back and verifies. This module is
the public face of preparing: it also gives the names a caller of :func:`prepare` needs
(:class:`PreparedCorpus`, :func:`load_prepared`, :func:`discard_prepared`, the errors, ...),
defined in those modules.
"""
from __future__ import annotations

import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from tqdm import tqdm

from cbow.data.cache import (Settings, build_folder, cache_folder, cached, check_settings,
                             default_cache_root, discard_prepared, fingerprint)
from cbow.data.counting import Counts, renumber, tokenize_blocks
from cbow.data.prepared_corpus import (FORMAT_VERSION, IDS_FILE, STARTS_FILE, VOCAB_FILE,
                                       DamagedPreparedCorpus, PreparedCorpus,
                                       PreparedCorpusError, load_prepared, save_npy,
                                       save_vocabulary, write_description, write_ids)
from cbow.data.sources import NoTextError, SourceFile, SourceSpec, TextStream, resolve_sources
from cbow.data.vocab import ORDERS, Vocabulary, build_vocabulary
from cbow.data.worker_pool import WorkerDied, WorkerPool
from cbow.errors import InputError
from cbow.parallel.executor import default_workers
from cbow.registry import TOKENIZERS

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

#: Characters of text per worker task: large enough that the cost of sending a task is
#: nothing, small enough that a worker's tokens (~60 bytes each as Python strings) stay a few
#: tens of MB.
CHUNK_CHARS = 1 << 20


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
    settings = check_settings(tokenizer, lowercase, min_count, max_size, order, errors)
    workers = default_workers() if workers is None else workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InputError(f"workers must be an integer >= 1; got {workers!r}")
    files = resolve_sources(sources)
    folder, key = cache_folder(files, settings, cache_root)
    found = cached(folder)
    if found is not None:
        return found
    return build_folder(folder,
                        lambda temp: _build(files, settings, temp, workers, progress, key))


def progress_bar(progress: bool | None, **kwargs) -> tqdm:
    """A tqdm bar: shown if ``progress``, hidden if False, shown on a terminal if None."""
    return tqdm(disable=None if progress is None else not progress, unit_scale=True,
                leave=False, **kwargs)


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
    ids, starts, words, counts = tokenize_blocks(blocks, tokenizer, lowercase)
    save_npy(_chunk_path(folder, index, "ids.npy"), ids)
    save_npy(_chunk_path(folder, index, "starts.npy"), starts)
    # One string, not the list: it pickles in one piece, and (with workers=1) the main process
    # then keeps no token of the chunk alive, which would pin the memory of all of them and
    # scatter later allocations, slowing the tokenizing of the chunks that follow.
    return index, len(ids), "\n".join(words), counts


def _build(files: list[SourceFile], settings: Settings, folder: Path, workers: int,
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
            reports.append(file_report(source, stream))
        if blocks:
            yield index, blocks, chunk_folder, settings.tokenizer, settings.lowercase

    totals = Counts()
    chunk_tokens: list[int] = []
    with WorkerPool(workers) as pool:
        with progress_bar(progress, total=sum(f.size for f in files), unit="B",
                          unit_divisor=1024, desc="tokenizing") as bar:
            for index, n, words, local_counts in pool.map(_tokenize_chunk, chunks(bar.update)):
                words = words.split("\n") if words else []
                save_npy(_chunk_path(chunk_folder, index, "words.npy"),
                         totals.add(words, local_counts))
                chunk_tokens.append(n)

    def encode(final_of: np.ndarray, n_kept: int) -> tuple[int, dict]:
        encoded = _encode(folder, chunk_folder, chunk_tokens, final_of, n_kept, settings,
                          progress)
        shutil.rmtree(chunk_folder)
        return encoded

    return finish(folder, files, settings, key, reports, totals, sum(chunk_tokens), encode,
                  {"forced_cuts": dict(splitter.forced_cuts), "workers": workers}, started)


def finish(folder: Path, files: list[SourceFile], settings: Settings, key: str,
           reports: list[dict], totals: Counts, counted: int,
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
    checksums[VOCAB_FILE] = save_vocabulary(folder, vocab)

    kept = int(vocab.counts.sum())
    description = {
        "format": FORMAT_VERSION,
        "fingerprint": fingerprint([r["sha256"] for r in reports], settings),
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
    write_description(folder, description)
    if description["empty_files"]:
        warnings.warn(f"{len(description['empty_files'])} of the {len(files)} corpus files hold "
                      f"no text and were skipped: {', '.join(description['empty_files'][:5])}"
                      f"{' ...' if len(description['empty_files']) > 5 else ''}",
                      stacklevel=6)  # prepare()'s caller: build_folder and _build lie between
    return vocab


def file_report(source: SourceFile, stream: TextStream) -> dict:
    """The description's entry for one input file, read through ``stream``."""
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

def _encode(folder: Path, chunk_folder: Path, chunk_tokens: list[int], final_of: np.ndarray,
            n_kept: int, settings: Settings, progress: bool | None) -> tuple[int, dict]:
    """Write ``ids.npy`` and ``sentence_starts.npy``; return the number of sentences and the
    files' checksums.

    Each chunk's local ids become final ids through a table, local id -> provisional id ->
    final id (``final_of``, -1 for a dropped word): see :func:`cbow.data.counting.renumber`.
    """
    sentences = not TOKENIZERS.get(settings.tokenizer).one_stream

    def parts() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        with progress_bar(progress, total=len(chunk_tokens), desc="writing ids") as bar:
            for index in range(len(chunk_tokens)):
                yield renumber(
                    final_of[np.load(_chunk_path(chunk_folder, index, "words.npy"))],
                    np.load(_chunk_path(chunk_folder, index, "ids.npy")),
                    np.load(_chunk_path(chunk_folder, index, "starts.npy")), sentences)
                for kind in ("ids.npy", "starts.npy", "words.npy"):
                    _chunk_path(chunk_folder, index, kind).unlink()
                bar.update()

    return write_ids(folder, parts(), n_kept, sentences)

