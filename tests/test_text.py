"""Tokenizers (cbow.data.text): the course-exact stream, single word-splitting rules, error paths."""
from __future__ import annotations

import random

import nltk
import pytest

from cbow.data import text
from cbow.data.corpus import find_corpus, read_text
from cbow.errors import InputError
from cbow.registry import TOKENIZERS
from cbow.data.text import course_tokenize, load_punkt, nltk_sentences, split_words
from conftest import shared_dir

COURSE_TOKENS = 60_996
COURSE_VOCABULARY = 5_778
CONTEXT = 10


def nltk_tokenize(whole: str) -> list[str]:
    """The ``nltk`` tokenizer's tokens of a whole text (one block)."""
    return [token for sentence in nltk_sentences(whole) for token in sentence]


def stream_tokens(pieces, tokenizer: str, lowercase: bool = True, **sizes) -> list[str]:
    """Tokens of a text given as pieces, as cbow.data.prepare gets them: blocks, then tokenize_block."""
    splitter = text.BlockSplitter(tokenizer, **sizes)
    blocks = [block for piece in pieces for block in splitter.feed(piece)]
    blocks += splitter.end_of_file()
    return [token for block in blocks
            for sentence in text.tokenize_block(block.text, tokenizer, lowercase)
            for token in sentence]


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


def _every_rule(sentence: str) -> list[str]:
    """split_words as NLTK 3.5 ran it: every rule, in order, on every sentence."""
    for rule in text.RULES_BEFORE_PADDING:
        sentence = rule.pattern.sub(rule.replacement, sentence)
    sentence = f" {sentence} "
    for rule in text.RULES_AFTER_PADDING:
        sentence = rule.pattern.sub(rule.replacement, sentence)
    return sentence.split()


# Pieces of made-up sentences: every character some rule looks for, fused words and their
# parts, periods, digits, letters, whitespace of several kinds.
_PIECES = (["word", "Can", "not", "cannot", "CanNot", "gimme", "gon", "na", "gotta", "LEMME",
            "wanna", "d'ye", "mor'n", "'tis", "'Twas", "'t", "is", "was", "n't", "'ll", "'S",
            "'d", "'m", "'re", "'VE", "stol'n", "I", "a", "1", "10", "x_y", "\u0130", "\u00e9",
            "\u017f", ".", "..", "...", " ", " ", "  ", "\n", "\t", "\u00a0", "\u2028", "--"]
           + list("«“‘„`\"':,;@#$%&?!*[](){}<>-»”’/+=_^~|\\"))


def _made_up_sentences(count: int, seed: int = 19) -> list[str]:
    rng = random.Random(seed)
    plain = [p for p in _PIECES if not text._RULE_CHARACTERS.search(p)]
    sentences = []
    for i in range(count):
        pieces = plain if i % 2 else _PIECES  # half of them without any rule's characters
        sentence = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 9)))
        sentences.append(sentence + rng.choice(["", ".", ". ", ".\n", "..", " .", ".)", ".' "]))
    return sentences


def test_rule_needs_are_characters_the_triggers_find():
    for rule in text.RULES_BEFORE_PADDING + text.RULES_AFTER_PADDING:
        for need in rule.needs or ():
            assert need == text.FUSED or text._RULE_CHARACTERS.fullmatch(need), (rule.name, need)


def test_rules_skipped_for_lack_of_needs_match_nothing():
    # A rule is skipped when the sentence has none of its needs: it must not match there.
    checked = 0
    for sentence in _made_up_sentences(10_000, seed=7):
        present = set(text._RULE_CHARACTERS.findall(sentence))
        if text._FUSED_WORDS.search(sentence):
            present.add(text.FUSED)
        for rule in text.RULES_BEFORE_PADDING + text.RULES_AFTER_PADDING:
            if rule.needs is not None and not rule.needs & present:
                assert not rule.pattern.search(f" {sentence} "), (rule.name, sentence)
                assert not rule.pattern.search(sentence), (rule.name, sentence)
                checked += 1
    assert checked > 50_000


def test_split_words_is_every_rule_applied(shakespeare_text):
    sentences = _made_up_sentences(6_000) + text.punkt_sentences(
        text._COURSE_PUNCTUATION.sub(".", shakespeare_text))
    for sentence in sentences:
        expected = _every_rule(sentence)
        assert split_words(sentence) == expected, sentence
        if not text._FUSED_WORDS.search(sentence):
            assert text._split_words(sentence, fused_words=False) == expected, sentence


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


