"""Turning corpus text into the token stream that the model trains on.

Two tokenizers share the course's preprocessing and differ only in how a sentence is split
into words:

``course``
    Reproduces the course exactly: on the Shakespeare corpus it gives the reference stream of
    60,996 tokens and 5,778 distinct words. Word splitting follows the rules of the
    ``word_tokenize`` of NLTK 3.5, the release the course was written against, re-stated in
    this module (:data:`RULES_BEFORE_PADDING`, :data:`RULES_AFTER_PADDING`) so that upgrading
    NLTK cannot change the vocabulary. Later NLTK releases treat leading apostrophes and some
    contractions differently and give 5,792 words on the same text.
``nltk``
    Splits words with the installed NLTK's ``word_tokenize``: the current, maintained
    behaviour, for people's own corpora where matching the course does not matter.

The shared preprocessing (course steps):

1. replace each of ``, ! ? ; -`` with ``.``;
2. split into sentences with NLTK's pretrained Punkt model (``punkt_tab``);
3. split each sentence into words (the step that differs);
4. keep only tokens made entirely of letters (``str.isalpha``) or exactly ``.``, lower-cased.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

import nltk
from nltk.tokenize import PunktTokenizer

from cbow.errors import InputError, UserError

__all__ = [
    "RULES_AFTER_PADDING",
    "RULES_BEFORE_PADDING",
    "TOKENIZERS",
    "Rule",
    "course_tokenize",
    "load_punkt",
    "nltk_tokenize",
    "split_words",
    "tokenize",
]


# --------------------------------------------------------------------------------------------
# Sentence splitting
# --------------------------------------------------------------------------------------------

class PunktMissing(UserError, LookupError):
    """NLTK's Punkt model is not installed and could not be downloaded; the message says how."""


@functools.lru_cache(maxsize=None)
def load_punkt(language: str = "english") -> PunktTokenizer:
    """Return NLTK's pretrained Punkt sentence splitter for ``language``.

    The model (``tokenizers/punkt_tab/<language>/``) is looked up through ``NLTK_DATA`` /
    ``nltk.data.path``. If it is missing, one ``nltk.download("punkt_tab")`` is attempted
    before giving up. The loaded splitter is cached, so later calls are free.

    Parameters
    ----------
    language : str, default "english"
        Name of the Punkt model's folder.

    Returns
    -------
    nltk.tokenize.PunktTokenizer
        A sentence splitter; call ``.tokenize(text)`` for a list of sentences.

    Raises
    ------
    LookupError
        The model is not installed and could not be downloaded; the message says how to
        install it.
    """
    try:
        return PunktTokenizer(language)
    except LookupError:
        pass
    # Not installed: try to fetch it once. nltk.download reports most failures by returning
    # False, but network trouble can also surface as an exception; either way we fall through
    # to the explanatory error below.
    try:
        downloaded = nltk.download("punkt_tab", quiet=True)
    except Exception as error:  # noqa: BLE001 - any failure means "could not install it"
        downloaded, download_problem = False, f"the download raised {error!r}"
    else:
        download_problem = "the download failed" if not downloaded else (
            "the download reported success but the model is still not found")
    if downloaded:
        try:
            return PunktTokenizer(language)
        except LookupError:
            pass
    searched = "\n".join(f"  - {folder}" for folder in nltk.data.path)
    raise PunktMissing(
        f"NLTK's Punkt sentence model for '{language}' (tokenizers/punkt_tab/{language}/) "
        f"was not found in any NLTK data folder:\n{searched}\n"
        f"and {download_problem}. Fix it by setting the environment variable NLTK_DATA to a "
        f"folder containing tokenizers/punkt_tab/{language}/ (for example "
        f"NLTK_DATA=../shared/nltk_data from the project root), or install the model with "
        f"`python -m nltk.downloader punkt_tab`."
    )


# --------------------------------------------------------------------------------------------
# Word splitting: the rules of NLTK 3.5's word_tokenize
# --------------------------------------------------------------------------------------------

class Rule(NamedTuple):
    """One rewrite step of :func:`split_words`.

    Attributes
    ----------
    name : str
        Short identifier, used in tests and documentation.
    pattern : re.Pattern
        What to find.
    replacement : str
        What to put instead (``re.sub`` syntax); inserted spaces become token boundaries.
    """

    name: str
    pattern: re.Pattern
    replacement: str


def _rule(name: str, pattern: str, replacement: str) -> Rule:
    return Rule(name, re.compile(pattern), replacement)


