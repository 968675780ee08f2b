"""Train CBOW embeddings from a YAML config.

    cbow train --config configs/shakespeare.yaml [--set train.steps=2000] [--out DIR]
    cbow train --config configs/shakespeare.yaml --resume        # continue a stopped run
    cbow train --config NEW.yaml --init-from RUN --out DIR        # a new run from RUN's weights
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

HELP = "train embeddings from a YAML config"


def add_arguments(parser) -> None:
    parser.add_argument("--config", required=True, help="YAML config file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a config key by its dotted or short name, e.g. --set "
                             "train.alpha=0.05 or --set min_count=5 (repeatable; the short "
                             "names are cbow.train's keywords: workers sets train.workers and "
                             "prepare.workers)")
    parser.add_argument("--out", help="run folder (overrides out_dir)")
    parser.add_argument("--resume", nargs="?", const="yes", default="no", choices=["yes", "auto"],
                        help="continue from the newest readable checkpoint of the run folder "
                             "(an error if there is none); '--resume auto' starts a new run "
                             "when there is none, for schedulers that restart jobs blindly")
    parser.add_argument("--init-from", metavar="RUN",
                        help="start a new run from RUN's newest checkpoint (or a checkpoint "
                             "file): its vocabulary grown by this corpus's words, its weights "
                             "carried; recorded as init_from in the run's config.yaml")
    parser.add_argument("--overwrite", action="store_true",
                        help="discard the run already in the run folder and start again")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the work on a Dask cluster: tcp://host:8786 joins a running "
                             "one, local:N starts N worker processes here (overrides "
                             "cluster.scheduler; pip install 'cbow[dask]')")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar, progress lines or summary (warnings still show)")


def run(args) -> int:
    from cbow.cli import log
    from cbow.parallel.cluster import ClusterLost
    from cbow.config import load_config, with_scheduler
    from cbow.errors import InputError
    from cbow.training.loop import train

    # The config as cbow.train builds it from its arguments (cbow.training.api): the file,
    # then the assignments, the run folder among them.
    out = [("out_dir", args.out, "--out")] if args.out is not None else []
    cfg = with_scheduler(load_config(args.config, args.overrides, out), args.scheduler)
    if args.init_from is not None and not args.init_from.strip():
        raise InputError("--init-from: give the path of a run folder or a checkpoint file")
    try:
        result = train(cfg, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet,
                       log=log,
                       init_from=args.init_from)
    except ClusterLost as lost:
        log(f"error: {lost}\nresume with: {resume_command(args)}")
        return lost.exit_code
    if result.interrupted:
        log(f"{result.stop_note()}\nresume with: {resume_command(args)}")
        return 128 + result.stopped_by
    if not args.quiet:
        print(result.summary())
    return 0


def resume_command(args) -> str:
    """A command that continues this run, runnable as printed from the current folder."""
    python = Path(sys.executable)  # the interpreter that has cbow installed
    shown = python.relative_to(Path.cwd()) if python.is_relative_to(Path.cwd()) else python
    words = [shown, "-m", "cbow", "train", "--config", args.config]
    for assignment in args.overrides:
        words += ["--set", assignment]
    if args.out is not None:
        words += ["--out", args.out]
    if args.scheduler is not None:
        words += ["--scheduler", args.scheduler]
    words += ["--resume"]
    if args.quiet:
        words.append("--quiet")
    return " ".join(shlex.quote(os.fspath(w)) for w in words)
