"""Worker processes for preparing a corpus: results in task order, few tasks in flight, and a
worker that dies (the out-of-memory killer) is an error rather than a wait for ever."""
from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from typing import Callable, Iterable, Iterator

from cbow.data.prepared_corpus import PreparedCorpusError

__all__ = ["WorkerDied", "WorkerPool"]


class WorkerDied(PreparedCorpusError):
    """A worker process that ended while preparing (killed, most likely for lack of memory)."""


def _ignore_interrupts() -> None:
    # Ctrl-C reaches every process of the terminal; the main process alone handles it (and
    # stops the workers), so that it is not reported once per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerPool:
    """``map`` over worker processes, results in task order, few tasks in flight.

    ``Pool.imap`` would read the task iterator ahead as fast as it can (the whole corpus into
    memory); here at most ``2 * workers`` tasks wait. With one worker everything runs in this
    process: no start-up cost, same results. Used as a context manager, so that the pool is
    shut down however the loop over the results is left (an error, Ctrl-C).
    """

    #: Seconds between checks that every worker is alive while a result is awaited.
    POLL_SECONDS = 0.5

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = None
        self._processes: dict[int, multiprocessing.process.BaseProcess] = {}

    def __enter__(self) -> "WorkerPool":
        if self.workers > 1:
            # fork: workers start in milliseconds with Punkt already loaded. The pool is made
            # before any progress-bar thread exists, and workers only run a pure function.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = context.Pool(self.workers, initializer=_ignore_interrupts)
            self._watch()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def map(self, function: Callable, tasks: Iterable) -> Iterator:
        if self._pool is None:
            yield from map(function, tasks)
            return
        pending: deque = deque()
        for task in tasks:
            pending.append(self._pool.apply_async(function, (task,)))
            if len(pending) >= 2 * self.workers:
                yield self._result(pending.popleft())
        while pending:
            yield self._result(pending.popleft())

    def _result(self, pending):
        """The task's result; a worker that died (its task is lost for good) is an error."""
        while True:
            try:
                return pending.get(self.POLL_SECONDS)
            except multiprocessing.TimeoutError:
                self._watch()

    def _watch(self) -> None:
        """Raise :class:`WorkerDied` if a worker process ended.

        The pool replaces a dead worker but never runs its task again, so waiting would be for
        ever. Workers only end when the pool is closed: an exit code here is a death. The
        pool's list of processes is private; the processes are remembered as they appear so
        that one that died and was replaced between two checks is still seen.
        """
        for process in getattr(self._pool, "_pool", ()):
            self._processes.setdefault(process.pid, process)
        for pid, process in self._processes.items():
            code = process.exitcode
            if code is None:
                continue
            if code < 0:
                try:
                    how = f"was killed by {signal.Signals(-code).name}"
                except ValueError:
                    how = f"was killed by signal {-code}"
            else:
                how = f"exited with status {code}"
            likely = " (most likely by the out-of-memory killer)" if code == -signal.SIGKILL \
                else ""
            raise WorkerDied(
                f"prepare worker process {pid} {how}{likely}; nothing was cached. Use fewer "
                f"workers (prepare.workers) or free some memory, and prepare again.")
