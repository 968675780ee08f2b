"""Tokenizers (cbow.text): the course-exact stream, single word-splitting rules, error paths."""
from __future__ import annotations

import nltk
import pytest

from cbow import text
from cbow.corpus import find_corpus, read_text
from cbow.text import (TOKENIZERS, course_tokenize, load_punkt, nltk_tokenize, split_words,
                       tokenize)
from conftest import shared_dir

COURSE_TOKENS = 60_996
COURSE_VOCABULARY = 5_778
CONTEXT = 10


def _first_difference(actual: list[str], expected: list[str]) -> str | None:
    """Describe where two token streams first differ, with context from both; None if equal."""
    index = next((i for i, (a, e) in enumerate(zip(actual, expected)) if a != e),
                 None if len(actual) == len(expected) else min(len(actual), len(expected)))
    if index is None:
        return None
    window = slice(max(0, index - CONTEXT), index + CONTEXT + 1)
    return (f"token streams differ first at index {index} (lengths: got {len(actual)}, "
            f"expected {len(expected)}); tokens {window.start}..{window.stop - 1}:\n"
            f"  got:      {actual[window]}\n"
            f"  expected: {expected[window]}")


@pytest.fixture(scope="module")
def golden_tokens() -> list[str]:
    path = shared_dir("reference") / "shakespeare_course_tokens.txt"
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def shakespeare_text(tmp_path_factory) -> str:
    shared_dir("data")  # fails with instructions when CBOW_DATA is not set
    empty_data_dir = tmp_path_factory.mktemp("data")  # so the copy found is $CBOW_DATA's
    return read_text(find_corpus("shakespeare", data_dir=empty_data_dir, download=False))


# --- the golden stream ---------------------------------------------------------------------

def test_course_tokens_match_golden_file(shakespeare_text, golden_tokens):
    tokens = course_tokenize(shakespeare_text)
    difference = _first_difference(tokens, golden_tokens)
    assert difference is None, difference
    assert len(tokens) == COURSE_TOKENS
    assert len(set(tokens)) == COURSE_VOCABULARY


def test_golden_file_has_the_documented_size(golden_tokens):
    assert len(golden_tokens) == COURSE_TOKENS
    assert len(set(golden_tokens)) == COURSE_VOCABULARY


def test_first_difference_reports_context():
    alphabet = list("abcdefghijklmnopqrstuvwxyz")
    message = _first_difference(alphabet, alphabet[:23] + ["X"] + alphabet[24:])
    assert "index 23" in message and "'w', 'x'" in message and "'w', 'X'" in message
    assert "index 3" in _first_difference(list("abc"), list("abcd"))
    assert _first_difference(["a"], ["a"]) is None


# --- single rules of split_words -----------------------------------------------------------

@pytest.mark.parametrize("sentence, words", [
    # 'tis / 'twas: split into 't + is only after a space (the sentence is padded with one).
    ("'Tis so.", ["'T", "is", "so", "."]),
    ("For 'tis your thoughts", ["For", "'t", "is", "your", "thoughts"]),
    ("and 'twas done", ["and", "'t", "was", "done"]),
    # Other leading apostrophes stay attached, so the course later drops these words.
    ("'twould be", ["'twould", "be"]),
    ("'gainst the wall", ["'gainst", "the", "wall"]),
    # An apostrophe before a lone final letter that starts no clitic is split from it.
    ("had stol'n thy hair", ["had", "stol", "'", "n", "thy", "hair"]),
    ("stol'n I fear", ["stol", "'", "n", "I", "fear"]),
    # Single-quoted words: both quotes become tokens.
    ("'I hate' she said", ["'", "I", "hate", "'", "she", "said"]),
    # Clitics split only when a literal space follows: not before a newline.
    ("will be disturb'd\nBy", ["will", "be", "disturb'd", "By"]),
    ("be disturb'd by", ["be", "disturb", "'d", "by"]),
    ("who's so dumb", ["who", "'s", "so", "dumb"]),
    ("I can't", ["I", "ca", "n't"]),
    ("I cannot", ["I", "can", "not"]),
    ("we'll go", ["we", "'ll", "go"]),
    # Only the sentence's final period is split; other periods stay on their word.
    ("Mr. Smith came.", ["Mr.", "Smith", "came", "."]),
    ("came. home", ["came.", "home"]),
    ('he said "go."', ["he", "said", "``", "go", ".", "''"]),
    ("wait... what", ["wait", "...", "what"]),
    # Brackets, symbols, colons and commas (not between digits).
    ("[Enter Chorus] (aside) {x} <y>", ["[", "Enter", "Chorus", "]", "(", "aside", ")",
                                        "{", "x", "}", "<", "y", ">"]),
    ("a;b@c#d$e%f&g", ["a", ";", "b", "@", "c", "#", "d", "$", "e", "%", "f", "&", "g"]),
    ("so: 1,000 men, 10:30", ["so", ":", "1,000", "men", ",", "10:30"]),
    ("what?! no*way -- yes", ["what", "?", "!", "no", "*", "way", "--", "yes"]),
])
def test_split_words_rules(sentence, words):
    assert split_words(sentence) == words


