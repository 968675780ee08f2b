"""The rules of NLTK 3.5's ``word_tokenize``, restated: how the ``course`` tokenizer splits a
sentence into words.

The course was written against NLTK 3.5; later releases treat leading apostrophes and some
contractions differently (5,792 distinct words on Shakespeare instead of the course's 5,778).
Re-stated here as data, rule for rule and in NLTK 3.5's order, they keep the course's
vocabulary whatever NLTK is installed. :func:`cbow.data.text.split_words` applies them, only
those whose :attr:`Rule.needs` the sentence contains.
"""
from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FUSED", "RULES_AFTER_PADDING", "RULES_BEFORE_PADDING", "Rule"]


class Rule(NamedTuple):
    """One rewrite step of :func:`cbow.data.text.split_words`.

    Attributes
    ----------
    name : str
        Short identifier, used in tests and documentation.
    pattern : re.Pattern
        What to find.
    replacement : str
        What to put instead (``re.sub`` syntax); inserted spaces become token boundaries.
    needs : frozenset of str or None
        What a sentence must contain somewhere for ``pattern`` to match in it: one of these
        characters, or (``"fused"``) one of the fused words cannot, gimme, gonna, gotta,
        lemme, wanna in any case. None: the rule may match any sentence.
    """

    name: str
    pattern: re.Pattern
    replacement: str
    needs: frozenset[str] | None = None


#: In :attr:`Rule.needs`: the sentence contains a fused word (cannot, gimme, gonna, gotta,
#: lemme, wanna, in any case).
FUSED = "fused"


def _rule(name: str, pattern: str, replacement: str, needs: str | None = None) -> Rule:
    return Rule(name, re.compile(pattern), replacement,
                None if needs is None else frozenset([FUSED] if needs == FUSED else needs))


# Every rule inserts spaces around the pieces it separates; the sentence is split on
# whitespace at the end. Order matters (later rules see earlier rules' spaces), so the lists
# are applied top to bottom, exactly as NLTK 3.5 did.

#: Rules applied to the sentence as given (its first and last characters are real text, so
#: ``^`` and ``$`` anchor to the sentence's own start and end).
RULES_BEFORE_PADDING: tuple[Rule, ...] = (
    # Opening quotes.
    _rule("typographic-opening-quotes", r"([«“‘„]|`+)", r" \1 ", "«“‘„`"),
    # A double quote opening the sentence becomes the Treebank opening mark ``.
    _rule("initial-double-quote", r'^"', "``", '"'),
    _rule("pad-backtick-pairs", r"(``)", r" \1 ", "`"),
    _rule("double-quote-after-opener", r"([ (\[{<])(\"|'')", r"\1 `` ", "\"'"),
    # An apostrophe before a single word character that ends a word ('I, 'a) is an opening
    # quote, unless that character begins a clitic ('s, 'd, 'm, 't): "stol'n" becomes
    # "stol' n" (and later "stol ' n"), while 'tis, 'gainst and 'twould stay whole here.
    _rule("apostrophe-before-one-letter", r"(?i)(')(?!re|ve|ll|m|t|s|d)(\w)\b", r"\1 \2", "'"),

    # Punctuation.
    # The sentence's final period (with any closing brackets/quotes after it) is split off,
    # but only at the very end: periods inside the sentence stay attached to their word.
    _rule("final-period", r"([^.])(\.)([\]\)}>\"'»”’ ]*)\s*$", r"\1 \2 \3 "),
    # A colon or comma is split unless a digit follows (keeps 1,000 and 10:30 whole).
    _rule("colon-comma-before-non-digit", r"([:,])([^\d])", r" \1 \2", ":,"),
    _rule("colon-comma-at-end", r"([:,])$", r" \1 ", ":,"),
    # Two or more periods form one ellipsis token.
    _rule("ellipsis", r"\.{2,}", r" \g<0> "),
    _rule("symbols", r"[;@#$%&]", r" \g<0> ", ";@#$%&"),
    # NLTK 3.5 has a second, narrower final-period rule at this point. After the first one it
    # normally only adds spacing, but it is kept so the sequence matches 3.5 rule for rule.
    _rule("final-period-again", r"([^.])(\.)([\]\)}>\"']*)\s*$", r"\1 \2\3 "),
    _rule("question-exclamation", r"[?!]", r" \g<0> ", "?!"),
    # A closing apostrophe followed by a space becomes its own token.
    _rule("apostrophe-before-space", r"([^'])' ", r"\1 ' ", "'"),
    _rule("asterisk", r"\*", r" \g<0> ", "*"),

    # Brackets of every kind are always separate tokens.
    _rule("brackets", r"[\]\[(){}<>]", r" \g<0> ", "[](){}<>"),
    _rule("double-dash", r"--", r" -- ", "-"),
)

#: Rules applied after one space is added at each end of the sentence. Several of them need
#: a literal space after the match, so a clitic directly before a newline inside the sentence
#: ("disturb'd" at a line end) is left attached -- a quirk the course's vocabulary depends on.
RULES_AFTER_PADDING: tuple[Rule, ...] = (
    # Closing quotes.
    _rule("typographic-closing-quotes", r"([»”’])", r" \1 ", "»”’"),
    # Every remaining double quote is a closing one, written '' as in the Treebank.
    _rule("double-quote-closing", r'"', " '' ", '"'),
    _rule("pad-closing-quote-pairs", r"(\S)('')", r"\1 \2 ", "'"),
    # Clitics 's 'm 'd and a bare closing ' are split from their word when a space follows.
    _rule("clitic-s-m-d", r"([^' ])('[sS]|'[mM]|'[dD]|') ", r"\1 \2 ", "'"),
    _rule("clitic-ll-re-ve-nt", r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r"\1 \2 ", "'"),

    # Fused words split in two (from Robert MacIntyre's list, as NLTK 3.5 had it).
    _rule("cannot", r"(?i)\b(can)(not)\b", r" \1 \2 ", FUSED),
    _rule("d-ye", r"(?i)\b(d)('ye)\b", r" \1 \2 ", "'"),
    _rule("gimme", r"(?i)\b(gim)(me)\b", r" \1 \2 ", FUSED),
    _rule("gonna", r"(?i)\b(gon)(na)\b", r" \1 \2 ", FUSED),
    _rule("gotta", r"(?i)\b(got)(ta)\b", r" \1 \2 ", FUSED),
    _rule("lemme", r"(?i)\b(lem)(me)\b", r" \1 \2 ", FUSED),
    _rule("mor-n", r"(?i)\b(mor)('n)\b", r" \1 \2 ", "'"),
    _rule("wanna", r"(?i)\b(wan)(na)\s", r" \1 \2 ", FUSED),
    # 'tis and 'twas, only at the start of a word that follows a space.
    _rule("t-is", r"(?i) ('t)(is)\b", r" \1 \2 ", "'"),
    _rule("t-was", r"(?i) ('t)(was)\b", r" \1 \2 ", "'"),
)
