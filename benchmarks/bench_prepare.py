"""Measure cbow.data.prepare: time, tokens/s and peak memory, by workers and corpus size.

Each measurement runs ``prepare`` in a fresh Python process with an empty cache, so that
import costs, worker start-up and memory are those of a real first run:

- **time**: the ``prepare()`` call, timed inside the process after ``import cbow.data.text``
  (NLTK's import is reported apart: it is paid once per process, not per token);
- **peak RSS**: the largest single process (``ru_maxrss`` of the main process and of its
  worker processes, from ``getrusage``), and the peak of the whole process tree sampled every
  20 ms from ``/proc``, as RSS and as PSS (forked workers share pages with the main process;
  RSS counts shared pages once per process, PSS splits them);
- **CPU**: user + system seconds of the main process during ``prepare()`` and of the
  workers; on a shared machine the wall time of 2 workers depends on what else runs, the CPU
  time does not, and the busiest worker's CPU time is what 2 workers take on 2 idle cores;
- **1x vs 2x**: the corpus, then the same corpus listed twice (twice the tokens, the same
  vocabulary): memory should not grow with the corpus;
- **cache hit**: once prepared, a new process that imports cbow.data.prepare and calls
  ``prepare()`` again: the whole process's wall time and the call's own time.

Usage::

    python -m benchmarks.bench_prepare /tmp/gcide/gcide-words.txt --tokenizer whitespace
    python -m benchmarks.bench_prepare /tmp/gcide/gcide.txt --tokenizer course --workers 1 2

(``python scripts/bench_prepare.py`` is the same command; ``python -m benchmarks.dictionary_text`` writes
the GCIDE files.)

The machine is shared: compare numbers from one run, and repeat (``--repeats``) to see noise.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cbow.registry import TOKENIZERS  # the standard library only: no numpy in this process

REPO_ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
settings = json.loads(sys.argv[1])
started = time.perf_counter()
import cbow.data.text  # NLTK: imported before timing (paid once per process)
from cbow.data.prepare import prepare
imported = time.perf_counter()
cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
prepared = prepare(settings.pop("sources"), progress=False, **settings)
finished = time.perf_counter()
counts = prepared.vocab.counts
print(json.dumps({
    "import_s": imported - started, "prepare_s": finished - imported,
    "tokens": prepared.n_tokens, "V": len(prepared.vocab), "V_min5": int((counts >= 5).sum()),
    "sentences": int(prepared.sentence_starts.shape[0]),
    "forced_cuts": prepared.description["forced_cuts"],
    "main_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "main_cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before,
    "worker_cpu_s": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])}))
"""

