#!/usr/bin/env python
"""Train cbow (its real trainer, ``cbow.training.loop.train``) and gensim's Word2Vec on one prepared
corpus with the same settings; compare speed, peak memory and the quality of the vectors.

    python -m benchmarks.compare_gensim --corpus /tmp/gcide/gcide.txt --repeats 2 --json out.json
    python -m benchmarks.compare_gensim --corpus text.txt --objectives negative --workers 1 --epochs 1

(``python scripts/compare_gensim.py`` is the same command.)

What is compared (issue 11, item 5)
    CBOW with the mean of the context vectors, N 100, window 5 shrunk at random, min_count 5,
    sample 1e-3, alpha 0.025 falling linearly to 0.0001 over all epochs, 5 epochs, and either
    negative sampling (negative 5) or hierarchical softmax (gensim: hs=1, negative=0), with 1
    and 2 worker threads. cbow initialises as configs/word2vec.yaml does (``model.init: gensim``,
    input vectors uniform in +-1/N, gensim 4's range and draws); each implementation uses its
    own random numbers while training.

One corpus, prepared once
    The corpus is prepared by cbow (``cbow.data.prepare``: ``tokenizer: whitespace``, lower-cased,
    ``vocab.min_count: 5``, ``vocab.order: frequency``) into a cache inside the output folder.
    cbow's runs find it there (a cache hit). gensim gets the same token ids as sentences of
    strings: the prepared ids cut at the prepared ``sentence_starts`` (and into pieces of at most
    ``cbow.models.word2vec.MAX_SENTENCE_LENGTH`` words, as cbow's kernels cut them), each id replaced by
    its word. ``min_count=5`` on this already-pruned text keeps every word, so both vocabularies
    are the same: checked (words and counts) in every gensim run, and V is reported.

One training run per process, interleaved
    Rounds (``--repeats``) run cbow, gensim, cbow, gensim... for each (objective, workers), each
    run in a new Python process, so that its peak memory is its own. Round ``r`` trains both
    with seed ``--seed + r - 1``. Speed and memory are medians over the rounds, quality the
    mean over the rounds' seeds.

    * cbow: ``cbow.training.loop.train(cfg)`` with the config :func:`cbow_settings` writes (a run folder
      per run; ``train.val_fraction: 0``, no evaluation and no checkpoint before the end). Its
      kernels are compiled (or loaded from numba's cache) before the clock starts, by a run of
      the same settings on a tiny corpus, as an import would be. Training seconds are the ``elapsed_s`` of the last row of
      ``metrics.jsonl`` (the training loop only: not the preparation, the model's
      initialisation, nor the final checkpoint, which is written after it); seconds per epoch
      come from the rows at the epoch ends (``train.log_every: 1``). The time around
      ``train()`` is recorded too (``wall_s``).
    * gensim: ``Word2Vec(...)`` and ``build_vocab`` (not timed), then the time around
      ``train(corpus_iterable=sentences, ...)``; seconds per epoch from a callback at each
      epoch's end. The sentences are a list of lists of ``str`` held in memory (gensim's fastest
      input; its memory counts in gensim's peak and is reported as ``corpus_mb``).

    Words per second, computed the same way for both:

    * raw words/s = tokens of the prepared corpus x epochs / training seconds. Every prepared
      token is in the vocabulary, so this is also gensim's raw word count.
    * effective words/s = words kept by frequent-word subsampling, summed over the epochs, /
      training seconds: gensim's "effective words" (the first number ``train()`` returns, the
      one gensim's "effective words/s" log line divides); cbow's trainer counts the same
      words (``effective_words`` of its result and of ``metrics.jsonl``).

    Peak memory is the process's ``VmHWM`` (peak resident set size of its address space, from
    ``/proc/self/status``) read right after training, before the vectors are evaluated; the
    process's ``ru_maxrss`` is recorded too. (``ru_maxrss`` of a new process also covers the
    resident size of the process that started it, which is why the runs are started by this
    small parent, which imports neither cbow nor gensim.)

Quality
    Each run's word vectors (cbow: the input vectors; gensim: ``wv.vectors`` in gensim's index
    order with gensim's counts) go into ``cbow.vectors.embeddings.Embeddings`` and are scored by the same
    functions of ``cbow.evaluation``: WordSim-353 Spearman (gensim's ``wordsim353.tsv``) and 3CosAdd
    analogy accuracy on ``questions-words.txt`` over the 30,000 most frequent words (``--restrict``)
    with its coverage (questions attempted / all questions); plus the nearest neighbours of
    ``--words``.

The output folder (``--out-dir``; default a temporary folder, removed at the end) holds the
prepared corpus, the run folders, each run's log and JSON. The machine is shared: the load average
before each run and ``uptime`` at the start and the end are recorded; compare the ratios of one
invocation.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The parent process imports only the standard library: numpy, numba or gensim in it would raise
# the ru_maxrss its children report (see the docstring).

REPO_ROOT = Path(__file__).resolve().parents[1]
OBJECTIVES = ("negative", "hierarchical")  # the word2vec objectives, the ones gensim has
ALIASES = {"ns": "negative", "neg": "negative", "hs": "hierarchical"}
IMPLEMENTATIONS = ("cbow", "gensim")
DEFAULT_WORDS = ("king", "queen", "love", "death")
MB = 1 << 20


# --------------------------------------------------------------------------------------------
# The settings both implementations train with
# --------------------------------------------------------------------------------------------

def shared_settings(args) -> dict:
    return {"vector_size": args.vector_size, "window": args.window, "min_count": args.min_count,
            "negative": 5, "sample": args.sample, "epochs": args.epochs, "alpha": args.alpha,
            "min_alpha": args.min_alpha, "seed": args.seed, "batch_words": args.batch_words,
            "cbow_batch_size": args.cbow_batch_size, "cbow_piece_words": args.cbow_piece_words,
            "cbow_skip_saturated": args.cbow_skip_saturated == "true"}


def cbow_settings(corpus: str, cache_dir: str, objective: str, workers: int, settings: dict,
                  out_dir: str) -> dict:
    """The cbow config (a nested mapping for ``cbow.config.from_mapping``) of one run."""
    return {
        "corpus": corpus,
        "tokenizer": "whitespace",
        "prepare": {"lowercase": True, "cache_dir": cache_dir},
        "vocab": {"min_count": settings["min_count"], "order": "frequency"},
        "model": {"N": settings["vector_size"], "C": settings["window"], "objective": objective,
                  "negative": settings["negative"], "ns_exponent": 0.75, "hidden": "linear",
                  "init": "gensim", "skip_saturated": settings["cbow_skip_saturated"],
                  "shrink_window": True},
        "train": {"batch_size": settings["cbow_batch_size"],
                  "piece_words": settings["cbow_piece_words"] or None, "alpha": settings["alpha"],
                  "schedule": "linear", "min_alpha": settings["min_alpha"],
                  "epochs": settings["epochs"], "seed": settings["seed"], "dtype": "float32",
                  "sample": settings["sample"], "workers": workers, "val_fraction": 0.0,
                  "eval_every": 10**9, "log_every": 1},
        "checkpoint": {"every": 10**9, "keep": 1},
        "out_dir": out_dir,
    }


def gensim_arguments(objective: str, workers: int, settings: dict) -> dict:
    return dict(sg=0, cbow_mean=1, vector_size=settings["vector_size"], window=settings["window"],
                min_count=settings["min_count"], sample=settings["sample"],
                hs=1 if objective == "hierarchical" else 0,
                negative=settings["negative"] if objective == "negative" else 0,
                ns_exponent=0.75, alpha=settings["alpha"], min_alpha=settings["min_alpha"],
                epochs=settings["epochs"], seed=settings["seed"], workers=workers,
                batch_words=settings["batch_words"], max_vocab_size=None)


# --------------------------------------------------------------------------------------------
# Child processes: one job each (prepare, a cbow run, a gensim run)
# --------------------------------------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def memory_now() -> dict:
    """Resident memory of this process, in bytes: current, peak (VmHWM) and ru_maxrss."""
    import resource
    rss, hwm = _status_kb("VmRSS"), _status_kb("VmHWM")
    return {"rss": None if rss is None else rss * 1024,
            "peak": None if hwm is None else hwm * 1024,
            "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def score_vectors(words, vectors, counts, spec: dict) -> dict:
    """WS353 Spearman, analogy accuracy and coverage, neighbours: cbow.evaluation on both models."""
    import numpy as np
    from threadpoolctl import threadpool_limits
    from cbow.vectors.embeddings import Embeddings
    from cbow.evaluation import evaluate_analogies, evaluate_word_pairs

    # float64, as cbow.evaluation's agreement with gensim is stated; one BLAS thread, as the
    # machine is shared.
    embeddings = Embeddings(words, np.asarray(vectors, dtype=np.float64), counts=counts)
    with threadpool_limits(limits=1, user_api="blas"):
        pairs = evaluate_word_pairs(embeddings, spec["pairs"])
        analogies = evaluate_analogies(embeddings, spec["analogies"],
                                       restrict_vocab=spec["restrict"])
        neighbours = {w: ([[n, round(c, 4)] for n, c in embeddings.most_similar(w, spec["topn"])]
                          if w in embeddings else None) for w in spec["words"]}
    nan = (lambda x: None if x is None or math.isnan(x) else x)
    return {"ws353_spearman": nan(pairs.spearman), "ws353_pairs_used": pairs.pairs_used,
            "ws353_pairs_total": pairs.pairs_total,
            "analogy_accuracy": nan(analogies.accuracy), "analogy_correct": analogies.correct,
            "analogy_attempted": analogies.attempted, "analogy_total": analogies.total,
            "analogy_coverage": nan(analogies.coverage),
            "analogy_restrict": analogies.restrict_vocab, "neighbours": neighbours}


def child_prepare(spec: dict) -> dict:
    """Prepare the corpus once."""
    import numpy as np
    from cbow.models import word2vec as w2v
    from cbow.config import from_mapping
    from cbow.training.preparation import prepare_corpus

    cfg = from_mapping(cbow_settings(spec["corpus"], spec["cache_dir"], "negative", 1,
                                     spec["settings"], spec["out_dir"]), "compare_gensim")
    started = time.perf_counter()
    prepared = prepare_corpus(cfg, progress=False)
    prepare_s = time.perf_counter() - started
    ids = np.asarray(prepared.ids)
    starts = np.asarray(prepared.sentence_starts)
    counts = prepared.vocab.counts
    settings = spec["settings"]
    keep = w2v.keep_probabilities(counts, settings["sample"])
    lengths = np.diff(np.append(starts, ids.size))
    description = prepared.description
    return {"folder": str(prepared.folder), "prepare_s": prepare_s,
            "tokens": int(ids.size), "sentences": int(starts.size), "V": len(prepared.vocab),
            "tokens_counted": description["tokens"]["counted"],
            "words_counted": description["words"]["counted"],
            "longest_sentence": int(lengths.max()) if lengths.size else 0,
            "max_sentence_length": int(w2v.MAX_SENTENCE_LENGTH),
            "expected_effective_per_epoch": float((counts * keep).sum()),
            "fingerprint": prepared.fingerprint, "vocab_fingerprint": prepared.vocab.fingerprint()}


def _epoch_seconds(rows: list[dict], epochs: int) -> list[float]:
    """Seconds of each epoch from metrics rows (``epoch`` reaches k at the end of epoch k)."""
    ends = []
    for k in range(1, epochs + 1):
        row = next((r for r in rows if r.get("epoch", 0) >= k - 1e-6), rows[-1])
        ends.append(row["elapsed_s"])
    return [b - a for a, b in zip([0.0] + ends[:-1], ends)]


def _metrics_rows(run_dir: str | Path) -> list[dict]:
    """The training rows of a run's ``metrics.jsonl`` (cbow.training.run.read_metrics_file)."""
    from cbow.training.run import read_metrics_file
    return [r for r in read_metrics_file(Path(run_dir) / "metrics.jsonl") if r.get("step", 0) > 0]


