#!/usr/bin/env python
"""Ablations of cbow's word2vec kernels against gensim: one rule changed at a time, quality only.

    python -m benchmarks.ablate_word2vec --corpus /work/bench/gcide-words.txt \\
        --out-dir /work/bench/ablate-gcide --variants exact skip gensim-init gensim \\
        --seeds 1 2 3 --epochs 5
    python -m benchmarks.ablate_word2vec --out-dir /work/bench/ablate-gcide --table

Each run trains CBOW (negative sampling by default) on one prepared corpus with the settings of
``benchmarks.compare_gensim`` (N 100, window 5 shrunk, min_count 5, sample 1e-3, alpha 0.025 ->
0.0001 linear over the run, negative 5) in its own process, and scores its input vectors with
``compare_gensim.score_vectors`` (WS353 Spearman, 3CosAdd analogies over the 30,000 most frequent
words). The corpus is prepared once by cbow; gensim gets the same ids as sentences (gensim's own
run, ``compare_gensim.child_gensim``, is the variant ``gensim``).

A cbow run is :func:`cbow.models.word2vec.train_range` over steps of ``--batch-size`` positions (the
trainer's ``train.batch_size``), the rate linear in the position over all epochs, with the
variant's :class:`cbow.models.word2vec.StepRules` and initialisation. Variants (``+`` combines them):

- ``exact``: cbow's kernel as it was: the exact sigmoid, every output row stepped;
- ``skip``: gensim's rule: no step for an output row scored at or beyond +-6;
- ``table``: gensim's 1,000-entry sigmoid table inside +-6 (``StepRules(sigmoid_table=True)``,
  a kernel compiled for it);
- ``alpha10k``: the rate held for blocks of 10,000 positions, as gensim's jobs hold it: each
  block of a step is trained by a call of its own at one rate, the step's rate at the block's
  first position (:func:`held_rate_blocks`);
- ``ginit``: gensim 4's initialisation, input vectors uniform in +-1/N (word2vec's C tool and
  cbow: +-0.5/N);
- ``fastdot``: the reassociated dot product (``train.fast_dot``);
- hierarchical softmax's Huffman tree (cbow: two queues, words of equal count in id order, a
  leaf before an inner node of equal weight; see :func:`cbow.models.word2vec.huffman_tree`):
  ``gtree``, gensim's own tree (``gensim.models.word2vec._assign_binary_codes``: a heap that
  compares counts only, over gensim's word order, equal counts latest-seen first), the tree
  gensim trains for this corpus; ``tieshuffle``, cbow's merge with the words of equal count in
  a fixed pseudo-random order (not alphabetical); ``tieseed``, the same with an order drawn
  from the run's seed (another tree for each seed); ``innerfirst``, cbow's merge taking an inner
  node before a leaf of equal weight (word2vec.c's rule);
- ``gensim``: gensim 4.4 itself; ``gensim+ctree``: gensim trained with cbow's Huffman tree
  (its codes and points set after ``build_vocab``, before ``train``), the other side of
  ``gtree``.

Results are appended, one JSON line per run, to ``OUT_DIR/results.jsonl``; a run already there
is not repeated, so an interrupted ablation continues where it stopped. ``--table`` prints the
means over the seeds. Runs with one worker are deterministic (cbow) and load-independent; the
machine's load changes only how long they take.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import compare_gensim as cg

VARIANT_PARTS = ("exact", "skip", "table", "alpha10k", "ginit", "fastdot", "gtree",
                 "tieshuffle", "tieseed", "innerfirst")
GENSIM_VARIANTS = ("gensim", "gensim+ctree")
TREES = ("gtree", "tieshuffle", "tieseed", "innerfirst")


def parse_variant(name: str) -> dict:
    """``skip+ginit`` -> the rules and initialisation of that variant."""
    parts = name.split("+")
    bad = [p for p in parts if p not in VARIANT_PARTS]
    if bad and name not in GENSIM_VARIANTS:
        raise ValueError(f"unknown variant part {bad[0]!r}; choose from {', '.join(VARIANT_PARTS)}"
                         " (joined by +) or gensim")
    trees = [p for p in parts if p in TREES]
    if len(trees) > 1:
        raise ValueError(f"variant {name!r}: one tree ({', '.join(TREES)}) at most")
    variant = {"skip_saturated": "skip" in parts, "sigmoid_table": "table" in parts,
               "alpha_every": 10_000 if "alpha10k" in parts else 1, "fast_dot": "fastdot" in parts,
               "init_scale": 2.0 if "ginit" in parts else 1.0}
    if trees:
        variant["tree"] = trees[0]
    return variant


# --------------------------------------------------------------------------------------------
# Other Huffman trees (the ablation of hierarchical softmax's tree)
# --------------------------------------------------------------------------------------------

def gensim_word_order(counts, tokens) -> "np.ndarray":
    """cbow's word ids in gensim's index order for the same sentences: gensim numbers the words
    as first seen, then sorts by count, descending, equal counts latest-seen first
    (``KeyedVectors.sort_by_descending_frequency``: ``np.lexsort((-indices, -counts))``)."""
    import numpy as np
    words, first = np.unique(tokens, return_index=True)
    seen_order = words[np.argsort(first, kind="stable")]  # gensim's raw index -> cbow id
    raw_counts = np.asarray(counts, np.int64)[seen_order]
    raw_index = np.arange(seen_order.size)
    return seen_order[np.lexsort((-raw_index, -raw_counts))]


def gensim_tree(counts, tokens):
    """gensim's Huffman codes and points (its own function, on its word order), per cbow id."""
    import numpy as np
    from gensim.models.word2vec import _assign_binary_codes

    order = gensim_word_order(counts, tokens)
    gensim_counts = np.asarray(counts, np.int64)[order]

    class Words:  # the little of KeyedVectors that _assign_binary_codes reads and writes
        index_to_key = list(range(order.size))
        attributes = {"code": [None] * order.size, "point": [None] * order.size}

        def __len__(self):
            return order.size

        def get_vecattr(self, index, name):
            return int(gensim_counts[index])

        def set_vecattr(self, index, name, value):
            self.attributes[name][index] = value

    words = Words()
    _assign_binary_codes(words)
    return tree_arrays(order, words.attributes["code"], words.attributes["point"])


