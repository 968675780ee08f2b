"""From a scheduler setting (``cluster.scheduler``, ``--scheduler``) to a Dask client.

``None``
    No cluster: everything runs in this process, as without Dask, and nothing imports it.
``"local:N"``
    A Dask ``LocalCluster`` of N worker processes (one thread each) is started for the run
    and closed at its end; its dashboard address is printed once.
``"tcp://host:port"`` (or another Dask protocol)
    Joins a running cluster (``dask scheduler`` and ``dask worker tcp://host:port``).

:func:`session` is the one way in: it yields the client, which the caller passes down to
what runs on the cluster (``train`` opens the session before it makes the run folder, so an
unreachable scheduler leaves nothing behind, then hands the client to the preparation and to
the executor of its steps). It is re-entrant: a ``session`` opened inside another for the same
setting yields the same client (a notebook or a benchmark can open ``local:4`` once and train
many runs on it). Dask is imported only when a scheduler is given; without it, the error says
what to install.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from cbow.errors import EXIT_TRAINING, UserError

__all__ = ["ClusterError", "ClusterLost", "DaskMissing", "results", "session", "task"]


class ClusterError(UserError):
    """A scheduler that cannot be reached, has no workers, or was lost during the run."""


class TaskDropped(ClusterError):
    """The scheduler, still connected, cancelled a task: it forgot an input the task needed
    (a worker that held it died, as a worker killed mid-round). Submitting the same work again
    gives the same result."""


class ClusterLost(ClusterError):
    """Training stopped because the cluster was lost; the state before the failed step is
    saved in ``checkpoint`` (``cbow train --resume`` continues from it)."""

    exit_code = EXIT_TRAINING

    def __init__(self, message: str, checkpoint=None):
        super().__init__(message)
        self.checkpoint = checkpoint


class DaskMissing(UserError, ImportError):
    """A scheduler was given but Dask's ``distributed`` package is not installed."""


#: The sessions open in this process, by scheduler setting: [client, cluster or None, depth]
#: (what makes :func:`session` re-entrant; nothing else reads it).
_OPEN: dict[str, list] = {}


def _import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise DaskMissing(
            f"a Dask scheduler was given (--scheduler or cluster.scheduler) but Dask's "
            f"distributed package cannot be imported ({error}). Install it with "
            f"`pip install 'cbow[dask]'`, or leave the scheduler unset to run in this "
            f"process.") from None
    return distributed


def _local_workers(spec: str) -> int | None:
    """N of ``"local:N"``; None for a scheduler address."""
    if spec.startswith("local:"):
        return int(spec[len("local:"):])
    return None


def _connect(spec: str, timeout: float, log):
    """Start or join the cluster; return ``(client, local cluster or None)``."""
    distributed = _import_distributed()
    workers = _local_workers(spec)
    if workers is not None:
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        try:
            client = distributed.Client(cluster, timeout=timeout)
        except BaseException:
            cluster.close()
            raise
        log(f"Dask LocalCluster of {workers} worker processes; dashboard: "
            f"{cluster.dashboard_link}")
        return client, cluster
    try:
        client = distributed.Client(spec, timeout=timeout)
    except (OSError, TimeoutError) as error:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {spec} within {timeout:g} s ({error}). Check "
            f"the address (--scheduler or cluster.scheduler) and that `dask scheduler` runs "
            f"there; or use --scheduler local:N to start a cluster on this machine.") from None
    except ValueError as error:  # an address Dask cannot parse, e.g. an unknown protocol
        raise ClusterError(f"--scheduler {spec}: not a Dask scheduler address ({error}); "
                           f"give one such as tcp://host:8786, or local:N") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(
            f"the Dask scheduler at {spec} has no worker (none joined within {timeout:g} s). "
            f"Start some with `dask worker {spec}` where cbow is installed.") from None
    try:
        _check_cbow(client, timeout)
    except BaseException:
        client.close()
        raise
    info = client.scheduler_info(n_workers=-1)
    port = info.get("services", {}).get("dashboard")
    host = spec.split("://", 1)[-1].rsplit(":", 1)[0]
    log(f"Dask scheduler {spec}: {len(info['workers'])} workers; dashboard: "
        f"{f'http://{host}:{port}/status' if port else 'none (the scheduler serves none)'}")
    return client, None


def _cbow_here() -> str:
    """Run on the scheduler's workers: the cbow they import (it is this module's package)."""
    return __name__


def _check_cbow(client, timeout: float) -> None:
    """Raise :class:`ClusterError` unless the scheduler and the workers can run cbow's tasks.

    A worker without cbow would never finish a task (it cannot read it), and a scheduler
    without it refuses every task with a message about environments.
    """
    try:
        client.run(_cbow_here, on_error="raise")
        client.submit(_cbow_here, pure=False).result(timeout=max(timeout, 30))
    except Exception as error:  # noqa: BLE001 - any failure means "cannot run cbow there"
        raise ClusterError(
            f"the Dask cluster at {client.scheduler.address} cannot run cbow's tasks "
            f"({type(error).__name__}: {' '.join(str(error).split())[:200]}). "
            f"Install cbow, the same version as here, where the scheduler and every worker "
            f"run.") from None


