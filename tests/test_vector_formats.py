"""The vector-format dispatcher (cbow.vectors.formats): a format is one codec module plus one
registration, found by name and by its own sniff, with no other change."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cbow.errors import InputError
from cbow.registry import VECTOR_FORMATS, Registry, VectorFormat
from cbow.vectors import formats
from cbow.vectors.embeddings import Embeddings
from cbow.vectors.formats.common import Codec, VectorFileError

_TOY_MAGIC = b"TOY vectors\n"


def _toy_sniff(path: Path, head: bytes | None) -> bool:
    return head is not None and head.startswith(_TOY_MAGIC)


def _toy_read(path: Path):
    lines = path.read_bytes()[len(_TOY_MAGIC):].decode("utf-8").splitlines()
    words = [line.split()[0] for line in lines]
    vectors = np.array([[float(x) for x in line.split()[1:]] for line in lines])
    return words, vectors, None


def _toy_write(path: Path, words, vectors, counts) -> list[Path]:
    rows = "".join(f"{w} {' '.join(map(repr, row.tolist()))}\n" for w, row in zip(words, vectors))
    path.write_bytes(_TOY_MAGIC + rows.encode("utf-8"))
    return [path]


#: A format of the test's own: what a new format's module would hold.
TOY_CODEC = Codec(_toy_sniff, _toy_read, _toy_write)


class ToyModel(Embeddings):
    """A format's own Embeddings subclass, which loads its files whole."""

    @classmethod
    def load(cls, path, format=None, dtype=None):
        words, vectors, _ = _toy_read(Path(path))
        model = cls(words, vectors, source=str(path))
        model.loaded_as = format
        return model


def _with(monkeypatch, *extra: VectorFormat) -> None:
    """The registered formats and ``extra``, as the dispatcher sees them."""
    monkeypatch.setattr(formats, "VECTOR_FORMATS", Registry("vector formats", *VECTOR_FORMATS,
                                                            *extra))


@pytest.fixture
def emb():
    return Embeddings(["king", "queen", "man"], np.array([[1.0, 0.5], [0.9, 0.6], [0.1, -2.0]]))


def test_a_registered_codec_is_found_by_name_and_by_its_sniff(tmp_path, monkeypatch, emb):
    path = tmp_path / "vectors.toy"
    _with(monkeypatch, VectorFormat("toy", "a test format", f"{__name__}:TOY_CODEC"))
    assert emb.save(path, "toy") == [path] and path.read_bytes().startswith(_TOY_MAGIC)
    assert formats.detect_format(path) == "toy"
    loaded = Embeddings.load(path)
    assert type(loaded) is Embeddings and loaded.words == emb.words
    assert np.array_equal(loaded.vectors, emb.vectors)
    # The registered formats are still told apart with the new one among them.
    emb.save(tmp_path / "v.txt", "word2vec")
    emb.save(tmp_path / "v.bin", "word2vec-bin")
    emb.save(tmp_path / "npy", "npy")
    emb.save(tmp_path / "m.bin", "fasttext-bin")
    assert [formats.detect_format(tmp_path / name) for name in ("v.txt", "v.bin", "npy", "m.bin")
            ] == ["word2vec", "word2vec-bin", "npy", "fasttext-bin"]


def test_an_unregistered_format_is_no_vector_file(tmp_path, emb):
    path = tmp_path / "vectors.toy"
    _toy_write(path, emb.words, emb.vectors, None)
    with pytest.raises(VectorFileError, match="line 1: expected the word2vec header"):
        Embeddings.load(path)
    with pytest.raises(InputError, match="format must be one of .*; got 'toy'"):
        emb.save(tmp_path / "again.toy", "toy")


def test_a_format_names_the_class_that_loads_its_files_whole(tmp_path, monkeypatch, emb):
    path = tmp_path / "vectors.toy"
    _toy_write(path, emb.words, emb.vectors, None)
    _with(monkeypatch, VectorFormat("toy", "a test format", f"{__name__}:TOY_CODEC",
                                    embeddings=f"{__name__}:ToyModel"))
    for format in (None, "toy"):
        loaded = Embeddings.load(path, format=format)
        assert type(loaded) is ToyModel and loaded.loaded_as == "toy"
        assert loaded.words == emb.words