# Every rule inserts spaces around the pieces it separates; the sentence is split on
# whitespace at the end. Order matters (later rules see earlier rules' spaces), so the lists
# are applied top to bottom, exactly as NLTK 3.5 did.

#: Rules applied to the sentence as given (its first and last characters are real text, so
#: ``^`` and ``$`` anchor to the sentence's own start and end).
RULES_BEFORE_PADDING: tuple[Rule, ...] = (
    # Opening quotes.
    _rule("typographic-opening-quotes", r"([«“‘„]|`+)", r" \1 "),
    # A double quote opening the sentence becomes the Treebank opening mark ``.
    _rule("initial-double-quote", r'^"', "``"),
    _rule("pad-backtick-pairs", r"(``)", r" \1 "),
    _rule("double-quote-after-opener", r"([ (\[{<])(\"|'')", r"\1 `` "),
    # An apostrophe before a single word character that ends a word ('I, 'a) is an opening
    # quote, unless that character begins a clitic ('s, 'd, 'm, 't): "stol'n" becomes
    # "stol' n" (and later "stol ' n"), while 'tis, 'gainst and 'twould stay whole here.
    _rule("apostrophe-before-one-letter", r"(?i)(')(?!re|ve|ll|m|t|s|d)(\w)\b", r"\1 \2"),

    # Punctuation.
    # The sentence's final period (with any closing brackets/quotes after it) is split off,
    # but only at the very end: periods inside the sentence stay attached to their word.
    _rule("final-period", r"([^.])(\.)([\]\)}>\"'»”’ ]*)\s*$", r"\1 \2 \3 "),
    # A colon or comma is split unless a digit follows (keeps 1,000 and 10:30 whole).
    _rule("colon-comma-before-non-digit", r"([:,])([^\d])", r" \1 \2"),
    _rule("colon-comma-at-end", r"([:,])$", r" \1 "),
    # Two or more periods form one ellipsis token.
    _rule("ellipsis", r"\.{2,}", r" \g<0> "),
    _rule("symbols", r"[;@#$%&]", r" \g<0> "),
    # NLTK 3.5 has a second, narrower final-period rule at this point. After the first one it
    # normally only adds spacing, but it is kept so the sequence matches 3.5 rule for rule.
    _rule("final-period-again", r"([^.])(\.)([\]\)}>\"']*)\s*$", r"\1 \2\3 "),
    _rule("question-exclamation", r"[?!]", r" \g<0> "),
    # A closing apostrophe followed by a space becomes its own token.
    _rule("apostrophe-before-space", r"([^'])' ", r"\1 ' "),
    _rule("asterisk", r"\*", r" \g<0> "),

    # Brackets of every kind are always separate tokens.
    _rule("brackets", r"[\]\[(){}<>]", r" \g<0> "),
    _rule("double-dash", r"--", r" -- "),
)

#: Rules applied after one space is added at each end of the sentence. Several of them need
#: a literal space after the match, so a clitic directly before a newline inside the sentence
#: ("disturb'd" at a line end) is left attached -- a quirk the course's vocabulary depends on.
RULES_AFTER_PADDING: tuple[Rule, ...] = (
    # Closing quotes.
    _rule("typographic-closing-quotes", r"([»”’])", r" \1 "),
    # Every remaining double quote is a closing one, written '' as in the Treebank.
    _rule("double-quote-closing", r'"', " '' "),
    _rule("pad-closing-quote-pairs", r"(\S)('')", r"\1 \2 "),
    # Clitics 's 'm 'd and a bare closing ' are split from their word when a space follows.
    _rule("clitic-s-m-d", r"([^' ])('[sS]|'[mM]|'[dD]|') ", r"\1 \2 "),
    _rule("clitic-ll-re-ve-nt", r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r"\1 \2 "),

    # Fused words split in two (from Robert MacIntyre's list, as NLTK 3.5 had it).
    _rule("cannot", r"(?i)\b(can)(not)\b", r" \1 \2 "),
    _rule("d-ye", r"(?i)\b(d)('ye)\b", r" \1 \2 "),
    _rule("gimme", r"(?i)\b(gim)(me)\b", r" \1 \2 "),
    _rule("gonna", r"(?i)\b(gon)(na)\b", r" \1 \2 "),
    _rule("gotta", r"(?i)\b(got)(ta)\b", r" \1 \2 "),
    _rule("lemme", r"(?i)\b(lem)(me)\b", r" \1 \2 "),
    _rule("mor-n", r"(?i)\b(mor)('n)\b", r" \1 \2 "),
    _rule("wanna", r"(?i)\b(wan)(na)\s", r" \1 \2 "),
    # 'tis and 'twas, only at the start of a word that follows a space.
    _rule("t-is", r"(?i) ('t)(is)\b", r" \1 \2 "),
    _rule("t-was", r"(?i) ('t)(was)\b", r" \1 \2 "),
)


