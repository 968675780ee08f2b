"""Turning corpus text into the token stream that the model trains on.

Two tokenizers share the course's preprocessing and differ only in how a sentence is split
into words:

``course``
    Reproduces the course exactly: on the Shakespeare corpus it gives the reference stream of
    60,996 tokens and 5,778 distinct words. Word splitting follows the rules of the
    ``word_tokenize`` of NLTK 3.5, the release the course was written against, re-stated in
    :mod:`cbow.data.word_rules` so that upgrading NLTK cannot change the vocabulary.
``nltk``
    Splits words with the installed NLTK's ``word_tokenize``: the current, maintained
    behaviour, for people's own corpora where matching the course does not matter.

The shared preprocessing (course steps):

1. replace each of ``, ! ? ; -`` with ``.``;
2. split into sentences with NLTK's pretrained Punkt model (``punkt_tab``);
3. split each sentence into words (the step that differs);
4. keep only tokens made entirely of letters (``str.isalpha``) or exactly ``.``, lower-cased.

For speed, with the same results: Punkt's sentences come from :class:`cbow.data.punkt.FastPunkt`
(NLTK's sentences and decisions, string for string, with less Python work per candidate), and
:func:`split_words` applies only the rules whose characters occur in the sentence
(:attr:`cbow.data.word_rules.Rule.needs`).

A third tokenizer, ``whitespace``, is for text that is already tokenized: tokens are what
``str.split`` finds, each line is a sentence, and lower-casing is optional.

Each tokenizer is one function, block of text -> list of sentences of tokens
(:func:`course_sentences`, :func:`nltk_sentences`, :func:`whitespace_sentences`), declared by
name in :data:`cbow.registry.TOKENIZERS`, which also says how its text is cut into blocks.
Text of any size goes through :class:`BlockSplitter`, which cuts a stream of text into blocks
of bounded size that are tokenized one at a time (:func:`tokenize_block`):
Punkt never sees more than :data:`PUNKT_MAX_BLOCK_CHARS` characters (NLTK >= 3.10 abandons a
regular-expression scan after 5 s), and the ``course`` stream of a text cut this way is the
stream of the whole text, token for token (see :class:`BlockSplitter` for why).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from cbow.data.word_rules import FUSED, RULES_AFTER_PADDING, RULES_BEFORE_PADDING, Rule
from cbow.errors import InputError, UserError
from cbow.registry import TOKENIZERS

if TYPE_CHECKING:  # NLTK (with cbow.data.punkt, built on it) is imported where Punkt is used only:
    # the whitespace tokenizer neither needs it nor pays for its memory
    from nltk.tokenize import PunktTokenizer

    from cbow.data.punkt import FastPunkt, PunktCuts

__all__ = [
    "LINE_BLOCK_CHARS",
    "LINE_MAX_BLOCK_CHARS",
    "PUNKT_BLOCK_CHARS",
    "PUNKT_MAX_BLOCK_CHARS",
    "Block",
    "BlockSplitter",
    "check_stream_tokenizer",
    "course_sentences",
    "course_tokenize",
    "load_punkt",
    "nltk_sentences",
    "punkt_sentences",
    "split_words",
    "tokenize_block",
    "whitespace_sentences",
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
    import nltk
    from nltk.tokenize import PunktTokenizer

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


def punkt_sentences(text: str, language: str = "english") -> list[str]:
    """Punkt's sentences of ``text``: ``load_punkt(language).tokenize(text)``, string for string,
    computed faster (see :class:`cbow.data.punkt.FastPunkt`)."""
    return _fast_punkt(load_punkt(language)).sentences(text)


@functools.lru_cache(maxsize=4)
def _fast_punkt(punkt: PunktTokenizer) -> FastPunkt:
    from cbow.data.punkt import FastPunkt
    return FastPunkt(punkt)


def _punkt_cuts(punkt: PunktTokenizer) -> PunktCuts:
    from cbow.data.punkt import PunktCuts
    return PunktCuts(_fast_punkt(punkt))


# --------------------------------------------------------------------------------------------
# Word splitting: the rules of NLTK 3.5's word_tokenize (cbow.data.word_rules), applied
# --------------------------------------------------------------------------------------------

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
    return _split_words(sentence, fused_words=True)


# Only the rules that can match a sentence are applied (each rule's ``needs``); the result is
# that of applying every rule, since a rule skipped would have matched nothing: ``needs``
# holds characters that are neither word characters, whitespace nor "." (a test checks it)
# and the fused words; the rules only insert spaces and turn '"' into `` or '' (so with '"'
# present, ` and ' count as present too), which adds no other character and cannot join
# letters into a fused word.
_RULE_CHARACTERS = re.compile(r"[^\w\s.]")
_FUSED_WORDS = re.compile(r"(?i:cannot|gimme|gonna|gotta|lemme|wanna)")


def _split_words(sentence: str, fused_words: bool) -> list[str]:
    """:func:`split_words`; ``fused_words=False`` says that ``sentence`` has no fused word."""
    found = _RULE_CHARACTERS.findall(sentence)
    if fused_words and _FUSED_WORDS.search(sentence):
        found.append(FUSED)
    if not found:
        return _split_plain_words(sentence)
    before, after = _rules_for(frozenset(found))
    for rule in before:
        sentence = rule.pattern.sub(rule.replacement, sentence)
    sentence = f" {sentence} "
    for rule in after:
        sentence = rule.pattern.sub(rule.replacement, sentence)
    return sentence.split()


@functools.lru_cache(maxsize=4096)
def _rules_for(found: frozenset[str]) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    """The rules that may match a sentence containing ``found`` (before and after padding)."""
    if '"' in found:
        found |= {"`", "'"}
    return tuple(tuple(rule for rule in rules if rule.needs is None or rule.needs & found)
                 for rules in (RULES_BEFORE_PADDING, RULES_AFTER_PADDING))


_ELLIPSIS = next(rule for rule in RULES_BEFORE_PADDING if rule.name == "ellipsis")


def _split_plain_words(sentence: str) -> list[str]:
    """:func:`split_words` of a sentence with no rule's ``needs``: only the three rules without
    ``needs`` can match, and what they do is restated here for the words it leaves.

    - final-period: with no closing bracket or quote present, a period that ends the sentence
      (but for whitespace) and follows a character other than "." becomes a word of its own;
    - ellipsis: runs of two or more periods become words of their own;
    - final-period-again: no other words than these. After final-period the sentence ends in
      " . " and its match only changes spaces; without it, the sentence does not end in a
      single period before ellipsis, nor after it (ellipsis only adds spaces around runs).
    """
    text = sentence.rstrip()
    final_period = len(text) >= 2 and text[-1] == "." and text[-2] != "."
    if final_period:
        text = text[:-1]
    if ".." in text:
        text = _ELLIPSIS.pattern.sub(_ELLIPSIS.replacement, text)
    words = text.split()
    if final_period:
        words.append(".")
    return words


# --------------------------------------------------------------------------------------------
# The tokenizers: block of text -> sentences of tokens (registered in cbow.registry.TOKENIZERS)
# --------------------------------------------------------------------------------------------

# The course turns these punctuation marks into sentence-ending periods before anything else.
_COURSE_PUNCTUATION = re.compile(r"[,!?;-]")


def _punkt_sentences(text: str, words_of: Callable[[str], list[str]]) -> list[list[str]]:
    """The course's preprocessing around a pluggable sentence-to-words step, per sentence
    (``text`` has had the course's ``, ! ? ; -`` -> ``.`` already)."""
    sentences = punkt_sentences(text)
    # Filter on the token as written, then lower-case, in the course's order: the two orders
    # differ for the rare letters whose lower-case form is not alphabetic (e.g. "İ").
    return [[word.lower() for word in words_of(sentence) if word.isalpha() or word == "."]
            for sentence in sentences]


def course_sentences(text: str, lowercase: bool = True) -> list[list[str]]:
    """The ``course`` tokenizer: Punkt sentences, NLTK 3.5's word rules, the course's filter.

    Parameters
    ----------
    text : str
        A block (see :class:`BlockSplitter`), or any text small enough for Punkt in one go.
    lowercase : bool, default True
        Must be True: the course always lower-cases (step 4 of its preprocessing).

    Returns
    -------
    list of list of str
        One list per Punkt sentence: its lower-case alphabetic words and ``"."`` tokens.

    Raises
    ------
    LookupError
        The Punkt sentence model is not available (see :func:`load_punkt`).
    """
    text = _COURSE_PUNCTUATION.sub(".", text)
    # Each sentence is a piece of the text: without a fused word in the text, none has one.
    fused_words = _FUSED_WORDS.search(text) is not None
    return _punkt_sentences(text, functools.partial(_split_words, fused_words=fused_words))


def course_tokenize(text: str) -> list[str]:
    """The course's token stream of ``text``: :func:`course_sentences`, one after the other.

    On the Shakespeare corpus this is the reference stream (60,996 tokens, 5,778 words).
    """
    return [token for sentence in course_sentences(text) for token in sentence]


def _installed_nltk_words(sentence: str) -> list[str]:
    import nltk
    # preserve_line=True: the sentence is already split, so NLTK must not split it again.
    return nltk.word_tokenize(sentence, preserve_line=True)


def nltk_sentences(text: str, lowercase: bool = True) -> list[list[str]]:
    """The ``nltk`` tokenizer: as :func:`course_sentences`, with the installed NLTK's words.

    The result may differ between NLTK releases; the ``course`` tokenizer reproduces the course.
    """
    return _punkt_sentences(_COURSE_PUNCTUATION.sub(".", text), _installed_nltk_words)


def whitespace_sentences(text: str, lowercase: bool = True) -> list[list[str]]:
    """The ``whitespace`` tokenizer: one sentence per line (``\\n``, possibly empty), tokens
    are what ``str.split`` finds, lower-cased if ``lowercase``."""
    if lowercase:
        text = text.lower()
    return [line.split() for line in text.split("\n")]


# --------------------------------------------------------------------------------------------
# Streaming: text of any size, cut into blocks that are tokenized one at a time
# --------------------------------------------------------------------------------------------

#: Punkt blocks are cut at the first exact sentence break after this many characters ...
PUNKT_BLOCK_CHARS = 64 * 1024
#: ... and, where the text offers none, anyway (at a paragraph, a line, a space, then
#: anywhere) before this many: far below what NLTK's 5 s regex limit lets Punkt handle.
PUNKT_MAX_BLOCK_CHARS = 256 * 1024
#: ``whitespace`` blocks are whole lines, cut at the first newline after this many characters ...
LINE_BLOCK_CHARS = 1 << 20
#: ... and a line longer than this is cut at a space (it stays one sentence).
LINE_MAX_BLOCK_CHARS = 4 << 20

_NON_SPACE = re.compile(r"\S")


class Block(NamedTuple):
    """A piece of text that is tokenized on its own.

    Attributes
    ----------
    text : str
        The block's text (for Punkt tokenizers already with the course's ``, ! ? ; -`` -> ``.``).
    new_sentence : bool
        Whether its first token starts a sentence. False only for ``whitespace`` blocks that
        continue a line longer than :data:`LINE_MAX_BLOCK_CHARS`.
    """

    text: str
    new_sentence: bool


def check_stream_tokenizer(tokenizer: str, lowercase: bool = True) -> None:
    """Raise :class:`InputError` for an unknown tokenizer or an impossible ``lowercase``."""
    entry = TOKENIZERS.get(tokenizer)
    if not isinstance(lowercase, bool):
        raise InputError(f"lowercase must be true or false; got {lowercase!r}")
    if not lowercase and not entry.keeps_case:
        keeping = " or ".join(repr(t.name) for t in TOKENIZERS if t.keeps_case)
        raise InputError(f"the {tokenizer!r} tokenizer always lower-cases; lowercase=False "
                         f"needs tokenizer={keeping}")


class BlockSplitter:
    """Cut a stream of text into :class:`Block` s of bounded size.

    Feed it the text of a file piece by piece (pieces may end anywhere); it returns the
    blocks completed so far. :meth:`end_of_file` returns the rest: a file's end always ends a
    block (and a line, and for ``whitespace`` a sentence).

    Where blocks are cut:

    ``course`` and ``nltk``
        At the first place after :data:`PUNKT_BLOCK_CHARS` characters where Punkt itself puts
        a sentence break and cutting provably changes no sentence (see
        :class:`cbow.data.punkt.PunktCuts`), so the tokens of the blocks are the tokens of the
        whole text. Text that offers no such place within :data:`PUNKT_MAX_BLOCK_CHARS`
        characters (no sentence punctuation at all) is cut at the last paragraph break, else
        line break, else space, else anywhere, before that size; these cuts are counted in
        :attr:`forced_cuts`.
    ``whitespace``
        After the first newline past :data:`LINE_BLOCK_CHARS` characters (exact: lines are
        independent). A line longer than :data:`LINE_MAX_BLOCK_CHARS` is cut at its last space
        before that size (exact too: the next block continues the sentence,
        ``new_sentence=False``), or anywhere if it has none (a token is split: counted).

    Parameters
    ----------
    tokenizer : str
        A name of :data:`cbow.registry.TOKENIZERS`; its ``blocks`` say where to cut.
    target_chars, max_chars : int, optional
        Override the block sizes (tests use small ones to cut often).
    """

    def __init__(self, tokenizer: str, *, target_chars: int | None = None,
                 max_chars: int | None = None):
        check_stream_tokenizer(tokenizer)
        self._punkt = TOKENIZERS.get(tokenizer).blocks == "punkt"
        # Module constants read here, not as default arguments, so tests can change them.
        defaults = ((PUNKT_BLOCK_CHARS, PUNKT_MAX_BLOCK_CHARS) if self._punkt
                    else (LINE_BLOCK_CHARS, LINE_MAX_BLOCK_CHARS))
        self._target = int(target_chars or defaults[0])
        self._max = int(max_chars or max(self._target, defaults[1]))
        if not 1 <= self._target <= self._max:
            raise InputError(f"block sizes must satisfy 1 <= target_chars <= max_chars; got "
                             f"{self._target} and {self._max}")
        self._cuts = _punkt_cuts(load_punkt("english")) if self._punkt else None
        self._buffer = ""       # text not yet in a block; a block starts at its index 0
        self._resume = 0        # where the search for a Punkt cut goes on
        self._continues = False  # whitespace: the buffer starts inside a line
        #: Cuts made where exactness could not be kept, by kind.
        self.forced_cuts = {"paragraph": 0, "line": 0, "space": 0, "anywhere": 0}

    def feed(self, piece: str) -> list[Block]:
        """Add text; return the blocks it completes (possibly none)."""
        if self._punkt:
            # One character for one character, so positions are those of the raw text.
            piece = _COURSE_PUNCTUATION.sub(".", piece)
        self._buffer += piece
        return self._split(at_end=False)

    def end_of_file(self) -> list[Block]:
        """The remaining blocks of the current file; the next piece starts a new file."""
        blocks = self._split(at_end=True)
        self._buffer, self._resume, self._continues = "", 0, False
        return blocks

    def _split(self, at_end: bool) -> list[Block]:
        text, start, blocks = self._buffer, 0, []
        while len(text) - start >= self._target:
            cut = self._exact_cut(text, start)
            if cut is None:
                if len(text) - start < self._max:
                    break  # wait for more text (or the end of the file)
                cut = self._forced_cut(text, start)
            (end, next_start), new_sentence = cut, not self._continues
            # A whitespace block cut inside a line leaves the next one continuing it.
            self._continues = not self._punkt and not text.endswith("\n", start, end)
            if _NON_SPACE.search(text, start, end):  # (a block of only spaces has no tokens)
                blocks.append(Block(text[start:end], new_sentence))
            start, self._resume = next_start, 0
        if at_end and _NON_SPACE.search(text, start):
            blocks.append(Block(text[start:], not self._continues))
            start = len(text)
        self._buffer = text[start:]
        self._resume = max(0, self._resume - start)
        return blocks

    def _exact_cut(self, text: str, start: int) -> tuple[int, int] | None:
        if not self._punkt:
            newline = text.find("\n", start + self._target - 1, start + self._max)
            if newline < 0:
                newline = text.rfind("\n", start, start + self._max)  # a long line follows
            return None if newline < 0 else (newline + 1, newline + 1)
        cut, self._resume = self._cuts.find(text, start, max(start + self._target, self._resume))
        return cut

    def _forced_cut(self, text: str, start: int) -> tuple[int, int]:
        """Cut before ``start + max`` at the best place there is; counted in forced_cuts."""
        lo, hi = start + (self._target if self._punkt else 1), start + self._max
        kinds = ((("paragraph", "\n\n"), ("line", "\n")) if self._punkt else ()) + (
            ("space", " "), ("space", "\t"))
        for kind, separator in kinds:
            at = text.rfind(separator, lo, hi)
            if at >= 0:
                self.forced_cuts[kind] += 1
                found = _NON_SPACE.search(text, at, len(text))
                return at, (found.start() if found else len(text))
        self.forced_cuts["anywhere"] += 1
        return hi, hi


def tokenize_block(text: str, tokenizer: str = "course", lowercase: bool = True) -> list[list[str]]:
    """Tokenize one block (see :class:`BlockSplitter`), sentence by sentence.

    Parameters
    ----------
    text : str
        A block, or any text small enough for Punkt to handle in one go.
    tokenizer : str, default "course"
        A name of :data:`cbow.registry.TOKENIZERS`.
    lowercase : bool, default True
        Lower-case the tokens (only tokenizers that can keep case accept False).

    Returns
    -------
    list of list of str
        The tokenizer's sentences, each a list of tokens, in order (the ``course``
        tokenizer's concatenated are :func:`course_tokenize` of ``text``).
    """
    check_stream_tokenizer(tokenizer, lowercase)
    return TOKENIZERS.load(tokenizer)(text, lowercase)
