"""Character n-grams and their rows, against fastText's and gensim's own implementations."""
from __future__ import annotations

import numpy as np
import pytest
from gensim.models.fasttext import ft_ngram_hashes
from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

from cbow.data import subwords
from cbow.errors import InputError
from fasttext_oracle import fasttext_model  # noqa: F401 (a fixture)

# ASCII, accented (2-byte UTF-8), CJK (3-byte), a 4-byte emoji, one-letter words.
ODD_WORDS = ["where", "café", "naïve", "日本語", "über", "a", "é", "ab", "x🙂y", "aaaa", "Zürich"]


# ------------------------------------------------------------------------------ the n-grams

def test_ngrams_of_an_ascii_word_in_fasttext_order():
    # By starting character, then by length; '<' and '>' mark the ends.
    assert subwords.ngrams("where", 3, 4) == [
        "<wh", "<whe", "whe", "wher", "her", "here", "ere", "ere>", "re>"]


def test_ngrams_are_cut_on_character_boundaries():
    assert subwords.ngrams("café", 3, 4) == ["<ca", "<caf", "caf", "café", "afé", "afé>", "fé>"]
    assert subwords.ngrams("日本語", 3, 6) == [
        "<日本", "<日本語", "<日本語>", "日本語", "日本語>", "本語>"]


def test_one_character_ngrams_leave_out_the_markers():
    # fastText's rule: with minn 1, '<' and '>' alone are not n-grams; everything else is.
    assert subwords.ngrams("日本語", 1, 2) == ["<日", "日", "日本", "本", "本語", "語", "語>"]
    assert subwords.ngrams("ab", 1, 1) == ["a", "b"]


def test_duplicates_are_kept_and_short_words_have_few_ngrams():
    assert subwords.ngrams("aaaa", 3, 3) == ["<aa", "aaa", "aaa", "aa>"]
    assert subwords.ngrams("a", 3, 6) == ["<a>"]
    assert subwords.ngrams("a", 4, 6) == []
    assert subwords.ngrams("hello", 3, 0) == []  # maxn 0: no n-grams


def test_the_end_of_line_token_has_no_ngrams():
    assert subwords.ngrams(subwords.EOS, 1, 6) == []
    assert subwords.ngram_rows(subwords.EOS, 3, 6, 100, 10).size == 0


@pytest.mark.parametrize("minn, maxn", [(1, 1), (1, 3), (2, 4), (3, 6), (5, 5)])
def test_ngrams_equal_gensims_port_of_fasttext(minn, maxn):
    for word in ODD_WORDS:
        expected = [b.decode("utf-8") for b in compute_ngrams_bytes(word, minn, maxn)]
        assert subwords.ngrams(word, minn, maxn) == expected, word


# ------------------------------------------------------------------------------ the hash

def test_fnv1a_takes_bytes_as_signed_chars():
    assert subwords.fnv1a(b"") == 2166136261
    assert subwords.fnv1a(b"a") == 0xE40C292C  # ASCII: textbook FNV-1a
    textbook = 2166136261
    for byte in "é".encode():
        textbook = ((textbook ^ byte) * 16777619) % 2**32
    assert subwords.fnv1a("é".encode()) != textbook  # bytes >= 0x80 are sign-extended


def test_hashes_equal_gensims():
    for word in ODD_WORDS:
        for ngram in compute_ngrams_bytes(word, 1, 6):
            assert subwords.fnv1a(ngram) == ft_hash_bytes(ngram), ngram
        ours = subwords.ngram_hashes(word, 3, 6) % 2_000_000
        assert ours.tolist() == ft_ngram_hashes(word, 3, 6, 2_000_000), word


def test_ngram_rows_are_vocab_size_plus_hash_modulo_bucket():
    rows = subwords.ngram_rows("café", 3, 6, 1000, 17)
    hashes = subwords.ngram_hashes("café", 3, 6)
    np.testing.assert_array_equal(rows, 17 + hashes.astype(np.int64) % 1000)
    assert rows.dtype == np.int64


# ------------------------------------------------------------------------------ the table

def test_row_table_is_the_word_then_its_ngram_rows():
    words = ["where", "café", "日本語", subwords.EOS, "a"]
    offsets, rows = subwords.row_table(words, 3, 6, 50)
    assert offsets.dtype == np.int64 and offsets.shape == (6,) and rows.dtype == np.int32
    for w, word in enumerate(words):
        expected = [w, *subwords.ngram_rows(word, 3, 6, 50, len(words)).tolist()]
        assert rows[offsets[w]:offsets[w + 1]].tolist() == expected, word
    assert rows[offsets[3]:offsets[4]].tolist() == [3]  # '</s>': its own row only


def test_row_table_without_ngrams_is_the_identity():
    offsets, rows = subwords.row_table(["b", "a", "c"], 3, 0, 0)
    assert offsets.tolist() == [0, 1, 2, 3] and rows.tolist() == [0, 1, 2]


def test_row_table_uses_int64_rows_when_they_do_not_fit_int32():
    offsets, rows = subwords.row_table(["ab"], 3, 3, 2**31)
    assert rows.dtype == np.int64 and rows[0] == 0 and rows[1:].min() >= 1


@pytest.mark.parametrize("minn, maxn, bucket, message", [
    (0, 6, 10, "minn must be an integer >= 1"),
    (-1, 0, 0, "minn must be an integer >= 1 \\(>= 0 with maxn 0\\)"),
    (3, -1, 10, "maxn must be an integer >= 0"),
    (3, 6, 0, "bucket must be >= 1 when maxn > 0"),
    (3, 6, -5, "bucket must be an integer >= 0"),
])
def test_bad_ngram_settings_are_one_clear_error(minn, maxn, bucket, message):
    with pytest.raises(InputError, match=message):
        subwords.row_table(["word"], minn, maxn, bucket)


def test_rows_agree_with_fasttexts_own_model(fasttext_model):
    """fastText's get_subwords gives every word's n-grams and rows: ours are the same."""
    model, minn, maxn, bucket = fasttext_model
    words = model.words
    offsets, rows = subwords.row_table(words, minn, maxn, bucket)
    for w, word in enumerate(words):
        names, ids = model.get_subwords(word)
        expected_names = [word] if word == subwords.EOS else [word, *subwords.ngrams(word, minn,
                                                                                  maxn)]
        assert list(names) == expected_names, word
        assert rows[offsets[w]:offsets[w + 1]].tolist() == ids.tolist(), word
    for unseen in ["UNSEEN", "Zürich", "日本Ω", "x🙂y", "Q"]:  # no capitals in the corpus
        assert model.get_word_id(unseen) == -1
        names, ids = model.get_subwords(unseen)
        assert list(names) == subwords.ngrams(unseen, minn, maxn)
        assert subwords.ngram_rows(unseen, minn, maxn, bucket, len(words)).tolist() == ids.tolist()
