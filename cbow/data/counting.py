"""Counting a corpus a chunk at a time, then renumbering: the steps every way of preparing shares.

Pass 1 tokenizes each chunk of blocks into ids against the chunk's own small vocabulary
(:func:`tokenize_blocks`) and adds its counts to the corpus's (:class:`Counts`, which gives
every distinct word a provisional id). Once the final vocabulary is built from the counts,
pass 2 maps each chunk's ids to the final ids through one table and removes the tokens of
dropped words (:func:`renumber`). Tokenizing once and renumbering is what makes two passes
cheap: the text is never read twice. In-process (:mod:`cbow.data.prepare`) and on a cluster
(:mod:`cbow.data.cluster_prepare`) the chunks are the same, so the ids are too.
"""
from __future__ import annotations

import numpy as np

from cbow.data.prepared_corpus import IDS_DTYPE, STARTS_DTYPE

__all__ = ["Counts", "renumber", "tokenize_blocks"]


def tokenize_blocks(blocks, tokenizer: str,
                    lowercase: bool) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Tokens of ``blocks`` as ids against their own vocabulary: ``(ids, starts, words, counts)``.

    ``ids`` uint32 local ids (local id = position in ``words``, the distinct words in order of
    first appearance), ``starts`` int64 offsets of sentence starts in ``ids``, ``counts`` int64
    occurrences of each word.
    """
    from cbow.data.text import tokenize_block

    tokens: list[str] = []
    starts: list[int] = []
    for block in blocks:
        for number, sentence in enumerate(tokenize_block(block.text, tokenizer, lowercase)):
            if sentence:
                # The first line of a block that continues a long line is not a new sentence.
                if number or block.new_sentence:
                    starts.append(len(tokens))
                tokens.extend(sentence)
    # dict.fromkeys + bincount instead of a Counter: the per-token work stays in C.
    words = list(dict.fromkeys(tokens))
    local = dict(zip(words, range(len(words))))
    ids = np.fromiter(map(local.__getitem__, tokens), dtype=IDS_DTYPE, count=len(tokens))
    return (ids, np.asarray(starts, dtype=STARTS_DTYPE), words,
            np.bincount(ids, minlength=len(words)).astype(np.int64))


class Counts:
    """Corpus counts, added chunk by chunk: every distinct word gets a provisional id.

    Provisional ids (order of first appearance) exist only during preparation: the final ids
    are given by :func:`cbow.data.vocab.build_vocabulary`, and each chunk's local ids reach
    them through the chunk's provisional ids.
    """

    def __init__(self):
        self.index: dict[str, int] = {}
        self._totals = np.zeros(1 << 16, dtype=np.int64)

    def add(self, words: list[str], counts: np.ndarray) -> np.ndarray:
        """Add one chunk's counts; return the provisional ids of its ``words``."""
        index = self.index
        new = [word for word in words if word not in index]
        index.update(zip(new, range(len(index), len(index) + len(new))))
        if len(index) > self._totals.size:
            self._totals = np.concatenate(
                (self._totals, np.zeros(max(len(index), 2 * self._totals.size)
                                        - self._totals.size, dtype=np.int64)))
        provisional = np.fromiter(map(index.__getitem__, words), np.int64, len(words))
        self._totals[provisional] += counts  # the words of a chunk are distinct
        return provisional

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.index, self._totals[:len(self.index)].tolist()))


def renumber(table: np.ndarray, ids: np.ndarray, local_starts: np.ndarray,
             sentences: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """One chunk's final ids and sentence starts: ``(kept ids, starts among them)``.

    ``table`` maps the chunk's local ids to final ids, -1 for a dropped word; dropped tokens
    are removed, and sentence starts are moved left by the number of tokens removed before
    them (a sentence whose tokens were all dropped starts where the next one does, so starts
    are made unique). Starts are None when the tokenizer has no sentences.
    """
    final = table[ids]
    keep = final >= 0
    kept = final[keep].astype(IDS_DTYPE)
    if not sentences:
        return kept, None
    # kept_before[p]: tokens kept before local position p.
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    return kept, np.unique(kept_before[local_starts])