def _flat(sentences: list[list[str]]) -> list[str]:
    return [token for sentence in sentences for token in sentence]


def test_tokenize_by_name():
    sample = "O for a Muse of fire, that would ascend"
    assert {"course", "nltk", "whitespace"} <= set(TOKENIZERS.names())
    assert _flat(text.tokenize_block(sample)) == course_tokenize(sample)
    assert _flat(text.tokenize_block(sample, "course")) == course_tokenize(sample)
    assert _flat(text.tokenize_block(sample, tokenizer="nltk")) == nltk_tokenize(sample)


def test_unknown_tokenizer_name_lists_valid_ones():
    with pytest.raises(ValueError) as info:
        text.tokenize_block("text", "spacy")
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


# --- streaming: blocks of bounded size, the same tokens ------------------------------------

def _shakespeare_stream(piece_bytes: int = 1 << 20):
    from cbow.data.sources import TextStream, resolve_sources
    [source] = resolve_sources("shakespeare")
    return TextStream(source, piece_bytes=piece_bytes)


@pytest.mark.parametrize("target_chars", [3_000, None])
def test_streaming_course_tokens_match_golden_file(golden_tokens, target_chars):
    # Cut about every 3,000 characters (~100 cuts) and in pieces of 4,099 bytes, or with the
    # default block size: the exact-cut rule must leave every Punkt sentence as it was.
    tokens = stream_tokens(_shakespeare_stream(4_099), "course", target_chars=target_chars)
    difference = _first_difference(tokens, golden_tokens)
    assert difference is None, difference


def test_blocks_of_shakespeare_are_cut_only_at_exact_places(shakespeare_text):
    splitter = text.BlockSplitter("course", target_chars=3_000, max_chars=30_000)
    blocks = splitter.feed(shakespeare_text) + splitter.end_of_file()
    assert len(blocks) > 90 and all(block.new_sentence for block in blocks)
    assert splitter.forced_cuts == {"paragraph": 0, "line": 0, "space": 0, "anywhere": 0}
    # Every block ends with the period Punkt breaks at; only whitespace falls between blocks.
    assert all(block.text.endswith(".") for block in blocks[:-1])
    assert sum(len(b.text) for b in blocks) == len(shakespeare_text) - sum(
        len(gap) for gap in _gaps(shakespeare_text, blocks))


def _gaps(whole: str, blocks) -> list[str]:
    """The text between consecutive blocks (checked to be whitespace)."""
    position, gaps = 0, []
    punctuated = text._COURSE_PUNCTUATION.sub(".", whole)
    for block in blocks:
        found = punctuated.index(block.text, position)
        gaps.append(punctuated[position:found])
        assert not gaps[-1].strip(), repr(gaps[-1])
        position = found + len(block.text)
    return gaps


def test_streaming_nltk_tokens_match_whole_text(shakespeare_text):
    part = shakespeare_text[:60_000]  # a fifth: the installed NLTK's splitter is slow
    pieces = [part[i:i + 5_000] for i in range(0, len(part), 5_000)]
    assert stream_tokens(pieces, "nltk", target_chars=2_000) == nltk_tokenize(part)


@pytest.mark.parametrize("sample", [
    'He said "Stop." Then he left. (Aside.) "Go!" she cried. \u201cHi.\u201d And so on.',
    "Mr. Smith met Dr. J. Bach at 5 p.m. on Jan. 3. They talked... and talked. U.S. law.",
    "end.\u00a0Next line. A.\n\nNew paragraph? Yes! No... 'Tis done. [Exit.] ) odd. x",
])
def test_exact_cuts_on_tricky_punctuation(sample):
    # Abbreviations, initials, quotes and brackets after periods, non-ASCII spaces: cutting
    # as often as possible (after one character) must change nothing.
    text_ = (sample + " ") * 20
    pieces = [text_[i:i + 7] for i in range(0, len(text_), 7)]
    for tokenizer, whole in (("course", course_tokenize), ("nltk", nltk_tokenize)):
        assert stream_tokens(pieces, tokenizer, target_chars=1) == whole(text_)


