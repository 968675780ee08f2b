"""NLTK's Punkt sentence splitting: the same sentences with less Python work, and the places
where text can be cut without changing them.

:class:`FastPunkt` wraps a loaded :class:`nltk.tokenize.PunktTokenizer` and gives the
sentences of its ``tokenize`` (``sentences``) and the answers of its
``text_contains_sentbreak`` (``breaks``), string for string and answer for answer. It uses
Punkt's own model, regular expressions and per-token annotation (the first pass); what it
restates is the control flow around them, which in NLTK builds a ``PunktToken`` object and a
chain of generators for every token of every candidate's context:

- the scan over candidates (``_match_potential_end_contexts``, ``_slices_from_text``,
  ``_realign_boundaries``) as one loop, without generators;
- the decision for a candidate (``text_contains_sentbreak`` of its context, which runs the
  second pass, ``_second_pass_annotation`` and ``_ortho_heuristic``) as a function of what
  the first pass found out about each token, computed once per distinct token;
- decisions remembered per context (dictionary text repeats contexts such as ``adj. 1``).

Each restated piece names the NLTK method it restates; ``tests/test_punkt.py`` compares both
on Shakespeare's candidates and on tricky samples, and ``benchmarks/check_tokenizer_identity.py``
compares whole token streams on a large corpus.

:class:`PunktCuts` finds where a stream of text can be cut into blocks that Punkt splits one at
a time with the sentences it gives the whole text (:class:`cbow.data.text.BlockSplitter` cuts
there); its docstring gives the argument.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from nltk.tokenize.punkt import (_ORTHO_BEG_LC, _ORTHO_LC, _ORTHO_MID_UC, _ORTHO_UC,
                                 PunktSentenceTokenizer)

__all__ = ["FastPunkt", "PunktCuts", "last_ascii_space"]

# Punkt's "whitespace" when it looks back for the word before a candidate: string.whitespace.
_ASCII_SPACES = " \t\n\r\x0b\x0c"
# A run of ASCII whitespace (string.whitespace), where PunktCuts may cut.
_ASCII_SPACE_RUN = re.compile(r"[ \t\n\r\x0b\x0c]+")
# Where the search for a cut resumes when none was found: far enough back that a period whose
# next token was still incomplete is looked at again once more text has arrived.
_RESCAN_CHARS = 4096
# Caches are emptied when they grow past this many entries, so that memory stays bounded
# (text whose words keep changing, such as a dictionary's, rarely asks for old entries again).
_CACHE_ENTRIES = 100_000


def last_ascii_space(text: str, start: int, end: int, rare: str = "\t\r\x0b\x0c") -> int:
    """Index of the last ASCII whitespace character in ``text[start:end]``, or -1.

    ``rare``: the ASCII whitespace other than " " and "\\n" that ``text`` may contain (all of
    it unless said otherwise).
    """
    found = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
    for space in rare:  # the rare ones only need looking for after the common ones
        found = max(found, text.rfind(space, max(start, found), end))
    return found


class _Token(NamedTuple):
    """What Punkt's second pass reads of a token after its first pass (PunktToken's fields)."""

    sentbreak: bool  # the first pass's decision
    abbr_or_ellipsis: bool
    initial: bool
    type_no_period: str
    type_no_sentperiod: str
    first_upper: bool
    first_lower: bool
    punctuation: bool  # one of Punkt's PUNCTUATION tokens (; : , . ! ?)
    alone: bool | None  # whether it is a break whatever follows; None: that depends


class FastPunkt:
    """Punkt's sentences and decisions for one loaded model; see the module's docstring.

    Parameters
    ----------
    punkt : nltk.tokenize.PunktTokenizer
        The model (e.g. :func:`cbow.data.text.load_punkt`); it is only read.
    """

    def __init__(self, punkt: PunktSentenceTokenizer):
        self._punkt = punkt
        language = punkt._lang_vars
        self._candidates = language.period_context_re()
        self._word_tokenize = language.word_tokenize
        self._realign = language.re_boundary_realignment
        self._sent_end_chars = language.sent_end_chars
        params = punkt._params
        self._collocations = params.collocations
        self._collocation_starts = {first for first, _ in params.collocations}
        self._sent_starters = params.sent_starters
        self._ortho_context = params.ortho_context
        self._punctuation = punkt.PUNCTUATION
        self._tokens: dict[str, _Token] = {}
        self._decisions: dict[str, bool] = {}
        self._realign_starts: dict[str, bool] = {}

    # ---------------------------------------------------------------------------------------
    # Sentences: PunktSentenceTokenizer.tokenize
    # ---------------------------------------------------------------------------------------

    def sentences(self, text: str) -> list[str]:
        """``punkt.tokenize(text)``: the sentences of ``text``, as strings."""
        return [text[start:stop] for start, stop in self._realigned(text, self._slices(text))]

    def _slices(self, text: str) -> list[tuple[int, int]]:
        """``_slices_from_text`` over ``_match_potential_end_contexts``, as one loop."""
        slices, last_break = [], 0
        previous, previous_start, previous_stop = None, 0, 0  # the pending candidate and word
        rare_spaces = "".join(space for space in "\t\r\x0b\x0c" if space in text)
        for match in self._candidates.finditer(text):
            start = match.start()
            # The word before the candidate starts after the last ASCII whitespace since the
            # previous candidate; NLTK's _get_last_whitespace_index answers 0 both for "none"
            # and for "at the first character", and both then keep the previous word's start.
            space = last_ascii_space(text, previous_stop, start, rare_spaces)
            word_start = space + 1 if space > previous_stop else previous_start
            # A candidate whose word overlaps the next candidate's word is dropped (only the
            # last of e.g. "!!!" is decided).
            if previous is not None and previous_stop <= word_start:
                last_break = self._decide(text, previous, previous_start, slices, last_break)
            previous, previous_start, previous_stop = match, word_start, start
        if previous is not None:
            last_break = self._decide(text, previous, previous_start, slices, last_break)
        slices.append((last_break, len(text.rstrip())))
        return slices

    def _decide(self, text: str, match, word_start: int, slices: list, last_break: int) -> int:
        start, end = match.span()
        word, next_token = text[word_start:start], match.group("next_tok")
        if (next_token is not None and text[start] == "." and (word.isalnum() or not word)
                and (next_token.isalnum() or next_token[-1] == "." and next_token[:-1].isalnum())):
            # The common context "word. Next": letters and digits hold nothing Punkt's word
            # tokenizer splits at, so its tokens are "word." and the next token as it is
            # (with its final period if any; lines and whitespace between them make no
            # tokens), and text_contains_sentbreak only asks whether the first is a break.
            token = self._token(text[word_start:end])
            breaks = (token.alone if token.alone is not None
                      else self._breaks_before(token, self._token(next_token)))
        else:
            breaks = self.breaks(text[word_start:end] + match.group("after_tok"))
        if not breaks:
            return last_break
        slices.append((last_break, end))
        # The next sentence starts at the next token, or at the punctuation that follows.
        return match.start("next_tok") if next_token else end

    def _realigned(self, text: str, slices: list[tuple[int, int]]):
        """``_realign_boundaries``: closing quotes/brackets after a break join the sentence."""
        realign = 0
        for (start, stop), (next_start, next_stop) in zip(slices, slices[1:]):
            start += realign
            found = (next_start < next_stop and self._may_realign(text[next_start])
                     and self._realign.match(text[next_start:next_stop]))
            if found:
                yield start, next_start + len(found.group(0).rstrip())
                realign = found.end()
            else:
                realign = 0
                if text[start:stop]:
                    yield start, stop
        start, stop = slices[-1]
        if text[start + realign:stop]:
            yield start + realign, stop

    def _may_realign(self, character: str) -> bool:
        """Whether the realignment pattern can match a sentence starting with ``character``:
        it starts with one or more closing characters, then whitespace or the end."""
        may = self._realign_starts.get(character)
        if may is None:
            may = self._realign_starts[character] = bool(self._realign.match(character + " "))
        return may

    # ---------------------------------------------------------------------------------------
    # Decisions: PunktSentenceTokenizer.text_contains_sentbreak
    # ---------------------------------------------------------------------------------------

    def breaks(self, context: str) -> bool:
        """``punkt.text_contains_sentbreak(context)``: a token other than the last ends a
        sentence, after both of Punkt's annotation passes."""
        decision = self._decisions.get(context)
        if decision is None:
            tokens = [self._token(word)
                      for line in context.split("\n") if line.strip()  # _tokenize_words
                      for word in self._word_tokenize(line)]
            # The second pass decides each token from the next one only, so the first break
            # among all but the last token is found pair by pair.
            decision = any(first.alone if first.alone is not None
                           else self._breaks_before(first, second)
                           for first, second in zip(tokens, tokens[1:]))
            if len(self._decisions) >= _CACHE_ENTRIES:
                self._decisions.clear()
            self._decisions[context] = decision
        return decision

    def _token(self, word: str) -> _Token:
        """A token after Punkt's own first pass (``_first_pass_annotation``), cached."""
        token = self._tokens.get(word)
        if token is None:
            punkt_token = self._punkt._Token(word)
            self._punkt._first_pass_annotation(punkt_token)
            abbr_or_ellipsis = bool(punkt_token.abbr or punkt_token.ellipsis)
            initial, typ = bool(punkt_token.is_initial), punkt_token.type_no_period
            sentbreak = bool(punkt_token.sentbreak)
            typ_no_sentperiod = punkt_token.type_no_sentperiod
            if typ_no_sentperiod == typ:
                typ_no_sentperiod = typ  # one string object kept, not two equal ones
            # The second pass (_breaks_before) changes only period-final tokens that are
            # abbreviations, ellipses, initials or numbers, or the first type of a collocation.
            alone = sentbreak if not punkt_token.period_final or not (
                abbr_or_ellipsis or initial or typ == "##number##"
                or typ in self._collocation_starts) else None
            token = _Token(
                sentbreak=sentbreak,
                abbr_or_ellipsis=abbr_or_ellipsis,
                initial=initial,
                type_no_period=typ,
                type_no_sentperiod=typ_no_sentperiod,
                first_upper=punkt_token.first_upper,
                first_lower=punkt_token.first_lower,
                punctuation=word in self._punctuation,
                alone=alone)
            if len(self._tokens) >= _CACHE_ENTRIES:
                self._tokens.clear()
            self._tokens[word] = token
        return token

    def _breaks_before(self, token: _Token, following: _Token) -> bool:
        """Whether ``token`` is a sentence break once the second pass has seen ``following``:
        ``_second_pass_annotation`` restated, returning the ``sentbreak`` it leaves."""
        if token.alone is not None:
            return token.alone
        typ, next_typ = token.type_no_period, following.type_no_sentperiod
        if (typ, next_typ) in self._collocations:
            return False
        if token.abbr_or_ellipsis and not token.initial:
            if self._ortho_heuristic(following) is True:
                return True
            if following.first_upper and next_typ in self._sent_starters:
                return True
        if token.initial or typ == "##number##":
            starts = self._ortho_heuristic(following)
            if starts is False:
                return False
            if (starts == "unknown" and token.initial and following.first_upper
                    and not self._ortho_context.get(next_typ, 0) & _ORTHO_LC):
                return False
        return token.sentbreak

    def _ortho_heuristic(self, token: _Token) -> bool | str:
        """``_ortho_heuristic`` restated: does the token start a sentence (or "unknown")?"""
        if token.punctuation:
            return False
        context = self._ortho_context.get(token.type_no_sentperiod, 0)
        if token.first_upper and context & _ORTHO_LC and not context & _ORTHO_MID_UC:
            return True
        if token.first_lower and (context & _ORTHO_UC or not context & _ORTHO_BEG_LC):
            return False
        return "unknown"


