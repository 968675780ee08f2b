#!/usr/bin/env python
"""fastText's CBOW with subwords: cbow against gensim's ``FastText(sg=0)`` and fastText itself
(the ``fasttext`` package), on one prepared corpus; speed, peak memory, quality, unseen words.

    python -m benchmarks.compare_fasttext --corpus /tmp/gcide-words.txt --repeats 3 --json out.json
    python -m benchmarks.compare_fasttext --corpus text.txt --workers 1 --epochs 1 --bucket 100000
    python -m benchmarks.compare_fasttext --corpus /tmp/gcide-words.txt --drop-pairs 0.2

What is compared (issue 20)
    CBOW with subwords: N 100, window 5 (shrunk at random), 5 epochs, min_count 5, sample 1e-3,
    negative sampling with 5 noise words, character n-grams of 3 to 6 characters in 2,000,000
    buckets, and the same learning rate for all, 0.05 (fastText's), falling linearly to 0. Each
    implementation uses its own random numbers. Noise words come from counts ** ``--ns-exponent``
    for cbow and gensim (default 0.75, configs/fasttext.yaml's and gensim's; fastText's table
    uses 0.5, which fastText cannot change); all draw the input rows in +-1/N (cbow
    ``--init gensim``; ``--init word2vec``: word2vec's +-0.5/N). ``cbow-w2v`` is cbow's word2vec
    CBOW (no subwords) with the same settings, for the cost of the subwords.

One corpus, prepared once
    cbow prepares the corpus (``whitespace`` tokens, lower-cased, ``vocab.min_count``) and the
    prepared tokens are written back as text, one sentence per line: gensim reads those lines
    (held in memory as lists of str) and fastText the file, so that the three see the same
    tokens (fastText adds its end-of-line token ``</s>`` to its vocabulary).

Training time, vocabulary building excluded
    * cbow: ``elapsed_s`` of the last row of ``metrics.jsonl`` (the training loop; the n-gram
      row table is built with the model, before it). Kernels are compiled first.
    * gensim: the time around ``train()``; ``build_vocab`` (which hashes the n-grams) is not
      timed.
    * fastText: ``train_unsupervised`` reads the corpus, builds its dictionary and n-gram lists,
      allocates and trains in one call; its training time is that call's time minus the time of
      the same call with ``epoch=0`` in its own process, in the same round (``fasttext-setup``).

    Each run is its own process (its peak RSS, ``VmHWM``, is its own); rounds interleave the
    implementations; round ``r`` uses seed ``r`` (fastText's Python API has no seed: its own).

Quality
    Every model's vectors become :class:`cbow.vectors.subword.SubwordEmbeddings` (gensim's
    ``vectors_vocab`` and ``vectors_ngrams``, fastText's input matrix) and are scored by
    ``cbow.evaluation``: WordSim-353 Spearman, out-of-vocabulary words scored with their subword
    vectors (the count is reported), and 3CosAdd analogies over the 30,000 most frequent words.
    ``--drop-pairs 0.2`` removes from the corpus every word of a fixed random 20% of WS353's pairs
    (``--drop-seed``) before anything is prepared: those words are never seen, and all 353
    pairs are scored with subword vectors. ``--unseen`` words get their nearest neighbours.

Nothing here is a timing test: run it on a quiet machine and read the medians. The machine's
load before each run is recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.compare_gensim import (MB, ChildFailed, _command_output, _epoch_seconds, _f,
                                       _metrics_rows, gensim_test_data, machine_state, median,
                                       memory_now, run_as_child, run_child, work_folder)

MODULE = "benchmarks.compare_fasttext"
IMPLEMENTATIONS = ("cbow", "gensim", "fasttext", "cbow-w2v")
DEFAULT_UNSEEN = ("kingliness", "unhappiest", "dictionaries", "electromagnetically")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------

def settings_of(args) -> dict:
    return {key: getattr(args, key) for key in (
        "vector_size", "window", "min_count", "negative", "ns_exponent", "sample", "epochs",
        "alpha", "minn", "maxn", "bucket", "cbow_batch_size", "init")}


def cbow_settings(corpus: str, cache_dir: str, workers: int, seed: int, s: dict, out_dir: str,
                  subwords: bool = True) -> dict:
    """The cbow config (for ``cbow.config.from_mapping``) of one run."""
    return {
        "corpus": corpus, "tokenizer": "whitespace",
        "prepare": {"lowercase": True, "cache_dir": cache_dir},
        "vocab": {"min_count": s["min_count"], "order": "frequency"},
        "model": {"N": s["vector_size"], "C": s["window"], "objective": "negative",
                  "negative": s["negative"], "ns_exponent": s["ns_exponent"], "hidden": "linear",
                  "init": s["init"] if subwords else "word2vec", "shrink_window": True,
                  "minn": s["minn"],
                  "maxn": s["maxn"] if subwords else 0, "bucket": s["bucket"]},
        "train": {"batch_size": s["cbow_batch_size"], "alpha": s["alpha"], "schedule": "linear",
                  "min_alpha": 0.0, "epochs": s["epochs"], "seed": seed, "dtype": "float32",
                  "sample": s["sample"], "workers": workers, "val_fraction": 0.0,
                  "eval_every": 10**9, "log_every": 1},
        "checkpoint": {"every": 10**9, "keep": 1},
        "out_dir": out_dir,
    }


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------

def score(embeddings, spec: dict) -> dict:
    """WS353 (unseen words by their subword vectors), analogies, neighbours of unseen words."""
    from threadpoolctl import threadpool_limits
    from cbow.evaluation import evaluate_analogies, evaluate_word_pairs
    from cbow.vectors.subword import SubwordEmbeddings

    subword = isinstance(embeddings, SubwordEmbeddings)  # cbow-w2v's vectors have no n-grams

    nan = (lambda x: None if x is None or x != x else x)
    with threadpool_limits(limits=1, user_api="blas"):
        pairs = evaluate_word_pairs(embeddings, spec["pairs"])
        analogies = evaluate_analogies(embeddings, spec["analogies"],
                                       restrict_vocab=spec["restrict"])
        neighbours = {w: [[n, round(c, 4)] for n, c in embeddings.most_similar(w, spec["topn"])]
                      for w in spec["unseen"] if subword and embeddings.has_vector(w)}
    return {"ws353_spearman": nan(pairs.spearman), "ws353_pairs_used": pairs.pairs_used,
            "ws353_pairs_subword": pairs.pairs_subword, "analogy_accuracy":
            nan(analogies.accuracy), "analogy_coverage": nan(analogies.coverage),
            "neighbours": neighbours, "V": len(embeddings)}


def child_prepare(spec: dict) -> dict:
    """Prepare the corpus once; write its tokens back as text for gensim and fastText."""
    import numpy as np
    from cbow.config import from_mapping
    from cbow.training.preparation import prepare_corpus

    cfg = from_mapping(cbow_settings(spec["corpus"], spec["cache_dir"], 1, 1, spec["settings"],
                                     spec["out_dir"]), MODULE)
    prepared = prepare_corpus(cfg, progress=False)
    words = prepared.vocab.words
    ids = np.asarray(prepared.ids)
    bounds = np.append(np.asarray(prepared.sentence_starts), ids.size).tolist()
    with open(spec["tokens"], "w", encoding="utf-8") as f:
        for begin, end in zip(bounds[:-1], bounds[1:]):
            f.write(" ".join(words[i] for i in ids[begin:end].tolist()) + "\n")
    return {"tokens": int(ids.size), "sentences": len(bounds) - 1, "V": len(words)}


def child_cbow(spec: dict, subwords: bool = True) -> dict:
    from cbow.config import from_mapping
    from cbow.training.run import load_embeddings
    from cbow.training.loop import train
    s = spec["settings"]
    with tempfile.TemporaryDirectory(prefix="compare_fasttext-jit-") as scratch:
        # Compile (or load) the kernels before the clock starts: one step on a tiny whitespace
        # corpus (preparing it imports no NLTK), 1,000 buckets. Not the benchmark's corpus: a
        # second vocabulary, row table and model of it would stay in the allocator's pools
        # and add ~15 MB to this process's peak.
        tiny = Path(scratch, "warm.txt")
        tiny.write_text("the quick brown fox jumps over the lazy dog\n" * 50, encoding="utf-8")
        warm = cbow_settings(str(tiny), str(Path(scratch, "prepared")), spec["workers"], 1,
                             dict(s, epochs=1, bucket=1000), str(Path(scratch, "r")), subwords)
        warm["train"]["steps"] = 1
        train(from_mapping(warm, MODULE), quiet=True, log=None)
    cfg = from_mapping(cbow_settings(spec["corpus"], spec["cache_dir"], spec["workers"],
                                     spec["seed"], s, spec["run_dir"], subwords), MODULE)
    before = memory_now()
    train(cfg, quiet=True, log=None)
    after = memory_now()
    rows = _metrics_rows(spec["run_dir"])
    out = {"seconds": rows[-1]["elapsed_s"], "epoch_seconds": _epoch_seconds(rows, s["epochs"]),
           "memory_before_train": before, "memory_after_train": after}
    out["quality"] = score(load_embeddings(spec["run_dir"]), spec)
    return out


def child_gensim(spec: dict) -> dict:
    from gensim.models import FastText
    s = spec["settings"]
    with open(spec["tokens"], encoding="utf-8") as f:
        sentences = [line.split() for line in f]
    model = FastText(sg=0, cbow_mean=1, vector_size=s["vector_size"], window=s["window"],
                     min_count=s["min_count"], sample=s["sample"], negative=s["negative"],
                     hs=0, ns_exponent=s["ns_exponent"], alpha=s["alpha"], min_alpha=0.0,
                     epochs=s["epochs"],
                     min_n=s["minn"], max_n=s["maxn"], bucket=s["bucket"], seed=spec["seed"],
                     workers=spec["workers"])
    model.build_vocab(corpus_iterable=sentences)  # not timed: it hashes every word's n-grams
    before = memory_now()
    started = time.perf_counter()
    model.train(corpus_iterable=sentences, total_examples=model.corpus_count,
                epochs=model.epochs)
    seconds = time.perf_counter() - started
    after = memory_now()
    from cbow.vectors.subword import SubwordEmbeddings  # after the peak is read: see fastText's
    wv = model.wv
    words = list(wv.index_to_key)
    embeddings = SubwordEmbeddings(words, wv.vectors_vocab, wv.vectors_ngrams, wv.min_n,
                                   wv.max_n, counts=[wv.get_vecattr(w, "count") for w in words])
    return {"seconds": seconds, "memory_before_train": before, "memory_after_train": after,
            "quality": score(embeddings, spec)}


def child_fasttext(spec: dict) -> dict:
    import fasttext
    s = spec["settings"]
    before = memory_now()
    started = time.perf_counter()
    model = fasttext.train_unsupervised(
        spec["tokens"], model="cbow", lr=s["alpha"], dim=s["vector_size"], ws=s["window"],
        epoch=spec.get("epochs", s["epochs"]), minCount=s["min_count"], neg=s["negative"],
        minn=s["minn"], maxn=s["maxn"], bucket=s["bucket"], t=s["sample"],
        thread=spec["workers"], verbose=0)
    seconds = time.perf_counter() - started
    after = memory_now()
    out = {"seconds": seconds, "memory_before_train": before, "memory_after_train": after}
    if spec.get("epochs", s["epochs"]) > 0:
        # imported once the peak is read: cbow's subword code imports numba (~70 MB resident),
        # which fastText's training does not need and its peak must not include
        from cbow.vectors.subword import SubwordEmbeddings
        words, counts = model.get_words(include_freq=True)
        out["quality"] = score(SubwordEmbeddings.from_input_matrix(
            words, model.get_input_matrix(), s["minn"], s["maxn"], counts=counts), spec)
    return out


CHILDREN = {"prepare": child_prepare, "cbow": child_cbow, "gensim": child_gensim,
            "fasttext": child_fasttext, "fasttext-setup": child_fasttext,
            "cbow-w2v": lambda spec: child_cbow(spec, subwords=False)}


# --------------------------------------------------------------------------------------------
# The parent
# --------------------------------------------------------------------------------------------

def dropped_words(pairs_path: Path, fraction: float, seed: int) -> list[str]:
    """Every word of a fixed random ``fraction`` of the pairs of a word-pair file."""
    from cbow.evaluation import read_word_pairs
    pairs = read_word_pairs(pairs_path)
    chosen = random.Random(seed).sample(range(len(pairs)), round(fraction * len(pairs)))
    return sorted({w.lower() for i in chosen for w in (pairs[i].word1, pairs[i].word2)})


def without_words(corpus: Path, words: list[str], out: Path) -> None:
    """``corpus`` with every whitespace token equal to one of ``words`` (any case) removed."""
    drop = set(words)
    with open(corpus, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(" ".join(t for t in line.split() if t.lower() not in drop) + "\n")


def summarize(runs: list[dict], implementation: str, workers: int) -> dict:
    mine = [r for r in runs if r["implementation"] == implementation and r["workers"] == workers]
    q = [r["quality"] for r in mine if "quality" in r]
    mean = (lambda xs: None if not [x for x in xs if x is not None]
            else sum(x for x in xs if x is not None) / len([x for x in xs if x is not None]))
    return {"implementation": implementation, "workers": workers, "rounds": len(mine),
            "seconds": median(r["train_seconds"] for r in mine),
            "seconds_all": [round(r["train_seconds"], 2) for r in mine],
            "peak_rss_mb": median(r["memory_after_train"]["peak"] / MB for r in mine),
            "ws353": mean([x["ws353_spearman"] for x in q]),
            "ws353_subword_pairs": median(x["ws353_pairs_subword"] for x in q),
            "analogies": mean([x["analogy_accuracy"] for x in q]),
            "V": q[0]["V"] if q else None}


def table(rows: list[dict], tokens: int, epochs: int) -> str:
    lines = ["| implementation | workers | train s (median) | words/s | peak RSS MB | "
             "WS353 (mean) | pairs by subwords | analogies (mean) | V |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        speed = None if not r["seconds"] else tokens * epochs / r["seconds"]
        lines.append(f"| {r['implementation']} | {r['workers']} | {_f(r['seconds'], '.2f')} | "
                     f"{_f(speed, ',.0f')} | {_f(r['peak_rss_mb'], '.0f')} | "
                     f"{_f(r['ws353'], '.4f')} | {_f(r['ws353_subword_pairs'], '.0f')} | "
                     f"{_f(r['analogies'] and 100 * r['analogies'], '.2f')}% | "
                     f"{_f(r['V'], ',')} |")
    return "\n".join(lines)


def targets(summary: dict, workers: list[int]) -> str:
    lines = ["| workers | cbow / gensim speed (>= 1.5) | cbow / fastText speed (>= 1.5) | "
             "WS353 - better anchor (>= -0.01) | analogies - better anchor, points (>= -0.5) | "
             "peak RSS / leaner anchor (<= 1.2) |", "|---|---|---|---|---|---|"]
    for w in workers:
        ours, g, f = (summary[(i, w)] for i in ("cbow", "gensim", "fasttext"))
        ratio = (lambda a, b: None if not a or not b else b / a)  # speed: inverse seconds
        best = (lambda key: max([x[key] for x in (g, f) if x[key] is not None], default=None))
        diff = (lambda key, scale=1: None if ours[key] is None or best(key) is None
                else scale * (ours[key] - best(key)))
        lean = min([x["peak_rss_mb"] for x in (g, f) if x["peak_rss_mb"]], default=None)
        lines.append(f"| {w} | {_f(ratio(ours['seconds'], g['seconds']), '.2f')} | "
                     f"{_f(ratio(ours['seconds'], f['seconds']), '.2f')} | "
                     f"{_f(diff('ws353'), '+.4f')} | {_f(diff('analogies', 100), '+.2f')} | "
                     f"{_f(ours['peak_rss_mb'] and lean and ours['peak_rss_mb'] / lean, '.2f')} |")
    return "\n".join(lines)


def progress_line(run: dict) -> str:
    q = run["quality"]
    return (f"round {run['round']} workers={run['workers']} {run['implementation']:9s} "
            f"{run['train_seconds']:7.2f} s; peak {run['memory_after_train']['peak'] / MB:.0f} "
            f"MB; WS353 {_f(q['ws353_spearman'], '.4f')}, {q['ws353_pairs_subword']} pairs by "
            f"subwords; analogies {_f(q['analogy_accuracy'], '.4f')}; load before "
            f"{run['loadavg_before'][0]:.2f}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "),
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", help="a UTF-8 text file, one sentence per line (required)")
    parser.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS),
                        choices=IMPLEMENTATIONS)
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="rounds; round r uses seed r")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--ns-exponent", type=float, default=0.75,
                        help="cbow's and gensim's (fastText's is 0.5)")
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--init", choices=["gensim", "word2vec"], default="gensim",
                        help="cbow's model.init: input rows in +-1/N (fastText's and gensim's) "
                             "or +-0.5/N (word2vec's)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--minn", type=int, default=3)
    parser.add_argument("--maxn", type=int, default=6)
    parser.add_argument("--bucket", type=int, default=2_000_000)
    parser.add_argument("--cbow-batch-size", type=int, default=100000)
    parser.add_argument("--restrict", type=int, default=30000)
    parser.add_argument("--drop-pairs", type=float, default=0.0,
                        help="remove the words of this fraction of WS353's pairs from the corpus")
    parser.add_argument("--drop-seed", type=int, default=20)
    parser.add_argument("--unseen", nargs="+", default=list(DEFAULT_UNSEEN),
                        help="words whose neighbours are shown (their subword vectors)")
    parser.add_argument("--topn", type=int, default=8)
    parser.add_argument("--out-dir", help="kept; default a temporary folder, removed at the end")
    parser.add_argument("--json", help="write every figure and every run here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is None and not (args.corpus and Path(args.corpus).is_file()):
        parser.error("--corpus FILE is required (an existing file)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        run_as_child(args.child, CHILDREN)
        return 0
    folder, temporary = work_folder(args.out_dir, "compare_fasttext-")
    data = gensim_test_data()
    corpus = Path(args.corpus).resolve()
    dropped = []
    if args.drop_pairs > 0:
        dropped = dropped_words(data / "wordsim353.tsv", args.drop_pairs, args.drop_seed)
        without_words(corpus, dropped, folder / "corpus-dropped.txt")
        corpus = folder / "corpus-dropped.txt"
    settings = settings_of(args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = {"corpus": str(corpus), "cache_dir": str(folder / "prepared"), "settings": settings,
            "tokens": str(folder / "tokens.txt"), "out_dir": str(folder / "runs" / "prepare"),
            "pairs": str(data / "wordsim353.tsv"), "analogies": str(data / "questions-words.txt"),
            "restrict": args.restrict, "unseen": args.unseen, "topn": args.topn}
    report = {"command": " ".join([Path(sys.executable).name] + sys.argv), "settings": settings,
              "dropped_words": dropped, "machine_start": machine_state(),
              "platform": {"machine": platform.machine(), "cores": os.cpu_count()},
              "git": _command_output(["git", "describe", "--always", "--dirty"]), "runs": []}
    say = (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        prepared = run_child("prepare", base, folder, "prepare", MODULE)
        say(f"prepared {corpus}: {prepared['tokens']:,} tokens, V = {prepared['V']:,}")
        report["corpus"] = prepared
        for round_ in range(1, args.repeats + 1):
            for workers in args.workers:
                jobs = [i for i in args.implementations]
                if "fasttext" in jobs:
                    jobs.insert(jobs.index("fasttext"), "fasttext-setup")
                timed = {}
                for job in jobs:
                    name = f"{job}-w{workers}-r{round_}"
                    load = os.getloadavg()
                    result = run_child(job, dict(base, workers=workers, seed=round_,
                                                 run_dir=str(folder / "runs" / f"{stamp}-{name}"),
                                                 epochs=0 if job == "fasttext-setup" else
                                                 args.epochs), folder, name, MODULE)
                    timed[job] = result["seconds"]
                    if job == "fasttext-setup":
                        continue
                    result.update(implementation=job, workers=workers, round=round_,
                                  loadavg_before=list(load), train_seconds=result["seconds"])
                    if job == "fasttext":
                        result["setup_seconds"] = timed["fasttext-setup"]
                        result["train_seconds"] = result["seconds"] - timed["fasttext-setup"]
                    report["runs"].append(result)
                    say(progress_line(result))
    except ChildFailed as error:
        say(str(error))
        return 1
    finally:
        report["machine_end"] = machine_state()
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    summary = {(i, w): summarize(report["runs"], i, w) for w in args.workers
               for i in args.implementations}
    report["summary"] = list(summary.values())
    print(f"# fastText's CBOW: cbow, gensim FastText, fastText on {args.corpus}\n")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; uptime at the start "
          f"{report['machine_start']['uptime']}, at the end {report['machine_end']['uptime']}")
    print(f"corpus: {prepared['tokens']:,} tokens, V = {prepared['V']:,}"
          + (f"; {len(dropped)} words of {args.drop_pairs:.0%} of WS353's pairs removed "
             f"(seed {args.drop_seed})" if dropped else "") + "\n")
    print(table(list(summary.values()), prepared["tokens"], args.epochs))
    if {"cbow", "gensim", "fasttext"} <= set(args.implementations):
        print("\n## Targets (cbow against the anchors)\n")
        print(targets(summary, args.workers))
    print("\n## Nearest neighbours of unseen words (round 1, first worker count)\n")
    for run in report["runs"]:
        if run["round"] == 1 and run["workers"] == args.workers[0]:
            for word, neighbours in run["quality"]["neighbours"].items():
                print(f"{run['implementation']}: {word}: "
                      + ", ".join(f"{w} {c:.2f}" for w, c in neighbours))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