def child_cbow(spec: dict) -> dict:
    import numpy as np
    from cbow.config import from_mapping
    from cbow.training.run import load_embeddings
    from cbow.training.loop import train
    from cbow.data.vocab import Vocabulary
    memory_imports = memory_now()
    settings = spec["settings"]
    cfg = from_mapping(cbow_settings(spec["corpus"], spec["cache_dir"], spec["objective"],
                                     spec["workers"], settings, spec["run_dir"]), "compare_gensim")

    # Compile the kernels (or load them from numba's cache) before the clock starts: the same
    # settings on a tiny corpus, the equivalent of importing gensim's compiled extension.
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="compare_gensim-jit-") as scratch:
        tiny = Path(scratch, "tiny.txt")
        tiny.write_text("".join(" ".join(f"w{(i * j) % 8}" for j in range(20)) + "\n"
                                for i in range(1, 40)), encoding="utf-8")
        warm = cbow_settings(str(tiny), str(Path(scratch, "prepared")), spec["objective"],
                             spec["workers"], dict(settings, min_count=1, epochs=1),
                             str(Path(scratch, "run")))
        train(from_mapping(warm, "compare_gensim (compiling)"), quiet=True, log=None)
    jit_s = time.perf_counter() - started
    memory_before = memory_now()

    started = time.perf_counter()
    result = train(cfg, quiet=True, log=None)
    wall_s = time.perf_counter() - started
    memory_after = memory_now()
    effective_words = int(result.effective_words)  # kept by subsampling, all epochs
    del result

    rows = _metrics_rows(spec["run_dir"])
    seconds = rows[-1]["elapsed_s"]
    embeddings = load_embeddings(spec["run_dir"], which="input")  # the final checkpoint's
    if Vocabulary(embeddings.words, embeddings.counts).fingerprint() != spec["vocab_fingerprint"]:
        raise SystemExit("cbow trained on another vocabulary than the prepared corpus's")
    out = {"seconds": seconds, "wall_s": wall_s, "jit_s": jit_s,
           "epoch_seconds": _epoch_seconds(rows, int(math.ceil(settings["epochs"]))),
           "raw_words": spec["tokens"] * settings["epochs"],
           "effective_words": effective_words,
           "trainer_words_per_s": float(np.median([r["words_per_s"] for r in rows])),
           "steps": rows[-1]["step"], "V": len(embeddings), "memory_after_imports": memory_imports,
           "memory_before_train": memory_before, "memory_after_train": memory_after}
    out["quality"] = score_vectors(embeddings.words, embeddings.vectors, embeddings.counts, spec)
    return out