class PunktCuts:
    """Finds places where text can be cut without changing Punkt's sentences.

    Punkt (``nltk/tokenize/punkt.py`` since NLTK 3.8.2; cbow needs >= 3.9) decides each
    candidate -- a ``. ? !`` followed by a non-word character or by whitespace and a token --
    from a short context: the candidate's word (back to the previous ASCII whitespace), the
    ``.`` and what follows it up to the end of the next token. A cut ``A = text[:i+1]``,
    ``B = text[n:]`` at candidate ``i`` whose next token starts at ``n`` gives
    ``sentences(A) + sentences(B) == sentences(text)`` when:

    1. Punkt breaks there: ``text_contains_sentbreak`` of that exact context is true, so the
       whole text has a sentence ending at ``i+1`` and the next one starting at ``n``, exactly
       where ``A`` ends and ``B`` starts (the whitespace between belongs to no sentence);
    2. the gap ``text[i+1:n]`` is ASCII whitespace, the candidate's word holds no other
       ``. ? !`` and is preceded by ASCII whitespace inside the block: then the word Punkt
       looks back to, the overlap rule that skips all but the last candidate of a word, and
       the first candidate of ``B`` all come out the same whether or not the text goes on;
    3. the next token does not start with a closing quote or bracket, which Punkt's boundary
       realignment would move to the previous sentence.

    Every other candidate's context lies wholly inside ``A`` or inside ``B``, so its decision
    is unchanged. The course's ``, ! ? ; -`` -> ``.`` is done before searching, since Punkt
    sees that text. ``tests/test_text.py`` checks the result on Shakespeare cut every few
    thousand characters against the golden stream.

    Parameters
    ----------
    fast : FastPunkt
        The loaded model's :class:`FastPunkt`, whose decisions (``breaks``) it asks.
    """

    def __init__(self, fast: FastPunkt):
        language = fast._punkt._lang_vars  # the objects Punkt itself uses, for the same answers
        self._candidates = language.period_context_re()
        self._realign = language.re_boundary_realignment
        self._ends = tuple(language.sent_end_chars)
        self._breaks = fast.breaks  # = punkt.text_contains_sentbreak

    def find(self, text: str, start: int, search_from: int) -> tuple[tuple[int, int] | None, int]:
        """First exact cut in ``text`` after ``search_from`` for a block starting at ``start``.

        Returns ``((block_end, next_start), _)`` or ``(None, resume)``: no cut yet; search
        again from ``resume`` once the text is longer.
        """
        for match in self._candidates.finditer(text, search_from):
            i, next_start = match.start(), match.start("next_tok")
            if next_start < 0:
                continue  # "." followed by punctuation: no clean place to cut
            if match.end("next_tok") >= len(text):
                return None, i  # the next token may go on in text not read yet
            if self._is_exact(text, start, i, next_start, match):
                return (i + 1, next_start), 0
        return None, max(search_from, len(text) - _RESCAN_CHARS)

    def _is_exact(self, text: str, start: int, i: int, next_start: int, match) -> bool:
        if not _ASCII_SPACE_RUN.fullmatch(text, i + 1, next_start):
            return False
        word_start = last_ascii_space(text, start, i) + 1
        if word_start - 1 <= start:  # the word's space must lie inside the block (point 2)
            return False
        word = text[word_start:i]
        if any(end in word for end in self._ends):
            return False
        if self._realign.match(text[next_start] + " "):
            return False
        return self._breaks(word + match.group() + match.group("after_tok"))