@contextmanager
def session(spec: str | None, *, timeout: float = 5.0, log=None) -> Iterator[object]:
    """A Dask client for ``spec`` for the duration of the ``with`` block, or None.

    Parameters
    ----------
    spec : str or None
        ``None``, ``"local:N"`` or a scheduler address (``cluster.scheduler``).
    timeout : float
        Seconds to reach the scheduler and for a first worker (``cluster.connect_timeout``).
    log : callable, optional
        Receives the one line naming the cluster and its dashboard; default: stderr.

    Yields
    ------
    distributed.Client or None

    Raises
    ------
    DaskMissing
        ``spec`` is given and ``distributed`` is not installed.
    ClusterError
        The scheduler cannot be reached within ``timeout``, or has no worker.
    """
    if spec is None:
        yield None
        return
    opened = _OPEN.get(spec)
    if opened is not None:
        opened[2] += 1
        try:
            yield opened[0]
        finally:
            opened[2] -= 1
        return
    # Dask logs a lost connection with tracebacks; cbow reports it as one error instead.
    _import_distributed()  # (its loggers exist once it is imported)
    loggers = [logging.getLogger(name) for name in ["tornado.application"] + [
        name for name in list(logging.root.manager.loggerDict)
        if name == "distributed" or name.startswith("distributed.")]]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        client, cluster = _connect(spec, timeout,
                                   log or (lambda line: print(line, file=sys.stderr)))
        _OPEN[spec] = [client, cluster, 1]
        try:
            yield client
        finally:
            del _OPEN[spec]
            client.close(timeout=timeout)
            if cluster is not None:
                cluster.close()
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


# --------------------------------------------------------------------------------------------
# Tasks and their results
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Failed:
    """A task's :class:`UserError`, sent back as its class's name and its message.

    Not every error class can be rebuilt from its pickled arguments (``NotUTF8Error`` takes
    five), so the driver raises the nearest base class that takes just the message.
    """

    module: str
    name: str
    message: str
    exit_code: int

    @classmethod
    def of(cls, error: UserError) -> "_Failed":
        kind = next(k for k in type(error).__mro__
                    if issubclass(k, UserError) and k.__init__ is UserError.__init__)
        return cls(kind.__module__, kind.__qualname__, str(error), error.exit_code)

    def error(self) -> UserError:
        error = getattr(importlib.import_module(self.module), self.name)(self.message)
        error.exit_code = self.exit_code
        return error


def lost(error: BaseException) -> ClusterError:
    """The error for a scheduler that went away during the run."""
    reason = " ".join(str(error).split()) or type(error).__name__
    return ClusterError(f"lost the Dask scheduler during the run ({reason}). Check the "
                        f"scheduler and its workers, then run the command again.")


def task(function: Callable, *args):
    """Run ``function(*args)`` on a worker: submit ``task, function, *args``.

    A :class:`UserError` (bad input found by the worker) comes back as a value, which
    :func:`results` raises on the driver as one clear error; any other exception is a bug
    and keeps its traceback.
    """
    try:
        return function(*args)
    except UserError as error:
        return _Failed.of(error)


def results(futures: list, on_result: Callable[[], object] | None = None) -> list:
    """The results of ``futures`` (of :func:`task`), in their order, waiting for all.

    ``on_result()`` is called as each completes (a progress bar). A task's user error is
    raised here, the tasks not done yet cancelled. Losing the scheduler is a
    :class:`ClusterError`.
    """
    from distributed import KilledWorker, as_completed

    position = {future.key: n for n, future in enumerate(futures)}
    done: list = [None] * len(futures)
    try:
        try:
            for future, result in as_completed(futures, with_results=True):
                if future.cancelled() and futures[0].client.status == "running":
                    reason = " ".join(str(result).split()) or "cancelled"
                    raise TaskDropped(f"the scheduler dropped task {future.key} ({reason})")
                if future.cancelled() or isinstance(result, BaseException):
                    raise lost(result)
                if isinstance(result, _Failed):
                    raise result.error()
                done[position[future.key]] = result
                if on_result is not None:
                    on_result()
        except KilledWorker as error:
            raise ClusterError(
                f"Dask gave up on a task whose workers kept dying ({error}), most likely out "
                f"of memory. "
                f"Give the workers more memory (dask worker --memory-limit) or use fewer "
                f"threads per worker.") from None
        except (OSError, TimeoutError, asyncio.CancelledError) as error:
            raise lost(error) from None
    finally:
        pending = [future for future in futures if not future.done()]
        if pending and futures[0].client.status == "running":
            futures[0].client.cancel(pending)
            _wait_for_stragglers(futures[0].client, [future.key for future in pending])
    return done


#: Seconds to wait, after an error, for cancelled tasks that a worker had already started.
STRAGGLER_SECONDS = 60.0


def _wait_for_stragglers(client, keys: list) -> None:
    """Return once no worker holds any of ``keys`` (at most :data:`STRAGGLER_SECONDS`).

    Cancelling a task a worker is running does not stop it: it runs to its end, and may write
    to the shared folder the caller is about to remove. The caller cleans up after this.
    """
    deadline = time.monotonic() + STRAGGLER_SECONDS
    while time.monotonic() < deadline:
        try:
            held = client.run(_holding, keys, on_error="ignore")
        except (OSError, TimeoutError, asyncio.CancelledError):
            return  # the scheduler is gone; so are its workers' tasks, as far as we can tell
        if not any(held.values()):
            return
        time.sleep(0.05)


def _holding(keys: list, dask_worker=None) -> int:
    """On a worker: how many of ``keys`` it still holds (running, waiting or being released)."""
    return sum(1 for key in keys if key in dask_worker.state.tasks)