def tree_arrays(order, codes_of, points_of):
    """(codes, points, code_lengths) in cbow's layout from per-word lists: ``codes_of[k]`` and
    ``points_of[k]`` belong to cbow word ``order[k]``."""
    import numpy as np
    lengths = np.array([len(c) for c in codes_of], np.int32)
    codes = np.zeros((order.size, lengths.max()), np.uint8)
    points = np.full((order.size, lengths.max()), -1, np.int32)
    out_lengths = np.zeros(order.size, np.int32)
    for k, word in enumerate(order.tolist()):
        codes[word, :lengths[k]] = codes_of[k]
        points[word, :lengths[k]] = points_of[k]
        out_lengths[word] = lengths[k]
    return codes, points, out_lengths


def two_queue_tree(counts, tie_order, inner_first: bool):
    """word2vec's two-queue merge over the words sorted by (count, ``tie_order``); on equal
    weights a leaf is taken first (cbow) or an inner node first (``inner_first``: word2vec.c)."""
    import numpy as np
    counts = np.asarray(counts, np.int64)
    order = np.lexsort((tie_order, counts))  # leaf i is word order[i]
    V = order.size
    weight = counts[order].tolist() + [0] * (V - 1)
    parent, branch = [-1] * (2 * V - 1), [0] * (2 * V - 1)
    next_leaf, next_inner = 0, V
    for new in range(V, 2 * V - 1):
        for b in (0, 1):
            leaf_ok = next_leaf < V
            inner_ok = next_inner < new
            if leaf_ok and inner_ok:
                take_leaf = (weight[next_leaf] < weight[next_inner] if inner_first
                             else weight[next_leaf] <= weight[next_inner])
            else:
                take_leaf = leaf_ok
            if take_leaf:
                child, next_leaf = next_leaf, next_leaf + 1
            else:
                child, next_inner = next_inner, next_inner + 1
            parent[child], branch[child] = new, b
            weight[new] += weight[child]
    codes_of, points_of = [], []
    for leaf in range(V):
        code, point, node = [], [], leaf
        while parent[node] != -1:
            code.append(branch[node])
            point.append(parent[node] - V)
            node = parent[node]
        codes_of.append(code[::-1])
        points_of.append(point[::-1])
    return tree_arrays(order, codes_of, points_of)