def test_rules_are_documented_and_ordered():
    names = [rule.name for rule in text.RULES_BEFORE_PADDING + text.RULES_AFTER_PADDING]
    assert len(names) == len(set(names)), "rule names must be unique"
    before = [rule.name for rule in text.RULES_BEFORE_PADDING]
    # The final period must be split before periods inside the sentence are looked at again.
    assert before.index("final-period") < before.index("ellipsis")


def test_course_pipeline_on_a_short_text():
    sample = "Then should the warlike Harry, like himself,\nAssume the port of Mars; 'tis so!"
    assert course_tokenize(sample) == ["then", "should", "the", "warlike", "harry", ".",
                                       "like", "himself", ".", "assume", "the", "port", "of",
                                       "mars", ".", "is", "so", "."]


def test_course_drops_attached_periods_and_leading_apostrophes():
    # "Mr." keeps its period (Punkt knows the abbreviation), so the course drops it.
    assert course_tokenize("I met Mr. Smith. 'Twould be odd.") == [
        "i", "met", "smith", ".", "be", "odd", "."]


# --- the installed-NLTK tokenizer and selection by name ------------------------------------

def test_nltk_tokenizer_uses_installed_word_tokenize():
    sample = "'Tis stol'n, I fear! 'Gainst the wall."
    expected = [word.lower()
                for sentence in load_punkt().tokenize(
                    sample.replace(",", ".").replace("!", "."))
                for word in nltk.word_tokenize(sentence, preserve_line=True)
                if word.isalpha() or word == "."]
    assert nltk_tokenize(sample) == expected
    assert all(token == "." or token.isalpha() and token.islower() for token in expected)
    # Leading apostrophes are where current NLTK and NLTK 3.5 (the course) part ways.
    assert "gainst" in expected and "gainst" not in course_tokenize(sample)


def test_tokenize_by_name():
    sample = "O for a Muse of fire, that would ascend"
    assert set(TOKENIZERS) == {"course", "nltk"}
    assert tokenize(sample) == course_tokenize(sample)
    assert tokenize(sample, "course") == course_tokenize(sample)
    assert tokenize(sample, tokenizer="nltk") == nltk_tokenize(sample)


def test_unknown_tokenizer_name_lists_valid_ones():
    with pytest.raises(ValueError) as info:
        tokenize("text", "spacy")
    message = str(info.value)
    assert "'spacy'" in message and "'course'" in message and "'nltk'" in message


# --- the Punkt model -----------------------------------------------------------------------

@pytest.fixture
def fresh_punkt_cache():
    load_punkt.cache_clear()
    yield
    load_punkt.cache_clear()  # do not leave a model loaded from a patched path behind


def test_missing_punkt_gives_instructions(tmp_path, monkeypatch, fresh_punkt_cache):
    attempts = []
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(nltk, "download", lambda *args, **kwargs: attempts.append(args) or False)
    with pytest.raises(LookupError) as info:
        load_punkt("english")
    message = str(info.value)
    assert attempts == [("punkt_tab",)], "exactly one download attempt is expected"
    assert str(tmp_path) in message
    assert "NLTK_DATA" in message and "tokenizers/punkt_tab/english" in message
    assert "python -m nltk.downloader punkt_tab" in message


def test_download_that_raises_is_reported(tmp_path, monkeypatch, fresh_punkt_cache):
    def failing_download(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(nltk, "download", failing_download)
    with pytest.raises(LookupError, match="network unreachable"):
        load_punkt("english")


def test_missing_punkt_is_retried_after_download(tmp_path, monkeypatch, fresh_punkt_cache):
    installed = list(nltk.data.path)  # where the real model is (NLTK_DATA)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])

    def fake_download(*args, **kwargs):
        nltk.data.path.extend(installed)  # "installs" the model by making it findable
        return True

    monkeypatch.setattr(nltk, "download", fake_download)
    splitter = load_punkt("english")
    assert splitter.tokenize("One here. Two there.") == ["One here.", "Two there."]
