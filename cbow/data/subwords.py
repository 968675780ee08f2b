"""fastText's character n-grams: which input rows a word reads besides its own.

A word's n-grams are the substrings of ``<word>`` (the word between fastText's ``<`` and ``>``
markers) of ``minn`` to ``maxn`` characters, cut on UTF-8 character boundaries, in fastText's
order: by starting character, then by length. As in fastText's ``Dictionary::computeSubwords``,
when ``minn`` is 1 the one-character n-grams ``<`` and ``>`` themselves are left out, and the
word ``</s>`` (fastText's end-of-line token) has no n-grams at all.

Each n-gram goes to one of ``bucket`` shared rows by its 32-bit FNV-1a hash, computed as fastText
computes it: every byte is taken as a *signed* char (sign-extended to 32 bits) before the xor,
which gives other hashes than textbook FNV-1a for non-ASCII bytes. An n-gram of a vocabulary of
``V`` words reads input row ``V + hash % bucket``; the word itself reads row ``w``.

:func:`row_table` builds those rows for a whole vocabulary at once, as the compressed table
``(row_offsets, rows)`` (word ``w`` reads ``rows[row_offsets[w]:row_offsets[w + 1]]``: its own
row first, then its n-grams' rows); :func:`ngram_rows` gives the rows of any word, seen or not.

Words are encoded as UTF-8 with ``surrogateescape``, so a word decoded that way from bytes that
are not UTF-8 (as :mod:`cbow.vectors.formats.fasttext_bin` decodes fastText's files) hashes to the same rows as
its original bytes.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit

from cbow.errors import InputError

EOS = "</s>"
"""fastText's end-of-line token; it has no n-grams."""
BOW, EOW = "<", ">"
"""The markers put around a word before its n-grams are cut."""

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_ROWS_INT32_LIMIT = np.iinfo(np.int32).max


def encode(word: str) -> bytes:
    """The bytes fastText hashes for ``word``: UTF-8, lone surrogates escaped back to bytes."""
    return word.encode("utf-8", "surrogateescape")


def check_ngram_lengths(minn: int, maxn: int, bucket: int) -> None:
    """``maxn >= 0``; when there are n-grams (``maxn > 0``), ``minn >= 1`` and ``bucket >= 1``.

    (fastText writes ``minn`` 0 in models without n-grams.)
    """
    problems = []
    integer = (lambda v: isinstance(v, (int, np.integer)))  # noqa: E731
    if not (integer(minn) and minn >= (1 if integer(maxn) and maxn > 0 else 0)):
        problems.append(f"minn must be an integer >= 1 (>= 0 with maxn 0); got {minn!r}")
    if not (integer(maxn) and maxn >= 0):
        problems.append(f"maxn must be an integer >= 0 (0: no n-grams); got {maxn!r}")
    if not (isinstance(bucket, (int, np.integer)) and bucket >= 0):
        problems.append(f"bucket must be an integer >= 0; got {bucket!r}")
    elif maxn and maxn > 0 and bucket == 0:
        problems.append("bucket must be >= 1 when maxn > 0 (the n-grams need rows); got 0")
    if problems:
        raise InputError("; ".join(problems))


# ------------------------------------------------------------------------------ compiled core

_OPTIONS = dict(nogil=True, cache=True, fastmath=False)


@njit(**_OPTIONS)
def _fnv_step(h, byte):
    # fastText xors the byte as a signed char: a byte >= 0x80 is sign-extended to 32 bits.
    # int64 arithmetic: h < 2**32 and the product < 2**57, masked back to 32 bits.
    signed = np.int64(byte)
    if signed >= 128:
        signed |= np.int64(0xFFFFFF00)
    return ((h ^ signed) * np.int64(_FNV_PRIME)) & np.int64(0xFFFFFFFF)


@njit(**_OPTIONS)
def _fnv1a(data):
    h = np.int64(_FNV_OFFSET)
    for i in range(data.shape[0]):
        h = _fnv_step(h, data[i])
    return h


@njit(**_OPTIONS)
def _word_ngrams(data, begin, end, minn, maxn, out_hashes, out_begin, out_end, start):
    """The n-grams of the marked word ``data[begin:end]``, written from ``out_*[start]`` on.

    ``out_hashes`` gets each n-gram's hash, ``out_begin``/``out_end`` its byte range in
    ``data``; with ``out_hashes.shape[0] == 0`` nothing is written, only counted. Returns the
    number of n-grams. fastText's order and its rule for 1-character n-grams at the ends.
    """
    count = 0
    for i in range(begin, end):
        if (data[i] & 0xC0) == 0x80:
            continue  # not the first byte of a character
        h = np.int64(_FNV_OFFSET)
        j = i
        n = 1
        while j < end and n <= maxn:
            h = _fnv_step(h, data[j])
            j += 1
            while j < end and (data[j] & 0xC0) == 0x80:
                h = _fnv_step(h, data[j])
                j += 1
            if n >= minn and not (n == 1 and (i == begin or j == end)):
                if out_hashes.shape[0] > 0:
                    out_hashes[start + count] = h
                    out_begin[start + count] = i
                    out_end[start + count] = j
                count += 1
            n += 1
    return count