def variant_tree(tree: str, counts, tokens, seed: int):
    import numpy as np
    if tree == "gtree":
        return gensim_tree(counts, tokens)
    V = len(counts)
    if tree == "tieshuffle":  # a fixed permutation, the same for every seed
        return two_queue_tree(counts, np.random.default_rng(12345).permutation(V), False)
    if tree == "tieseed":  # a permutation for each seed (not the generator of the vectors)
        return two_queue_tree(counts, np.random.default_rng([seed, 29]).permutation(V), False)
    return two_queue_tree(counts, np.arange(V), True)


# --------------------------------------------------------------------------------------------
# The child: one cbow run
# --------------------------------------------------------------------------------------------

def held_rate_blocks(begin: int, end: int, alpha_start: float, alpha_end: float,
                     every: int) -> list[tuple[int, int, float, float]]:
    """A step from ``alpha_start`` at ``begin`` to ``alpha_end`` at ``end`` as the calls that
    train it, ``(call_begin, call_end, call_alpha_start, call_alpha_end)``: with ``every`` 1 the
    step itself; else its blocks of ``every`` positions, each at one rate, the step's at the
    block's first position (computed as the kernels compute a position's rate)."""
    if every == 1:
        return [(begin, end, alpha_start, alpha_end)]
    per_position = (alpha_end - alpha_start) / max(1, end - begin)
    blocks = []
    for block_begin in range(begin, end, every):
        rate = alpha_start + per_position * (block_begin - begin)
        blocks.append((block_begin, min(block_begin + every, end), rate, rate))
    return blocks


def child_cbow_variant(spec: dict) -> dict:
    import numpy as np
    from cbow.models import word2vec as w2v
    from cbow.data.prepare import load_prepared

    variant, settings = parse_variant(spec["variant"]), spec["settings"]
    prepared = load_prepared(spec["folder"])
    tokens = np.asarray(prepared.ids)
    starts = np.asarray(prepared.sentence_starts)
    counts = prepared.vocab.counts
    if spec["objective"] == "negative":
        objective = w2v.NegativeSampling.from_counts(counts, settings["negative"], 0.75)
    elif "tree" in variant:
        objective = w2v.HierarchicalSoftmax(*variant_tree(variant["tree"], counts, tokens,
                                                                settings["seed"]))
    else:
        objective = w2v.HierarchicalSoftmax.from_counts(counts)
    inputs, outputs, bias = w2v.initial_weights(objective, settings["vector_size"],
                                                settings["seed"])
    inputs *= np.float32(variant["init_scale"])  # 2: (2u - 1)/N, gensim 4's +-1/N
    keep = w2v.keep_probabilities(counts, settings["sample"])
    rules = w2v.StepRules(skip_saturated=variant["skip_saturated"], fast_dot=variant["fast_dot"],
                          sigmoid_table=variant["sigmoid_table"])
    T, epochs, step = tokens.size, settings["epochs"], spec["batch_size"]
    a0, a1 = settings["alpha"], settings["min_alpha"]

    def alpha(position: int) -> float:  # linear in the position over all epochs
        return a0 + (a1 - a0) * position / (epochs * T)

    started, cpu_started = time.perf_counter(), time.process_time()
    effective = 0
    for epoch in range(epochs):
        states = None  # each epoch's generators from (seed, epoch), as the trainer does
        for begin in range(0, T, step):
            end = min(begin + step, T)
            for block_begin, block_end, rate_start, rate_end in held_rate_blocks(
                    begin, end, alpha(epoch * T + begin), alpha(epoch * T + end),
                    variant["alpha_every"]):
                result = w2v.train_range(
                    objective, inputs, outputs, tokens, starts, block_begin, block_end,
                    alpha_start=rate_start, alpha_end=rate_end, C=settings["window"], keep=keep,
                    shrink_window=True, workers=spec["workers"], seed=settings["seed"],
                    epoch=epoch, rng_states=states, rules=rules)
                states = result.rng_states
                effective += result.effective_words
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if not np.isfinite(inputs).all():
        raise SystemExit("the input vectors are not finite")
    quality = cg.score_vectors(prepared.vocab.words, inputs, counts, spec)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "effective_words": int(effective),
            "quality": quality}


