"""Prepare a corpus once: tokenize, count and write its token ids for training to map.

    cbow prepare --config configs/word2vec.yaml [--set corpus=my_texts/] [--set vocab.min_count=5]
    cbow prepare --config configs/word2vec.yaml --force   # prepare again (a damaged folder)

Takes the same --config and --set as `cbow train`; a later `cbow train` with the same corpus
and settings finds the prepared corpus and starts in seconds.
"""
from __future__ import annotations

import time

HELP = "tokenize a corpus into memory-mapped token ids (training does it too, once)"


def add_arguments(parser) -> None:
    parser.add_argument("--config", required=True, help="YAML config file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config key (repeatable)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the work on a Dask cluster: tcp://host:8786 joins a running "
                             "one, local:N starts N worker processes here (overrides "
                             "cluster.scheduler; pip install 'cbow[dask]')")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help="prepare the corpus again, replacing the prepared folder that the "
                             "config finds (also one that is damaged)")


def run(args) -> int:
    from cbow.config import load_config, with_scheduler
    from cbow.data.prepare import DamagedPreparedCorpus, discard_prepared
    from cbow.training.preparation import prepare_corpus

    cfg = with_scheduler(load_config(args.config, args.overrides), args.scheduler)
    started = time.perf_counter()
    progress = False if args.quiet else None
    try:
        prepared = prepare_corpus(cfg, progress=progress)
    except DamagedPreparedCorpus as damaged:
        if not args.force:
            raise
        discard_prepared(damaged.folder)
        prepared = prepare_corpus(cfg, progress=progress)
    else:
        if args.force and prepared.reused:
            discard_prepared(prepared.folder)
            prepared = prepare_corpus(cfg, progress=progress)
    d = prepared.description
    print(f"{'found the prepared' if prepared.reused else 'prepared'} corpus {prepared.folder} in "
          f"{time.perf_counter() - started:.1f} s\n"
          f"{len(d['sources'])} files, {d['tokens']['kept']:,} tokens kept of "
          f"{d['tokens']['counted']:,}; {d['words']['kept']:,} words kept of "
          f"{d['words']['counted']:,} (min_count {d['settings']['min_count']}, max_size "
          f"{d['settings']['max_size']}); {d['sentences']:,} sentences")
    return 0
