"""The ``cbow`` command: subcommands, and one rule for errors.

Errors a person can fix (:class:`cbow.errors.UserError`) and the operating system's errors about
files (missing, a folder where a file should be, no permission, a full disk) become one
``error: ...`` line on stderr and an exit code: 2 for input, 3 for training that cannot go on.
Anything else is a bug in cbow and keeps its traceback. An output whose reader went away
(``cbow ... | head -1``) ends the command quietly with 141, as SIGPIPE ends other programs.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import select
import signal
import sys
from typing import Callable

from cbow.errors import EXIT_USER, UserError
from cbow.io import NamedWriter, stream_path

COMMANDS = ("prepare", "train", "export", "similar", "plot", "report", "evaluate", "bench")

_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space (or write elsewhere) and try again",
    errno.EDQUOT: "the disk quota is exceeded; free some space (or write elsewhere) and try again",
    errno.EACCES: "permission denied; choose a path you can write to",
    errno.EPERM: "operation not permitted; choose a path you can write to",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.EISDIR: "that is a folder; give a file path",
    errno.ENOTDIR: "a part of that path is a file, not a folder; choose another path",
    errno.ENOENT: "no such file or folder",
    errno.EEXIST: "a file is in the way; choose another path",
    errno.ENAMETOOLONG: "the file name is too long",
}


def describe_os_error(err: OSError) -> str:
    """One line for an OS error: the path(s) involved and what to do."""
    if err.filename is None and err.args and isinstance(err.args[0], str):
        return str(err.args[0])  # raised by cbow with its own message
    paths = " -> ".join(str(p) for p in (err.filename, err.filename2) if p is not None)
    advice = _OS_ADVICE.get(err.errno, err.strerror or str(err))
    return f"{paths}: {advice}" if paths else advice


def run_cli(main: Callable[[], int]) -> int:
    """Run ``main``, turning user and OS errors into one line on stderr and an exit code."""
    try:
        code = main()
        sys.stdout.flush()  # here, not at exit, where a closed pipe would be an exit code 120
        return code
    except KeyboardInterrupt:  # Ctrl-C before training started (training itself saves and exits)
        _tell("interrupted")
        return 130
    except UserError as err:
        _tell(f"error: {err}")
        return err.exit_code
    except BrokenPipeError:
        closed = closed_outputs()
        if not closed:  # not our output: some other pipe, a bug
            raise
        _discard(closed)
        return 128 + signal.SIGPIPE
    except OSError as err:
        _tell(f"error: {describe_os_error(err)}")
        return EXIT_USER


def log(message: str) -> None:
    """One line on stderr, for progress and warnings; a failed write names the file stderr
    goes to (``cbow train ... 2> LOG`` on a full disk: ``LOG: the disk is full; ...``)."""
    print(message, file=NamedWriter(sys.stderr, stream_path(sys.stderr)), flush=True)


def closed_outputs() -> list[int]:
    """Those of stdout and stderr (1, 2) that are pipes or sockets whose reader has gone: the
    system reports an error condition on them (``POLLERR``, ``POLLHUP``) without a write."""
    poller = select.poll()
    for fd in (1, 2):
        poller.register(fd, 0)  # error conditions are reported whatever is asked
    return sorted(fd for fd, events in poller.poll(0)
                  if events & (select.POLLERR | select.POLLHUP))


def _discard(fds: list[int]) -> None:
    """Point ``fds`` at /dev/null: what is still buffered for them is dropped at exit, where a
    failed flush would print a traceback and change the exit code to 120."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in fds:
        os.dup2(devnull, fd)
    os.close(devnull)


def _tell(line: str) -> None:
    """``line`` on stderr; if stderr cannot take it (it is the full disk, or a closed pipe),
    the exit code is all that can be said."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        try:
            _discard([sys.stderr.fileno()])
        except (OSError, ValueError, AttributeError):  # not a file (a test's capture)
            pass


def build_parser(prog: str = "cbow") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="CBOW word embeddings: train, export, query, plot, evaluate.")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"cbow.commands.{name}")
        sub = subcommands.add_parser(name, help=module.HELP, description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``cbow COMMAND ...``; ``argv`` defaults to the process's arguments."""
    args = build_parser().parse_args(argv)
    return run_cli(lambda: args.handler(args))


def script_main(command: str) -> int:
    """What ``scripts/COMMAND.py`` runs: ``cbow COMMAND`` with the script's arguments."""
    module = importlib.import_module(f"cbow.commands.{command}")
    parser = argparse.ArgumentParser(prog=f"scripts/{command}.py", description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    args = parser.parse_args()
    return run_cli(lambda: module.run(args))
