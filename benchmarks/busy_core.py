"""Training time when another process takes a core: one equal piece per worker against
pieces from a shared counter (``train.piece_words``, issue 19 item 3).

    python -m benchmarks.busy_core --corpus gcide-words.txt --rounds 5 --busy

Each round runs ``cbow train --config word2vec`` (a process of its own, from the prepared cache)
once per ``--piece-words`` value, in alternating order; with ``--busy`` a process spinning on
the CPU runs for the whole of every training run, as another user's job would on a shared
machine. Reported: training seconds (``elapsed_s`` of the last metrics row) of every round,
their median and their spread (slowest / fastest).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from cbow.training.run import read_metrics_file


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "),
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", required=True, help="a UTF-8 text file, whitespace tokens")
    parser.add_argument("--objective", default="hierarchical",
                        choices=["negative", "hierarchical"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--piece-words", type=int, nargs="+", default=[0, 10000],
                        help="train.piece_words values; 0 means null (one piece per worker)")
    parser.add_argument("--busy", action="store_true",
                        help="keep one core busy with a spinning process during each run")
    parser.add_argument("--out-dir", help="folder for the cache and the runs (default: temporary)")
    return parser.parse_args(argv)


@contextmanager
def spinning(on: bool):
    """A process that keeps one core busy, while the block runs."""
    if not on:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def train_seconds(args, folder: Path, piece_words: int, name: str) -> float:
    run = folder / "runs" / name
    value = "null" if piece_words == 0 else str(piece_words)
    command = [sys.executable, "-m", "cbow", "train", "--config", "word2vec", "--quiet",
               "--set", f"corpus={args.corpus}", "--set", "tokenizer=whitespace",
               "--set", f"model.objective={args.objective}",
               "--set", f"train.workers={args.workers}", "--set", f"train.epochs={args.epochs}",
               "--set", f"train.piece_words={value}", "--set", "train.val_fraction=0",
               "--set", "train.eval_every=1000000000", "--set", "checkpoint.every=1000000000",
               "--set", f"prepare.cache_dir={folder / 'cache'}", "--out", str(run)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return read_metrics_file(run / "metrics.jsonl")[-1]["elapsed_s"]


def main(argv=None) -> int:
    args = parse_args(argv)
    folder = Path(args.out_dir or tempfile.mkdtemp(prefix="busy-core-"))
    try:
        return measure(args, folder)
    finally:
        if args.out_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def measure(args, folder: Path) -> int:
    subprocess.run([sys.executable, "-m", "cbow", "prepare", "--config", "word2vec",
                    "--set", f"corpus={args.corpus}", "--set", "tokenizer=whitespace",
                    "--set", f"prepare.cache_dir={folder / 'cache'}"],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"{args.objective}, {args.workers} workers, {args.epochs:g} epoch(s), "
          f"{'one core kept busy' if args.busy else 'nothing else started'}; "
          f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    seconds: dict[int, list[float]] = {p: [] for p in args.piece_words}
    for round_ in range(1, args.rounds + 1):
        order = args.piece_words if round_ % 2 else args.piece_words[::-1]
        for piece_words in order:
            with spinning(args.busy):
                s = train_seconds(args, folder, piece_words, f"r{round_}-p{piece_words}")
            seconds[piece_words].append(s)
            print(f"round {round_}: piece_words {piece_words or 'null':>6} {s:7.2f} s "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)
    print("\n| train.piece_words | median s | fastest | slowest | slowest / fastest |")
    print("|---|---|---|---|---|")
    for piece_words, values in seconds.items():
        print(f"| {piece_words or 'null'} | {statistics.median(values):.2f} | {min(values):.2f} | "
              f"{max(values):.2f} | {max(values) / min(values):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
