"""Embeddings: extraction from a model, queries, the three file formats, and gensim agreement."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from cbow.models.checkpoint import CheckpointError, checkpoint_path
from cbow.commands.similar import format_neighbours
from cbow.vectors.embeddings import Embeddings, unit_rows
from cbow.vectors.formats import VectorFileError
from cbow.models.objective import SoftmaxObjective
from cbow.training.run import RunFolderError, load_embeddings
from cbow.models.softmax.model import Params, initialize_model
from cbow.data.vocab import Vocabulary
from conftest import make_run

# Sorted like the course's vocabulary; '.' and a non-ASCII word must survive every format.
WORDS = sorted([".", ",", "a", "and", "café", "king", "lord", "man", "queen", "the", "woman",
                "thee", "thou", "good", "my"])
N = 6


def extract_vectors(params, which="mean", normalize=False):
    vectors = SoftmaxObjective.vectors(params.arrays(), which)
    return unit_rows(vectors) if normalize else vectors


def final_params(dtype=np.float64) -> Params:
    return initialize_model(N, len(WORDS), random_seed=3, dtype=dtype)


@pytest.fixture
def run(tmp_path) -> Path:
    return make_run(tmp_path / "run", WORDS, N)


@pytest.fixture
def random_embeddings() -> Embeddings:
    """Centred random vectors: well-separated cosines, so neighbour orders are unambiguous."""
    rng = np.random.default_rng(0)
    return Embeddings(WORDS, rng.standard_normal((len(WORDS), N)))


# ----------------------------------------------------------------------------- extract_vectors

def test_extract_vectors_choices():
    params = final_params()
    np.testing.assert_array_equal(extract_vectors(params, "w1"), params.W1.T)
    np.testing.assert_array_equal(extract_vectors(params, "w2"), params.W2)
    np.testing.assert_array_equal(extract_vectors(params), (params.W1.T + params.W2) / 2)
    for which in ("mean", "w1", "w2"):
        vectors = extract_vectors(params, which)
        assert vectors.shape == (len(WORDS), N) and vectors.flags.c_contiguous
        vectors += 1  # a copy: the model is untouched
    np.testing.assert_array_equal(params.W1, final_params().W1)
    np.testing.assert_array_equal(params.W2, final_params().W2)


def test_extract_vectors_keeps_dtype():
    assert extract_vectors(final_params(np.float32), "mean").dtype == np.float32


def test_extract_vectors_normalize_leaves_zero_rows_zero():
    params = final_params()
    params.W1[:, 2] = 0
    params.W2[2] = 0
    vectors = extract_vectors(params, "mean", normalize=True)
    norms = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(np.delete(norms, 2), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(vectors[2], 0)
    raw = extract_vectors(params, "mean")
    np.testing.assert_allclose(vectors[5], raw[5] / np.linalg.norm(raw[5]))


def test_extract_vectors_rejects_unknown_choice():
    with pytest.raises(ValueError, match="mean, w1, w2.*'W1'"):
        extract_vectors(final_params(), "W1")


# ------------------------------------------------------------------------------------ queries

@pytest.fixture
def toy() -> Embeddings:
    """2-D vectors with known geometry: royalty on one axis, gender on the other."""
    vectors = {
        "king": [1.0, 1.0], "queen": [1.0, -1.0], "man": [0.1, 1.0], "woman": [0.1, -1.0],
        "prince": [0.9, 1.1], "apple": [-1.0, 0.0], "zero": [0.0, 0.0],
    }
    return Embeddings(list(vectors), np.array(list(vectors.values())))


def test_basic_lookup(toy):
    assert len(toy) == 7 and "king" in toy and "kings" not in toy
    assert toy.words[:2] == ["king", "queen"] and toy.vector_size == 2
    np.testing.assert_array_equal(toy.vector("queen"), [1.0, -1.0])
    np.testing.assert_array_equal(toy["queen"], [1.0, -1.0])
    np.testing.assert_array_equal(toy[["man", "king"]], [[0.1, 1.0], [1.0, 1.0]])
    assert not toy.vectors.flags.writeable


def test_similarity_is_cosine(toy):
    assert toy.similarity("king", "queen") == pytest.approx(0.0, abs=1e-12)
    assert toy.similarity("king", "king") == pytest.approx(1.0)
    assert toy.similarity("king", "apple") == pytest.approx(-np.sqrt(0.5))
    assert toy.similarity("king", "zero") == 0.0  # a zero vector has no direction


def test_most_similar_excludes_the_query_word(toy):
    result = toy.most_similar("king", topn=3)
    assert [w for w, _ in result[:2]] == ["prince", "man"]
    cosine = (0.9 + 1.1) / (np.sqrt(2) * np.hypot(0.9, 1.1))
    assert result[0][1] == pytest.approx(cosine)
    assert all(w != "king" for w, _ in toy.most_similar("king", topn=100))
    assert len(toy.most_similar("king", topn=100)) == 6
    assert toy.most_similar("king", topn=0) == []


def test_most_similar_breaks_ties_by_row_order():
    vectors = np.array([[1.0, 0], [0, 1], [0, 1], [0, 1], [1, 0]])
    emb = Embeddings(["a", "b", "c", "d", "e"], vectors)
    assert [w for w, _ in emb.most_similar("a", topn=2)] == ["e", "b"]
    assert [w for w, _ in emb.most_similar("e", topn=3)] == ["a", "b", "c"]


def test_most_similar_to_a_vector_can_return_any_word(toy):
    assert toy.most_similar(np.array([2.0, 2.0]), topn=1) == [("king", pytest.approx(1.0))]
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        toy.most_similar(np.zeros(3))


def test_most_similar_matches_a_brute_force_ranking(random_embeddings):
    emb = random_embeddings
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    for word in ("king", ".", "the"):
        i = emb.words.index(word)
        cosines = unit @ unit[i]
        expected = [emb.words[j] for j in np.argsort(-cosines) if j != i][:5]
        got = emb.most_similar(word, topn=5)
        assert [w for w, _ in got] == expected
        others = np.delete(cosines, i)
        np.testing.assert_allclose([c for _, c in got], np.sort(others)[::-1][:5])


def test_analogy(toy):
    # man is to woman as king is to ? -> queen; the three inputs are never answers.
    assert toy.analogy("man", "woman", "king")[0][0] == "queen"
    assert toy.analogy("woman", "man", "queen")[0][0] in {"king", "prince"}
    answers = [w for w, _ in toy.analogy("man", "woman", "king", topn=10)]
    assert not {"man", "woman", "king"} & set(answers) and len(answers) == 4


def test_unknown_word_names_it_and_close_spellings(toy):
    with pytest.raises(KeyError, match=r"'quen' is not in the vocabulary \(7 words\); "
                                       r"did you mean 'queen'"):
        toy.most_similar("quen")
    for call in (lambda: toy["kin"], lambda: toy.similarity("king", "kin"),
                 lambda: toy.analogy("man", "kin", "king")):
        with pytest.raises(KeyError, match="'kin'.*'king'"):
            call()
    with pytest.raises(KeyError, match="2 words.*'kng' \\(did you mean 'king'.*'xyzzy'"):
        toy.check_words(["king", "kng", "xyzzy"])


def test_constructor_validates():
    with pytest.raises(ValueError, match="2 words but 3 vectors"):
        Embeddings(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="repeated: \\['a'\\]"):
        Embeddings(["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        Embeddings(["a"], np.zeros(3))


def test_format_neighbours_table():
    table = format_neighbours("king", [("queen", 0.91234), ("lord", 0.5)])
    assert table.splitlines() == ["nearest to 'king':", "rank  word   cosine",
                                  "   1  queen  0.9123", "   2  lord   0.5000"]


# --------------------------------------------------------------------------------- from_run

def test_from_run_uses_the_newest_checkpoint(run):
    emb = load_embeddings(run)
    params = final_params()
    assert emb.words == WORDS
    np.testing.assert_array_equal(emb.vectors, extract_vectors(params, "mean"))
    assert emb.source.endswith("step_00000010.npz") and emb.which == "mean"
    np.testing.assert_array_equal(emb.counts, np.arange(1, len(WORDS) + 1))
    w2 = load_embeddings(run, which="w2", normalize=True)
    np.testing.assert_allclose(w2.vectors, extract_vectors(params, "w2", normalize=True))


def test_from_run_accepts_a_checkpoint_file(run):
    emb = load_embeddings(checkpoint_path(run / "checkpoints", 5), which="w1")
    np.testing.assert_array_equal(emb.vectors, initialize_model(N, len(WORDS), 11).W1.T)


def test_from_run_missing_folder(tmp_path):
    with pytest.raises(RunFolderError, match="nowhere"):
        load_embeddings(tmp_path / "nowhere")


def test_from_run_folder_without_checkpoints(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match=r"empty has no checkpoints.*step_\*\.npz"):
        load_embeddings(tmp_path / "empty")


def test_checkpoint_without_vocabulary_uses_the_run_vocab_txt(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N, vocab_in_checkpoint=False)
    emb = load_embeddings(run)
    assert emb.words == WORDS
    np.testing.assert_array_equal(emb.vectors, extract_vectors(final_params(), "mean"))


def test_checkpoint_without_vocabulary_and_no_vocab_txt(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N, vocab_in_checkpoint=False)
    (run / "vocab.txt").unlink()
    with pytest.raises(RunFolderError, match=r"step_00000010\.npz holds no vocabulary.*"
                                                r"checkpoints/vocab\.txt and .*run/vocab\.txt"):
        load_embeddings(run)


def test_vocab_txt_of_another_run_is_rejected(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N, vocab_in_checkpoint=False)
    Vocabulary(["a", "b"]).save(run / "vocab.txt")
    with pytest.raises(CheckpointError, match="vocab.txt has 2 words but .* has V = 15"):
        load_embeddings(run)


def test_unreadable_newest_checkpoint_falls_back_with_a_warning(run):
    checkpoint_path(run / "checkpoints", 10).write_bytes(b"PK\x03\x04 cut short")
    with pytest.warns(UserWarning, match="step_00000005.npz: newer checkpoints cannot be read"):
        emb = load_embeddings(run, which="w1")
    np.testing.assert_array_equal(emb.vectors, initialize_model(N, len(WORDS), 11).W1.T)


# ---------------------------------------------------------------------------------- formats

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_npy_round_trip_is_exact(run, tmp_path, dtype):
    emb = Embeddings(WORDS, extract_vectors(final_params(dtype)), counts=range(len(WORDS)))
    written = emb.save(tmp_path / "out", "npy")
    assert written == [tmp_path / "out" / "vectors.npy", tmp_path / "out" / "vocab.txt"]
    for path in (tmp_path / "out", tmp_path / "out" / "vectors.npy"):
        back = Embeddings.load(path)
        assert back.words == WORDS and back.vectors.dtype == dtype
        np.testing.assert_array_equal(back.vectors, emb.vectors)
        np.testing.assert_array_equal(back.counts, np.arange(len(WORDS)))


def test_npy_accepts_a_word_per_line_vocabulary(tmp_path):
    np.save(tmp_path / "emb.npy", np.eye(3))
    (tmp_path / "vocab.txt").write_text(".\nb\nc\n", encoding="utf-8")
    emb = Embeddings.load(tmp_path / "emb.npy")
    assert emb.words == [".", "b", "c"] and emb.counts is None


def test_npy_vocabulary_must_match_the_vectors(tmp_path):
    np.save(tmp_path / "vectors.npy", np.eye(3))
    (tmp_path / "vocab.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match="vocab.txt has 2 words but .*vectors.npy has 3"):
        Embeddings.load(tmp_path)
    (tmp_path / "vocab.txt").unlink()
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        Embeddings.load(tmp_path / "vectors.npy")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_word2vec_text_round_trip_is_exact(tmp_path, dtype):
    emb = Embeddings(WORDS, extract_vectors(final_params(dtype)))
    path = emb.save(tmp_path / "vectors.txt", "word2vec")[0]
    back = Embeddings.load(path, dtype=dtype)
    assert back.words == WORDS and back.vectors.dtype == dtype
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    assert path.read_text(encoding="utf-8").splitlines()[0] == f"{len(WORDS)} {N}"


def test_word2vec_text_reads_as_float64_by_default(tmp_path):
    emb = Embeddings(WORDS, extract_vectors(final_params(np.float32)))
    back = Embeddings.load(emb.save(tmp_path / "v.txt", "word2vec")[0])
    assert back.vectors.dtype == np.float64
    np.testing.assert_array_equal(back.vectors.astype(np.float32), emb.vectors)


def test_word2vec_binary_round_trip_is_float32_exact(tmp_path):
    emb = Embeddings(WORDS, extract_vectors(final_params()))
    path = emb.save(tmp_path / "vectors.bin", "word2vec-bin")[0]
    back = Embeddings.load(path)
    assert back.words == WORDS and back.vectors.dtype == np.float32
    np.testing.assert_array_equal(back.vectors, emb.vectors.astype(np.float32))


def test_word2vec_binary_layout(tmp_path):
    path = Embeddings([".", "é"], np.array([[1.0, -2.0], [0.5, 0.0]])).save(
        tmp_path / "v.bin", "word2vec-bin")[0]
    assert path.read_bytes() == (b"2 2\n. " + struct.pack("<2f", 1.0, -2.0) + b"\n"
                                 + "é ".encode() + struct.pack("<2f", 0.5, 0.0) + b"\n")


@pytest.mark.parametrize("format", ["word2vec", "word2vec-bin", "npy"])
def test_format_is_detected_from_the_content(tmp_path, random_embeddings, format):
    path = random_embeddings.save(tmp_path / "vectors.data", format)[0]
    back = Embeddings.load(path)
    assert back.words == WORDS
    np.testing.assert_allclose(back.vectors, random_embeddings.vectors, rtol=1e-6)


def test_words_with_whitespace_cannot_be_written_as_word2vec(tmp_path):
    good = tmp_path / "vectors.txt"
    good.write_text("keep me")
    emb = Embeddings(["new york", "b"], np.eye(2))
    for format in ("word2vec", "word2vec-bin"):
        with pytest.raises(VectorFileError, match="whitespace.*'new york'"):
            emb.save(good, format)
    assert good.read_text() == "keep me"
    assert Embeddings.load(emb.save(tmp_path / "npy", "npy")[0]).words == ["new york", "b"]


def test_unknown_format_is_rejected(tmp_path, toy):
    with pytest.raises(ValueError, match="word2vec, word2vec-bin, npy"):
        toy.save(tmp_path / "v", "glove")


# --------------------------------------------------------------------------- malformed files

@pytest.mark.parametrize("header", ["", "15", "fifteen 6", "15 6 7", "0 6", "15 -6", "1.5 6"])
@pytest.mark.parametrize("format", ["word2vec", "word2vec-bin"])
def test_bad_header(tmp_path, header, format):
    path = tmp_path / "bad.vec"
    path.write_bytes(header.encode() + b"\nking 1 2 3 4 5 6\n")
    with pytest.raises(VectorFileError,
                       match=r"bad.vec, line 1: expected the word2vec header 'V N'"):
        Embeddings.load(path, format=format)
    with pytest.raises(VectorFileError, match="line 1"):
        Embeddings.load(path)  # the header is checked before the format is guessed


def test_wrong_count_of_numbers_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("3 2\na 1 2\nb 3 4\nc 5\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"bad.txt, line 4: expected the word and 2 numbers; "
                                              r"found 1 numbers after 'c'"):
        Embeddings.load(path)
    path.write_text("3 2\na 1 2\nb 3 x4\nc 5 6\n", encoding="utf-8")
    with pytest.raises(VectorFileError,
                       match=r"line 3: 'x4' \(in the vector of 'b'\) is not a number"):
        Embeddings.load(path)


def test_text_word_count_must_match_the_header(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("3 2\na 1 2\nb 3 4\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match="announces 3 words but the file holds 2"):
        Embeddings.load(path)
    path.write_text("1 2\na 1 2\nb 3 4\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match="line 3: more words than the 1"):
        Embeddings.load(path)


def test_duplicate_words_are_reported_with_their_places(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("3 1\na 1\n. 2\na 3\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match="'a' appears twice \\(line 2 and line 4\\)"):
        Embeddings.load(path)
    binary = tmp_path / "v.bin"
    binary.write_bytes(b"2 1\na " + struct.pack("<f", 1) + b"\na " + struct.pack("<f", 2) + b"\n")
    with pytest.raises(VectorFileError,
                       match=r"'a' appears twice \(byte offset 4 and byte offset 11\)"):
        Embeddings.load(binary)


def test_truncated_binary_names_the_file_word_and_offset(tmp_path, random_embeddings):
    full = random_embeddings.save(tmp_path / "full.bin", "word2vec-bin")[0].read_bytes()
    record = 3 + 4 * N  # the second word is "," : ', ' + vector + '\n'
    cut = tmp_path / "cut.bin"
    cut.write_bytes(full[:len(f"{len(WORDS)} {N}\n") + record + 10])
    with pytest.raises(VectorFileError, match=rf"cut.bin: truncated at word 2 of {len(WORDS)} "
                                              rf"\('\.'\): its vector needs {4 * N} bytes from "
                                              rf"byte offset \d+, but only \d+ remain"):
        Embeddings.load(cut, format="word2vec-bin")
    cut.write_bytes(full[:-(4 * N + 8)])  # the last record loses its vector and part of its word
    with pytest.raises(VectorFileError,
                       match=rf"cut.bin: truncated or corrupt at word {len(WORDS)}"):
        Embeddings.load(cut, format="word2vec-bin")


def test_binary_with_more_words_than_its_header(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"1 1\na " + struct.pack("<f", 1) + b"\nb " + struct.pack("<f", 2) + b"\n")
    with pytest.raises(VectorFileError, match="more data after the 1 words .*byte offset 11"):
        Embeddings.load(path)


def test_missing_vector_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        Embeddings.load(tmp_path / "nothing.txt")


def test_a_checkpoint_is_not_a_vector_file(run):
    with pytest.raises(VectorFileError, match="zip archive.*load_embeddings"):
        Embeddings.load(checkpoint_path(run / "checkpoints", 10))


# -------------------------------------------------------------------------------- from_path

def test_from_path_accepts_runs_checkpoints_and_vector_files(run, tmp_path):
    expected = load_embeddings(run, which="w2")
    text = expected.save(tmp_path / "v.txt")[0]
    for source in (run, run / "checkpoints", checkpoint_path(run / "checkpoints", 10)):
        np.testing.assert_array_equal(load_embeddings(source, which="w2").vectors,
                                      expected.vectors)
    np.testing.assert_array_equal(load_embeddings(text).vectors, expected.vectors)
    unit = load_embeddings(text, normalize=True).vectors
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0)
    with pytest.raises(ValueError, match="vector file.*only to training runs"):
        load_embeddings(text, which="w1")


# ------------------------------------------------------------------------------------ gensim

@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files(tmp_path, random_embeddings, binary):
    emb = random_embeddings
    path = emb.save(tmp_path / "v", "word2vec-bin" if binary else "word2vec")[0]
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == WORDS
    if binary:
        np.testing.assert_array_equal(kv.vectors, emb.vectors.astype(np.float32))
    else:
        np.testing.assert_allclose(kv.vectors, emb.vectors, rtol=1e-6)
    for word in ("king", ".", "café", "the"):
        ours = emb.most_similar(word, topn=5)
        theirs = kv.most_similar(word, topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([c for _, c in ours], [c for _, c in theirs], atol=1e-5)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_most_similar_order_on_trained_shape_vectors(tmp_path, binary):
    # Vectors of a (tiny) model as a run would export them.
    emb = Embeddings(WORDS, extract_vectors(final_params()))
    path = emb.save(tmp_path / "v", "word2vec-bin" if binary else "word2vec")[0]
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    for word in ("king", "queen", "."):
        assert ([w for w, _ in emb.most_similar(word, topn=5)]
                == [w for w, _ in kv.most_similar(word, topn=5)])


def test_analogy_agrees_with_gensim(random_embeddings):
    emb = random_embeddings
    kv = KeyedVectors(vector_size=N)
    kv.add_vectors(WORDS, emb.vectors)
    ours = emb.analogy("man", "woman", "king", topn=3)
    theirs = kv.most_similar(positive=["woman", "king"], negative=["man"], topn=3)
    assert [w for w, _ in ours] == [w for w, _ in theirs]


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensim_files(tmp_path, random_embeddings, binary):
    kv = KeyedVectors(vector_size=N)
    kv.add_vectors(WORDS, random_embeddings.vectors.astype(np.float32))
    path = tmp_path / "gensim.vec"
    kv.save_word2vec_format(str(path), binary=binary)
    emb = Embeddings.load(path)  # format detected: gensim's binary has no '\n' after vectors
    assert sorted(emb.words) == sorted(WORDS)
    order = [kv.key_to_index[w] for w in emb.words]
    np.testing.assert_array_equal(emb.vectors.astype(np.float32), kv.vectors[order])


def test_a_header_larger_than_the_file_is_refused_before_allocating(tmp_path):
    text = tmp_path / "huge.txt"
    text.write_bytes(b"50000000 300\nking 0.1 0.2\n")
    with pytest.raises(VectorFileError, match=r"huge.txt, line 1: the header announces "
                                              r"50,000,000 words x 300"):
        Embeddings.load(text)
    binary = tmp_path / "huge.bin"
    binary.write_bytes(b"50000000 300\n" + b"king " + b"\x00" * 1200)
    with pytest.raises(VectorFileError, match="needs at least"):
        Embeddings.load(binary, format="word2vec-bin")


def test_nan_or_infinity_in_a_vector_file_names_the_line(tmp_path):
    path = tmp_path / "nan.txt"
    path.write_text("2 2\nking 0.1 0.2\nqueen nan 0.3\n")
    with pytest.raises(VectorFileError, match=r"nan.txt, line 3: the vector of 'queen' holds NaN"):
        Embeddings.load(path)
