"""Vocabulary: words <-> integer ids, with counts.

A vocabulary keeps the words in the order it is given (its id order). Two orders are made
(``vocab.order``, :func:`build_vocabulary`): ``alpha``, the course's position in
``sorted(set(tokens))`` (:meth:`Vocabulary.from_tokens`), so that ids and the rows of every
weight matrix match the course's; and ``frequency``, word2vec's, most frequent first.
"""
from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from cbow.errors import InputError, UnknownWord
from cbow.io import atomic_write_bytes

__all__ = ["ORDERS", "Vocabulary", "build_vocabulary"]

#: Vocabulary orders: ``alpha`` is the course's sorted order; ``frequency`` is word2vec's,
#: most frequent first, ties in alphabetical order.
ORDERS = ("alpha", "frequency")


class Vocabulary:
    """Words in id order (alphabetical or by frequency, as built), their ids and their counts.

    Parameters
    ----------
    words : sequence of str
        Distinct words, in id order.
    counts : sequence of int, optional
        Occurrences of each word in the corpus (zeros when unknown).
    """

    def __init__(self, words: Iterable[str], counts: Iterable[int] | None = None):
        self.words: list[str] = list(words)
        self.counts = np.zeros(len(self.words), dtype=np.int64) if counts is None else (
            np.asarray(list(counts), dtype=np.int64))
        if self.counts.shape != (len(self.words),):
            raise ValueError(f"expected {len(self.words)} counts, one per word; got {self.counts.shape[0]}")
        self.word2index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.word2index) != len(self.words):
            duplicates = sorted(w for w, n in Counter(self.words).items() if n > 1)
            raise ValueError(f"words must be distinct; repeated: {duplicates[:5]}")

    @classmethod
    def from_tokens(cls, tokens: Iterable[str]) -> "Vocabulary":
        """Build the course's vocabulary: every distinct token, sorted, with its count."""
        counter = Counter(tokens)
        words = sorted(counter)
        return cls(words, [counter[w] for w in words])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.word2index

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self.words == other.words
                and np.array_equal(self.counts, other.counts))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words)"

    def index(self, word: str) -> int:
        """Id of ``word``; ``KeyError`` naming the word (and close spellings) if it is unknown."""
        try:
            return self.word2index[word]
        except KeyError:
            raise UnknownWord(self.unknown_word_message(word)) from None

    def resolve_case(self, word: str) -> str:
        """``word`` if known, else its lower-case form if that is known, else ``word`` itself.

        A query typed as in running text (``King``) finds the word of a lower-cased vocabulary.
        """
        if word not in self.word2index and word.lower() in self.word2index:
            return word.lower()
        return word

    def close_spellings(self, word: str, n: int = 3) -> list[str]:
        """Up to ``n`` known words spelt like ``word`` (for "did you mean" hints).

        The vocabulary's own case folding comes first: ``King`` suggests ``king``.
        """
        folded = word.lower()
        if folded != word:
            first = [folded] if folded in self.word2index else []
            close = [*first, *self.close_spellings(folded, n), *self._close(word, n)]
            return list(dict.fromkeys(close))[:n]
        return self._close(word, n)

    def _close(self, word: str, n: int) -> list[str]:
        candidates = self.words
        if len(candidates) > 20_000:  # keep the hint cheap on big vocabularies
            candidates = [w for w in candidates if w[:1] == word[:1] and abs(len(w) - len(word)) <= 2]
        return difflib.get_close_matches(word, candidates, n=n)

    def unknown_word_message(self, word: str) -> str:
        close = self.close_spellings(word)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return f"word {word!r} is not in the vocabulary ({len(self)} words){hint}"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens`` as an int64 array of shape ``(len(tokens),)``."""
        return np.fromiter((self.index(t) for t in tokens), dtype=np.int64)

    def extended(self, other: "Vocabulary") -> tuple["Vocabulary", np.ndarray]:
        """This vocabulary grown by ``other``'s words: ``(merged, ids)``.

        ``merged`` holds this vocabulary's words with their ids unchanged, then ``other``'s
        words that are not in it, in ``other``'s id order. A word in both counts both counts
        (gensim's ``build_vocab(update=True)`` adds them too). ``ids[i]`` is the merged id of
        ``other``'s word ``i`` (uint32): ``ids[other_ids]`` re-encodes ``other``'s ids.
        """
        known = np.fromiter((self.word2index.get(w, -1) for w in other.words), np.int64,
                            count=len(other))
        new = np.flatnonzero(known < 0)
        ids = known.copy()
        ids[new] = len(self) + np.arange(new.shape[0])
        counts = np.concatenate([self.counts, other.counts[new]])
        shared = known >= 0
        counts[known[shared]] += other.counts[shared]  # distinct words: distinct ids
        merged = Vocabulary(self.words + [other.words[i] for i in new.tolist()], counts)
        return merged, ids.astype(np.uint32)

    def fingerprint(self) -> str:
        """sha256 of the word list: equal fingerprints mean equal ids for every word."""
        return hashlib.sha256("\n".join(self.words).encode("utf-8")).hexdigest()

    def save(self, path: str | Path) -> None:
        """Write one ``word<TAB>count`` line per word, in id order (UTF-8)."""
        path = Path(path)
        text = "".join(f"{w}\t{c}\n" for w, c in zip(self.words, self.counts.tolist()))
        atomic_write_bytes(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        """Read a file written by :meth:`save`; a line without a count gets count 0."""
        path = Path(path)
        words, counts = [], []
        with open(path, encoding="utf-8") as f:
            for line_number, line in enumerate(f, start=1):
                line = line.rstrip("\n")
                if not line:
                    continue
                word, sep, count = line.partition("\t")
                if not word or (sep and not count.strip().isdigit()):
                    raise InputError(f"{path}, line {line_number}: expected 'word<TAB>count', "
                                     f"got {line!r}")
                words.append(word)
                counts.append(int(count) if sep else 0)
        if not words:
            raise InputError(f"{path}: the vocabulary file is empty")
        return cls(words, counts)


def build_vocabulary(counts: Mapping[str, int], *, min_count: int = 1,
                     max_size: int | None = None, order: str = "alpha") -> Vocabulary:
    """The vocabulary kept from corpus counts.

    Parameters
    ----------
    counts : mapping of str to int
        Occurrences of every distinct token.
    min_count : int, default 1
        Words seen fewer times are dropped.
    max_size : int, optional
        Keep at most this many words: the most frequent; among words with equal counts the
        one first in alphabetical (code point) order is kept.
    order : {"alpha", "frequency"}, default "alpha"
        Id order: sorted words (the course's; with min_count 1 and no max_size this is exactly
        ``Vocabulary.from_tokens``), or descending count with ties alphabetical (word2vec's).

    Returns
    -------
    Vocabulary
        With the words' full counts.
    """
    kept = sorted(word for word, count in counts.items() if count >= min_count)
    if order == "frequency" or (max_size is not None and len(kept) > max_size):
        # Python's sort is stable, also with reverse=True: equal counts stay alphabetical.
        by_count = sorted(kept, key=counts.__getitem__, reverse=True)
        if max_size is not None:
            by_count = by_count[:max_size]
        kept = by_count if order == "frequency" else sorted(by_count)
    return Vocabulary(kept, [counts[word] for word in kept])
