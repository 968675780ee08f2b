"""Vector file formats that other tools read: word2vec text and binary, and numpy.

Each format is a :class:`Codec` (read and write) named in :data:`cbow.registry.VECTOR_FORMATS`.

``word2vec``
    Text. A header line ``V N``, then one line per word: ``word v1 ... vN``. Numbers are written
    with enough digits to read back the exact same float (float32 or float64).
``word2vec-bin``
    The original C tool's binary layout, which gensim reads and writes: the header line ``V N\\n``,
    then per word its UTF-8 bytes, a space, ``N`` little-endian float32 values and ``\\n``.
``npy``
    ``vectors.npy`` (any float dtype, read without pickle) and ``vocab.txt`` beside it, one word
    per line, optionally followed by ``<TAB>count``.
"""
from __future__ import annotations

import codecs
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from cbow.errors import InputError
from cbow.io import atomic_writer, special_kind
from cbow.registry import VECTOR_FORMATS
from cbow.data.vocab import Vocabulary

NPY_VECTORS = "vectors.npy"
NPY_VOCAB = "vocab.txt"
PROJECTOR_VECTORS = "vectors.tsv"  # cbow.vectors.projector's folder holds it (and metadata.tsv)

# Bytes that never occur in a word2vec text file but are common in raw float32 data; seeing one
# right after the header means the file is binary.
_BINARY_BYTES = (frozenset(range(0, 32)) - {ord("\t"), ord("\n"), ord("\r")}) | {127}
_SNIFF_BYTES = 1 << 16


class VectorFileError(InputError):
    """A vector file that cannot be read or written; the message names the file and the place."""


