"""The ``cbow`` command: subcommands, and one rule for errors.

Errors a person can fix (:class:`cbow.errors.UserError`) and the operating system's errors about
files (missing, a folder where a file should be, no permission, a full disk) become one
``error: ...`` line on stderr and an exit code: 2 for input, 3 for training that cannot go on.
Anything else is a bug in cbow and keeps its traceback.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys
from typing import Callable

from cbow.errors import EXIT_USER, UserError

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
        return main()
    except KeyboardInterrupt:  # Ctrl-C before training started (training itself saves and exits)
        print("interrupted", file=sys.stderr)
        return 130
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:
        print(f"error: {describe_os_error(err)}", file=sys.stderr)
        return EXIT_USER


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
