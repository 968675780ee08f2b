import numpy as np
import pytest

from cbow.data.vocab import Vocabulary


def test_sorted_ids_and_counts():
    vocab = Vocabulary.from_tokens("b a . b c b".split())
    assert vocab.words == [".", "a", "b", "c"]
    assert vocab.counts.tolist() == [1, 1, 3, 1]
    assert vocab.index("b") == 2 and "c" in vocab and "z" not in vocab
    np.testing.assert_array_equal(vocab.encode(["c", "."]), [3, 0])


def test_unknown_word_raises_key_error_naming_it():
    vocab = Vocabulary.from_tokens("king queen lord".split())
    with pytest.raises(KeyError, match="'kinq' is not in the vocabulary.*'king'"):
        vocab.index("kinq")


def test_save_load_round_trip(tmp_path):
    vocab = Vocabulary.from_tokens("the . café the".split())
    vocab.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == ".\t1\ncafé\t1\nthe\t2\n"
    loaded = Vocabulary.load(tmp_path / "vocab.txt")
    assert loaded == vocab and loaded.fingerprint() == vocab.fingerprint()


def test_load_reports_the_bad_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\t1\nb\tmany\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab.txt, line 2: expected 'word<TAB>count'"):
        Vocabulary.load(path)


def test_duplicate_words_are_rejected():
    with pytest.raises(ValueError, match="repeated: \\['a'\\]"):
        Vocabulary(["a", "b", "a"])
