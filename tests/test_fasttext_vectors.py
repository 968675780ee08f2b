"""Subword vectors and fastText's files: composition, queries, .bin/.vec, fastText and gensim."""
from __future__ import annotations

import struct

import fasttext
import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_model, load_facebook_vectors

from cbow import evaluation as evaluate
from cbow.vectors.formats import fasttext_bin
from cbow.data import subwords
from cbow.vectors.embeddings import Embeddings
from cbow.errors import InputError, UnknownWord
from cbow.vectors.formats.fasttext_bin import FastTextFileError
from cbow.vectors.subword import SubwordEmbeddings
from conftest import run_cbow
from fasttext_oracle import fasttext_model  # noqa: F401 (a fixture)

WORDS = ["the", "king", "queen", "café", "naïve", "日本語", "a", "kingdom", "über"]
UNSEEN = ["kings", "queenly", "cafés", "日本", "Zürich", "x🙂y"]
MINN, MAXN, BUCKET, N = 3, 5, 500, 8


@pytest.fixture
def emb() -> SubwordEmbeddings:
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((len(WORDS) + BUCKET, N)).astype(np.float32)
    return SubwordEmbeddings.from_input_matrix(WORDS, matrix, MINN, MAXN,
                                               counts=np.arange(len(WORDS), 0, -1) * 10)


def naive_vector(emb: SubwordEmbeddings, word: str) -> np.ndarray:
    """fastText's getWordVector written out: own row (if any) and n-gram rows, mean in float64."""
    rows = [WORDS.index(word)] if word in WORDS else []
    rows += [len(WORDS) + h % BUCKET for h in subwords.ngram_hashes(word, MINN, MAXN).tolist()]
    matrix = np.concatenate([emb.word_rows, emb.ngram_rows])
    return matrix[rows].astype(np.float64).mean(axis=0)


# -------------------------------------------------------------------------- composition

def test_vectors_are_the_mean_of_word_and_ngram_rows(emb):
    for word in WORDS + UNSEEN:
        np.testing.assert_allclose(emb[word], naive_vector(emb, word), rtol=1e-5, atol=1e-6)
    assert emb.vectors.shape == (len(WORDS), N) and emb.vectors.dtype == np.float32
    np.testing.assert_array_equal(emb.vectors[1], emb["king"])


def test_an_unseen_word_is_not_in_the_vocabulary_but_has_a_vector(emb):
    assert "kings" not in emb and emb.has_vector("kings")
    assert emb["kings"].shape == (N,)
    assert emb[["king", "kings"]].shape == (2, N)
    with pytest.raises(UnknownWord):
        emb.index("kings")  # rows are for vocabulary words only


def test_a_word_without_ngrams_is_one_clear_error_or_zeros_when_asked():
    matrix = np.ones((2 + 10, 4), np.float32)
    # '<ab>' is too short for n-grams of 5 characters.
    emb = SubwordEmbeddings.from_input_matrix(["alpha", "beta"], matrix, 5, 6)
    with pytest.raises(UnknownWord, match=r"'ab' is not in the vocabulary.*no character n-grams "
                                          r"of 5-6 characters: it has no vector"):
        emb["ab"]
    np.testing.assert_array_equal(emb.vector("ab", if_no_ngrams="zeros"), np.zeros(4))
    with pytest.raises(UnknownWord, match="'ab'"):
        emb.most_similar("ab")
    with pytest.raises(InputError, match="if_no_ngrams"):
        emb.vector("ab", if_no_ngrams="maybe")


def test_without_ngrams_it_is_a_plain_vocabulary(emb):
    vectors = np.random.default_rng(0).standard_normal((3, 4))
    plain = SubwordEmbeddings(["x", "y", "z"], vectors, np.zeros((0, 4)), 3, 0)
    np.testing.assert_array_equal(plain.vectors, vectors)
    with pytest.raises(UnknownWord, match=r"maxn 0"):
        plain["w"]


def test_the_rows_must_fit_the_words():
    with pytest.raises(ValueError, match=r"word_rows must be \(2, N\)"):
        SubwordEmbeddings(["a", "b"], np.zeros((3, 3)), np.zeros((10, 3)), 3, 6)
    with pytest.raises(ValueError, match="same dtype"):
        SubwordEmbeddings(["a", "b"], np.zeros((2, 3)), np.zeros((10, 3), np.float32), 3, 6)
    with pytest.raises(InputError, match="bucket must be >= 1 when maxn > 0"):
        SubwordEmbeddings(["a", "b"], np.zeros((2, 3)), np.zeros((0, 3)), 3, 6)


