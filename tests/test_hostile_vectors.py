"""Vectors as a hostile user hands them over (issue 27): NaN on every way in, queries that have
no answer (a zero vector, a topn that is no count), words a format cannot hold, gensim's
fastText vectors both ways."""
from __future__ import annotations

import re

import numpy as np
import pytest
from gensim.models import KeyedVectors

from cbow.errors import InputError
from cbow.vectors import formats
from cbow.vectors.embeddings import Embeddings
from cbow.vectors.subword import SubwordEmbeddings
from conftest import run_cbow

WORDS = ["the", "king", "queen", "man", "woman", "kingdom", "café"]
N = 5


@pytest.fixture
def emb() -> Embeddings:
    rng = np.random.default_rng(3)
    return Embeddings(WORDS, rng.standard_normal((len(WORDS), N)),
                      counts=np.arange(len(WORDS), 0, -1))


@pytest.fixture
def sub() -> SubwordEmbeddings:
    rng = np.random.default_rng(4)
    matrix = rng.standard_normal((len(WORDS) + 50, N)).astype(np.float32)
    return SubwordEmbeddings.from_input_matrix(WORDS, matrix, 3, 5,
                                               counts=np.arange(len(WORDS), 0, -1))


# ------------------------------------------------------------------ non-finite vectors

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_from_gensim_refuses_a_non_finite_vector_naming_its_word(bad):
    kv = KeyedVectors(vector_size=3)
    vectors = np.array([[1, 0, 0], [bad, 0, 0], [0, 1, 0], [0, bad, 1]], np.float32)
    kv.add_vectors(["a", "b", "c", "d"], vectors)
    with pytest.raises(InputError, match=r"gensim KeyedVectors: the vector of 'b' \(row 1\) "
                                         r"holds NaN or infinity \(2 such rows in all\)"):
        Embeddings.from_gensim(kv)


def test_every_constructor_refuses_non_finite_rows():
    vectors = np.ones((3, 2))
    vectors[2, 1] = np.nan
    with pytest.raises(InputError, match=r"the vector of 'c' \(row 2\)"):
        Embeddings(["a", "b", "c"], vectors)
    matrix = np.ones((3 + 4, 2), np.float32)
    matrix[1, 0] = np.inf
    with pytest.raises(InputError, match=r"the own input row of 'b' \(row 1\)"):
        SubwordEmbeddings.from_input_matrix(["a", "b", "c"], matrix, 3, 4)
    matrix[1, 0], matrix[3 + 2, 1] = 1, np.nan
    with pytest.raises(InputError, match=r"n-gram row 2 \(input row 5\) holds NaN"):
        SubwordEmbeddings.from_input_matrix(["a", "b", "c"], matrix, 3, 4, source="m.bin")
    with pytest.raises(ValueError, match="real numbers"):
        Embeddings(["a"], np.ones((1, 2), np.complex128))


def test_a_non_finite_query_vector_is_refused(emb):
    with pytest.raises(InputError, match="the query vector holds NaN or infinity"):
        emb.most_similar(np.full(N, np.nan))


# ------------------------------------------------------------------ queries without an answer

@pytest.mark.parametrize("positive, negative, label", [
    (["king"], ["king"], "king - king"),
    (["king", "queen"], ["king", "queen"], "king + queen - king - queen"),
    ([], ["king", "king"], None),  # -king, twice: a direction; answered
])
def test_words_that_cancel_out_are_refused(emb, positive, negative, label):
    if label is None:
        assert len(emb.most_similar(positive=positive, negative=negative, topn=3)) == 3
        return
    with pytest.raises(InputError, match=re.escape(f"the query {label} is a zero vector (its "
                                                   f"words cancel out)")):
        emb.most_similar(positive=positive, negative=negative)


def test_an_analogy_whose_words_cancel_out_is_refused():
    # a, b and c 60 degrees apart, c = a - b: b - a + c is zero but for rounding.
    angle = np.deg2rad([0, 60, -60, 10]) + 0.1  # turned, so that rounding leaves something
    emb = Embeddings(["a", "b", "c", "d"], np.stack([np.cos(angle), np.sin(angle)], axis=1))
    u = emb.unit_vectors
    assert np.linalg.norm(u[1] - u[0] + u[2]) < 1e-15
    with pytest.raises(InputError, match=re.escape("the query b + c - a is a zero vector")):
        emb.analogy("a", "b", "c")