def child_gensim(spec: dict) -> dict:
    import logging

    import numpy as np
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec
    from cbow.data.prepare import load_prepared
    memory_imports = memory_now()
    settings = spec["settings"]

    prepared = load_prepared(spec["folder"])
    words = prepared.vocab.words  # one str object per word type: the lists hold references
    ids = np.asarray(prepared.ids)
    bounds = np.append(np.asarray(prepared.sentence_starts), ids.size).tolist()
    piece = spec["max_sentence_length"]
    sentences = []
    for begin, end in zip(bounds[:-1], bounds[1:]):
        for a in range(begin, end, piece):  # cbow's kernels cut longer sentences the same way
            sentences.append([words[i] for i in ids[a:min(a + piece, end)].tolist()])
    del ids
    memory_corpus = memory_now()

    class EpochEnds(CallbackAny2Vec):
        def __init__(self):
            self.times = []

        def on_epoch_end(self, model):
            self.times.append(time.perf_counter())

    class EpochLog(logging.Handler):
        """gensim's own end-of-epoch figures (raw, effective words, seconds)."""

        def __init__(self):
            super().__init__(logging.INFO)
            self.epochs = []

        def emit(self, record):
            if isinstance(record.msg, str) and record.msg.startswith("EPOCH %i: training on"):
                self.epochs.append([float(x) for x in record.args])

    log = EpochLog()
    logger = logging.getLogger("gensim.models.word2vec")
    logger.setLevel(logging.INFO)
    logger.addHandler(log)
    logger.propagate = False

    started = time.perf_counter()
    model = Word2Vec(**gensim_arguments(spec["objective"], spec["workers"], settings))
    model.build_vocab(corpus_iterable=sentences)
    build_vocab_s = time.perf_counter() - started
    V = len(model.wv)
    gensim_counts = {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}
    same_vocabulary = gensim_counts == dict(zip(words, prepared.vocab.counts.tolist()))
    memory_before = memory_now()

    ends = EpochEnds()
    started = time.perf_counter()
    effective, raw = model.train(corpus_iterable=sentences, total_examples=model.corpus_count,
                                 epochs=model.epochs, callbacks=[ends])
    seconds = time.perf_counter() - started
    memory_after = memory_now()

    out = {"seconds": seconds, "wall_s": seconds, "build_vocab_s": build_vocab_s,
           "epoch_seconds": [b - a for a, b in zip([started] + ends.times[:-1], ends.times)],
           "raw_words": int(raw), "effective_words": int(effective),
           "gensim_epoch_log": log.epochs, "V": V, "same_vocabulary": same_vocabulary,
           "sentences": len(sentences), "memory_after_imports": memory_imports,
           "memory_after_corpus": memory_corpus, "memory_before_train": memory_before,
           "memory_after_train": memory_after}
    del sentences
    vectors = model.wv.vectors
    out["quality"] = score_vectors(list(model.wv.index_to_key), vectors,
                                   [gensim_counts[w] for w in model.wv.index_to_key], spec)
    return out


