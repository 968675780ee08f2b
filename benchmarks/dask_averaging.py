#!/usr/bin/env python
"""What model averaging costs: quality and speed of training on a Dask cluster against
``train.shards`` and ``train.sync_every``, beside the in-process threads (issue 16, item 4).

    python -m benchmarks.dictionary_text /tmp/gcide-words.txt --words        # the corpus, once
    python -m benchmarks.dask_averaging --corpus /tmp/gcide-words.txt --scheduler local:2 \\
        --shards 1 2 4 --sync-every 10000 100000 1000000 --seeds 1 2 3 --json averaging.json

Every run is ``cbow.training.loop.train`` on ``configs/word2vec.yaml`` (negative sampling, N 100,
window 5, sample 1e-3, 5 epochs unless ``--epochs``) with the ``whitespace`` tokenizer,
``vocab.min_count`` 5 and frequency order; the corpus is prepared once (a cache inside
``--out-dir``). For each seed, in this order (interleaved, so that a change in the machine's
load spreads over all settings): the in-process runs (``train.workers`` = each of
``--threads``), then one cluster run per (shards, sync_every). All cluster runs share one
cluster (``cbow.parallel.cluster.session``), so workers start once.

Quality: WordSim-353 Spearman and 3CosAdd analogy accuracy (gensim's copies of
``wordsim353.tsv`` and ``questions-words.txt``, over the ``--restrict`` most frequent words),
scored by the trainer at the end of each run (``eval.pairs``, ``eval.analogies``). Speed:
the trainer's words/s (training only: preparation and evaluation are not counted).

Per setting the table gives the median over seeds, and against the in-process run with the
most threads: the WS353 and analogy differences and whether they are within 0.01 and 0.5
points (the issue's bar). For the cluster runs it also gives what the network carried per
round, measured from the run: the model's bytes (its arrays) sent to every worker plus one
copy back per shard, and the seconds per round (training seconds / rounds). ``--project``
turns those into the words/s and network volume of ``--machines`` machines (of ``--cores``
cores each, one shard per core) for a model of ``--project-vocab`` x ``--project-dim``,
under the stated assumptions (printed with the figures): it is arithmetic on the measured
per-position time, not a measurement.

The machine is shared: measure on a quiet one; ``uptime`` is recorded at the start and end.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cbow.parallel.dask_executor import MERGES

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="a text file, one sentence per line")
    parser.add_argument("--scheduler", default="local:2",
                        help="local:N or tcp://host:port (default local:2)")
    parser.add_argument("--shards", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--sync-every", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2],
                        help="train.workers of the in-process runs (default 1 2)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--objective", default="negative", choices=["negative", "hierarchical"])
    parser.add_argument("--merge", default="sum", choices=MERGES,
                        help="train.merge of the cluster runs")
    parser.add_argument("--epochs", type=float, default=5)
    parser.add_argument("--batch-size", type=int, default=1_000_000,
                        help="train.batch_size (positions per step); a round never spans a "
                             "step, so it caps sync_every (default 1,000,000)")
    parser.add_argument("--restrict", type=int, default=30000)
    parser.add_argument("--out-dir", help="prepared corpus and run folders (default: a "
                                          "temporary folder, removed)")
    parser.add_argument("--json", help="write every run and the table here")
    parser.add_argument("--project", action="store_true",
                        help="also project words/s and network volume to a larger cluster")
    parser.add_argument("--machines", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--cores", type=int, default=16,
                        help="cores per machine for --project; one shard per machine trains "
                             "with that many threads")
    parser.add_argument("--project-vocab", type=int, default=1_000_000)
    parser.add_argument("--project-dim", type=int, default=300)
    parser.add_argument("--bandwidth-gbit", type=float, default=10.0,
                        help="network bandwidth per machine for --project (default 10)")
    return parser.parse_args(argv)


def run_config(args, folder: Path, name: str, seed: int, overrides: list[str]):
    from cbow.config import load_config

    gensim_data = Path(importlib.util.find_spec("gensim").origin).parent / "test" / "test_data"
    return load_config(REPO_ROOT / "configs" / "word2vec.yaml", [
        f"corpus={Path(args.corpus).resolve()}", "tokenizer=whitespace",
        "vocab.min_count=5", "vocab.order=frequency", f"prepare.cache_dir={folder / 'prepared'}",
        f"model.objective={args.objective}", f"train.epochs={args.epochs}",
        f"train.seed={seed}", f"train.batch_size={args.batch_size}", "train.val_fraction=0",
        "train.eval_every=1000000000", "train.log_every=1000", "checkpoint.every=1000000000",
        f"eval.pairs=[{gensim_data / 'wordsim353.tsv'}]",
        f"eval.analogies=[{gensim_data / 'questions-words.txt'}]",
        f"eval.restrict={args.restrict}", f"out_dir={folder / 'runs' / name}", *overrides])


def one_run(args, folder: Path, setting: dict, seed: int) -> dict:
    from cbow.training.loop import train

    overrides = [f"train.workers={setting['threads']}"] if setting["kind"] == "threads" else [
        f"cluster.scheduler={args.scheduler}", f"train.shards={setting['shards']}",
        f"train.sync_every={setting['sync_every']}", f"train.merge={args.merge}",
        "train.workers=1"]
    name = f"{setting['name']}-seed{seed}"
    cfg = run_config(args, folder, name, seed, overrides)
    result = train(cfg, overwrite=True, quiet=True, log=None)
    figures = result.benchmarks
    ws353 = next((v for k, v in figures.items() if k.endswith("spearman")), None)
    analogies = next((v for k, v in figures.items() if k.endswith("accuracy")), None)
    model_bytes = sum(a.nbytes for a in result.params.arrays().values())
    run = {"setting": setting["name"], "seed": seed, "ws353": ws353,
           "analogy_accuracy": analogies, "words_per_s": result.words_per_s,
           "train_s": result.wall_s - result.eval_s, "steps": result.step,
           "model_bytes": model_bytes, "effective_words": result.effective_words}
    if setting["kind"] == "cluster":
        per_step = math.ceil(cfg.train.batch_size / setting["sync_every"])
        run["rounds"] = result.step * per_step  # an upper bound: the last step may be shorter
        run["seconds_per_round"] = run["train_s"] / run["rounds"]
        workers = setting["cluster_workers"]
        run["bytes_per_round"] = model_bytes * (workers + setting["shards"])
    print(f"{name}: WS353 {_fmt(ws353)}, analogies {_fmt(analogies, 100)}, "
          f"{result.words_per_s:,.0f} words/s", flush=True)
    return run


def _fmt(value, scale=1.0, digits=3) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}"


def table(runs: list[dict], settings: list[dict]) -> tuple[str, list[dict]]:
    rows = []
    for setting in settings:
        mine = [r for r in runs if r["setting"] == setting["name"]]

        def median(key):
            values = [r[key] for r in mine if r.get(key) is not None]
            return statistics.median(values) if values else None

        rows.append({"setting": setting["name"], "runs": len(mine), "ws353": median("ws353"),
                     "analogies": median("analogy_accuracy"),
                     "words_per_s": median("words_per_s"),
                     "seconds_per_round": median("seconds_per_round"),
                     "bytes_per_round": median("bytes_per_round")})
    threads = [r for r, s in zip(rows, settings) if s["kind"] == "threads"]
    base = threads[-1] if threads else None
    lines = ["| setting | WS353 | analogies % | words/s | ΔWS353 | Δanalogies (points) | "
             "within bar | s/round | MB/round |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        d_ws = (None if base is None or row["ws353"] is None or base["ws353"] is None
                else row["ws353"] - base["ws353"])
        d_an = (None if base is None or row["analogies"] is None or base["analogies"] is None
                else 100 * (row["analogies"] - base["analogies"]))
        row["delta_ws353"], row["delta_analogies_points"] = d_ws, d_an
        row["within_bar"] = (None if d_ws is None or d_an is None
                             else d_ws >= -0.01 and d_an >= -0.5)
        lines.append(
            f"| {row['setting']} | {_fmt(row['ws353'])} | {_fmt(row['analogies'], 100, 2)} | "
            f"{_fmt(row['words_per_s'], 1, 0)} | {_fmt(d_ws)} | {_fmt(d_an, 1, 2)} | "
            f"{'' if row['within_bar'] is None else 'yes' if row['within_bar'] else 'no'} | "
            f"{_fmt(row['seconds_per_round'], 1, 3)} | "
            f"{_fmt(row['bytes_per_round'], 1 / 1e6, 1)} |")
    return "\n".join(lines), rows


def projection(args, rows: list[dict], settings: list[dict]) -> str:
    """Words/s and network volume on a larger cluster, from the measured per-position time."""
    bandwidth = args.bandwidth_gbit * 1e9 / 8  # bytes/s per machine
    model = (2 * args.project_vocab * args.project_dim + args.project_dim) * 4
    lines = [f"On paper: V = {args.project_vocab:,}, N = {args.project_dim}, model "
             f"{model / 1e9:.2f} GB; one shard per machine, trained by its {args.cores} cores "
             f"as threads at {args.cores}x the measured one-shard rate (Hogwild's best case); "
             f"{args.bandwidth_gbit:g} Gbit/s at the driver, which sends the model to each "
             f"machine and receives one copy per shard (no tree reduction); the per-position "
             f"time is scaled by N/100 and assumed independent of V.",
             "| setting | machines | GB/round (driver) | s/round compute | s/round network | "
             "words/s |", "|---|---|---|---|---|---|"]
    for row, setting in zip(rows, settings):
        if setting["kind"] != "cluster" or not row["words_per_s"]:
            continue
        # one shard's seconds per position, measured (shards ran side by side)
        per_position = setting["shards"] / row["words_per_s"] * args.project_dim / 100
        for machines in args.machines:
            compute = setting["sync_every"] / machines * per_position / args.cores
            volume = model * 2 * machines
            network = volume / bandwidth
            rate = setting["sync_every"] / (compute + network)
            lines.append(f"| {setting['name']} | {machines} | {volume / 1e9:,.1f} | "
                         f"{compute:.3f} | {network:.1f} | {rate:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from cbow.parallel import cluster
    from cbow.training.loop import train

    temporary = args.out_dir is None
    folder = Path(tempfile.mkdtemp(prefix="dask_averaging-") if temporary else args.out_dir)
    folder = folder.resolve()
    uptime = [subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()]
    settings = [{"kind": "threads", "threads": n, "name": f"in-process {n} thread(s)"}
                for n in args.threads]
    settings += [{"kind": "cluster", "shards": k, "sync_every": s,
                  "name": f"{args.scheduler} shards {k} sync_every {s:,}"}
                 for k in args.shards for s in args.sync_every]
    runs = []
    try:
        with cluster.session(args.scheduler, timeout=30) as client:
            workers = len(client.scheduler_info(n_workers=-1)["workers"])
            for setting in settings:
                setting["cluster_workers"] = workers
            # Warm-up, not recorded: prepares the corpus and loads the compiled kernels into
            # every worker (and this process), as an import would.
            warm = run_config(args, folder, "warm-up", 0, [
                f"cluster.scheduler={args.scheduler}", "train.steps=2", "train.epochs=null",
                "train.batch_size=20000", "train.sync_every=5000", f"train.shards={workers}",
                "eval.pairs=[]", "eval.analogies=[]"])
            train(warm, overwrite=True, quiet=True, log=None)
            train(dataclasses.replace(warm, cluster=dataclasses.replace(warm.cluster,
                                                                        scheduler=None)),
                  overwrite=True, quiet=True, log=None)
            for seed in args.seeds:
                for setting in settings:
                    runs.append(one_run(args, folder, setting, seed))
        uptime.append(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
        text, rows = table(runs, settings)
        print(text)
        if args.project:
            print()
            print(projection(args, rows, settings))
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"command": " ".join([Path(sys.executable).name] + sys.argv), "uptime": uptime,
                 "cores": os.cpu_count(), "runs": runs, "table": rows}, indent=2) + "\n")
    finally:
        if temporary:
            import shutil
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