@njit(**_OPTIONS)
def _count_all(data, word_offsets, has_ngrams, minn, maxn):
    n_words = word_offsets.shape[0] - 1
    counts = np.zeros(n_words, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    for w in range(n_words):
        if has_ngrams[w]:
            counts[w] = _word_ngrams(data, word_offsets[w], word_offsets[w + 1], minn, maxn,
                                     empty, empty, empty, 0)
    return counts


@njit(**_OPTIONS)
def _fill_rows(data, word_offsets, has_ngrams, minn, maxn, bucket, row_offsets, rows):
    n_words = word_offsets.shape[0] - 1
    longest = 0
    for w in range(n_words):
        longest = max(longest, row_offsets[w + 1] - row_offsets[w])
    hashes = np.empty(longest, dtype=np.int64)
    spans = np.empty(longest, dtype=np.int64)
    for w in range(n_words):
        start = row_offsets[w]
        rows[start] = w  # the word's own row first, as fastText's getSubwords
        if has_ngrams[w]:
            count = _word_ngrams(data, word_offsets[w], word_offsets[w + 1], minn, maxn,
                                 hashes, spans, spans, 0)
            for k in range(count):
                rows[start + 1 + k] = n_words + hashes[k] % bucket


# ---------------------------------------------------------------------------------- one word

def fnv1a(data: bytes) -> int:
    """fastText's 32-bit FNV-1a hash of ``data`` (bytes taken as signed chars)."""
    return int(_fnv1a(np.frombuffer(data, dtype=np.uint8)))


def _marked(word: str) -> np.ndarray:
    return np.frombuffer(encode(BOW + word + EOW), dtype=np.uint8)


def _one_word(word: str, minn: int, maxn: int):
    """``(marked bytes, hashes, begins, ends)`` of ``word``'s n-grams."""
    data = _marked(word)
    empty = np.zeros(0, dtype=np.int64)
    if word == EOS or maxn < minn:
        return data, empty, empty, empty
    count = _word_ngrams(data, 0, data.shape[0], minn, maxn, empty, empty, empty, 0)
    hashes, begins, ends = (np.empty(count, dtype=np.int64) for _ in range(3))
    _word_ngrams(data, 0, data.shape[0], minn, maxn, hashes, begins, ends, 0)
    return data, hashes, begins, ends


def ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """The character n-grams of ``word`` in fastText's order (duplicates kept).

    >>> ngrams("café", 3, 4)
    ['<ca', '<caf', 'caf', 'café', 'afé', 'afé>', 'fé>']
    """
    check_ngram_lengths(minn, maxn, 1)
    data, _, begins, ends = _one_word(word, minn, maxn)
    raw = data.tobytes()
    return [raw[b:e].decode("utf-8", "surrogateescape") for b, e in zip(begins.tolist(),
                                                                       ends.tolist())]


def ngram_hashes(word: str, minn: int, maxn: int) -> np.ndarray:
    """The FNV-1a hashes (uint32) of ``word``'s n-grams, in the order of :func:`ngrams`."""
    check_ngram_lengths(minn, maxn, 1)
    return _one_word(word, minn, maxn)[1].astype(np.uint32)


def ngram_rows(word: str, minn: int, maxn: int, bucket: int, vocab_size: int) -> np.ndarray:
    """Input rows (int64) of ``word``'s n-grams: ``vocab_size + hash % bucket`` each.

    The word's own row is not included (an unseen word has none); for a vocabulary word, its
    full list is ``[w, *ngram_rows(...)]``, as in :func:`row_table`. Empty when ``maxn`` is 0.
    """
    check_ngram_lengths(minn, maxn, bucket)
    if maxn == 0:
        return np.zeros(0, dtype=np.int64)
    return vocab_size + _one_word(word, minn, maxn)[1] % bucket


# ------------------------------------------------------------------------------ a vocabulary

def row_table(words: Sequence[str], minn: int, maxn: int,
              bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Every word's input rows: ``(row_offsets (V + 1,) int64, rows)``.

    Word ``w`` reads ``rows[row_offsets[w]:row_offsets[w + 1]]``: ``w`` itself, then
    ``V + hash % bucket`` for each of its n-grams in fastText's order. ``rows`` is int32 when
    every row fits (``V + bucket <= 2**31 - 1``), else int64. With ``maxn`` 0 every word reads
    its own row only. Built in two compiled passes over the words' bytes (count, then fill).
    """
    check_ngram_lengths(minn, maxn, bucket)
    V = len(words)
    marked = [encode(BOW + w + EOW) for w in words]
    lengths = np.fromiter(map(len, marked), dtype=np.int64, count=V)
    word_offsets = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(lengths, out=word_offsets[1:])
    data = np.frombuffer(b"".join(marked), dtype=np.uint8)
    has_ngrams = np.fromiter((w != EOS for w in words), dtype=np.bool_, count=V)
    if maxn == 0 or maxn < minn:
        has_ngrams[:] = False
    counts = _count_all(data, word_offsets, has_ngrams, minn, maxn)
    row_offsets = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(counts + 1, out=row_offsets[1:])
    dtype = np.int32 if V + bucket <= _ROWS_INT32_LIMIT else np.int64
    rows = np.empty(int(row_offsets[-1]), dtype=dtype)
    _fill_rows(data, word_offsets, has_ngrams, minn, maxn, max(bucket, 1), row_offsets, rows)
    return row_offsets, rows
