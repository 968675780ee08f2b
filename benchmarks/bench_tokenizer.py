"""Measure a tokenizer's speed: tokens per second of CPU on one core, on a slice of a corpus.

The slice is cut into blocks as ``cbow prepare`` cuts it (:class:`cbow.data.text.BlockSplitter`,
not timed), then every block goes through :func:`cbow.data.text.tokenize_block`, once per round.
Each round runs in a fresh process, so that what the tokenizer remembers between blocks
starts empty as in a real run (a slice smaller than the corpus is therefore a little
pessimistic). A round reports its CPU time (``time.process_time``: on a shared machine the
CPU time of one process is what one idle core would take; the wall time is not) and its wall
time; the summary gives the best and the median rate over the rounds.

``--against DIR`` times the ``cbow`` package found in ``DIR`` too (an older checkout, e.g.
made by ``git archive COMMIT | tar -x -C DIR``), rounds interleaved with this checkout's so
that both see the same load, and checks that both give the same sentences of tokens.

Usage::

    python -m benchmarks.bench_tokenizer /tmp/gcide/gcide.txt --mb 3 --rounds 5
    python -m benchmarks.bench_tokenizer /tmp/gcide/gcide.txt --against /tmp/cbow-main

(``python -m benchmarks.dictionary_text`` writes the GCIDE files.)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def read_slice(path: str, megabytes: float, offset_mb: float = 0.0) -> str:
    """``megabytes`` of the text file ``path`` from ``offset_mb``, whole lines only."""
    with open(path, "rb") as file:
        file.seek(int(offset_mb * 1e6))
        if offset_mb:
            file.readline()  # start at a line's start
        data = file.read(int(megabytes * 1e6))
        data += file.readline()  # end at a line's end
    return data.decode("utf-8", errors="replace")


def time_tokenizer(text: str, tokenizer: str) -> dict:
    """Cut ``text`` into blocks and tokenize them once: CPU and wall seconds, what came out."""
    from cbow.data.text import BlockSplitter, tokenize_block

    splitter = BlockSplitter(tokenizer)
    blocks = [block.text for block in splitter.feed(text) + splitter.end_of_file()]
    tokenize_block("A first sentence. A second one.", tokenizer)  # loads the model
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    sentences = [sentence for block in blocks for sentence in tokenize_block(block, tokenizer)]
    cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
    digest = hashlib.sha256(json.dumps(sentences).encode()).hexdigest()
    return {"cpu_s": cpu, "wall_s": wall, "tokens": sum(map(len, sentences)),
            "sentences": len(sentences), "sha256": digest, "blocks": len(blocks),
            "chars": len(text)}


def _run_one(checkout: Path, args: argparse.Namespace) -> dict:
    """One round in a fresh process that imports ``cbow`` from ``checkout``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(checkout)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    command = [sys.executable, str(Path(__file__).resolve()), args.corpus, "--mb", str(args.mb),
               "--offset-mb", str(args.offset_mb), "--tokenizer", args.tokenizer, "--one"]
    done = subprocess.run(command, env=env, cwd=checkout, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"round in {checkout} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _rate(result: dict, seconds: str = "cpu_s") -> float:
    return result["tokens"] / result[seconds]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", help="a text file (e.g. GCIDE as plain text)")
    parser.add_argument("--mb", type=float, default=3.0, help="size of the slice in MB")
    parser.add_argument("--offset-mb", type=float, default=0.0, help="where the slice starts")
    parser.add_argument("--tokenizer", default="course")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (per checkout)")
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout's root whose cbow is timed too, interleaved")
    parser.add_argument("--one", action="store_true",
                        help="(internal) time one round in this process, print it as JSON")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(time_tokenizer(read_slice(args.corpus, args.mb, args.offset_mb),
                                        args.tokenizer)))
        return

    checkouts = {"this": REPO_ROOT}
    if args.against is not None:
        checkouts["against"] = args.against.resolve()
    results: dict[str, list[dict]] = {name: [] for name in checkouts}
    loads = []
    for i in range(args.rounds):
        for name in list(checkouts)[::1 if i % 2 == 0 else -1]:
            loads.append(os.getloadavg()[0])
            results[name].append(_run_one(checkouts[name], args))
            last = results[name][-1]
            print(f"round {i + 1} {name:>7}: {last['cpu_s']:7.3f} s CPU {_rate(last):>10,.0f} "
                  f"tokens/s, {last['wall_s']:7.3f} s wall", flush=True)
    first = results["this"][0]
    digests = {result["sha256"] for runs in results.values() for result in runs}
    print(f"{args.tokenizer}: {first['tokens']:,} tokens in {first['sentences']:,} sentences, "
          f"{first['chars']:,} characters, {first['blocks']} blocks"
          + (f"; sentences of tokens {'identical' if len(digests) == 1 else 'DIFFERENT'}"
             if len(checkouts) > 1 else "")
          + f"; load average (1 min) {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} CPUs")
    summary = {}
    for name, runs in results.items():
        rates = [_rate(run) for run in runs]
        summary[name] = (max(rates), statistics.median(rates))
        print(f"{name:>7} ({checkouts[name]}): best {summary[name][0]:,.0f}, "
              f"median {summary[name][1]:,.0f} tokens/s per core (CPU)")
    if len(checkouts) > 1:
        print(f"speed-up this/against: best {summary['this'][0] / summary['against'][0]:.2f}x, "
              f"median {summary['this'][1] / summary['against'][1]:.2f}x")
        if len(digests) != 1:
            raise SystemExit("the two checkouts give different sentences of tokens")


if __name__ == "__main__":
    main()