HIT = r"""
import json, sys, time
started = time.perf_counter()
from cbow.data.prepare import prepare
imported = time.perf_counter()
settings = json.loads(sys.argv[1])
prepare(settings.pop("sources"), progress=False, **settings)
print(json.dumps({"import_s": imported - started, "call_s": time.perf_counter() - imported}))
"""


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
    except OSError:
        pass
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, zeros if it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TreeSampler(threading.Thread):
    """Peak total RSS and PSS of a process and its descendants, sampled every ``interval`` s,
    and the CPU time of each descendant (the busiest worker bounds the parallel wall time)."""

    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss_kb = self.peak_pss_kb = 0
        self.cpu_s: dict[int, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pids, queue = [], [self.pid]
            while queue:
                pid = queue.pop()
                pids.append(pid)
                queue.extend(_children(pid))
            totals = [_memory_kb(pid) for pid in pids]
            for pid in pids[1:]:
                self.cpu_s[pid] = max(self.cpu_s.get(pid, 0.0), _cpu_s(pid))
            self.peak_rss_kb = max(self.peak_rss_kb, sum(r for r, _ in totals))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in totals))
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_child(code: str, settings: dict) -> tuple[dict, float, TreeSampler]:
    path = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, json.dumps(settings)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    sampler = TreeSampler(process.pid)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    if process.returncode:
        sys.exit(f"measurement failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1]), wall, sampler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="a text file, folder or pattern (as cbow.data.prepare takes)")
    parser.add_argument("--tokenizer", default="whitespace",
                        choices=TOKENIZERS.names())
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2],
                        help="corpus sizes to compare, as copies of the corpus (default 1 2)")
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    cache = Path(tempfile.mkdtemp(prefix="cbow-bench-prepare-"))
    rows = []
    try:
        print(f"corpus {args.corpus}, tokenizer {args.tokenizer}, min_count {args.min_count}; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start",
              file=sys.stderr)
        for copies in args.copies:
            for workers in args.workers:
                for repeat in range(args.repeats):
                    root = cache / f"{copies}x-{workers}w-{repeat}"
                    settings = {"sources": [args.corpus] * copies, "tokenizer": args.tokenizer,
                                "min_count": args.min_count, "workers": workers,
                                "cache_root": str(root)}
                    result, wall, sampler = run_child(CHILD, settings)
                    result.update(copies=copies, workers=workers, wall_s=wall,
                                  tree_peak_rss_mb=sampler.peak_rss_kb / 1024,
                                  tree_peak_pss_mb=sampler.peak_pss_kb / 1024,
                                  busiest_worker_cpu_s=max(sampler.cpu_s.values(), default=0.0),
                                  tokens_per_s=result["tokens"] / result["prepare_s"])
                    rows.append(result)
                    print(f"  {copies}x, {workers} worker(s): {result['prepare_s']:.2f} s, "
                          f"{result['tokens_per_s'] / 1e6:.2f} M tokens/s", file=sys.stderr)
        hit_settings = dict(settings)
        hit, hit_wall, _ = run_child(HIT, hit_settings)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    print(f"\n{args.tokenizer} tokenizer on {args.corpus}; load average "
          f"{os.getloadavg()[0]:.2f} at the end\n")
    print("| copies | workers | tokens | V (min 1) | V (min 5) | prepare s | M tokens/s | "
          "CPU s main + workers | main RSS MB | worker RSS MB | tree RSS MB | tree PSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['copies']}x | {r['workers']} | {r['tokens']:,} | {r['V']:,} | "
              f"{r['V_min5']:,} | {r['prepare_s']:.2f} | {r['tokens_per_s'] / 1e6:.2f} | "
              f"{r['main_cpu_s']:.1f} + {r['worker_cpu_s']:.1f} | {r['main_maxrss_mb']:.0f} | "
              f"{r['worker_maxrss_mb']:.0f} | {r['tree_peak_rss_mb']:.0f} | "
              f"{r['tree_peak_pss_mb']:.0f} |")
    print(f"\nNLTK import (not in 'prepare s'): {rows[0]['import_s']:.2f} s. "
          f"Cache hit in a new process: {hit_wall:.2f} s wall in all (interpreter, imports "
          f"{hit['import_s']:.2f} s, prepare() {hit['call_s'] * 1000:.0f} ms).")
    by = {(r["copies"], r["workers"]): r for r in rows}
    for workers in args.workers:
        if (1, workers) in by and (2, workers) in by:
            one, two = by[1, workers], by[2, workers]
            print(f"{workers} worker(s), 2x / 1x: tree PSS {two['tree_peak_pss_mb']:.0f} / "
                  f"{one['tree_peak_pss_mb']:.0f} MB = "
                  f"{two['tree_peak_pss_mb'] / one['tree_peak_pss_mb']:.2f}; main RSS "
                  f"{two['main_maxrss_mb'] / one['main_maxrss_mb']:.2f}; time "
                  f"{two['prepare_s'] / one['prepare_s']:.2f}")
    if (1, 1) in by and (1, 2) in by:
        one, two = by[1, 1], by[1, 2]
        # On 2 idle cores the 2-worker run takes at least the CPU time of its busiest process,
        # and at least half of all its CPU time.
        bound = max(two["main_cpu_s"], two["busiest_worker_cpu_s"],
                    (two["main_cpu_s"] + two["worker_cpu_s"]) / 2)
        print(f"speed-up of 2 workers over 1: {one['prepare_s'] / two['prepare_s']:.2f}x in wall "
              f"time. CPU: {one['main_cpu_s']:.1f} s for all the work in 1 process; with 2 "
              f"workers {two['main_cpu_s']:.1f} s in the main process, "
              f"{two['busiest_worker_cpu_s']:.1f} s in the busiest worker, "
              f"{two['worker_cpu_s']:.1f} s in all workers: at best "
              f"{one['main_cpu_s'] / bound:.2f}x on 2 otherwise idle cores")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "cache_hit": {"wall_s": hit_wall, **hit}},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
