"""cbow.data.punkt.FastPunkt gives NLTK Punkt's sentences and decisions, string for string."""
from __future__ import annotations

import random

import pytest

from cbow.data import text
from cbow.data.corpus import find_corpus, read_text
from cbow.data.punkt import FastPunkt, last_ascii_space
from conftest import shared_dir

TRICKY = [
    'He said "Stop." Then he left. (Aside.) "Go!" she cried. \u201cHi.\u201d And so on.',
    "Mr. Smith met Dr. J. Bach at 5 p.m. on Jan. 3. They talked... and talked. U.S. law.",
    "end.\u00a0Next line. A.\n\nNew paragraph? Yes! No... 'Tis done. [Exit.] ) odd. x",
    "adj. 1. indicating the absence. n. 2. a thing; v. t. To do. Syn: zero\n1 adj. one.",
    "Very bad acting!!! I promise. Wait?! What. .. . ... x.y. Z. a.\tb.\rC.\x0bD.\x0cE. F",
    " . Leading. trailing .  \n\n  . \u2018quoted.\u2019 (Sent1.) Sent2. \u00abx.\u00bb y.) z.--w. v",
    "No. 5. Vol. iv. e.g. this. i.e. that. St. John. 1.5. -3. ##. 12.a. B.C. 1999. Ok.",
    "Abbr. Lowercase next. abbr. UPPER. Etc. and so. etc. The end. Cf. also. cf. The.",
]


@pytest.fixture(scope="module")
def punkt():
    return text.load_punkt("english")


@pytest.fixture(scope="module")
def shakespeare(tmp_path_factory) -> str:
    shared_dir("data")  # fails with instructions when CBOW_DATA is not set
    empty_data_dir = tmp_path_factory.mktemp("data")  # so the copy found is $CBOW_DATA's
    return read_text(find_corpus("shakespeare", data_dir=empty_data_dir, download=False))


def _variants(sample: str) -> list[str]:
    # as given, with the course's punctuation, and cut at every few characters
    course = text._COURSE_PUNCTUATION.sub(".", sample)
    return [sample, course] + [course[i:] for i in range(0, len(course), 7)]


@pytest.mark.parametrize("sample", TRICKY)
def test_sentences_and_decisions_of_tricky_samples(punkt, sample):
    fast = FastPunkt(punkt)
    for variant in _variants(sample):
        assert fast.sentences(variant) == punkt.tokenize(variant), variant
    contexts = [context for variant in _variants(sample)
                for _, context in punkt._match_potential_end_contexts(variant)]
    assert contexts
    for context in contexts:
        assert fast.breaks(context) == punkt.text_contains_sentbreak(context), context


def test_sentences_and_decisions_of_shakespeare(punkt, shakespeare):
    fast = FastPunkt(punkt)
    course = text._COURSE_PUNCTUATION.sub(".", shakespeare)
    for whole in (shakespeare[:100_000], course):
        assert fast.sentences(whole) == punkt.tokenize(whole)
    contexts = {context for _, context in punkt._match_potential_end_contexts(shakespeare)}
    assert len(contexts) > 1000
    assert [fast.breaks(c) for c in contexts] == [punkt.text_contains_sentbreak(c)
                                                 for c in contexts]


def test_decisions_of_made_up_contexts(punkt):
    # Words before a period and tokens after it, mixed: abbreviations, initials, numbers,
    # ellipses, sentence starters, collocations (("##number##", "who"), ("b", "smith")),
    # punctuation, case.
    words = ["adj", "n", "v", "etc", "Mr", "J", "a", "1", "12", "iv", "U.S", "e.g", "..", "",
             "end", "The", "(x", "x)", "no", "St", "cf", "Vol", "p.m", "\u00e9t\u00e9", "A1", "B"]
    following = ["The", "the", "1", "1.", "Bach", "and", "(", ")", "'", ";", "...", "x.",
                 "John", "I", "It", "\u00c9t\u00e9", "-", "--x", "A.", "a.b.", "\"Go", "Go).",
                 "(The.", "It's.", "Who", "Business", "Smith", "However", "zebra", "indicating"]
    fast = FastPunkt(punkt)
    for word in words:
        for after in following:
            for space in (" ", "\n", "  \n\n "):
                context = f"{word}.{space}{after}"
                assert fast.breaks(context) == punkt.text_contains_sentbreak(context), context
                whole = f"Some words {word}.{space}{after} more words. And {word}. {after}"
                assert fast.sentences(whole) == punkt.tokenize(whole), whole


def test_last_ascii_space():
    rng = random.Random(5)
    alphabet = "ab. \n\t\r\x0b\x0c\u00a0\u2028"
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        start = rng.randrange(len(s) + 1)
        end = rng.randrange(start, len(s) + 1)
        naive = max((i for i in range(start, end) if s[i] in " \t\n\r\x0b\x0c"), default=-1)
        assert last_ascii_space(s, start, end) == naive
        rare = "".join(c for c in "\t\r\x0b\x0c" if c in s)
        assert last_ascii_space(s, start, end, rare) == naive
