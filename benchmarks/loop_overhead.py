"""The training loop's own work per step, against the full softmax's model step (issue 19, item 6).

    PYTHONPATH=. python -m benchmarks.loop_overhead                  # the loop without its bar
    script -qc "PYTHONPATH=. python -m benchmarks.loop_overhead" /dev/null    # with the tqdm bar

Run it from the checkout to time: ``PYTHONPATH=.`` makes that checkout's ``cbow`` the one
imported (the first line printed names it). To compare two checkouts, run it in each in turn,
several times, and compare the ratios (each is measured within one process).

Each round trains ``--config`` (``configs/shakespeare.yaml``) through :func:`cbow.training.loop.train`
for ``--steps`` steps, a new run in a temporary folder, logging and evaluating as the config
says, and splits its training time with the figures of the :class:`cbow.training.loop.Result`:

- ``compute_s``: the model's steps (:func:`cbow.models.softmax.model.train_step`), as the full softmax's feed
  times them;
- ``eval_s`` and ``checkpoint_s``: held-out evaluations and checkpoints (per run, not per step:
  left out);
- the loop: the rest of the training time, i.e. everything the trainer does per step besides
  the model step (gathering the batch's windows, the shuffled order, the learning rate, the
  loss checks, counting, metrics rows, the progress bar when stderr is a terminal, the signal
  check), plus a few milliseconds per run (opening the metrics file, the bar).

In the same round it times the bare step that ``cbow bench`` times (a batch from the windows
held as arrays, then :func:`cbow.models.softmax.model.train_step`) with 1 BLAS thread, as ``cbow train`` runs
it by default, and with all of them, as ``cbow bench`` runs it.

The table gives, per round and as medians over the rounds: ms per model step inside the loop,
the loop's own ms per step and their ratio, and the bare step's ms. Only ratios taken within
one process mean anything on a shared machine: the load is printed at the start and the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cbow
from cbow.models.softmax import model
from cbow.analysis.bench import fast_step, load_shakespeare
from cbow.config import load_config
from cbow.training.loop import train
from threadpoolctl import threadpool_limits

REPO_ROOT = Path(__file__).resolve().parents[1]


def loop_round(config: Path, steps: int, dtype: str, work: Path, overrides: list[str]) -> dict:
    """One run of ``steps`` steps; the loop's and the model step's seconds per step."""
    cfg = load_config(config, [f"train.steps={steps}", f"train.dtype={dtype}",
                               f"out_dir={work / 'run'}", f"prepare.cache_dir={work / 'prepared'}",
                               *overrides])
    if cfg.model.objective != "softmax":
        raise SystemExit(f"{config}: this benchmark times the full softmax (model.objective: "
                         f"softmax); got {cfg.model.objective}")
    result = train(cfg, resume="no", overwrite=True, quiet=not sys.stderr.isatty(), log=None)
    done = result.step
    training = result.wall_s - result.eval_s - result.checkpoint_s
    return {"step_ms": result.compute_s / done * 1e3,
            "loop_ms": (training - result.compute_s) / done * 1e3,
            "ratio": (training - result.compute_s) / result.compute_s}


def bare_step_ms(step, repeats: int, threads: int | None) -> float:
    """Median ms of ``step()`` with ``threads`` BLAS threads (None: all), after a warm-up."""
    with threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(max(3, repeats // 10)):
            step()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "shakespeare.yaml")
    parser.add_argument("--steps", type=int, default=400, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dtype", choices=sorted(model.DTYPES), default="float64")
    parser.add_argument("--bare-repeats", type=int, default=100,
                        help="timed bare steps per round and thread count")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="more config overrides (repeatable)")
    args = parser.parse_args(argv)

    print(f"cbow from {Path(cbow.__file__).parent}")
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{len(os.sched_getaffinity(0))} cores; progress bar "
          f"{'on' if sys.stderr.isatty() else 'off (stderr is not a terminal)'}")
    _, vocab, windows = load_shakespeare()
    cfg = load_config(args.config)
    bare = fast_step(windows, len(vocab), cfg.model.N, cfg.train.batch_size,
                     model.DTYPES[args.dtype])
    rows = []
    with tempfile.TemporaryDirectory(prefix="cbow-loop-") as tmp:
        for _ in range(args.rounds):
            row = loop_round(args.config, args.steps, args.dtype, Path(tmp), args.overrides)
            row["bare_1_ms"] = bare_step_ms(bare, args.bare_repeats, 1)
            row["bare_all_ms"] = bare_step_ms(bare, args.bare_repeats, None)
            rows.append(row)

    print(f"{args.config.name}, {args.dtype}, {args.steps} steps a round, {args.rounds} rounds\n")
    print("| round | model step in the loop, ms | loop's own work, ms/step | loop / step "
          "| bare step, 1 BLAS thread, ms | bare step, all threads, ms |")
    print("|---|---|---|---|---|---|")
    medians = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    for label, r in [*((str(i + 1), r) for i, r in enumerate(rows)), ("median", medians)]:
        print(f"| {label} | {r['step_ms']:.3f} | {r['loop_ms']:.4f} | {r['ratio']:.2%} "
              f"| {r['bare_1_ms']:.3f} | {r['bare_all_ms']:.3f} |")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
