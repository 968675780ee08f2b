"""Where a step's work runs: threads of this process, or a Dask cluster.

Infrastructure that knows no model and no data format: the executor seam
(:mod:`cbow.parallel.executor`: the cut and the threads), Dask sessions, tasks and their
errors (:mod:`cbow.parallel.cluster`), and the executor that runs a step's pieces on a cluster
by rounds of model averaging (:mod:`cbow.parallel.dask_executor`).
"""
from __future__ import annotations

from cbow.parallel.dask_executor import DaskExecutor
from cbow.parallel.executor import Executor, default_workers, threads

__all__ = ["executor_for"]


def executor_for(cfg, client=None) -> Executor:
    """Where the steps of a run of ``cfg`` run: this process's threads (``train.workers``,
    ``train.piece_words``) without a client, else the cluster of ``client`` (the session
    the trainer opened for ``cluster.scheduler``) in ``train.shards`` lanes."""
    t = cfg.train
    if client is None:
        return threads(t.workers or default_workers(), t.piece_words)
    return DaskExecutor(client, t.shards, t.sync_every, t.merge)