def child_gensim_cbow_tree(spec: dict) -> dict:
    """gensim's run (one worker, the ablation's settings) with cbow's Huffman tree."""
    import numpy as np
    from gensim.models import Word2Vec
    from cbow.models import word2vec as w2v
    from cbow.data.prepare import load_prepared

    settings = spec["settings"]
    prepared = load_prepared(spec["folder"])
    words, counts = prepared.vocab.words, prepared.vocab.counts
    ids = np.asarray(prepared.ids)
    bounds = np.append(np.asarray(prepared.sentence_starts), ids.size).tolist()
    piece = spec["max_sentence_length"]
    sentences = [[words[i] for i in ids[a:min(a + piece, end)].tolist()]
                 for begin, end in zip(bounds[:-1], bounds[1:]) for a in range(begin, end, piece)]
    model = Word2Vec(**cg.gensim_arguments("hierarchical", spec["workers"], settings))
    model.build_vocab(corpus_iterable=sentences)
    codes, points, lengths = w2v.huffman_tree(counts)
    cbow_id = {w: i for i, w in enumerate(words)}
    for g, word in enumerate(model.wv.index_to_key):
        i = cbow_id[word]
        model.wv.expandos["code"][g] = codes[i, :lengths[i]].copy()
        model.wv.expandos["point"][g] = points[i, :lengths[i]].astype(np.uint32)
    started, cpu_started = time.perf_counter(), time.process_time()
    effective, _ = model.train(corpus_iterable=sentences, total_examples=model.corpus_count,
                               epochs=model.epochs)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    gensim_counts = [model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key]
    quality = cg.score_vectors(list(model.wv.index_to_key), model.wv.vectors, gensim_counts, spec)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "effective_words": int(effective),
            "quality": quality}


def child(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    if spec["job"] == "prepare":
        result = cg.child_prepare(spec)
    elif spec["variant"] == "gensim":
        result = cg.child_gensim(spec)
    elif spec["variant"] == "gensim+ctree":
        result = child_gensim_cbow_tree(spec)
    else:
        result = child_cbow_variant(spec)
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The parent
# --------------------------------------------------------------------------------------------

def start(spec: dict, folder: Path, name: str) -> subprocess.Popen:
    spec = dict(spec, result=str(folder / "results" / f"{name}.json"))
    path = folder / "specs" / f"{name}.json"
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    log = open(folder / "logs" / f"{name}.log", "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.ablate_word2vec", "--child",
                             str(path)], stdout=log, stderr=subprocess.STDOUT, cwd=cg.REPO_ROOT)
    proc.name, proc.spec, proc.log = name, spec, log
    return proc


def run_name(variant: str, objective: str, workers: int, batch_size: int, seed: int,
             epochs: int) -> str:
    return f"{variant}-{objective}-w{workers}-b{batch_size}-e{epochs}-s{seed}"