def test_reordered_keeps_every_vector_and_shares_the_ngram_rows(emb):
    order = np.argsort(emb.words)
    other = emb.reordered(order)
    assert other.words == sorted(WORDS) and other.ngram_rows is not None
    assert np.shares_memory(other.ngram_rows, emb.ngram_rows)
    for word in WORDS + UNSEEN:
        np.testing.assert_array_equal(other[word], emb[word])
    np.testing.assert_array_equal(other.counts, emb.counts[order])


# ------------------------------------------------------------------------------ queries

def test_queries_accept_unseen_words(emb):
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    assert emb.similarity("kings", "king") == pytest.approx(float(unit(emb["kings"]) @
                                                                  unit(emb["king"])), rel=1e-5)
    assert emb.similarity("kings", "cafés") == pytest.approx(emb.similarity("cafés", "kings"))
    # An unseen word's neighbours are those of its vector; the vocabulary all remain candidates.
    assert emb.most_similar("kings", topn=len(WORDS)) == emb.most_similar(emb["kings"],
                                                                          topn=len(WORDS))
    expected = emb.most_similar(unit(emb["king"]) - unit(emb["kings"]) + unit(emb["queen"]),
                                topn=len(WORDS))
    expected = [(w, s) for w, s in expected if w not in ("king", "queen")][:2]
    got = emb.analogy("kings", "king", "queen", topn=2)
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5)
    # Vocabulary words alone: the base class's answers, unchanged.
    assert emb.analogy("king", "queen", "the") == Embeddings.analogy(emb, "king", "queen", "the")


def test_analogy_names_every_word_without_a_vector():
    emb = SubwordEmbeddings.from_input_matrix(["alpha", "beta", "gamma"], np.ones((13, 4)), 6, 6)
    with pytest.raises(UnknownWord, match=r"2 words .*'ab', 'cd'"):
        emb.analogy("ab", "alpha", "cd")


# ------------------------------------------------------------------------------ files

def test_bin_round_trip_keeps_every_row(emb, tmp_path):
    path = tmp_path / "model.bin"
    assert emb.save(path, "fasttext-bin") == [path]
    back = Embeddings.load(path)
    assert isinstance(back, SubwordEmbeddings) and back.words == WORDS
    assert (back.minn, back.maxn, back.bucket) == (MINN, MAXN, BUCKET)
    np.testing.assert_array_equal(back.word_rows, emb.word_rows)
    np.testing.assert_array_equal(back.ngram_rows, emb.ngram_rows)
    np.testing.assert_array_equal(back.counts, emb.counts)
    for word in UNSEEN:
        np.testing.assert_array_equal(back[word], emb[word])


def test_bin_file_round_trip_is_byte_exact(fasttext_model, tmp_path):
    model, *_ = fasttext_model
    original = tmp_path / "fasttext.bin"
    model.save_model(str(original))
    again = fasttext_bin.write_model(tmp_path / "again.bin",
                                     fasttext_bin.read_model(original, output=True))
    assert again.read_bytes() == original.read_bytes()


def test_we_read_fasttexts_bin_with_its_exact_vectors(fasttext_model, tmp_path):
    model, minn, maxn, bucket = fasttext_model
    path = tmp_path / "fasttext.bin"
    model.save_model(str(path))
    emb = Embeddings.load(path)
    assert isinstance(emb, SubwordEmbeddings) and emb.words == model.words
    assert (emb.minn, emb.maxn, emb.bucket) == (minn, maxn, bucket)
    for word in model.words + ["UNSEEN", "Zürich", "日本Ω", "x🙂y"]:
        np.testing.assert_array_equal(emb[word], model.get_word_vector(word), err_msg=word)


def test_fasttext_and_gensim_read_our_bin_with_our_vectors(emb, tmp_path):
    path = tmp_path / "ours.bin"
    emb.save(path, "fasttext-bin")
    theirs = fasttext.load_model(str(path))
    assert theirs.words == WORDS
    assert theirs.get_input_matrix().shape == (len(WORDS) + BUCKET, N)
    vectors = load_facebook_vectors(str(path))
    model = load_facebook_model(str(path))
    assert vectors.index_to_key == WORDS and model.wv.index_to_key == WORDS
    for word in WORDS + UNSEEN:
        ours = emb[word]
        np.testing.assert_array_equal(theirs.get_word_vector(word), ours, err_msg=word)
        np.testing.assert_allclose(vectors[word], ours, rtol=1e-5, atol=1e-6, err_msg=word)
        np.testing.assert_allclose(model.wv[word], ours, rtol=1e-5, atol=1e-6, err_msg=word)
    assert [w for w, _ in vectors.most_similar("king", topn=3)] == [
        w for w, _ in emb.most_similar("king", topn=3)]