def split_words(sentence: str) -> list[str]:
    """Split one sentence into words with the rules of NLTK 3.5's ``word_tokenize``.

    No lower-casing or filtering is done; see :func:`course_tokenize` for the full pipeline.

    Parameters
    ----------
    sentence : str
        One sentence (as produced by the Punkt splitter; it may contain newlines).

    Returns
    -------
    list of str
        The words and punctuation tokens, in order.

    Examples
    --------
    >>> split_words("'Tis stol'n, I can't.")
    ["'T", 'is', 'stol', "'", 'n', ',', 'I', 'ca', "n't", '.']
    """
    for rule in RULES_BEFORE_PADDING:
        sentence = rule.pattern.sub(rule.replacement, sentence)
    sentence = f" {sentence} "
    for rule in RULES_AFTER_PADDING:
        sentence = rule.pattern.sub(rule.replacement, sentence)
    return sentence.split()


# --------------------------------------------------------------------------------------------
# The full pipelines
# --------------------------------------------------------------------------------------------

# The course turns these punctuation marks into sentence-ending periods before anything else.
_COURSE_PUNCTUATION = re.compile(r"[,!?;-]")


def _course_pipeline(text: str, words_of: Callable[[str], list[str]]) -> list[str]:
    """Course preprocessing around a pluggable sentence-to-words step."""
    text = _COURSE_PUNCTUATION.sub(".", text)
    sentences = load_punkt("english").tokenize(text)
    # Filter on the token as written, then lower-case, in the course's order: the two orders
    # differ for the rare letters whose lower-case form is not alphabetic (e.g. "İ").
    return [
        word.lower()
        for sentence in sentences
        for word in words_of(sentence)
        if word.isalpha() or word == "."
    ]


def course_tokenize(text: str) -> list[str]:
    """Tokenize text exactly as the course did (NLTK 3.5 word rules).

    Parameters
    ----------
    text : str
        Raw corpus text.

    Returns
    -------
    list of str
        Lower-case alphabetic words and ``"."`` tokens.

    Raises
    ------
    LookupError
        The Punkt sentence model is not available (see :func:`load_punkt`).
    """
    return _course_pipeline(text, split_words)


def _installed_nltk_words(sentence: str) -> list[str]:
    # preserve_line=True: the sentence is already split, so NLTK must not split it again.
    return nltk.word_tokenize(sentence, preserve_line=True)


def nltk_tokenize(text: str) -> list[str]:
    """Tokenize text with the course's preprocessing but the installed NLTK's word splitter.

    The result may differ between NLTK releases; use :func:`course_tokenize` to reproduce the
    course.

    Parameters
    ----------
    text : str
        Raw corpus text.

    Returns
    -------
    list of str
        Lower-case alphabetic words and ``"."`` tokens.

    Raises
    ------
    LookupError
        The Punkt sentence model is not available (see :func:`load_punkt`).
    """
    return _course_pipeline(text, _installed_nltk_words)


#: Tokenizers selectable by name (the ``tokenizer`` setting of a run).
TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "course": course_tokenize,
    "nltk": nltk_tokenize,
}


def tokenize(text: str, tokenizer: str = "course") -> list[str]:
    """Tokenize text with a tokenizer chosen by name.

    Parameters
    ----------
    text : str
        Raw corpus text.
    tokenizer : {"course", "nltk"}, default "course"
        Which tokenizer of :data:`TOKENIZERS` to use.

    Returns
    -------
    list of str
        The tokens.

    Raises
    ------
    ValueError
        ``tokenizer`` is not a known name.
    """
    try:
        chosen = TOKENIZERS[tokenizer]
    except (KeyError, TypeError):
        valid = ", ".join(repr(name) for name in TOKENIZERS)
        raise InputError(
            f"unknown tokenizer {tokenizer!r}; valid names are {valid} ('course' reproduces "
            f"the course's vocabulary, 'nltk' uses the installed NLTK's word splitter)"
        ) from None
    return chosen(text)