def read_results(folder: Path) -> list[dict]:
    path = folder / "results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def table(rows: list[dict], baseline: str = "gensim") -> str:
    """Mean over the seeds (and the spread) per (objective, workers, step, epochs, variant), and
    the mean over the seeds of the difference from ``baseline``'s run of the same seed."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["objective"], r["workers"], r["batch_size"], r["epochs"],
                           r["variant"]), []).append(r)

    def scores(r):
        return r["quality"]["ws353_spearman"], 100 * r["quality"]["analogy_accuracy"]

    lines = [f"| objective | workers | step | epochs | variant | seeds | WS353 (mean) | WS353 range"
             f" | analogies % (mean) | analogies range | WS353 - {baseline}'s | analogies - "
             f"{baseline}'s (points) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3], k[4] != "gensim", k[4])):
        rs = groups[key]
        ws, an = zip(*map(scores, rs))
        base = {r["seed"]: scores(r) for r in rows if r["variant"] == baseline
                and (r["objective"], r["workers"], r["epochs"]) == (key[0], key[1], key[3])
                and (baseline == "gensim" or r["batch_size"] == key[2])}
        paired = [(w - base[r["seed"]][0], a - base[r["seed"]][1])
                  for r, w, a in zip(rs, ws, an) if r["seed"] in base]
        diff = (f"{statistics.mean(d for d, _ in paired):+.4f} | "
                f"{statistics.mean(d for _, d in paired):+.2f}") if paired else "- | -"
        step = "-" if key[4] == "gensim" else f"{key[2]:,}"
        lines.append(f"| {key[0]} | {key[1]} | {step} | {key[3]} | {key[4]} | {len(rs)} | "
                     f"{statistics.mean(ws):.4f} | {min(ws):.3f}-{max(ws):.3f} | "
                     f"{statistics.mean(an):.2f} | {min(an):.2f}-{max(an):.2f} | {diff} |")
    return "\n".join(lines)


def paired_table(rows: list[dict], baseline: str = "gensim") -> str:
    """Seed by seed, each variant minus ``baseline`` (same objective, workers, epochs and
    seed): WS353 and analogy points, then the mean +- its standard error and the seeds where
    the variant is ahead."""
    def key(r):
        return r["objective"], r["workers"], r["epochs"]

    def scores(r):
        return r["quality"]["ws353_spearman"], 100 * r["quality"]["analogy_accuracy"]

    base = {key(r) + (r["seed"],): scores(r) for r in rows if r["variant"] == baseline}
    groups: dict[tuple, dict[int, tuple]] = {}
    for r in rows:
        if r["variant"] != baseline and key(r) + (r["seed"],) in base:
            b = base[key(r) + (r["seed"],)]
            w, a = scores(r)
            groups.setdefault(key(r) + (r["variant"],), {})[r["seed"]] = (w - b[0], a - b[1])
    lines = []
    for k in sorted(groups):
        diffs = groups[k]
        seeds = sorted(diffs)
        lines.append(f"{k[0]}, {k[1]} worker(s), {k[2]} epochs: {k[3]} - {baseline}")
        lines.append("| | " + " | ".join(str(s) for s in seeds) + " | mean +- s.e. | ahead |")
        lines.append("|---" * (len(seeds) + 3) + "|")
        for i, (name, form, scale) in enumerate((("WS353", "+.4f", 1), ("analogies (pt)", "+.2f",
                                                                          1))):
            values = [diffs[s][i] for s in seeds]
            se = (statistics.stdev(values) / len(values) ** 0.5) if len(values) > 1 else 0.0
            lines.append(f"| {name} | " + " | ".join(format(v, form) for v in values)
                         + f" | {statistics.mean(values):{form}} +- {se:.{form[-2]}f} | "
                         f"{sum(v > 0 for v in values)}/{len(values)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="a UTF-8 text file, one sentence per line")
    parser.add_argument("--out-dir", required=False, help="prepared corpus, logs, results.jsonl")
    parser.add_argument("--variants", nargs="+", default=["exact", "gensim"])
    parser.add_argument("--objective", default="negative", choices=cg.OBJECTIVES)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[100_000],
                        help="center positions per step (train.batch_size)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="runs at the same time")
    parser.add_argument("--restrict", type=int, default=30000)
    parser.add_argument("--table", action="store_true", help="print the table of results and stop")
    parser.add_argument("--paired", action="store_true",
                        help="with --table: each variant minus the baseline seed by seed, the "
                             "mean +- standard error and the seeds ahead")
    parser.add_argument("--baseline", default="gensim",
                        help="--table: the variant the differences are taken from, seed by seed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if not args.out_dir:
        parser.error("--out-dir is required")
    folder = Path(args.out_dir).resolve()
    if args.table:
        print(table(read_results(folder), args.baseline))
        if args.paired:
            print()
            print(paired_table(read_results(folder), args.baseline))
        return 0
    if not args.corpus or not Path(args.corpus).is_file():
        parser.error("--corpus: a text file is required")
    for variant in args.variants:
        try:
            parse_variant(variant)
        except ValueError as error:
            parser.error(str(error))
    for sub in ("specs", "logs", "results"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    gensim_data = Path(importlib.util.find_spec("gensim").origin).parent / "test" / "test_data"
    base_args = cg.parse_args(["--corpus", args.corpus, "--epochs", str(args.epochs)])
    base = {"corpus": str(Path(args.corpus).resolve()), "cache_dir": str(folder / "prepared"),
            "out_dir": str(folder / "prepare-run"), "pairs": str(gensim_data / "wordsim353.tsv"),
            "analogies": str(gensim_data / "questions-words.txt"), "restrict": args.restrict,
            "words": list(cg.DEFAULT_WORDS), "topn": 5}
    settings = cg.shared_settings(base_args)
    prepare = start(dict(base, job="prepare", settings=settings), folder, "prepare")
    if prepare.wait() != 0:
        print(f"preparing failed: see {folder / 'logs' / 'prepare.log'}", file=sys.stderr)
        return 1
    prepared = json.loads((folder / "results" / "prepare.json").read_text(encoding="utf-8"))
    print(f"prepared: {prepared['tokens']:,} tokens, V = {prepared['V']:,}", file=sys.stderr)
    done = {r["name"] for r in read_results(folder)}
    todo = []
    for seed in args.seeds:  # seeds outermost: a cut-short ablation has every variant at seed 1
        for batch_size in args.batch_sizes:
            for variant in args.variants:
                name = run_name(variant, args.objective, args.workers, batch_size, seed,
                                args.epochs)
                if name in done or (variant == "gensim" and batch_size != args.batch_sizes[0]):
                    continue
                todo.append((name, dict(base, job="run", variant=variant, folder=prepared["folder"],
                                        settings=dict(settings, seed=seed),
                                        objective=args.objective, workers=args.workers,
                                        batch_size=batch_size, tokens=prepared["tokens"],
                                        max_sentence_length=prepared["max_sentence_length"]),
                             dict(variant=variant, objective=args.objective, workers=args.workers,
                                  batch_size=batch_size, seed=seed, epochs=args.epochs)))
    running: list[subprocess.Popen] = []
    failed = 0
    try:
        while todo or running:
            while todo and len(running) < args.jobs:
                name, spec, meta = todo.pop(0)
                proc = start(spec, folder, name)
                proc.meta = meta
                running.append(proc)
            time.sleep(1)
            for proc in [p for p in running if p.poll() is not None]:
                running.remove(proc)
                proc.log.close()
                if proc.returncode != 0:
                    failed += 1
                    print(f"{proc.name} failed: see {folder / 'logs' / (proc.name + '.log')}",
                          file=sys.stderr)
                    continue
                result = json.loads(Path(proc.spec["result"]).read_text(encoding="utf-8"))
                row = dict(proc.meta, name=proc.name, seconds=result["seconds"],
                           cpu_seconds=result.get("cpu_seconds"),
                           effective_words=result["effective_words"],
                           quality={k: result["quality"][k] for k in (
                               "ws353_spearman", "ws353_pairs_used", "analogy_accuracy",
                               "analogy_attempted", "analogy_coverage")},
                           loadavg=os.getloadavg()[0])
                with open(folder / "results.jsonl", "a", encoding="utf-8") as sink:
                    sink.write(json.dumps(row) + "\n")
                q = row["quality"]
                print(f"{proc.name}: WS353 {q['ws353_spearman']:.4f}, analogies "
                      f"{100 * q['analogy_accuracy']:.2f}% ({row['seconds']:.0f} s)",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        for proc in running:
            proc.terminate()  # our own children, by their pids
            proc.wait()
        return 130
    print(table(read_results(folder)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
