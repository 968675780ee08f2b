"""Speed of cbow's word2vec CBOW kernels: interleaved rounds, medians, words per second.

    PYTHONPATH=. python benchmarks/kernel_speed.py                 # 2M words of Zipf text
    PYTHONPATH=. python benchmarks/kernel_speed.py --text /tmp/gcide-words.txt  # one sentence a line
    PYTHONPATH=. python benchmarks/kernel_speed.py --baseline /work/main  # against another checkout

Run it from the checkout to time: ``PYTHONPATH=.`` makes that checkout's ``cbow`` the one
imported (the second line printed names it).

Each round times one epoch of :func:`cbow.models.word2vec.train_range` for every (objective, workers,
variant) in turn, in one process, from the same initial vectors; the table gives the median
wall-clock seconds over the rounds, raw words per second, and the median CPU seconds of the
process (all its threads; on a busy machine they move less than the wall clock). Variants:

- ``none``: no row table (word2vec's one row per word);
- ``identity``: :meth:`cbow.models.word2vec.RowTable.identity`, the same model read through a table;
- ``subwords``: fastText's CBOW, :func:`cbow.data.subwords.row_table` of the vocabulary (``--minn``
  to ``--maxn``, ``--bucket`` n-gram rows; with ``--text`` the words are the text's, with
  Zipf text ``w0``, ``w1``, ...): each word reads its own row and its n-grams';
- ``queue``: pieces of ``--piece-words`` positions taken from a shared counter
  (:class:`cbow.parallel.executor.ThreadExecutor`); with one worker it is ``none``;
- ``fastdot``: the reassociated dot product (``StepRules(fast_dot=True)``, ``train.fast_dot``);
- ``skip``: gensim's rule, no step for a row scored beyond +-6 (``model.skip_saturated``);
- ``private``: each of the workers trains its share of the positions on its own copy of the
  weights (one thread each, one-worker calls of ``train_range``): no cache line is written by
  two cores, so against ``none`` it measures what sharing the weights costs (not a way to
  train: the copies are never merged);
- ``baseline`` (with ``--baseline DIR``): another checkout's kernels (``DIR/cbow/models/word2vec``,
  or ``DIR/cbow/word2vec.py`` before the package was split), imported with that checkout's own
  ``cbow`` package (:func:`load_baseline`), for "no slower than before"; ``baseline-subwords``
  (both): those kernels with the ``subwords`` table. The two checkouts' numba caches must not
  meet (compiled under the same names, one checkout's cached code can serve both): run it with
  a fresh ``NUMBA_CACHE_DIR=$(mktemp -d)``.

Only public names are used.

The text is split on whitespace (GCIDE's words: ``python scripts/dictionary_text.py
/tmp/gcide-words.txt --words``); each line is a sentence; the vocabulary is every word seen
``--min-count`` times, the rest dropped, as word2vec does. Timings move with the machine's load
(printed at the start and end): compare the variants of one run, not runs of different days.
"""
from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import importlib.util
import inspect
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from cbow.data import subwords
from cbow.models import word2vec
from cbow.parallel import executor