def test_vec_is_word2vec_text_of_the_composed_vectors(emb, tmp_path):
    path = tmp_path / "vectors.vec"
    emb.save(path, "fasttext-vec")
    back = Embeddings.load(path, dtype=np.float32)
    assert type(back) is Embeddings and back.words == WORDS
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    kv = KeyedVectors.load_word2vec_format(str(path))
    np.testing.assert_array_equal(kv.vectors, emb.vectors)


def test_words_the_bin_format_cannot_hold(tmp_path):
    emb = SubwordEmbeddings(["a\0b", "c"], np.zeros((2, 2)), np.zeros((4, 2)), 3, 3)
    with pytest.raises(FastTextFileError, match="NUL"):
        emb.save(tmp_path / "x.bin", "fasttext-bin")
    assert not (tmp_path / "x.bin").exists()


# ------------------------------------------------------------------------------ damage

@pytest.fixture
def good_bin(emb, tmp_path):
    path = tmp_path / "good.bin"
    emb.save(path, "fasttext-bin")
    return path


def offset_of_input_matrix(data: bytes) -> int:
    position = 8 + 56 + 28
    for _ in WORDS:
        position = data.index(b"\0", position) + 1 + 9
    return position


def test_a_truncated_bin_is_one_clear_error_wherever_it_is_cut(good_bin, tmp_path):
    data = good_bin.read_bytes()
    cut = tmp_path / "cut.bin"
    matrix = offset_of_input_matrix(data)
    for size in [0, 3, 8, 40, 64, 70, 93, 100, matrix, matrix + 5, matrix + 17, matrix + 500,
                 len(data) - 17 - 4 * len(WORDS) * N, len(data) - 1]:
        cut.write_bytes(data[:size])
        with pytest.raises(FastTextFileError, match=r"cut.bin, byte [\d,]+: "):
            SubwordEmbeddings.load(cut)


def test_a_header_larger_than_the_file_is_refused_before_allocating(good_bin, monkeypatch):
    data = bytearray(good_bin.read_bytes())
    struct.pack_into("<i", data, 8 + 8 * 4, 2**31 - 1)  # bucket: 8 GB of rows for dim 8
    good_bin.write_bytes(bytes(data))
    monkeypatch.setattr(np, "fromfile", lambda *a, **k: pytest.fail("allocated the matrix"))
    with pytest.raises(FastTextFileError, match=r"the input matrix has [\d,]+ rows; expected "
                                                r"2,147,483,656"):
        SubwordEmbeddings.load(good_bin)
    struct.pack_into("<q", data, offset_of_input_matrix(bytes(data)) + 1, 2**31 + 8)  # rows too
    good_bin.write_bytes(bytes(data))
    with pytest.raises(FastTextFileError, match="truncated: the input matrix"):
        SubwordEmbeddings.load(good_bin)


def patched(path, offset: int, fmt: str, value) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("offset, fmt, value, message", [
    (0, "<i", 12345, "not a fastText .bin model"),
    (4, "<i", 13, "format version 13"),
    (8 + 7 * 4, "<i", 3, "supervised"),
    (8, "<i", 0, r"impossible arguments in the header \(dim 0\)"),
    (8 + 6 * 4, "<i", 9, r"loss 9"),
    (64 + 8, "<i", 2, "2 labels: a supervised model"),
    (64 + 4, "<i", 3, "impossible dictionary sizes"),
    (64 + 20, "<q", 4, "pruned"),
])
def test_damaged_headers_are_one_clear_error(good_bin, offset, fmt, value, message):
    patched(good_bin, offset, fmt, value)
    with pytest.raises(FastTextFileError, match=message):
        SubwordEmbeddings.load(good_bin)


def test_damaged_dictionary_and_matrices(good_bin):
    data = good_bin.read_bytes()
    matrix = offset_of_input_matrix(data)
    patched(good_bin, matrix, "<?", True)
    with pytest.raises(FastTextFileError, match=r"quantized \(a .ftz model\)"):
        SubwordEmbeddings.load(good_bin)
    good_bin.write_bytes(data)
    twice = fasttext_bin.read_model(good_bin)
    twice.words[1] = "the"
    fasttext_bin.write_model(good_bin, twice)
    with pytest.raises(FastTextFileError, match="the word 'the' appears twice"):
        SubwordEmbeddings.load(good_bin)
    good_bin.write_bytes(data)
    patched(good_bin, matrix + 17 + 4 * (3 * N + 2), "<f", float("nan"))
    with pytest.raises(FastTextFileError, match="row 3 of the input matrix holds NaN"):
        SubwordEmbeddings.load(good_bin)
    good_bin.write_bytes(data + b"\0")
    with pytest.raises(FastTextFileError, match="there is data after it"):
        SubwordEmbeddings.load(good_bin)