def read_vectors(path: str | Path, format: str | None = None):
    """``(words, vectors (V, N), counts or None)`` from a vector file; ``format`` is detected.

    Raises
    ------
    FileNotFoundError
        If the file (or the ``vocab.txt`` of an ``npy`` export) is missing.
    VectorFileError
        If the file is malformed; the message says where.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"vector file {path} does not exist")
    kind = special_kind(path)
    if kind is not None:  # /dev/zero never ends; a FIFO cannot be read twice (format, then data)
        raise VectorFileError(f"{path} is {kind}, not a vector file; save it to a file")
    format = check_format(format) if format is not None else detect_format(path)
    return VECTOR_FORMATS.load(format).read(path)


def write_vectors(path: str | Path, words: list[str], vectors: np.ndarray, counts=None,
                  format: str = "word2vec") -> list[Path]:
    """Write ``vectors`` (V, N) labelled by ``words`` in ``format``, atomically; the files."""
    return VECTOR_FORMATS.load(check_format(format)).write(Path(path), words, vectors, counts)


class Codec(NamedTuple):
    """A vector file format (registered in :data:`cbow.registry.VECTOR_FORMATS`).

    ``read(path) -> (words, vectors (V, N), counts or None)``;
    ``write(path, words, vectors, counts or None) -> the files written``, atomically.
    """

    read: Callable[[Path], tuple[list[str], np.ndarray, np.ndarray | None]]
    write: Callable[[Path, list[str], np.ndarray, np.ndarray | None], list[Path]]


def check_format(format: str) -> str:
    if format not in VECTOR_FORMATS:
        raise InputError(f"format must be one of {', '.join(VECTOR_FORMATS.names())}; "
                         f"got {format!r}")
    return format


def is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def folder_format(path: Path) -> str | None:
    """The format of a folder of vectors: ``npy`` (it holds ``vectors.npy``), ``projector``
    (``vectors.tsv``, and no ``vectors.npy``), or None (no vectors: a training run, say)."""
    if (path / NPY_VECTORS).exists():
        return "npy"
    return "projector" if (path / PROJECTOR_VECTORS).exists() else None


def detect_format(path: Path) -> str:
    """``npy``, ``projector``, ``fasttext-bin``, ``word2vec`` or ``word2vec-bin``, from the first
    bytes of the file."""
    if path.is_dir():
        return folder_format(path) or "npy"  # npy's reader names the missing vectors.npy
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    from cbow.vectors.fasttext_bin import is_fasttext_bin  # it builds on this module
    if is_fasttext_bin(path):
        return "fasttext-bin"
    if head.startswith(b"PK\x03\x04"):
        raise VectorFileError(f"{path} is a zip archive (a training checkpoint?), not a vector "
                              f"file; use cbow.training.run.load_embeddings for checkpoints")
    end_of_header = head.find(b"\n")
    _parse_header(path, head if end_of_header < 0 else head[:end_of_header])
    body = head[end_of_header + 1:]
    if _BINARY_BYTES.intersection(body):
        return "word2vec-bin"
    try:  # final=False: the sniffed chunk may end inside a multi-byte character
        codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return "word2vec-bin"
    return "word2vec"


def _parse_header(path: Path, line: bytes) -> tuple[int, int]:
    fields = line.split()
    if len(fields) == 2 and all(f.isdigit() and int(f) > 0 for f in fields):
        return int(fields[0]), int(fields[1])
    shown = line[:60].decode("utf-8", errors="replace")
    raise VectorFileError(f"{path}, line 1: expected the word2vec header 'V N' (number of words "
                          f"and of dimensions, two positive integers); got {shown!r}")


def _decode_word(path: Path, raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise VectorFileError(f"{path}, {where}: the word {raw[:40]!r} is not valid UTF-8 "
                              f"({err.reason})") from None


def _check_no_whitespace(words: list[str], format: str) -> None:
    # Readers split word2vec records on whitespace, so such a word would corrupt the file.
    bad = [w for w in words if any(ch.isspace() for ch in w)]
    if bad:
        raise VectorFileError(f"{len(bad)} words contain whitespace and cannot be written in "
                              f"{format} format, e.g. {bad[:3]!r}; save them as npy instead")


def _check_unique(path: Path, words: list[str], where: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, word in enumerate(words):
        if word in seen:
            raise VectorFileError(f"{path}: the word {word!r} appears twice ({where[seen[word]]} "
                                  f"and {where[i]})")
        seen[word] = i


_CHECKED_ALLOCATION_BYTES = 64 << 20


def _check_header_fits(path: Path, V: int, N: int, least_bytes_per_word: int) -> None:
    """Refuse a header announcing more than the file can hold, before allocating (V, N).

    Only large allocations are checked here: for small ones the reader's own checks say more
    exactly where a file is cut.
    """
    size = path.stat().st_size
    if V * N * 8 > _CHECKED_ALLOCATION_BYTES and V * least_bytes_per_word > size:
        raise VectorFileError(f"{path}, line 1: the header announces {V:,} words x {N:,} "
                              f"dimensions, which needs at least {V * least_bytes_per_word:,} "
                              f"bytes, but the file has {size:,}; the header or the file is wrong")


def _check_records(path: Path, words: list[str], vectors: np.ndarray, where: list[str]) -> None:
    """Words distinct and vectors finite; ``where[i]`` says where record ``i`` is in the file."""
    _check_unique(path, words, where)
    _reject_non_finite(path, vectors, words, where.__getitem__)


def _reject_non_finite(path: Path, vectors: np.ndarray, words: list[str], where) -> None:
    """NaN or infinity in a row is an error naming the first such row (``where(i)``)."""
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise VectorFileError(f"{path}, {where(i)}: the vector of {words[i]!r} holds NaN or "
                              f"infinity ({int(bad.sum())} such vectors in all)")


def _read_word2vec_text(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path, "rb") as f:
        V, N = _parse_header(path, f.readline())
        _check_header_fits(path, V, N, least_bytes_per_word=2 * (N + 1))  # "w 0 0 ...\n"
        words: list[str] = []
        lines: list[int] = []
        vectors = np.empty((V, N), dtype=np.float64)
        for line_number, line in enumerate(f, start=2):
            # bytes.split() splits on ASCII whitespace only, so a word holding e.g. U+00A0 (as
            # gensim may write) stays one word.
            fields = line.split()
            if not fields:
                continue  # blank lines, e.g. a trailing one, carry nothing
            if len(words) == V:
                raise VectorFileError(f"{path}, line {line_number}: more words than the {V} the "
                                      f"header (line 1) announces")
            word = _decode_word(path, fields[0], f"line {line_number}")
            if len(fields) - 1 != N:
                raise VectorFileError(f"{path}, line {line_number}: expected the word and {N} "
                                      f"numbers; found {len(fields) - 1} numbers after {word!r}")
            try:
                vectors[len(words)] = [float(x) for x in fields[1:]]
            except ValueError:
                bad = next(x for x in fields[1:] if not _is_float(x))
                shown = bad[:30].decode("utf-8", errors="replace")
                raise VectorFileError(f"{path}, line {line_number}: {shown!r} (in the vector of "
                                      f"{word!r}) is not a number") from None
            words.append(word)
            lines.append(line_number)
    if len(words) != V:
        raise VectorFileError(f"{path}: the header announces {V} words but the file holds "
                              f"{len(words)}; is it truncated?")
    _check_records(path, words, vectors, [f"line {n}" for n in lines])
    return words, vectors


def _is_float(text: bytes) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _read_word2vec_binary(path: Path) -> tuple[list[str], np.ndarray]:
    data = path.read_bytes()
    end_of_header = data.find(b"\n")
    V, N = _parse_header(path, data if end_of_header < 0 else data[:end_of_header])
    vector_bytes = 4 * N
    _check_header_fits(path, V, N, least_bytes_per_word=vector_bytes + 2)  # "w " + floats
    vectors = np.empty((V, N), dtype=np.float32)
    words: list[str] = []
    offsets: list[int] = []
    position = end_of_header + 1
    for i in range(V):
        # The C tool ends each record with '\n'; gensim does not. Accept both.
        while data[position:position + 1] == b"\n":
            position += 1
        space = data.find(b" ", position)
        if space < 0 or space == position:
            raise VectorFileError(
                f"{path}: truncated or corrupt at word {i + 1} of {V} (byte offset {position}): "
                f"{'no word followed by a space' if space < 0 else 'an empty word'}")
        word = _decode_word(path, data[position:space], f"word {i + 1} (byte offset {position})")
        start = space + 1
        if len(data) - start < vector_bytes:
            raise VectorFileError(
                f"{path}: truncated at word {i + 1} of {V} ({word!r}): its vector needs "
                f"{vector_bytes} bytes from byte offset {start}, but only {len(data) - start} "
                f"remain")
        vectors[i] = np.frombuffer(data, dtype="<f4", count=N, offset=start)
        words.append(word)
        offsets.append(position)
        position = start + vector_bytes
    while data[position:position + 1] == b"\n":
        position += 1
    if position < len(data):
        raise VectorFileError(f"{path}: more data after the {V} words the header announces "
                              f"(from byte offset {position}); is the header wrong?")
    _check_records(path, words, vectors, [f"byte offset {o}" for o in offsets])
    return words, vectors


def text_rows(vectors: np.ndarray, separator: str = " "):
    """The rows of ``vectors`` (V, N) as text, one ``str`` per row, numbers apart by ``separator``.

    Each number has enough digits to read back to the same float (float64, float32, float16).
    """
    N = vectors.shape[1]
    if vectors.dtype.itemsize >= 8:
        # repr of a Python float is the shortest text that reads back to the same float64.
        for row in vectors.astype(np.float64, copy=False):
            yield separator.join(map(repr, row.tolist()))
    else:
        # 9 significant digits always read back to the same float32 (and float16).
        template = separator.join(["%.9g"] * N)
        for row in vectors.astype(np.float32, copy=False):
            yield template % tuple(row.tolist())


def _write_word2vec_text(path: Path, words: list[str], vectors: np.ndarray) -> None:
    V, N = vectors.shape
    with atomic_writer(path) as f:
        f.write(f"{V} {N}\n".encode("utf-8"))
        for word, row in zip(words, text_rows(vectors)):
            f.write(f"{word} {row}\n".encode("utf-8"))


def _write_word2vec_binary(path: Path, words: list[str], vectors: np.ndarray) -> None:
    V, N = vectors.shape
    little_endian = vectors.astype("<f4", copy=False)
    with atomic_writer(path) as f:
        f.write(f"{V} {N}\n".encode("utf-8"))
        for word, row in zip(words, little_endian):
            f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


def _npy_paths(path: Path) -> tuple[Path, Path]:
    """``(vectors.npy, vocab.txt)`` for a folder or a ``.npy`` path."""
    if path.suffix == ".npy":
        return path, path.with_name(NPY_VOCAB)
    return path / NPY_VECTORS, path / NPY_VOCAB


def _write_npy(path: Path, words: list[str], vectors: np.ndarray, counts) -> list[Path]:
    vectors_path, vocab_path = _npy_paths(path)
    bad = [w for w in words if any(ch in w for ch in "\t\n\r")]
    if bad:
        raise VectorFileError(f"{len(bad)} words contain a tab or a line break and cannot be "
                              f"written to {vocab_path}, e.g. {bad[:3]!r}")
    with atomic_writer(vectors_path) as f:
        np.save(f, np.ascontiguousarray(vectors), allow_pickle=False)
    if counts is not None:
        Vocabulary(words, counts).save(vocab_path)  # the run's own 'word<TAB>count' layout
    else:
        with atomic_writer(vocab_path) as f:
            f.write("".join(w + "\n" for w in words).encode("utf-8"))
    return [vectors_path, vocab_path]


def _read_npy(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    vectors_path, vocab_path = _npy_paths(path)
    if not vectors_path.is_file():
        raise FileNotFoundError(f"{vectors_path} does not exist")
    if not vocab_path.is_file():
        raise FileNotFoundError(f"{vectors_path} needs its words in {vocab_path}, which does "
                                f"not exist")
    try:
        vectors = np.load(vectors_path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise VectorFileError(f"{vectors_path} cannot be read as a .npy array ({err})") from None
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating):
        raise VectorFileError(f"{vectors_path} must hold a 2-D float array (V, N); got shape "
                              f"{vectors.shape} and dtype {vectors.dtype}")
    try:
        vocab = Vocabulary.load(vocab_path)
    except ValueError as err:
        message = str(err)
        raise VectorFileError(message if str(vocab_path) in message
                              else f"{vocab_path}: {message}") from None
    if len(vocab) != vectors.shape[0]:
        raise VectorFileError(f"{vocab_path} has {len(vocab)} words but {vectors_path} has "
                              f"{vectors.shape[0]} vectors; they must match one to one")
    _reject_non_finite(vectors_path, vectors, vocab.words,
                       lambda i: f"row {i} (vocab.txt line {i + 1})")
    # A word-only vocab.txt loads with zero counts, which Vocabulary uses for "unknown".
    return vocab.words, vectors, (vocab.counts if vocab.counts.any() else None)


def _word2vec_writer(write: Callable[[Path, list[str], np.ndarray], None], format: str):
    def write_word2vec(path: Path, words: list[str], vectors: np.ndarray, counts=None):
        _check_no_whitespace(words, format)  # word2vec files carry no counts
        write(path, words, vectors)
        return [path]
    return write_word2vec


def _word2vec_reader(read: Callable[[Path], tuple[list[str], np.ndarray]]):
    def read_word2vec(path: Path):
        return (*read(path), None)  # word2vec files carry no counts
    return read_word2vec


WORD2VEC_TEXT = Codec(_word2vec_reader(_read_word2vec_text),
                      _word2vec_writer(_write_word2vec_text, "word2vec"))
WORD2VEC_BINARY = Codec(_word2vec_reader(_read_word2vec_binary),
                        _word2vec_writer(_write_word2vec_binary, "word2vec-bin"))
NPY = Codec(_read_npy, _write_npy)
