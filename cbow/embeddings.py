"""Word vectors for downstream use: pick them out of a trained model, query them, export them.

The CBOW model has two sets of word vectors: the columns of ``W1`` (what a word contributes as
context) and the rows of ``W2`` (what a word scores as the centre). :func:`extract_vectors` takes
either, or their mean (the course's choice). :class:`Embeddings` holds one ``(V, N)`` matrix with
its words and answers the usual questions (nearest words, cosine similarity, analogies); it reads
and writes three formats other tools understand:

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
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from cbow.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, load_latest
from cbow.io import atomic_writer
from cbow.model import Params
from cbow.vocab import Vocabulary

WHICH = ("mean", "w1", "w2")
FORMATS = ("word2vec", "word2vec-bin", "npy")
NPY_VECTORS = "vectors.npy"
NPY_VOCAB = "vocab.txt"

# Bytes that never occur in a word2vec text file but are common in raw float32 data; seeing one
# right after the header means the file is binary.
_BINARY_BYTES = (frozenset(range(0, 32)) - {ord("\t"), ord("\n"), ord("\r")}) | {127}
_SNIFF_BYTES = 1 << 16


class VectorFileError(ValueError):
    """A vector file that cannot be read or written; the message names the file and the place."""


def extract_vectors(params: Params, which: str = "mean", normalize: bool = False) -> np.ndarray:
    """One vector per word, taken from the trained weights.

    Parameters
    ----------
    params : Params
        ``W1 (N, V)``, ``W2 (V, N)`` (biases are not used).
    which : {"mean", "w1", "w2"}
        ``"mean"``: ``(W1^T + W2) / 2``, the course's embeddings; ``"w1"``: ``W1^T``, the context
        (input) vectors; ``"w2"``: ``W2``, the centre (output) vectors.
    normalize : bool
        Scale every row to unit L2 length (rows of zeros stay zero).

    Returns
    -------
    ndarray, shape (V, N)
        A new C-ordered array in the parameters' dtype; row ``i`` belongs to word id ``i``.
    """
    if which == "mean":
        vectors = (params.W1.T + params.W2) / 2
    elif which == "w1":
        vectors = np.array(params.W1.T, order="C")  # a copy: later training must not change it
    elif which == "w2":
        vectors = params.W2.copy()
    else:
        raise ValueError(f"which must be one of {', '.join(WHICH)}; got {which!r}")
    return unit_rows(vectors) if normalize else vectors


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` with every row divided by its L2 norm; rows of zeros stay zero.

    Parameters
    ----------
    vectors : ndarray, shape (V, N)

    Returns
    -------
    ndarray, shape (V, N)
        A new array of the same float dtype.
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A zero row has no direction; dividing by 1 keeps it zero instead of making NaNs.
    return vectors / np.where(norms > 0, norms, 1).astype(vectors.dtype)


class Embeddings:
    """Words and their vectors, with nearest-neighbour queries and file formats.

    Parameters
    ----------
    words : sequence of str
        Distinct, non-empty words; ``words[i]`` labels ``vectors[i]``.
    vectors : array_like, shape (V, N)
        Float vectors (integers are converted to float64). Treat them as read-only: the unit
        vectors used by the queries are computed once, from the values given here.
    counts : array_like of int, shape (V,), optional
        Corpus counts, kept only to write them back into ``vocab.txt``.
    source : str, optional
        Where the vectors came from (a checkpoint or a vector file), for messages and titles.
    which : str, optional
        For vectors taken from a model: which of its vectors (see :func:`extract_vectors`).
    """

    def __init__(self, words: Sequence[str], vectors, counts=None, source: str | None = None,
                 which: str | None = None):
        words = list(words)
        vectors = np.asarray(vectors)
        if not np.issubdtype(vectors.dtype, np.floating):
            if not np.issubdtype(vectors.dtype, np.number):
                raise ValueError(f"vectors must be numbers; got dtype {vectors.dtype}")
            vectors = vectors.astype(np.float64)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-D (V, N) array; got shape {vectors.shape}")
        if vectors.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but {vectors.shape[0]} vectors; "
                             f"need one vector (row) per word")
        bad = [w for w in words if not isinstance(w, str) or not w]
        if bad:
            raise ValueError(f"words must be non-empty strings; got {bad[:3]!r}")
        self.vocab = Vocabulary(words)  # ids, distinctness, "did you mean" hints
        self._words = self.vocab.words
        self._vectors = vectors.view()
        self._vectors.flags.writeable = False  # our view only; the caller's array is untouched
        self._unit: np.ndarray | None = None
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        if self.counts is not None and self.counts.shape != (len(words),):
            raise ValueError(f"counts must have shape ({len(words)},); got {self.counts.shape}")
        self.source = source
        self.which = which

    # ----------------------------------------------------------------------------- construction

    @classmethod
    def from_run(cls, path: str | Path, which: str = "mean",
                 normalize: bool = False) -> "Embeddings":
        """Vectors of a training run's final checkpoint, or of one given checkpoint file.

        Parameters
        ----------
        path : str or Path
            A run folder (its newest readable ``checkpoints/step_*.npz`` is used), a folder of
            checkpoints, or a checkpoint ``.npz`` file.
        which, normalize
            As for :func:`extract_vectors`.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist, holds no checkpoints, or the checkpoint has no vocabulary
            and no ``vocab.txt`` is found beside it or in its run folder.
        CheckpointError
            If no checkpoint can be read.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"training run {path} does not exist (expected a run folder "
                                    f"with checkpoints/, or a checkpoint .npz file)")
        if path.is_dir():
            checkpoint, params, vocab = _latest_checkpoint(path)
        else:
            checkpoint = path
            params, vocab, _ = load_checkpoint(path)
        if vocab is None:
            vocab = _vocabulary_beside(checkpoint, params.V)
        vectors = extract_vectors(params, which, normalize)
        return cls(vocab.words, vectors, counts=vocab.counts, source=str(checkpoint), which=which)

    @classmethod
    def load(cls, path: str | Path, format: str | None = None,
             dtype=None) -> "Embeddings":
        """Read a vector file written by :meth:`save`, by gensim, or by the word2vec C tool.

        Parameters
        ----------
        path : str or Path
            A word2vec text or binary file, a ``.npy`` file with ``vocab.txt`` beside it, or a
            folder holding ``vectors.npy`` and ``vocab.txt``.
        format : {"word2vec", "word2vec-bin", "npy"}, optional
            Detected from the content when not given.
        dtype : numpy dtype, optional
            Dtype of the vectors. By default: float64 for text (exact for any text written by
            :meth:`save`; ask for float32 to get float32 vectors back bit for bit), float32 for
            binary (what it stores), the stored dtype for ``npy``.

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
        format = _check_format(format) if format is not None else _detect_format(path)
        if format == "npy":
            words, vectors, counts = _read_npy(path)
        else:
            read = _read_word2vec_text if format == "word2vec" else _read_word2vec_binary
            (words, vectors), counts = read(path), None  # word2vec files carry no counts
        if dtype is not None:
            vectors = vectors.astype(dtype, copy=False)
        return cls(words, vectors, counts=counts, source=str(path))

    @classmethod
    def from_path(cls, path: str | Path, which: str | None = None,
                  normalize: bool = False) -> "Embeddings":
        """Vectors from whatever ``path`` is: a run folder, a checkpoint, or a vector file.

        Parameters
        ----------
        path : str or Path
        which : {"mean", "w1", "w2"}, optional
            Only for runs and checkpoints (default ``"mean"``); a vector file has one set.
        normalize : bool
            Scale every vector to unit length.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist (expected a training run folder, a "
                                    f"checkpoint .npz, or a vector file)")
        is_npy_folder = path.is_dir() and (path / NPY_VECTORS).is_file()
        is_checkpoint = path.is_file() and (path.suffix == ".npz" or _is_zip(path))
        if (path.is_dir() and not is_npy_folder) or is_checkpoint:
            return cls.from_run(path, which or "mean", normalize)
        if which is not None:
            raise ValueError(f"{path} is a vector file: it holds one set of vectors, so 'which' "
                             f"(mean/w1/w2) applies only to training runs and checkpoints")
        embeddings = cls.load(path)
        if normalize:
            embeddings = cls(embeddings.words, unit_rows(embeddings.vectors),
                             counts=embeddings.counts, source=embeddings.source)
        return embeddings

    # ------------------------------------------------------------------------------------ saving

    def save(self, path: str | Path, format: str = "word2vec") -> list[Path]:
        """Write the vectors in ``format``; each file is replaced atomically.

        Parameters
        ----------
        path : str or Path
            The file to write; for ``npy``, a folder (``vectors.npy`` and ``vocab.txt`` go in it)
            or a ``.npy`` path (``vocab.txt`` goes beside it).
        format : {"word2vec", "word2vec-bin", "npy"}

        Returns
        -------
        list of Path
            The files written.

        Raises
        ------
        VectorFileError
            If a word cannot be stored in the format (whitespace in word2vec formats; tabs or
            line breaks in ``vocab.txt``).
        """
        format = _check_format(format)
        path = Path(path)
        if format == "npy":
            return _write_npy(path, self._words, self._vectors, self.counts)
        _check_no_whitespace(self._words, format)
        if format == "word2vec":
            _write_word2vec_text(path, self._words, self._vectors)
        else:
            _write_word2vec_binary(path, self._words, self._vectors)
        return [path]

    # ------------------------------------------------------------------------------------ lookup

    @property
    def words(self) -> list[str]:
        """The words in row order (a copy)."""
        return list(self._words)

    @property
    def vectors(self) -> np.ndarray:
        """Read-only ``(V, N)`` array; row ``i`` is the vector of ``words[i]``."""
        return self._vectors

    @property
    def vector_size(self) -> int:
        return self._vectors.shape[1]

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self.vocab

    def __repr__(self) -> str:
        return f"Embeddings({len(self)} words, {self.vector_size} dims, {self._vectors.dtype})"

    def index(self, word: str) -> int:
        """Row of ``word``; ``KeyError`` naming it (and close spellings) if it is unknown."""
        return self.vocab.index(word)

    def vector(self, word: str) -> np.ndarray:
        """The ``(N,)`` vector of ``word`` (a read-only view)."""
        return self._vectors[self.index(word)]

    def __getitem__(self, word_or_words: str | Sequence[str]) -> np.ndarray:
        """``(N,)`` for one word, ``(k, N)`` (a copy) for a list of ``k`` words."""
        if isinstance(word_or_words, str):
            return self.vector(word_or_words)
        return self._vectors[[self.index(w) for w in word_or_words]]

    def unknown_word_message(self, word: str) -> str:
        return self.vocab.unknown_word_message(word)

    def check_words(self, words: Iterable[str]) -> None:
        """Raise one ``KeyError`` naming every unknown word in ``words`` (none: return)."""
        unknown = list(dict.fromkeys(w for w in words if w not in self.vocab))
        if len(unknown) == 1:
            raise KeyError(self.unknown_word_message(unknown[0]))
        if unknown:
            details = "; ".join(
                f"{w!r}" + (f" (did you mean {', '.join(map(repr, close))}?)"
                            if (close := self.vocab.close_spellings(w)) else "")
                for w in unknown)
            raise KeyError(f"{len(unknown)} words are not in the vocabulary ({len(self)} words): "
                           f"{details}")

    # ----------------------------------------------------------------------------------- queries

    @property
    def unit_vectors(self) -> np.ndarray:
        """``(V, N)`` rows scaled to unit length (zero rows stay zero), computed once."""
        if self._unit is None:
            self._unit = unit_rows(self._vectors)
            self._unit.flags.writeable = False
        return self._unit

    def similarity(self, a: str, b: str) -> float:
        """Cosine of the angle between the vectors of words ``a`` and ``b``."""
        unit = self.unit_vectors
        return float(unit[self.index(a)] @ unit[self.index(b)])

    def most_similar(self, word_or_vector: str | np.ndarray,
                     topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` words whose vectors make the smallest angle with the query.

        Parameters
        ----------
        word_or_vector : str or ndarray, shape (N,)
            A word (itself excluded from the answer) or any vector.
        topn : int

        Returns
        -------
        list of (word, cosine)
            Highest cosine first; ties are broken by row order.
        """
        if isinstance(word_or_vector, str):
            row = self.index(word_or_vector)
            return self._nearest(self.unit_vectors[row], exclude=[row], topn=topn)
        query = np.asarray(word_or_vector, dtype=self._vectors.dtype)
        if query.shape != (self.vector_size,):
            raise ValueError(f"the query vector must have shape ({self.vector_size},); "
                             f"got {query.shape}")
        return self._nearest(_unit(query), exclude=[], topn=topn)

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to what? The words nearest to ``b - a + c``.

        The three are combined as unit vectors, so a frequent word's long vector does not
        dominate; ``a``, ``b`` and ``c`` themselves are never answers.

        Returns
        -------
        list of (word, cosine)
            As :meth:`most_similar`.
        """
        self.check_words([a, b, c])
        rows = [self.vocab.word2index[w] for w in (a, b, c)]
        unit = self.unit_vectors
        query = unit[rows[1]] - unit[rows[0]] + unit[rows[2]]
        return self._nearest(_unit(query), exclude=rows, topn=topn)

    def _nearest(self, unit_query: np.ndarray, exclude: list[int],
                 topn: int) -> list[tuple[str, float]]:
        """``topn`` rows by cosine with ``unit_query`` (N,), a unit (or zero) vector."""
        if topn < 0:
            raise ValueError(f"topn must be >= 0; got {topn}")
        # One matrix-vector product scores the whole vocabulary.
        cosines = self.unit_vectors @ unit_query  # (V,)
        candidates = np.ones(len(self), dtype=bool)
        candidates[exclude] = False
        ids = np.flatnonzero(candidates)
        k = min(topn, ids.size)
        if k == 0:
            return []
        scores = cosines[ids]
        if k < ids.size:
            # A partition finds the k-th best score in O(V); only the words scoring at least that
            # much are sorted. Keeping every tie with the k-th makes the row-order tie-break exact.
            kth_best = -np.partition(-scores, k - 1)[k - 1]
            keep = scores >= kth_best
            ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:k]
        return [(self._words[i], float(cosines[i])) for i in ids[order]]


# ------------------------------------------------------------------------------ run folders

def _latest_checkpoint(folder: Path) -> tuple[Path, Params, Vocabulary | None]:
    """Newest readable checkpoint of a run folder (or of a folder of checkpoints)."""
    checkpoint_dir = folder / "checkpoints"
    if not list_checkpoints(checkpoint_dir) and list_checkpoints(folder):
        checkpoint_dir = folder  # the checkpoints/ folder itself was given
    candidates = list_checkpoints(checkpoint_dir)
    if not candidates:
        raise FileNotFoundError(f"{folder} has no checkpoints (looked for "
                                f"{checkpoint_dir}/step_*.npz); is it a training run folder?")
    skipped: list[str] = []
    found = load_latest(checkpoint_dir, on_skip=lambda p, err: skipped.append(f"{p.name} ({err})"))
    if found is None:
        raise CheckpointError(f"no checkpoint in {checkpoint_dir} can be read: "
                              f"{'; '.join(skipped)}")
    path, params, vocab, _ = found
    if skipped:
        warnings.warn(f"using {path}: newer checkpoints cannot be read: {'; '.join(skipped)}",
                      stacklevel=3)
    return path, params, vocab


def _vocabulary_beside(checkpoint: Path, V: int) -> Vocabulary:
    """The ``vocab.txt`` beside ``checkpoint`` or in its run folder (for checkpoints without one)."""
    places = [checkpoint.parent / NPY_VOCAB]
    if checkpoint.parent.name == "checkpoints":
        places.append(checkpoint.parent.parent / NPY_VOCAB)
    for place in places:
        if place.is_file():
            vocab = Vocabulary.load(place)
            if len(vocab) != V:
                raise CheckpointError(f"{place} has {len(vocab)} words but the model in "
                                      f"{checkpoint} has V = {V}; they are not from the same run")
            return vocab
    raise FileNotFoundError(f"{checkpoint} holds no vocabulary and there is no vocab.txt to use "
                            f"instead (looked for {' and '.join(map(str, places))})")


# ----------------------------------------------------------------------------------- formats

def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    return format


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _detect_format(path: Path) -> str:
    """``npy``, ``word2vec`` or ``word2vec-bin``, from the first bytes of the file."""
    if path.is_dir():
        return "npy"
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04"):
        raise VectorFileError(f"{path} is a zip archive (a training checkpoint?), not a vector "
                              f"file; use Embeddings.from_run for checkpoints")
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


def _read_word2vec_text(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path, "rb") as f:
        V, N = _parse_header(path, f.readline())
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
    _check_unique(path, words, [f"line {n}" for n in lines])
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
    _check_unique(path, words, [f"byte offset {o}" for o in offsets])
    return words, vectors


def _write_word2vec_text(path: Path, words: list[str], vectors: np.ndarray) -> None:
    V, N = vectors.shape
    if vectors.dtype.itemsize >= 8:
        # repr of a Python float is the shortest text that reads back to the same float64.
        rows = vectors.astype(np.float64, copy=False)
        format_row = lambda row: " ".join(map(repr, row.tolist()))  # noqa: E731
    else:
        # 9 significant digits always read back to the same float32 (and float16).
        rows = vectors.astype(np.float32, copy=False)
        template = " ".join(["%.9g"] * N)
        format_row = lambda row: template % tuple(row.tolist())  # noqa: E731
    with atomic_writer(path) as f:
        f.write(f"{V} {N}\n".encode("utf-8"))
        for word, row in zip(words, rows):
            f.write(f"{word} {format_row(row)}\n".encode("utf-8"))


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
    # A word-only vocab.txt loads with zero counts, which Vocabulary uses for "unknown".
    return vocab.words, vectors, (vocab.counts if vocab.counts.any() else None)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def format_neighbours(query: str, neighbours: list[tuple[str, float]]) -> str:
    """A small text table of ``(word, cosine)`` pairs: rank, word, cosine to 4 decimals."""
    width = max([4, *(len(word) for word, _ in neighbours)])
    lines = [f"nearest to {query!r}:", f"{'rank':>4}  {'word':<{width}}  cosine"]
    lines += [f"{rank:>4}  {word:<{width}}  {cosine:6.4f}"
              for rank, (word, cosine) in enumerate(neighbours, start=1)]
    return "\n".join(lines)