def zipf_corpus(n_words: int, vocabulary: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Word ids with Zipf frequencies (exponent 1), in sentences of 5 to 40 words."""
    rng = np.random.default_rng(seed)
    probabilities = 1.0 / np.arange(1, vocabulary + 1)
    tokens = rng.choice(vocabulary, n_words, p=probabilities / probabilities.sum()).astype(np.uint32)
    lengths = rng.integers(5, 41, n_words // 5)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return tokens, starts[starts < n_words]


def text_corpus(path: Path, min_count: int, limit: int | None,
                words_out: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Word ids (most frequent first) and sentence starts of a text, one sentence per line;
    ``words_out`` (a list) receives the words of the ids, most frequent first."""
    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    words = np.array([word for line in lines for word in line])
    lengths = np.array([len(line) for line in lines])
    vocabulary, ids, counts = np.unique(words, return_inverse=True, return_counts=True)
    rank = np.empty(vocabulary.size, np.int64)
    order = np.lexsort((vocabulary, -counts))
    rank[order] = np.arange(vocabulary.size)
    if words_out is not None:
        words_out.extend(vocabulary[order].tolist())
    kept = counts[ids] >= min_count
    line_of = np.repeat(np.arange(lengths.size), lengths)[kept]
    tokens = rank[ids][kept].astype(np.uint32)
    starts = np.flatnonzero(np.r_[True, line_of[1:] != line_of[:-1]]) if tokens.size else np.zeros(1, np.int64)
    if limit is not None and tokens.size > limit:
        tokens, starts = tokens[:limit], starts[starts < limit]
    return tokens, starts


def baseline_path(checkout: Path) -> Path:
    """Where another checkout keeps its word2vec kernels: the package, or the one module of
    the layout before it."""
    old = checkout / "cbow" / "word2vec.py"
    return old if old.exists() else checkout / "cbow" / "models" / "word2vec"


def load_baseline(checkout: Path):
    """Another checkout's word2vec kernels (their public names), imported with that checkout's
    own ``cbow`` package: while they load, its ``cbow.*`` imports resolve in ``checkout`` (not
    to this process's ``cbow``, where they may not exist or be other code); then this
    process's ``cbow`` modules are put back, and the baseline's live on through its globals.
    """
    ours = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "cbow" or k.startswith("cbow.")}
    sys.path.insert(0, str(checkout))
    try:
        path = baseline_path(checkout)
        if path.suffix == ".py":
            spec = importlib.util.spec_from_file_location("baseline_word2vec", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            return module
        module = importlib.import_module("cbow.models.word2vec")
        for name in getattr(module, "__all__", ()):
            getattr(module, name)  # a lazy export is loaded now, from the checkout's cbow
        return module
    finally:
        sys.path.remove(str(checkout))
        for name in [k for k in sys.modules if k == "cbow" or k.startswith("cbow.")]:
            del sys.modules[name]
        sys.modules.update(ours)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=Path, help="a text file; default: synthetic Zipf text")
    parser.add_argument("--words", type=int, default=2_000_000,
                        help="synthetic words, or the most of a text's that are used")
    parser.add_argument("--vocabulary", type=int, default=50_000, help="synthetic vocabulary size")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--objectives", nargs="+", default=["negative", "hierarchical"],
                        choices=["negative", "hierarchical"])
    parser.add_argument("--variants", nargs="+", default=["none", "identity"],
                        choices=["none", "identity", "subwords", "queue", "fastdot", "skip",
                                 "private"])
    parser.add_argument("--piece-words", type=int, default=10_000,
                        help="the queue variant's piece size (cbow.parallel.executor.ThreadExecutor)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time against")
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--C", type=int, default=5, help="context words on each side (model.C)")
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--minn", type=int, default=3, help="the subwords variant's")
    parser.add_argument("--maxn", type=int, default=6, help="the subwords variant's")
    parser.add_argument("--bucket", type=int, default=2_000_000, help="the subwords variant's")
    args = parser.parse_args(argv)

    words: list[str] = []
    if args.text:
        tokens, starts = text_corpus(args.text, args.min_count, args.words, words)
    else:
        tokens, starts = zipf_corpus(args.words, args.vocabulary, seed=0)
    counts = np.bincount(tokens, minlength=int(tokens.max()) + 1)
    words = words[:counts.size] or [f"w{i}" for i in range(counts.size)]
    print(f"{tokens.size:,} words, {counts.size:,} in the vocabulary, {starts.size:,} sentences; "
          f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds")
    print(f"cbow.models.word2vec: {Path(word2vec.__file__).parent}"
          + (f"; baseline: {baseline_path(args.baseline)}" if args.baseline else ""))

    modules = {variant: word2vec for variant in args.variants}
    if args.baseline:
        modules["baseline"] = load_baseline(args.baseline)
        if "subwords" in args.variants:
            modules["baseline-subwords"] = modules["baseline"]
    table = (subwords.row_table(words, args.minn, args.maxn, args.bucket)
             if "subwords" in args.variants else None)
    cases = [(objective, workers, variant) for objective in args.objectives
             for workers in args.workers for variant in modules]
    times: dict[tuple, list[float]] = {case: [] for case in cases}
    queues: dict[int, executor.ThreadExecutor] = {}
    objectives = {(variant, name): (w2v.NegativeSampling.from_counts(counts, negative=5)
                                    if name == "negative" else w2v.HierarchicalSoftmax.from_counts(counts))
                  for variant, w2v in modules.items() for name in args.objectives}
    for round_ in range(args.rounds + 1):  # round 0 compiles and warms up: not counted
        for case in cases:
            objective_name, workers, variant = case
            w2v = modules[variant]
            objective = objectives[variant, objective_name]
            extra, rows = {}, None
            if variant.endswith("subwords"):
                extra["row_table"] = w2v.RowTable(*table)
                rows = counts.size + args.bucket
            sized = {} if rows is None else {"input_rows": rows}  # a baseline may predate it
            # a baseline from before the kernels named model.C ``C`` calls it ``window``
            size = "C" if "C" in inspect.signature(w2v.train_range).parameters else "window"
            extra[size] = args.C
            inputs, outputs, _ = w2v.initial_weights(objective, args.vector_size, seed=1, **sized)
            if variant == "identity":
                extra["row_table"] = word2vec.RowTable.identity(counts.size)
            if variant in ("fastdot", "skip"):
                extra["rules"] = word2vec.StepRules(fast_dot=variant == "fastdot",
                                                    skip_saturated=variant == "skip")
            if variant == "queue" and workers > 1:
                extra["executor"] = queues.setdefault(
                    workers, executor.ThreadExecutor(workers, piece_words=args.piece_words))
            keep = w2v.keep_probabilities(counts, args.sample)
            started, cpu_started = time.perf_counter(), time.process_time()
            if variant == "private":
                copies = [(inputs.copy(), outputs.copy()) for _ in range(workers)]
                bounds = np.linspace(0, tokens.size, workers + 1).astype(np.int64)

                def share(k, copies=copies, bounds=bounds):
                    w2v.train_range(objective, *copies[k], tokens, starts, int(bounds[k]),
                                    int(bounds[k + 1]), alpha_start=0.025, alpha_end=0.0001,
                                    schedule=(0, tokens.size), keep=keep, workers=1, seed=1 + k,
                                    **extra)

                started, cpu_started = time.perf_counter(), time.process_time()
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(share, range(workers)))
            else:
                w2v.train_range(objective, inputs, outputs, tokens, starts, 0, tokens.size,
                                alpha_start=0.025, alpha_end=0.0001, keep=keep, workers=workers,
                                seed=1, **extra)
            if round_:
                times[case].append((time.perf_counter() - started, time.process_time() - cpu_started))

    print(f"{'objective':<14}{'workers':>8}  {'variant':<10}{'wall s':>8}{'words/s':>11}"
          f"{'vs first':>9}{'cpu s':>8}{'vs first':>9}")
    for objective_name in args.objectives:
        for workers in args.workers:
            first = None
            for variant in modules:
                runs = times[objective_name, workers, variant]
                wall = statistics.median(wall for wall, _ in runs)
                cpu = statistics.median(cpu for _, cpu in runs)
                first = first or (wall, cpu)
                print(f"{objective_name:<14}{workers:>8}  {variant:<10}{wall:>8.3f}"
                      f"{tokens.size / wall:>11,.0f}{wall / first[0]:>9.3f}{cpu:>8.3f}"
                      f"{cpu / first[1]:>9.3f}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
