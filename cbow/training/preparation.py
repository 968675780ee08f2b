"""The data of a run, as its config says: the prepared corpus (made once, then reused), split
into training ids and a held-out tail."""
from __future__ import annotations

import numpy as np

from cbow.config import Config
from cbow.data.batching import check_window_args
from cbow.data.prepare import PreparedCorpus, prepare
from cbow.data.training_data import TrainingData
from cbow.errors import TrainingError

__all__ = ["prepare_corpus", "prepare_training_data"]


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
