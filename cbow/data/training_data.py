"""What training eats: the prepared corpus's token ids, split into a training part and a
held-out tail. :class:`TrainingData` is the one value the trainer hands an objective."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cbow.config import Config
from cbow.data.batching import check_window_args
from cbow.data.prepare import PreparedCorpus, prepare
from cbow.data.vocab import Vocabulary
from cbow.errors import TrainingError

__all__ = ["TrainingData", "prepare_corpus", "prepare_training_data"]


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


def prepare_corpus(cfg: Config, progress: bool | None = None, client=None) -> PreparedCorpus:
    """:func:`cbow.data.prepare.prepare` with the config's settings (what ``cbow prepare``
    runs), or its Dask twin when ``cluster.scheduler`` is set (same result).

    ``client``: the Dask client of a session already open for ``cluster.scheduler`` (the
    trainer's), used instead of opening another.
    """
    p, v, c = cfg.prepare, cfg.vocab, cfg.cluster
    settings = dict(tokenizer=cfg.tokenizer, lowercase=p.lowercase, min_count=v.min_count,
                    max_size=v.max_size, order=v.order, cache_root=p.cache_dir,
                    errors=p.errors, progress=progress)
    if c.scheduler is not None:
        from cbow.data.cluster_prepare import prepare_on_cluster
        return prepare_on_cluster(cfg.corpus, scheduler=c.scheduler, shared_dir=c.shared_dir,
                                  timeout=c.connect_timeout, client=client, **settings)
    return prepare(cfg.corpus, workers=p.workers, **settings)


def prepare_training_data(cfg: Config, progress: bool | None = None,
                          client=None) -> TrainingData:
    """The prepared corpus (made once, then reused: :mod:`cbow.data.prepare`), split for
    training.

    The last ``val_fraction`` of the token ids is held out: a contiguous tail, so that no
    held-out window shares a token with a training window.
    """
    prepared = prepare_corpus(cfg, progress, client)
    ids = prepared.ids
    C = cfg.model.C
    check_window_args(len(ids), C)
    n_val = int(round(len(ids) * cfg.train.val_fraction))
    if n_val > 0 and (n_val < 2 * C + 1 or len(ids) - n_val < 2 * C + 1):
        raise TrainingError(
            f"train.val_fraction={cfg.train.val_fraction} leaves {n_val} held-out and "
            f"{len(ids) - n_val} training tokens of {len(ids)}; each part needs at least "
            f"2*C+1 = {2 * C + 1}. Use a longer corpus, or set train.val_fraction to 0")
    return TrainingData(prepared.vocab, ids, np.asarray(prepared.sentence_starts),
                        len(ids) - n_val, prepared.fingerprint)
