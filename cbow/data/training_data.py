"""What training eats: the prepared corpus's token ids, split into a training part and a
held-out tail. :class:`TrainingData` is the one value the trainer hands an objective
(:func:`cbow.training.preparation.prepare_training_data` makes it from the config)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbow.data.vocab import Vocabulary

__all__ = ["TrainingData"]


@dataclass
class TrainingData:
    """Everything training needs from the text: token ids, split into training and held-out.

    ``ids[:n_train]`` is trained on, ``ids[n_train:]`` (the last ``val_fraction`` of the
    corpus, a contiguous tail that shares no window with training) is held out.
    ``sentence_starts`` are offsets in ``ids`` where sentences start (``[0]``: one stream).
    """

    vocab: Vocabulary
    ids: np.ndarray              # (n,) uint32
    sentence_starts: np.ndarray  # (S,) int64
    n_train: int
    fingerprint: str             # identifies the ids: a resume must see the same

    @property
    def has_heldout(self) -> bool:
        return self.n_train < self.ids.shape[0]

    def part(self, heldout: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(tokens, sentence_starts)`` of the training part or of the held-out tail."""
        begin, end = (self.n_train, self.ids.shape[0]) if heldout else (0, self.n_train)
        starts = self.sentence_starts
        inside = starts[(starts > begin) & (starts < end)] - begin
        return (np.ascontiguousarray(self.ids[begin:end]),
                np.concatenate(([0], inside)).astype(np.int64))