def test_a_zero_vector_is_no_query(emb):
    vectors = emb.vectors.copy()
    vectors[WORDS.index("man")] = 0
    zero = Embeddings(WORDS, vectors)
    for call in (lambda: zero.most_similar("man"),
                 lambda: zero.most_similar(positive=["king", "man"], negative=["queen"]),
                 lambda: zero.most_similar(positive=["king"], negative=["man"], method="3cosmul"),
                 lambda: zero.analogy("man", "king", "woman")):
        with pytest.raises(InputError, match=r"the vector of 'man' is zero; a zero vector has "
                                             r"no direction"):
            call()
    with pytest.raises(InputError, match="the query vector is zero"):
        zero.most_similar(np.zeros(N))
    assert zero.similarity("man", "king") == 0.0  # gensim's answer for a zero vector


def test_an_unseen_word_whose_ngrams_were_never_trained_is_no_query(sub):
    matrix = np.concatenate([sub.word_rows, np.zeros_like(sub.ngram_rows)])
    untrained = SubwordEmbeddings.from_input_matrix(WORDS, matrix, 3, 5)
    assert untrained.has_vector("👑") and not untrained["👑"].any()
    with pytest.raises(InputError, match=r"the vector of '👑' is zero: it is outside the "
                                         r"vocabulary, and no word the model was trained on "
                                         r"shares one of its character n-grams"):
        untrained.most_similar("👑")


@pytest.mark.parametrize("topn", [2.5, True, "3", [1]])
def test_topn_must_be_a_count(emb, topn):
    with pytest.raises(InputError, match=r"topn must be a whole number of words \(or None for "
                                         r"all\); got"):
        emb.most_similar("king", topn=topn)
    with pytest.raises(InputError, match="topn must be a whole number"):
        emb.analogy("man", "king", "woman", topn=topn)


def test_topn_none_zero_negative_huge_and_numpy(emb):
    everything = emb.most_similar("king", topn=None)
    assert [w for w, _ in everything] == [w for w, _ in emb.most_similar("king", topn=100)]
    assert len(everything) == len(WORDS) - 1 and "king" not in dict(everything)
    scores = [s for _, s in everything]
    assert scores == sorted(scores, reverse=True)
    assert len(emb.most_similar(positive=["king"], negative=["man"], topn=None)) == len(WORDS) - 2
    assert len(emb.analogy("man", "king", "woman", topn=None)) == len(WORDS) - 3
    assert emb.most_similar("king", topn=0) == []
    assert emb.most_similar("king", topn=np.int64(2)) == everything[:2]
    assert emb.most_similar("king", topn=10**12) == everything
    with pytest.raises(InputError, match="topn must be >= 0; got -1"):
        emb.most_similar("king", topn=-1)


