"""fastText's ``.bin`` model file (format version 12), read and written without fastText.

The layout, all little-endian, as fastText's ``FastText::saveModel`` writes it:

1. ``int32`` magic ``793712314``, ``int32`` version (12; 11 has the same layout).
2. The arguments: ``int32`` dim, ws, epoch, minCount, neg, wordNgrams, loss (1 hs, 2 ns,
   3 softmax, 4 one-vs-all), model (1 cbow, 2 skipgram, 3 supervised), bucket, minn, maxn,
   lrUpdateRate, then ``float64`` t.
3. The dictionary: ``int32`` size, nwords, nlabels, ``int64`` ntokens, ``int64`` pruneidx_size
   (-1: not pruned), then per entry the word's bytes, a NUL byte, ``int64`` count and ``int8``
   type (0 word, 1 label), then pruneidx_size pairs of ``int32``.
4. ``bool`` quantized (one byte), the input matrix: ``int64`` rows (nwords + bucket), ``int64``
   columns (dim), then rows x columns ``float32`` in row order.
5. ``bool`` output quantized, the output matrix likewise (nwords rows for word vectors).

Only unsupervised, unquantized models are read (what holds word vectors). Every count in the
file is checked against the file's size before anything that large is allocated, so a damaged
or truncated file is one :class:`FastTextFileError` naming the file and the byte offset.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cbow.io import atomic_writer
from cbow.vectors.formats.common import Codec, VectorFileError, beyond_float32

MAGIC = 793712314
VERSION = 12
READABLE_VERSIONS = (11, 12)
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "one-vs-all"}
MODELS = {1: "cbow", 2: "skipgram", 3: "supervised"}

_ARGS = struct.Struct("<12id")
_DICT_HEADER = struct.Struct("<3i2q")
_ENTRY_TAIL = struct.Struct("<qb")
_MATRIX_HEADER = struct.Struct("<?2q")
_HEADER_BYTES = 8 + _ARGS.size
_ROWS_PER_CHUNK = 1 << 16


class FastTextFileError(VectorFileError):
    """A fastText ``.bin`` file that cannot be read or written; the message says where."""


@dataclass
class FastTextArgs:
    """The training arguments a ``.bin`` file records (fastText's names, snake_cased)."""

    dim: int
    ws: int = 5
    epoch: int = 5
    min_count: int = 5
    neg: int = 5
    word_ngrams: int = 1
    loss: str = "ns"
    model: str = "cbow"
    bucket: int = 2_000_000
    minn: int = 3
    maxn: int = 6
    lr_update_rate: int = 100
    t: float = 1e-4


@dataclass
class FastTextModel:
    """The content of a ``.bin`` file.

    The input matrix is ``word_rows`` ``(len(words), args.dim)`` (the words' own rows) followed
    by ``ngram_rows`` ``(args.bucket, args.dim)``; ``output`` is ``(k, args.dim)``, or None
    when not read (written as zeros). Read matrices are float32.
    """

    args: FastTextArgs
    words: list[str]
    counts: np.ndarray
    ntokens: int
    word_rows: np.ndarray
    ngram_rows: np.ndarray
    output: np.ndarray | None = None


# ------------------------------------------------------------------------------ the codec

def sniff(path: Path, head: bytes | None) -> bool:
    """A file starting with fastText's magic number."""
    return head is not None and len(head) >= 4 and struct.unpack_from("<i", head)[0] == MAGIC


def read(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(words, vectors, counts)``: the words' composed vectors (fastText's getWordVector).

    :class:`~cbow.vectors.subword.SubwordEmbeddings` reads the whole model, n-gram rows too.
    """
    from cbow.vectors.composition import word_vectors  # numba: only when a model is read

    model = read_model(path)
    vectors = word_vectors(model.words, model.word_rows, model.ngram_rows, model.args.minn,
                           model.args.maxn)
    return model.words, vectors, model.counts


def write(path: Path, words: list[str], vectors: np.ndarray, counts) -> list[Path]:
    """Word vectors without n-grams as a fastText model (``maxn`` 0, no buckets): fastText and
    gensim read it; an unseen word has no vector there (fastText gives it zeros)."""
    counts = np.ones(len(words), np.int64) if counts is None else counts
    args = FastTextArgs(dim=vectors.shape[1], bucket=0, minn=0, maxn=0)
    model = FastTextModel(args, list(words), counts, int(np.sum(counts)), vectors,
                          np.zeros((0, vectors.shape[1]), vectors.dtype))
    return [write_model(path, model)]


def damaged(path: Path, head: bytes) -> str | None:
    """For a file without fastText's magic number: what is wrong if the rest of its header is
    a fastText model's (a readable version, or the arguments of a word-vector model)."""
    if len(head) < _HEADER_BYTES:
        return None
    magic, version = struct.unpack_from("<2i", head, 0)
    dim, *_, loss, kind, bucket, minn, maxn, _, _ = _ARGS.unpack_from(head, 8)
    plausible = (0 < dim <= 1 << 16 and loss in LOSSES and kind in MODELS and bucket >= 0
                 and 0 <= minn <= maxn <= 1 << 10)
    if version not in READABLE_VERSIONS and not plausible:
        return None
    seen = (f"format version {version} at byte 4" if version in READABLE_VERSIONS
            else f"arguments dim {dim}, minn {minn}, maxn {maxn}, bucket {bucket} at byte 8")
    return (f"{path}, byte 0: it looks like a fastText .bin model ({seen}) but starts with "
            f"{magic} instead of fastText's magic number {MAGIC}: the file is damaged")


CODEC = Codec(sniff, read, write, damaged)


# ------------------------------------------------------------------------------------ writing

def write_model(path: str | Path, model: FastTextModel) -> Path:
    """Write ``model`` as a fastText ``.bin`` file, atomically; the path written.

    Counts below 1 are written as 1: gensim's reader drops words counted 0.
    """
    path = Path(path)
    args = model.args
    V, bucket, dim = len(model.words), args.bucket, args.dim
    if model.word_rows.shape != (V, dim) or model.ngram_rows.shape != (bucket, dim):
        raise ValueError(f"the input matrix must be ({V}, {dim}) word rows and ({bucket}, {dim}) "
                         f"n-gram rows; got {model.word_rows.shape} and {model.ngram_rows.shape}")
    output = model.output if model.output is not None else np.zeros((V, dim), np.float32)
    if output.ndim != 2 or output.shape[1] != dim:
        raise ValueError(f"the output matrix must have {dim} columns; got {output.shape}")
    encoded = [w.encode("utf-8", "surrogateescape") for w in model.words]
    bad = [w for w, raw in zip(model.words, encoded) if not raw or b"\0" in raw]
    if bad:
        raise FastTextFileError(f"{path}: {len(bad)} words are empty or hold a NUL character, "
                                f"which fastText's format cannot store, e.g. {bad[:3]!r}")
    for name, rows in (("word row", model.word_rows), ("n-gram row", model.ngram_rows),
                       ("output row", output)):
        row = beyond_float32(rows)
        if row is not None:
            shown = f" (of {model.words[row]!r})" if name == "word row" else ""
            raise FastTextFileError(f"{path}: {name} {row}{shown} holds a number beyond "
                                    f"float32's range (+-3.4e38), which fastText stores")
    counts = np.maximum(np.asarray(model.counts, dtype=np.int64), 1)
    loss = _code(LOSSES, args.loss, "loss")
    kind = _code(MODELS, args.model, "model")
    with atomic_writer(path) as f:
        f.write(struct.pack("<2i", MAGIC, VERSION))
        f.write(_ARGS.pack(dim, args.ws, args.epoch, args.min_count, args.neg, args.word_ngrams,
                           loss, kind, bucket, args.minn, args.maxn, args.lr_update_rate,
                           args.t))
        f.write(_DICT_HEADER.pack(V, V, 0, int(model.ntokens), -1))
        f.write(b"".join(raw + b"\0" + _ENTRY_TAIL.pack(count, 0)
                         for raw, count in zip(encoded, counts.tolist())))
        _write_matrix(f, model.word_rows, model.ngram_rows)
        _write_matrix(f, output)
    return path


def _code(table: dict[int, str], name: str, what: str) -> int:
    for code, known in table.items():
        if known == name:
            return code
    raise ValueError(f"{what} must be one of {', '.join(table.values())}; got {name!r}")


def _write_matrix(f, *blocks: np.ndarray) -> None:
    """One matrix made of ``blocks`` stacked vertically (same number of columns)."""
    f.write(_MATRIX_HEADER.pack(False, sum(b.shape[0] for b in blocks), blocks[0].shape[1]))
    for block in blocks:
        for start in range(0, block.shape[0], _ROWS_PER_CHUNK):  # one float32 chunk at a time
            f.write(np.ascontiguousarray(block[start:start + _ROWS_PER_CHUNK], dtype="<f4").data)


# ------------------------------------------------------------------------------------ reading

def read_model(path: str | Path, output: bool = False) -> FastTextModel:
    """Read a fastText ``.bin`` word-vector model (its output matrix too with ``output``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FastTextFileError
        If the file is not a fastText model, is one cbow cannot use (supervised, quantized),
        or is damaged or truncated; the message names the byte offset.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"fastText model {path} does not exist")
    size = path.stat().st_size
    if size < _HEADER_BYTES:
        _fail(path, 0, f"only {size} bytes, too few for the {_HEADER_BYTES}-byte header of a "
                       f"fastText model: the file is truncated or is no fastText model")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        args = _read_args(path, data)
        words, counts, ntokens, position = _read_dictionary(path, data, _HEADER_BYTES)
        V = len(words)
        input_matrix, position = _read_matrix(path, f, data, position, "input",
                                              (V + args.bucket, args.dim))
        rows_out = _peek_matrix(path, data, position, "output", args.dim)
        end = position + _MATRIX_HEADER.size + rows_out * args.dim * 4
        if end != size:
            _fail(path, min(end, size),
                  f"the output matrix ({rows_out:,} x {args.dim} float32) should end the file at "
                  f"byte {end:,}, but the file has {size:,} bytes: "
                  + ("it is truncated" if end > size else "there is data after it"))
        output_matrix = None
        if output:
            output_matrix, _ = _read_matrix(path, f, data, position, "output",
                                            (rows_out, args.dim))
    return FastTextModel(args, words, counts, ntokens, input_matrix[:V], input_matrix[V:],
                         output_matrix)


def _fail(path: Path, offset: int, message: str):
    raise FastTextFileError(f"{path}, byte {offset:,}: {message}")


def _read_args(path: Path, data) -> FastTextArgs:
    magic, version = struct.unpack_from("<2i", data, 0)
    if magic != MAGIC:
        _fail(path, 0, f"not a fastText .bin model (it does not start with fastText's magic "
                       f"number {MAGIC}); for word2vec or .vec text files use the word2vec formats")
    if version not in READABLE_VERSIONS:
        _fail(path, 4, f"fastText format version {version}; cbow reads versions "
                       f"{', '.join(map(str, READABLE_VERSIONS))}")
    (dim, ws, epoch, min_count, neg, word_ngrams, loss, kind, bucket, minn, maxn,
     lr_update_rate, t) = _ARGS.unpack_from(data, 8)
    if kind == 3:
        _fail(path, 8, "a supervised (text classification) fastText model; cbow reads word-vector "
                       "models (cbow or skipgram)")
    problems = [f"{name} {value}" for name, value, ok in (
        ("dim", dim, dim >= 1), ("bucket", bucket, bucket >= 0), ("minn", minn, minn >= 0),
        ("maxn", maxn, maxn >= 0), ("loss", loss, loss in LOSSES), ("model", kind, kind in MODELS),
    ) if not ok]
    if maxn > 0 and (bucket == 0 or minn == 0):
        problems.append(f"maxn {maxn} with minn {minn} and bucket {bucket}")
    if problems:
        _fail(path, 8, f"impossible arguments in the header ({', '.join(problems)}); the file "
                       f"is damaged")
    return FastTextArgs(dim, ws, epoch, min_count, neg, word_ngrams, LOSSES[loss], MODELS[kind],
                        bucket, minn, maxn, lr_update_rate, t)


def _read_dictionary(path: Path, data, position: int):
    size = len(data)
    if position + _DICT_HEADER.size > size:
        _fail(path, position, "truncated in the dictionary's header")
    n_entries, nwords, nlabels, ntokens, pruned = _DICT_HEADER.unpack_from(data, position)
    if nlabels > 0:
        _fail(path, position, f"{nlabels} labels: a supervised model; cbow reads word-vector "
                              f"models (cbow or skipgram)")
    if n_entries < 1 or nwords != n_entries or nlabels < 0:
        _fail(path, position, f"impossible dictionary sizes (size {n_entries}, nwords {nwords}, "
                              f"nlabels {nlabels}); the file is damaged")
    if pruned > 0:
        _fail(path, position + 20, "a pruned (quantized) model; cbow reads full .bin models")
    position += _DICT_HEADER.size
    least = 1 + _ENTRY_TAIL.size  # a one-byte word would make it one more
    if position + n_entries * least > size:
        _fail(path, position, f"the dictionary announces {n_entries:,} words, which need at least "
                              f"{n_entries * least:,} bytes, but only {size - position:,} remain")
    words: list[str] = []
    counts = np.empty(n_entries, dtype=np.int64)
    seen: dict[str, int] = {}
    for i in range(n_entries):
        end = data.find(b"\0", position)
        if end < 0 or end + 1 + _ENTRY_TAIL.size > size:
            _fail(path, position, f"truncated in word {i + 1:,} of {n_entries:,}")
        if end == position:
            _fail(path, position, f"word {i + 1:,} of {n_entries:,} is empty; the file is damaged")
        word = data[position:end].decode("utf-8", "surrogateescape")
        count, kind = _ENTRY_TAIL.unpack_from(data, end + 1)
        if kind != 0 or count < 0:
            _fail(path, position, f"word {i + 1:,} ({word!r}) has type {kind} and count {count}; "
                                  f"expected a word (type 0) with a count >= 0: the file is "
                                  f"damaged")
        if word in seen:
            _fail(path, position, f"the word {word!r} appears twice (words {seen[word] + 1:,} and "
                                  f"{i + 1:,})")
        seen[word] = i
        words.append(word)
        counts[i] = count
        position = end + 1 + _ENTRY_TAIL.size
    return words, counts, ntokens, position


def _peek_matrix(path: Path, data, position: int, name: str, dim: int) -> int:
    """Rows of the matrix whose header is at ``position``, after checking the header."""
    if position + _MATRIX_HEADER.size > len(data):
        _fail(path, position, f"truncated before the {name} matrix")
    quantized, rows, columns = _MATRIX_HEADER.unpack_from(data, position)
    if data[position] > 1:
        _fail(path, position, f"the {name} matrix's quantization flag is {data[position]}, not "
                              f"0 or 1; the file is damaged")
    if quantized:
        _fail(path, position, f"the {name} matrix is quantized (a .ftz model); cbow reads full "
                              f".bin models")
    if columns != dim or rows < 0:
        _fail(path, position, f"the {name} matrix is {rows:,} x {columns:,}; expected {dim} "
                              f"columns (the header's dim)")
    return rows


def _read_matrix(path: Path, f, data, position: int, name: str, shape: tuple[int, int]):
    """The float32 matrix at ``position`` (checked to be ``shape``) and the position after it."""
    rows = _peek_matrix(path, data, position, name, shape[1])
    if rows != shape[0]:
        _fail(path, position, f"the {name} matrix has {rows:,} rows; expected {shape[0]:,} "
                              f"(words + bucket for the input)")
    start = position + _MATRIX_HEADER.size
    n_bytes = rows * shape[1] * 4
    if start + n_bytes > len(data):
        _fail(path, start, f"truncated: the {name} matrix ({rows:,} x {shape[1]}) needs "
                           f"{n_bytes:,} bytes, only {len(data) - start:,} remain")
    f.seek(start)
    matrix = np.fromfile(f, dtype="<f4", count=rows * shape[1]).reshape(shape)
    for first in range(0, rows, _ROWS_PER_CHUNK):
        chunk = matrix[first:first + _ROWS_PER_CHUNK]
        if not np.isfinite(chunk).all():
            bad = first + int(np.flatnonzero(~np.isfinite(chunk).all(axis=1))[0])
            _fail(path, start + bad * shape[1] * 4,
                  f"row {bad:,} of the {name} matrix holds NaN or infinity")
    return matrix.astype(np.float32, copy=False), start + n_bytes