def test_other_files_are_not_fasttext_models(tmp_path, emb):
    text = tmp_path / "vectors.txt"
    emb.save(text, "word2vec")
    with pytest.raises(FastTextFileError, match="not a fastText .bin model"):
        SubwordEmbeddings.load(text)
    with pytest.raises(FileNotFoundError):
        SubwordEmbeddings.load(tmp_path / "missing.bin")
    assert type(Embeddings.load(text)) is Embeddings


# ------------------------------------------------------------------------------ evaluation

PAIRS = ("king queen 9\n"
         "kings queen 8\n"      # 'kings' is unseen: its n-grams give it a vector
         "the kingdom 2\n"
         "Cafés naïve 3\n"      # unseen (lower-cased to 'cafés' by the case mode)
         "king a 1\n"
         "qq the 0\n")          # unseen; '<qq>' has n-grams of 3 and 4 characters, not of 6


def test_word_pairs_score_unseen_words_with_their_subword_vectors(emb, tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS, encoding="utf-8")
    result = evaluate.evaluate_word_pairs(emb, path)
    assert (result.pairs_used, result.pairs_total, result.pairs_subword) == (6, 6, 3)
    pairs = [line.split() for line in PAIRS.splitlines()]
    cosines = [emb.similarity(a.lower(), b.lower()) for a, b, _ in pairs]
    assert result.spearman == pytest.approx(
        evaluate.spearman([float(s) for *_, s in pairs], cosines), rel=1e-6)
    assert evaluate.to_json([result])["pairs"][str(path)]["pairs_subword"] == 3
    # The same composed vectors without n-grams skip the pairs with unseen words.
    plain = evaluate.evaluate_word_pairs(Embeddings(emb.words, emb.vectors), path)
    assert (plain.pairs_used, plain.pairs_subword) == (3, 0)
    # A word too short for any n-gram is still skipped.
    short = SubwordEmbeddings.from_input_matrix(WORDS, np.concatenate([emb.word_rows,
                                                                       emb.ngram_rows]), 6, 6)
    assert evaluate.evaluate_word_pairs(short, path).pairs_oov == 1  # 'qq'


def test_by_frequency_keeps_subword_vectors(emb):
    ordered = evaluate.by_frequency(emb.reordered(np.arange(len(WORDS))[::-1]))
    assert isinstance(ordered, SubwordEmbeddings) and ordered.words == WORDS
    np.testing.assert_array_equal(ordered["kings"], emb["kings"])


def test_cli_evaluate_and_similar_on_a_bin(emb, tmp_path):
    model, pairs = tmp_path / "model.bin", tmp_path / "pairs.txt"
    emb.save(model, "fasttext-bin")
    pairs.write_text(PAIRS, encoding="utf-8")
    out = run_cbow("evaluate", model, "--pairs", pairs, check=True).stdout
    assert "subword" in out and f"{pairs}" in out
    line = next(line for line in out.splitlines() if line.startswith(str(pairs)))
    assert line.split()[-1] == "3" and "6 / 6" in line
    out = run_cbow("similar", model, "kings", "--topn", "2", check=True).stdout
    assert out.startswith("nearest to 'kings':")
    assert [row.split()[1] for row in out.splitlines()[2:]] == [
        w for w, _ in emb.most_similar("kings", topn=2)]


def test_vector_arithmetic_takes_unseen_words(emb):
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    got = emb.most_similar(positive=["kings", "queen"], negative=["king"], topn=3)
    query = (unit(emb["kings"]) + unit(emb["queen"]) - unit(emb["king"])) / 3
    expected = [(w, s) for w, s in emb.most_similar(query, topn=len(WORDS))
                if w not in ("queen", "king")][:3]
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5)
    cosmul = emb.most_similar(positive=["kings"], negative=["cafés"], method="3cosmul", topn=2)
    assert len(cosmul) == 2 and "kings" not in dict(cosmul)


def test_the_most_frequent_words_keep_their_subword_vectors(emb):
    top = emb.most_frequent(3)  # counts fall with the row: the first three words
    assert isinstance(top, SubwordEmbeddings) and top.words == WORDS[:3]
    for word in ["kings", "café", "the"]:  # 'café' is now unseen: its n-grams remain
        np.testing.assert_allclose(top[word], naive_vector(emb, word) if word != "café" else
                                   _ngram_mean(emb, word), rtol=1e-5, atol=1e-6)


def _ngram_mean(emb, word):
    rows = [h % BUCKET for h in subwords.ngram_hashes(word, MINN, MAXN).tolist()]
    return emb.ngram_rows[rows].astype(np.float64).mean(axis=0)