CHILDREN = {"prepare": child_prepare, "cbow": child_cbow, "gensim": child_gensim}


def run_as_child(spec_path: str, children: dict = CHILDREN) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = children[spec["job"]](spec)
    Path(spec["result"]).write_text(json.dumps(result, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The parent: runs the children, gathers, prints
# --------------------------------------------------------------------------------------------

def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def busiest_processes(n: int = 5) -> list[str]:
    """The processes using the most CPU over one second (``top``'s second frame; names only)."""
    frames = _command_output(["top", "-b", "-n", "2", "-d", "1", "-w", "120"]).split("\ntop - ")
    lines = frames[-1].splitlines()
    header = next((i for i, line in enumerate(lines) if line.lstrip().startswith("PID")), None)
    if header is None:
        return []
    me = str(os.getpid())
    busy = [line for line in lines[header + 1:] if line.split()[:1] != [me]][:n]
    busy = [line for line in busy if line.split()[8:9] != ["0.0"]]
    return [lines[2].strip()] + busy  # the %Cpu(s) line, then the processes (not this one)


def machine_state() -> dict:
    """``uptime`` and the busiest processes, to say what else was running."""
    return {"uptime": _command_output(["uptime"]), "loadavg": list(os.getloadavg()),
            "busiest": busiest_processes()}


def work_folder(out_dir: str | None, prefix: str) -> tuple[Path, bool]:
    """``(folder, temporary)``: ``out_dir`` (kept) or a new temporary folder, with the
    ``specs``, ``logs``, ``results`` and ``runs`` folders of the children."""
    temporary = out_dir is None
    folder = Path(tempfile.mkdtemp(prefix=prefix) if temporary else out_dir).resolve()
    for sub in ("specs", "logs", "results", "runs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder, temporary


def gensim_test_data() -> Path:
    """gensim's copies of the benchmark files, found without importing gensim here."""
    return Path(importlib.util.find_spec("gensim").origin).parent / "test" / "test_data"


class ChildFailed(RuntimeError):
    pass


def run_child(job: str, spec: dict, folder: Path, name: str,
              module: str = "benchmarks.compare_gensim") -> dict:
    """Run ``job`` as ``python -m MODULE --child SPEC`` (its own process); its JSON result."""
    spec = dict(spec, job=job, result=str(folder / "results" / f"{name}.json"))
    spec_path = folder / "specs" / f"{name}.json"
    spec_path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    log_path = folder / "logs" / f"{name}.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", module, "--child", str(spec_path)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            code = proc.wait()
        except BaseException:
            proc.terminate()  # our own child, by its pid
            proc.wait()
            raise
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        raise ChildFailed(f"{name} failed (exit code {code}); the end of {log_path}:\n"
                          + "\n".join(tail))
    return json.loads(Path(spec["result"]).read_text(encoding="utf-8"))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def mean(values):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def summarize(runs: list[dict], key: tuple[str, int, str]) -> dict:
    """Medians over the rounds of one (objective, workers, implementation)."""
    mine = [r for r in runs if (r["objective"], r["workers"], r["implementation"]) == key]
    q = [r["quality"] for r in mine]
    epochs = [sum(r["epoch_seconds"]) / len(r["epoch_seconds"]) for r in mine]
    return {
        "objective": key[0], "workers": key[1], "implementation": key[2], "rounds": len(mine),
        "seconds": median(r["seconds"] for r in mine),
        "seconds_all": [round(r["seconds"], 2) for r in mine],
        "seconds_per_epoch": median(epochs),
        "raw_words_per_s": median(r["raw_words"] / r["seconds"] for r in mine),
        "effective_words_per_s": median(r["effective_words"] / r["seconds"] for r in mine),
        "peak_rss_mb": median(r["memory_after_train"]["peak"] / MB for r in mine),
        "ru_maxrss_mb": median(r["memory_after_train"]["ru_maxrss"] / MB for r in mine),
        "rss_before_train_mb": median(r["memory_before_train"]["rss"] / MB for r in mine),
        "corpus_mb": median((r["memory_after_corpus"]["rss"] - r["memory_after_imports"]["rss"])
                            / MB for r in mine if "memory_after_corpus" in r),
        "ws353_spearman": mean(x["ws353_spearman"] for x in q),
        "ws353_all": [x["ws353_spearman"] for x in q],
        "analogy_accuracy": mean(x["analogy_accuracy"] for x in q),
        "analogy_all": [x["analogy_accuracy"] for x in q],
        "analogy_coverage": median(x["analogy_coverage"] for x in q),
        "V": mine[0]["V"] if mine else None,
    }


def paired_speed_ratio(runs: list[dict], objective: str, workers: int) -> float | None:
    """Median over the rounds of cbow's raw words/s over gensim's in the same round.

    The two runs of a round follow each other, so they share most of the machine's load; on a
    shared machine this ratio moves less than the ratio of the medians.
    """
    rate = {(r["round"], r["implementation"]): r["raw_words"] / r["seconds"] for r in runs
            if r["objective"] == objective and r["workers"] == workers}
    rounds = sorted({k[0] for k in rate})
    return median(rate[(n, "cbow")] / rate[(n, "gensim")] for n in rounds
                  if (n, "cbow") in rate and (n, "gensim") in rate)


def targets(summary: dict, runs: list[dict], objective: str, workers: int) -> dict:
    """The issue's targets for cbow against gensim, with the margins."""
    ours, theirs = summary[(objective, workers, "cbow")], summary[(objective, workers, "gensim")]

    def ratio(a, b):
        return None if a is None or not b else a / b

    speed = ratio(ours["raw_words_per_s"], theirs["raw_words_per_s"])
    effective = ratio(ours["effective_words_per_s"], theirs["effective_words_per_s"])
    ws = (None if ours["ws353_spearman"] is None or theirs["ws353_spearman"] is None
          else ours["ws353_spearman"] - theirs["ws353_spearman"])
    analogy = (None if ours["analogy_accuracy"] is None or theirs["analogy_accuracy"] is None
               else 100 * (ours["analogy_accuracy"] - theirs["analogy_accuracy"]))
    rss = ratio(ours["peak_rss_mb"], theirs["peak_rss_mb"])
    ok = (lambda value, good: None if value is None else bool(good(value)))
    return {"objective": objective, "workers": workers,
            "speed_ratio": speed, "speed_ok": ok(speed, lambda v: v >= 1.5),
            "speed_ratio_paired": paired_speed_ratio(runs, objective, workers),
            "effective_speed_ratio": effective,
            "ws353_difference": ws, "ws353_ok": ok(ws, lambda v: v >= 0.0),
            "analogy_difference_points": analogy, "analogy_ok": ok(analogy, lambda v: v >= -0.3),
            "rss_ratio": rss, "rss_ok": ok(rss, lambda v: v <= 1.5)}


def _f(value, spec: str, missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| objective | workers | implementation | train s | s/epoch | raw words/s | "
             "effective words/s | peak RSS MB | WS353 Spearman | analogy acc. (coverage) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['objective']} | {r['workers']} | {r['implementation']} | "
            f"{_f(r['seconds'], '.2f')} | {_f(r['seconds_per_epoch'], '.2f')} | "
            f"{_f(r['raw_words_per_s'], ',.0f')} | {_f(r['effective_words_per_s'], ',.0f')} | "
            f"{_f(r['peak_rss_mb'], '.0f')} | {_f(r['ws353_spearman'], '.4f')} | "
            f"{_f(r['analogy_accuracy'] and 100 * r['analogy_accuracy'], '.2f')}% "
            f"({_f(r['analogy_coverage'] and 100 * r['analogy_coverage'], '.1f')}%) |")
    return "\n".join(lines)


def targets_table(checks: list[dict]) -> str:
    mark = {True: "yes", False: "**no**", None: "n/a"}
    lines = ["| objective | workers | cbow/gensim words/s (>= 1.5) | same-round ratios, median | "
             "WS353 diff. (>= 0) | analogy diff., points (>= -0.3) | "
             "cbow/gensim peak RSS (<= 1.5) |",
             "|---|---|---|---|---|---|---|"]
    for c in checks:
        lines.append(
            f"| {c['objective']} | {c['workers']} | {_f(c['speed_ratio'], '.2f')} "
            f"(effective {_f(c['effective_speed_ratio'], '.2f')}) {mark[c['speed_ok']]} | "
            f"{_f(c['speed_ratio_paired'], '.2f')} | "
            f"{_f(c['ws353_difference'], '+.4f')} {mark[c['ws353_ok']]} | "
            f"{_f(c['analogy_difference_points'], '+.2f')} {mark[c['analogy_ok']]} | "
            f"{_f(c['rss_ratio'], '.2f')} {mark[c['rss_ok']]} |")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", help="a UTF-8 text file, one sentence per line (required)")
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES),
                        help="negative and/or hierarchical (ns, hs)")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2],
                        help="worker threads, each count timed for both")
    parser.add_argument("--epochs", type=int, default=5, help="passes over the corpus")
    parser.add_argument("--repeats", type=int, default=1,
                        help="interleaved rounds; medians are reported")
    parser.add_argument("--out-dir", help="folder for the prepared corpus, runs, logs (kept); "
                                          "default: a temporary folder, removed at the end")
    parser.add_argument("--json", help="write every figure and every run here")
    parser.add_argument("--words", nargs="+", default=list(DEFAULT_WORDS),
                        help="words whose nearest neighbours are printed")
    parser.add_argument("--topn", type=int, default=8, help="neighbours per word")
    parser.add_argument("--restrict", type=int, default=30000,
                        help="analogies: search only this many of the most frequent words")
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=0.025)
    parser.add_argument("--min-alpha", type=float, default=0.0001)
    parser.add_argument("--batch-words", type=int, default=10000,
                        help="gensim's batch_words (gensim caps it at 10,000)")
    parser.add_argument("--cbow-batch-size", type=int, default=100000,
                        help="cbow's train.batch_size: center positions per step, split "
                             "between the workers (configs/word2vec.yaml's value)")
    parser.add_argument("--cbow-piece-words", type=int, default=10000,
                        help="cbow's train.piece_words: positions per piece the threads take "
                             "from a shared counter (configs/word2vec.yaml's value; 0: one "
                             "equal piece per worker)")
    parser.add_argument("--cbow-skip-saturated", choices=["true", "false"], default="true",
                        help="cbow's model.skip_saturated (configs/word2vec.yaml's value: gensim's "
                             "rule; false: every output row its exact gradient step)")
    parser.add_argument("--seed", type=int, default=1,
                        help="the first round's seed; round r uses seed + r - 1")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is None:
        if not args.corpus:
            parser.error("--corpus is required")
        args.objectives = list(dict.fromkeys(ALIASES.get(o, o) for o in args.objectives))
        bad = [o for o in args.objectives if o not in OBJECTIVES]
        if bad:
            parser.error(f"unknown objective {bad[0]!r}; choose from {', '.join(OBJECTIVES)}")
        if any(w < 1 for w in args.workers) or args.repeats < 1 or args.epochs < 1:
            parser.error("--workers, --repeats and --epochs must be >= 1")
        if not Path(args.corpus).is_file():
            parser.error(f"--corpus {args.corpus}: no such file")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        run_as_child(args.child)
        return 0

    corpus = str(Path(args.corpus).resolve())
    folder, temporary = work_folder(args.out_dir, "compare_gensim-")
    gensim_data = gensim_test_data()
    settings = shared_settings(args)
    stamp = time.strftime("%Y%m%d-%H%M%S")  # cbow refuses a run folder that holds a run
    base = {"corpus": corpus, "cache_dir": str(folder / "prepared"), "settings": settings,
            "out_dir": str(folder / "runs" / f"{stamp}-prepare"),
            "pairs": str(gensim_data / "wordsim353.tsv"),
            "analogies": str(gensim_data / "questions-words.txt"), "restrict": args.restrict,
            "words": args.words, "topn": args.topn}
    report = {"command": " ".join([Path(sys.executable).name] + sys.argv),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine_start": machine_state(),
              "platform": {"machine": platform.machine(), "cores": os.cpu_count(),
                           "python": platform.python_version()},
              "git": _command_output(["git", "-C", str(REPO_ROOT), "describe", "--always",
                                      "--dirty"]),
              "settings": settings, "runs": []}
    versions = _command_output([sys.executable, "-c",
                                "import numpy, numba, gensim; from gensim.models.word2vec_inner "
                                "import FAST_VERSION; print(numpy.__version__, numba.__version__,"
                                " gensim.__version__, FAST_VERSION)"]).split()
    report["versions"] = dict(zip(("numpy", "numba", "gensim", "gensim_FAST_VERSION"), versions))
    say = (lambda text: print(text, file=sys.stderr, flush=True))
    say(f"uptime at the start: {report['machine_start']['uptime']}")
    say(f"output folder: {folder}{' (temporary)' if temporary else ''}")
    try:
        started = time.perf_counter()
        prepared = run_child("prepare", base, folder, "prepare")
        say(f"prepared {corpus}: {prepared['tokens']:,} tokens, {prepared['sentences']:,} "
            f"sentences, V = {prepared['V']:,} ({prepared['prepare_s']:.1f} s; "
            f"{time.perf_counter() - started:.1f} s with the process)")
        report["corpus"] = dict(prepared, path=corpus)
        spec = dict(base, folder=prepared["folder"], tokens=prepared["tokens"],
                    vocab_fingerprint=prepared["vocab_fingerprint"],
                    max_sentence_length=prepared["max_sentence_length"])
        for round_ in range(1, args.repeats + 1):
            seed = args.seed + round_ - 1
            for objective in args.objectives:
                for workers in args.workers:
                    for implementation in IMPLEMENTATIONS:
                        name = f"{implementation}-{objective}-w{workers}-r{round_}"
                        load = os.getloadavg()
                        result = run_child(implementation, dict(
                            spec, objective=objective, workers=workers,
                            settings=dict(settings, seed=seed),
                            run_dir=str(folder / "runs" / f"{stamp}-{name}")), folder, name)
                        result.update(objective=objective, workers=workers,
                                      implementation=implementation, round=round_,
                                      seed=seed,
                                      loadavg_before=list(load))
                        report["runs"].append(result)
                        q = result["quality"]
                        say(f"round {round_}: {objective:12s} workers={workers} "
                            f"{implementation:6s} {result['seconds']:7.2f} s, "
                            f"{result['raw_words'] / result['seconds']:>10,.0f} raw words/s, "
                            f"peak {result['memory_after_train']['peak'] / MB:5.0f} MB, "
                            f"WS353 {_f(q['ws353_spearman'], '.4f')}, analogies "
                            f"{_f(q['analogy_accuracy'] and 100 * q['analogy_accuracy'], '.2f')}%"
                            f" (load {load[0]:.2f})")
    except ChildFailed as error:
        say(str(error))
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        report["machine_end"] = machine_state()
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)

    keys = [(o, w, i) for o in args.objectives for w in args.workers for i in IMPLEMENTATIONS]
    summary = {key: summarize(report["runs"], key) for key in keys}
    checks = [targets(summary, report["runs"], o, w) for o in args.objectives
              for w in args.workers]
    report["summary"] = list(summary.values())
    report["targets"] = checks
    gensim_runs = [r for r in report["runs"] if r["implementation"] == "gensim"]
    cbow_runs = [r for r in report["runs"] if r["implementation"] == "cbow"]
    c = report["corpus"]
    epochs = args.epochs
    print(f"# cbow vs gensim {report['versions'].get('gensim', '?')}: CBOW on {corpus}\n")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, shared; numpy "
          f"{report['versions'].get('numpy', '?')}, numba {report['versions'].get('numba', '?')},"
          f" gensim FAST_VERSION {report['versions'].get('gensim_FAST_VERSION', '?')}; "
          f"git {report['git']}")
    for when in ("start", "end"):
        state = report[f"machine_{when}"]
        print(f"uptime at the {when}: {state['uptime']}")
        for line in state["busiest"]:
            print(f"    {line}")
    print(f"corpus: {c['tokens']:,} tokens in {c['sentences']:,} sentences after min_count "
          f"{args.min_count} ({c['tokens_counted']:,} tokens, {c['words_counted']:,} words "
          f"before); V = {c['V']:,} for cbow, V = "
          f"{', '.join(sorted({format(r['V'], ',') for r in gensim_runs})) or 'n/a'} for gensim "
          f"(same words and counts: {all(r['same_vocabulary'] for r in gensim_runs)})")
    print(f"settings: CBOW mean, N {args.vector_size}, window {args.window} (shrunk), "
          f"min_count {args.min_count}, sample {args.sample:g}, alpha {args.alpha} -> "
          f"{args.min_alpha} (linear), {epochs} epochs, gensim batch_words {args.batch_words}, "
          f"cbow batch_size {args.cbow_batch_size}, piece_words {args.cbow_piece_words}, "
          f"skip_saturated {args.cbow_skip_saturated}; "
          f"negative 5 or hs=1/negative=0; {args.repeats} interleaved round(s), round r with "
          f"seed {args.seed} + r - 1; "
          f"speed and memory: medians over the rounds; quality: means over the rounds' seeds")
    print(f"effective words per epoch (kept by subsampling): cbow "
          f"{_f(median(r['effective_words'] / epochs for r in cbow_runs), ',.0f')} (the "
          f"trainer's effective_words), gensim "
          f"{_f(median(r['effective_words'] / epochs for r in gensim_runs), ',.0f')} (train()'s "
          f"count), expected {c['expected_effective_per_epoch']:,.0f}\n")
    print(markdown_table(list(summary.values())))
    print()
    print("train s: cbow, elapsed_s of metrics.jsonl's last row (the training loop; kernels "
          "compiled before); gensim, the time around train(). raw words/s = "
          f"{c['tokens']:,} tokens x {epochs} epochs / train s; effective words/s = words kept by "
          "subsampling over all epochs / train s. peak RSS: VmHWM of the run's own process "
          "after training. Quality: cbow.evaluation on each run's input vectors (WS353: "
          f"wordsim353.tsv; analogies: questions-words.txt, 3CosAdd over the {args.restrict:,} "
          "most frequent words; coverage = attempted / all questions).")
    corpus_mb = median(s["corpus_mb"] for s in summary.values() if s["implementation"] == "gensim")
    if corpus_mb is not None:
        print(f"gensim's peak includes its input, the sentences as lists of str: about "
              f"{corpus_mb:.0f} MB.")
    print("\nTraining seconds of each round (in the order run; load average before the run):")
    for key, row in summary.items():
        loads = [r["loadavg_before"][0] for r in report["runs"]
                 if (r["objective"], r["workers"], r["implementation"]) == key]
        print(f"  {key[0]:12s} workers={key[1]} {key[2]:6s} "
              + ", ".join(f"{s:.2f} ({load:.2f})" for s, load in zip(row["seconds_all"], loads)))
    print("\n## Targets (cbow against gensim: speed medians, quality means over the seeds)\n")
    print(targets_table(checks))
    print("\n## Nearest neighbours (cosine, input vectors; round 1)\n")
    for objective in args.objectives:
        for implementation in IMPLEMENTATIONS:
            run = next((r for r in report["runs"] if r["objective"] == objective and
                        r["implementation"] == implementation and r["round"] == 1), None)
            if run is None:
                continue
            print(f"{objective}, {implementation}, workers={run['workers']}:")
            for word, neighbours in run["quality"]["neighbours"].items():
                text = ("(not in the vocabulary)" if neighbours is None else
                        ", ".join(f"{w} {s:.2f}" for w, s in neighbours))
                print(f"  {word}: {text}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