def test_big_text_goes_to_punkt_in_bounded_blocks(shakespeare_text, tmp_path):
    # Shakespeare x16 (4.9 MB) in one Punkt call exceeds NLTK's 5 s regex limit; cut into
    # blocks, none is above PUNKT_MAX_BLOCK_CHARS, and the largest tokenizes in a blink.
    path = tmp_path / "x16.txt"
    path.write_text(shakespeare_text * 16, encoding="utf-8")
    assert path.stat().st_size > 4_900_000
    from cbow.data.sources import TextStream, resolve_sources
    splitter = text.BlockSplitter("course")
    blocks = [b for piece in TextStream(resolve_sources(path)[0]) for b in splitter.feed(piece)]
    blocks += splitter.end_of_file()
    assert max(len(b.text) for b in blocks) <= text.PUNKT_MAX_BLOCK_CHARS
    assert sum(map(len, (b.text for b in blocks))) > 0.99 * path.stat().st_size
    assert splitter.forced_cuts == {"paragraph": 0, "line": 0, "space": 0, "anywhere": 0}
    largest = max(blocks, key=lambda b: len(b.text))
    assert len(text.tokenize_block(largest.text)) > 100


def test_single_line_of_megabytes(shakespeare_text, tmp_path):
    # No newline at all: Punkt blocks are still cut at sentence breaks, whitespace blocks at
    # spaces, and the whitespace tokens are those of str.split.
    line = " ".join(shakespeare_text.split()) * 3  # ~0.9 MB, one line
    pieces = [line[i:i + 65_536] for i in range(0, len(line), 65_536)]
    splitter = text.BlockSplitter("course")
    blocks = [b for piece in pieces for b in splitter.feed(piece)] + splitter.end_of_file()
    assert max(len(b.text) for b in blocks) <= text.PUNKT_MAX_BLOCK_CHARS and len(blocks) > 5
    assert len(text.tokenize_block(max(blocks, key=lambda b: len(b.text)).text)) > 100
    long_line = (line + " ") * 4  # 3.6 MB
    tokens = stream_tokens([long_line[i:i + 100_000] for i in range(0, len(long_line), 100_000)],
                           "whitespace", max_chars=1_000_000, target_chars=1_000_000)
    assert tokens == long_line.lower().split()


def test_whitespace_blocks_continue_a_long_line_as_one_sentence():
    splitter = text.BlockSplitter("whitespace", target_chars=10, max_chars=20)
    blocks = splitter.feed("short\n" + "word " * 10 + "\nlast line") + splitter.end_of_file()
    # Lines whole where they fit; the 50-character line cut at spaces into three blocks, the
    # last two continuing its sentence; the file's end closes the last line.
    assert blocks == [text.Block("short\n", True), text.Block("word word word word", True),
                      text.Block("word word word word", False),
                      text.Block("word word \n", False), text.Block("last line", True)]
    assert splitter.forced_cuts == {"paragraph": 0, "line": 0, "space": 2, "anywhere": 0}


def test_forced_cuts_in_text_without_sentence_breaks():
    splitter = text.BlockSplitter("course", target_chars=50, max_chars=100)
    paragraphs = "\n\n".join(["words without any stop " * 2] * 10)
    blocks = splitter.feed(paragraphs) + splitter.end_of_file()
    assert max(len(b.text) for b in blocks) <= 100
    assert splitter.forced_cuts["paragraph"] > 0
    nothing = "x" * 250
    splitter = text.BlockSplitter("course", target_chars=50, max_chars=100)
    assert [len(b.text) for b in splitter.feed(nothing) + splitter.end_of_file()] == [100, 100, 50]
    assert splitter.forced_cuts["anywhere"] == 2


def test_whitespace_tokenizer_and_lowercase_option():
    assert _flat(text.tokenize_block("The  CAT\tsat\n", "whitespace")) == ["the", "cat", "sat"]
    assert _flat(text.tokenize_block("The CAT", "whitespace", lowercase=False)) == ["The", "CAT"]
    assert text.tokenize_block("A b\n\nC, d.\n", "whitespace", lowercase=False) == [
        ["A", "b"], [], ["C,", "d."], []]
    assert text.tokenize_block("Go. Stop, now!", "course") == [["go", "."], ["stop", "."],
                                                              ["now", "."]]


@pytest.mark.parametrize("tokenizer, lowercase, message", [
    ("spacy", True, "unknown tokenizer 'spacy'.*'whitespace'"),
    ("course", False, "always lower-cases"),
    ("whitespace", "yes", "lowercase must be true or false"),
])
def test_stream_tokenizer_arguments_are_checked(tokenizer, lowercase, message):
    with pytest.raises(InputError, match=message):
        text.tokenize_block("x", tokenizer, lowercase)
