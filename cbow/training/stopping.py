"""Stopping a run cleanly: signals, a log whose reader went away, and waiting for a step.

Steps and held-out evaluations run in a helper thread while the main thread waits for them,
so that a stop signal is handled at once: the handler sets a flag that the compiled kernels
read as they go (a word2vec step then returns part-way, and its feed saves where it stopped;
an evaluation is dropped), and the run saves and exits within seconds however long a step is.
"""
from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from contextlib import contextmanager

import numpy as np

__all__ = ["STOP_SIGNALS", "minding_output", "stop_signals", "waiting"]

# Signals that stop a run cleanly: stop the step where it is, save, exit with 128 + the signal's
# number. SIGTERM is what `timeout`, `docker stop`, Kubernetes and Slurm send; SIGHUP a closed
# terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How often the main thread, waiting for a step, wakes to run a signal's handler (a signal
# delivered to a worker thread is handled only when the main thread runs Python code).
_WAKE_S = 0.1


@contextmanager
def stop_signals(flag: np.ndarray):
    """While active, STOP_SIGNALS write their number into ``flag[0]`` instead of stopping.

    ``flag`` is the ``(1,)`` int32 array the feed's long loops read (the compiled kernels
    included, in other threads). A second signal while the final checkpoint is written changes
    nothing: the handler only records the first one, and the checkpoint is written atomically
    anyway.
    """

    def handler(signum, frame):
        if flag[0] == 0:
            flag[0] = signum

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave the signals alone
        pass
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def waiting(pool: ThreadPoolExecutor, function, *args):
    """``function(*args)`` run in ``pool``'s thread, the calling (main) thread waiting for it.

    Waiting in short sleeps of the main thread lets Python run a signal handler at once, even
    while the work is inside compiled code that holds the thread for minutes; an exception is
    raised here as if the function had been called directly.
    """
    future = pool.submit(function, *args)
    while True:
        try:
            return future.result(timeout=_WAKE_S)
        except FutureTimeout:
            continue


def minding_output(log, stop: np.ndarray):
    """``log``, except that an output whose reader went away (``cbow train 2>&1 | head -1``:
    ``BrokenPipeError``) stops the run as a stop signal does, as SIGPIPE: the current step
    finishes, a checkpoint is saved, nothing is lost. Nothing more is written to it.

    Stopping, not training on unseen: the shell that runs the pipeline waits for the run to
    end, so a run going on silently would hold the terminal, without a word, for all of it.
    """
    closed = False

    def minded(message: str) -> None:
        nonlocal closed
        if closed:
            return
        try:
            log(message)
        except BrokenPipeError:
            closed = True
            if stop[0] == 0:
                stop[0] = signal.SIGPIPE

    return minded