def test_cli_similar_refuses_queries_without_an_answer_before_any_output(sub, tmp_path):
    matrix = np.concatenate([sub.word_rows, np.zeros_like(sub.ngram_rows)])
    model = tmp_path / "untrained.bin"
    SubwordEmbeddings.from_input_matrix(WORDS, matrix, 3, 5).save(model, "fasttext-bin")
    for args in (["king", "👑"], ["--positive", "king", "--negative", "king"],
                 ["king", "--topn", "0"], ["king", "--topn", "-2"]):
        proc = run_cbow("similar", model, *args)
        assert proc.returncode == 2 and proc.stdout == "", (args, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert "the vector of '👑' is zero" in run_cbow("similar", model, "king", "👑").stderr
    assert run_cbow("similar", model, "king", "--topn", "2").returncode == 0


# ------------------------------------------------------------------ gensim's fastText vectors

UNSEEN = ["kings", "queenly", "cafés", "日本", "zzyzx"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_gensim_of_subword_vectors_keeps_the_ngrams(sub, dtype):
    from gensim.models.fasttext import FastTextKeyedVectors
    sub = SubwordEmbeddings(WORDS, sub.word_rows.astype(dtype), sub.ngram_rows.astype(dtype), 3,
                            5, counts=sub.counts)
    kv = sub.to_gensim()
    assert isinstance(kv, FastTextKeyedVectors) and kv.index_to_key == WORDS
    assert (kv.min_n, kv.max_n, kv.bucket) == (3, 5, 50) and kv.vectors.dtype == dtype
    np.testing.assert_array_equal(kv.vectors, sub.vectors)
    assert [kv.get_vecattr(w, "count") for w in WORDS] == sub.counts.tolist()
    for word in UNSEEN:
        assert word not in kv.key_to_index
        np.testing.assert_allclose(kv[word], sub[word], rtol=1e-6, atol=1e-6, err_msg=word)
    kv.adjust_vectors()  # gensim's own composition of the words' vectors agrees
    np.testing.assert_allclose(kv.vectors, sub.vectors, rtol=1e-6, atol=1e-6)


def test_from_gensim_takes_fasttext_vectors_back_whole(sub):
    from gensim.models import FastText
    back = Embeddings.from_gensim(sub.to_gensim())
    assert type(back) is SubwordEmbeddings and (back.minn, back.maxn, back.bucket) == (3, 5, 50)
    np.testing.assert_array_equal(back.word_rows, sub.word_rows)
    np.testing.assert_array_equal(back.ngram_rows, sub.ngram_rows)
    assert back.counts.tolist() == sub.counts.tolist() and back.words == WORDS
    sentences = [["the", "king", "kingdom", "queen"], ["a", "café", "the", "queen"]] * 10
    model = FastText(sentences=sentences, vector_size=6, min_count=1, bucket=64, min_n=2,
                     max_n=4, epochs=1, seed=1, workers=1)
    theirs = SubwordEmbeddings.from_gensim(model.wv)
    assert theirs.words == model.wv.index_to_key and theirs.maxn == 4
    np.testing.assert_allclose(theirs.vectors, model.wv.vectors, rtol=1e-6, atol=1e-6)
    for word in UNSEEN:
        np.testing.assert_allclose(theirs[word], model.wv[word], rtol=1e-6, atol=1e-6)
    with pytest.raises(InputError, match=r"takes gensim's KeyedVectors; got FastText \(a model: "
                                         r"its word vectors are its \.wv\)"):
        Embeddings.from_gensim(model)
    with pytest.raises(InputError, match="plain KeyedVectors hold no n-gram rows"):
        SubwordEmbeddings.from_gensim(Embeddings(WORDS, sub.vectors).to_gensim())


def test_subword_vectors_without_ngrams_to_gensim_and_back(sub):
    plain = SubwordEmbeddings(WORDS, sub.word_rows, sub.ngram_rows[:0], 0, 0)
    kv = plain.to_gensim()
    assert kv.bucket == 0 and kv.vectors_ngrams.shape == (0, N)
    with pytest.raises(KeyError, match="without ngrams"):
        kv["kings"]
    back = Embeddings.from_gensim(kv)
    assert type(back) is SubwordEmbeddings and back.maxn == 0
    np.testing.assert_array_equal(back.vectors, sub.word_rows)


def test_subword_to_gensim_without_gensim_is_one_clear_error(sub, monkeypatch):
    import sys

    from cbow.vectors.embeddings import GensimMissing
    monkeypatch.setitem(sys.modules, "gensim", None)
    with pytest.raises(GensimMissing, match=r"pip install 'cbow\[gensim\]'"):
        sub.to_gensim()


# ------------------------------------------------------------------ words that are not UTF-8

NOT_UTF8 = b"ab\xff".decode("utf-8", "surrogateescape")  # how a fastText .bin's word reads


@pytest.fixture
def not_utf8_bin(tmp_path):
    rng = np.random.default_rng(6)
    words = [NOT_UTF8, "cd", "efg"]
    model = SubwordEmbeddings.from_input_matrix(
        words, rng.standard_normal((3 + 10, 4)).astype(np.float32), 3, 4)
    model.save(tmp_path / "model.bin", "fasttext-bin")
    return tmp_path / "model.bin"


@pytest.mark.parametrize("format, where, holds", [
    ("word2vec", "out", "a word2vec file"), ("word2vec-bin", "out", "a word2vec-bin file"),
    ("fasttext-vec", "out", "a word2vec file"), ("npy", "out/vocab.txt", "a vocab.txt file"),
    ("projector", "out/metadata.tsv", "a projector metadata file")])
def test_a_word_that_is_not_utf8_cannot_go_into_a_text_format(not_utf8_bin, tmp_path, format,
                                                               where, holds):
    emb = Embeddings.load(not_utf8_bin)
    assert emb.words[0] == NOT_UTF8
    with pytest.raises(formats.VectorFileError, match=re.escape(
            f"{tmp_path / where}: the word 'ab\\udcff' holds bytes that are not UTF-8 "
            f"(b'ab\\xff', as the fastText model it came from stores it), and {holds} holds "
            f"UTF-8 text; save as fasttext-bin")):
        emb.save(tmp_path / "out", format)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    emb.save(tmp_path / "again.bin", "fasttext-bin")  # keeps the bytes
    assert (tmp_path / "again.bin").read_bytes() == not_utf8_bin.read_bytes()


def test_a_word_that_is_not_utf8_is_shown_with_escapes(not_utf8_bin, tmp_path):
    from cbow.analysis.plot import plot_words
    from cbow.vectors.embeddings import readable
    assert readable(NOT_UTF8) == "ab\\xff" and readable("café 日本") == "café 日本"
    assert readable("\ud800x") == "\\ud800x"  # a surrogate that stands for no byte
    proc = run_cbow("similar", not_utf8_bin, "cd", "--topn", "2")
    assert proc.returncode == 0 and " ab\\xff " in proc.stdout, (proc.stdout, proc.stderr)
    emb = Embeddings.load(not_utf8_bin)
    assert plot_words(emb, emb.words, tmp_path / "map.png").stat().st_size > 0


# ------------------------------------------------------------------ damaged files

@pytest.mark.parametrize("start, seen", [
    (b"\0\0\0\0", "format version 12 at byte 4"),
    (b"\0\0\0\0\x63\0\0\0", "arguments dim 5, minn 3, maxn 5, bucket 50 at byte 8")])
def test_a_fasttext_bin_with_a_damaged_magic_number_is_named_as_one(sub, tmp_path, start, seen):
    path = tmp_path / "model.bin"
    sub.save(path, "fasttext-bin")
    data = bytearray(path.read_bytes())
    data[:len(start)] = start
    path.write_bytes(bytes(data))
    message = (f"{path}, byte 0: it looks like a fastText .bin model ({seen}) but starts with 0 "
               f"instead of fastText's magic number 793712314: the file is damaged")
    with pytest.raises(formats.VectorFileError, match=re.escape(message)):
        Embeddings.load(path)
    proc = run_cbow("similar", path, "king")
    assert proc.returncode == 2 and proc.stderr == f"error: {message}\n"
    path.write_bytes(b"\x07" * 200)  # no format's: reported against the word2vec header
    with pytest.raises(formats.VectorFileError, match="expected the word2vec header"):
        Embeddings.load(path)


def projector_folder(tmp_path, vectors: str, metadata: str | None):
    folder = tmp_path / "projector"
    folder.mkdir()
    (folder / "vectors.tsv").write_text(vectors, encoding="utf-8")
    if metadata is not None:
        (folder / "metadata.tsv").write_text(metadata, encoding="utf-8")
    return folder


@pytest.mark.parametrize("vectors, metadata, message", [
    ("1\tnan\n1\t2\n", "a\nb\n", "projector, vectors.tsv line 1, metadata.tsv line 1: the "
                                 "vector of 'a' holds NaN or infinity"),
    ("1\t3\n1\t2\n", "word\tcount\na\t1\na\t2\n", "projector: the word 'a' appears twice "
                                                   "(vectors.tsv line 1, metadata.tsv line 2 and "
                                                   "vectors.tsv line 2, metadata.tsv line 3)"),
    ("1\tx\n1\t2\n", "a\nb\n", "projector/vectors.tsv, line 1: 'x' is not a number (in the "
                               "vector of 'a')"),
    ("1\t1_000\n", "a\n", "'1_000' is not a number"),
    ("1\t3\t4\n1\t2\n", "a\nb\n", "projector/vectors.tsv, line 2: 2 numbers, where line 1 "
                                  "has 3"),
    ("", "", "projector/vectors.tsv holds no vectors"),
    ("1\t3\n1\t2\n", "word\tcount\na\tx\nb\t2\n", "projector/metadata.tsv, line 2: expected "
                                                 "'word<TAB>count'"),
    ("1\t3\n1\t2\n", "word\tcount\na\nb\t2\n", "projector/metadata.tsv, line 2: expected"),
    ("1\t3\n1\t2\n", "a\n\n", "projector/metadata.tsv, line 2: an empty word"),
    ("1\t3\n1\t2\n5\t5\n", "a\nb\n", "vectors.tsv has 3 rows but metadata.tsv names 2 words"),
])
def test_a_damaged_projector_export_is_one_error_naming_file_and_line(tmp_path, vectors,
                                                                      metadata, message):
    folder = projector_folder(tmp_path, vectors, metadata)
    if message.startswith("projector"):
        message = str(tmp_path) + "/" + message
    with pytest.raises(formats.VectorFileError, match=re.escape(message)):
        Embeddings.load(folder)


def test_a_projector_export_without_metadata_or_not_utf8(tmp_path):
    folder = projector_folder(tmp_path, "1\t2\n", None)
    with pytest.raises(FileNotFoundError, match="needs its words in .*metadata.tsv"):
        Embeddings.load(folder)
    (folder / "metadata.tsv").write_bytes(b"caf\xe9\n")
    with pytest.raises(formats.VectorFileError, match=r"metadata.tsv, line 1: not UTF-8 text"):
        Embeddings.load(folder)
    with pytest.raises(formats.VectorFileError, match="is a file; a projector export is a "
                                                      "folder"):
        Embeddings.load(folder / "metadata.tsv", format="projector")


def test_a_projector_round_trip_still_holds_every_word(tmp_path):
    words = ["a\tb", "new\nline", "back\\slash", "x\u2028y", "plain"]
    emb = Embeddings(words, np.random.default_rng(0).standard_normal((5, 3)),
                     counts=[5, 4, 3, 2, 1])
    emb.save(tmp_path / "p", "projector")
    back = Embeddings.load(tmp_path / "p")
    assert back.words == words and back.counts.tolist() == [5, 4, 3, 2, 1]
    np.testing.assert_array_equal(back.vectors, emb.vectors)


def test_word2vec_text_refuses_digit_separators(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 2\nnew_york 1 2\nb 3 1_000\n", encoding="utf-8")
    with pytest.raises(formats.VectorFileError, match=r"line 3: '1_000' \(in the vector of 'b'\) "
                                                      r"is not a number"):
        Embeddings.load(path)


def test_what_no_file_can_hold_is_refused_before_writing(tmp_path):
    with pytest.raises(formats.VectorFileError, match="no words to write"):
        Embeddings([], np.zeros((0, 3))).save(tmp_path / "empty.txt")
    with pytest.raises(ValueError, match=r"N >= 1"):
        Embeddings(["a"], np.zeros((1, 0)))
    np.save(tmp_path / "vectors.npy", np.zeros((1, 0)))
    (tmp_path / "vocab.txt").write_text("a\n", encoding="utf-8")
    with pytest.raises(formats.VectorFileError, match=r"N >= 1; got shape \(1, 0\)"):
        Embeddings.load(tmp_path)
    for counts, shown in (([1.5, 2], "[1.5]"), ([-1, 2], "[-1]"), ([True, False], "[True, "
                                                                                     "False]")):
        with pytest.raises(InputError, match=re.escape(f"counts must be whole numbers >= 0; "
                                                       f"got {shown}")):
            Embeddings(["a", "b"], np.eye(2), counts=counts)
    assert Embeddings(["a", "b"], np.eye(2), counts=[1.0, 2.0]).counts.tolist() == [1, 2]
    with pytest.raises(ValueError, match="not one str"):
        Embeddings("ab", np.eye(2))
    assert not list(tmp_path.glob("empty*"))


def test_reading_as_a_format_the_file_is_not(tmp_path, emb):
    emb.save(tmp_path / "v.txt", "word2vec")
    with pytest.raises(formats.VectorFileError, match=r"is not a .npy file \(it does not start "
                                                      r"with numpy's magic string"):
        Embeddings.load(tmp_path / "v.txt", format="npy")
    with pytest.raises(InputError, match="dtype must be a float dtype"):
        Embeddings.load(tmp_path / "v.txt", dtype=np.int8)


def test_queries_of_the_wrong_type_are_one_clear_error(emb, sub):
    for bad in (lambda: emb.similarity("king", 3), lambda: emb[0], lambda: emb.index(None),
                lambda: sub[[3]], lambda: sub.vector(None)):
        with pytest.raises(InputError, match="words are strings; got"):
            bad()
    for query in (b"king", np.array(["x"] * N)):
        with pytest.raises(InputError, match="the query must be a word"):
            emb.most_similar(query)
    for epsilon in (-1, 0, float("nan"), "x", True):
        with pytest.raises(InputError, match="epsilon must be a number > 0"):
            emb.most_similar(positive=["king"], negative=["man"], method="3cosmul",
                             epsilon=epsilon)
    assert ["king"] not in emb and not sub.has_vector(3)
    # gensim's first argument is a list of positive words; None is no words
    assert emb.most_similar(["king", "woman"], topn=3) == emb.most_similar(
        positive=["king", "woman"], topn=3)
    assert emb.most_similar(positive=None, negative=["man"], topn=2) == emb.most_similar(
        negative=["man"], topn=2)
    with pytest.raises(InputError, match="give the positive words once"):
        emb.most_similar(["king"], positive=["woman"])


@pytest.mark.parametrize("format, message", [
    ("word2vec-bin", "the vector of 'b' holds a number beyond float32's range"),
    ("fasttext-bin", "word row 1 (of 'b') holds a number beyond float32's range")])
def test_a_float32_format_refuses_what_it_would_store_as_infinity(tmp_path, format, message):
    emb = Embeddings(["a", "b"], [[1.0, 1.0], [1.0, -1e300]])
    with pytest.raises(formats.VectorFileError, match=re.escape(message)):
        emb.save(tmp_path / "v", format)
    assert not (tmp_path / "v").exists()
    emb = Embeddings(["a", "b"], [[1.0, 1.0], [1.0, -1e30]])  # within range: written and read
    emb.save(tmp_path / "v", format)
    np.testing.assert_allclose(Embeddings.load(tmp_path / "v").vectors, emb.vectors, rtol=1e-7)


def test_reading_as_a_dtype_too_small_for_the_numbers_names_the_word(tmp_path, sub):
    Embeddings(["a", "b"], [[1.0, 2.0], [1e6, 3.0]]).save(tmp_path / "v.txt")
    with pytest.raises(InputError, match=re.escape("v.txt: the vector of 'b' holds a number "
                                                   "beyond the range of float16")):
        Embeddings.load(tmp_path / "v.txt", dtype=np.float16)
    assert Embeddings.load(tmp_path / "v.txt", dtype=np.float32).vectors[1, 0] == 1e6
    big = SubwordEmbeddings.from_input_matrix(WORDS, np.full((len(WORDS) + 50, N), 1e5,
                                                             np.float32), 3, 5)
    big.save(tmp_path / "m.bin", "fasttext-bin")
    with pytest.raises(InputError, match=re.escape("the own row of 'the' holds a number beyond "
                                                   "the range of float16")):
        SubwordEmbeddings.load(tmp_path / "m.bin", dtype=np.float16)
    with pytest.raises(InputError, match="dtype must be a float dtype"):
        SubwordEmbeddings.load(tmp_path / "m.bin", dtype=np.int32)


def test_an_empty_word_is_no_query(emb, tmp_path):
    ngrams_of_one = SubwordEmbeddings.from_input_matrix(
        WORDS, np.random.default_rng(0).standard_normal((len(WORDS) + 9, N)), 1, 3)
    for vectors in (emb, ngrams_of_one):  # the second has a row for '<>': '' had a vector
        for call in (lambda: vectors.most_similar(""), lambda: vectors[""],
                     lambda: vectors.similarity("king", ""),
                     lambda: vectors.most_similar(positive=["king"], negative=[""])):
            with pytest.raises(InputError, match="a query word is empty"):
                call()
    emb.save(tmp_path / "v.txt")
    proc = run_cbow("similar", tmp_path / "v.txt", "")
    assert proc.returncode == 2 and proc.stderr == "error: a query word is empty; give a word\n"
