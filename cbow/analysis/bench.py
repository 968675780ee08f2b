"""Benchmark the full softmax's training step (what ``cbow bench`` runs).

Medians, ratios and memory of the full-softmax step.

Everything is measured in one process, after warm-up, on the Shakespeare corpus's own batches:

a. one dense step of :mod:`cbow.course` (build the ``(V, B)`` batch, forward, back-prop, update);
b. one step of the project's sparse trainer (:func:`cbow.models.softmax.model.train_step`, batch included);
c. the floor: the three ``V x N x B`` matrix products that a full softmax cannot avoid;
d. the same model in PyTorch on the CPU, when it is installed (sparse-gradient embedding bag,
   linear layer, cross-entropy, SGD).
"""
from __future__ import annotations

import os
import platform
import resource
import statistics
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from cbow import course
from cbow.models.softmax import model
from cbow.data.batching import CourseBatcher, EpochBatcher, make_windows
from cbow.data.corpus import find_corpus, read_text
from cbow.data.text import course_tokenize
from cbow.data.vocab import Vocabulary


@dataclass
class Timing:
    name: str
    dtype: str
    seconds: list[float]
    batch_size: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1e3

    @property
    def examples_per_s(self) -> float:
        return self.batch_size / statistics.median(self.seconds)


def interleaved_times(steps: dict, rounds: int = 5) -> dict:
    """Per-step wall times of each of ``steps`` (name -> (fn, repeats, warmup)), interleaved.

    Each round warms every step up, then times ``repeats // rounds`` calls of each in turn, so
    that a slow spell of this shared machine falls on all of them alike rather than on one.
    """
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (fn, repeats, warmup) in steps.items():
            for _ in range(max(1, warmup // rounds)):
                fn()
            for _ in range(max(1, repeats // rounds)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return times


def load_shakespeare():
    tokens = course_tokenize(read_text(find_corpus("shakespeare")))
    vocab = Vocabulary.from_tokens(tokens)
    return tokens, vocab, make_windows(vocab.encode(tokens), 2)


def dense_course_step(tokens, vocab, N, batch_size):
    word2Ind = vocab.word2index
    V = len(vocab)
    batches = course.get_batches(tokens, word2Ind, V, 2, batch_size)
    W1, W2, b1, b2 = course.initialize_model(N, V, random_seed=1)
    params = [W1, W2, b1, b2]
    alpha = 1e-3

    def step():
        x, y = next(batches)
        W1, W2, b1, b2 = params
        z, h = course.forward_prop(x, W1, W2, b1, b2)
        yhat = course.softmax(z)
        course.compute_cost(y, yhat, batch_size)
        grads = course.back_prop(x, yhat, y, h, W1, W2, b1, b2, batch_size)
        params[:] = [p - alpha * g for p, g in zip(params, grads)]

    return step


def fast_step(windows, V, N, batch_size, dtype):
    params = model.initialize_model(N, V, 1, dtype)
    ws = model.Workspace.for_params(params, batch_size)
    batcher = CourseBatcher(*windows, batch_size)

    def step():
        context_ids, center_ids = batcher.next_batch()
        model.train_step(params, context_ids, center_ids, 1e-3, ws)

    return step


def floor_step(V, N, batch_size, dtype):
    """The three products of a full-softmax step, into preallocated outputs: logits, grad_W2, l1."""
    rng = np.random.default_rng(0)
    h = rng.random((batch_size, N)).astype(dtype)
    W2 = rng.random((V, N)).astype(dtype)
    scores = np.empty((batch_size, V), dtype)
    grad_W2 = np.empty((V, N), dtype)
    l1 = np.empty((batch_size, N), dtype)

    def step():
        np.matmul(h, W2.T, out=scores)
        np.matmul(scores.T, h, out=grad_W2)
        np.matmul(scores, W2, out=l1)

    return step


def torch_step(windows, V, N, batch_size, dtype):
    import torch

    torch_dtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    torch.manual_seed(0)
    embed = torch.nn.EmbeddingBag(V, N, mode="mean", sparse=True).to(torch_dtype)
    linear = torch.nn.Linear(N, V).to(torch_dtype)
    optimizer = torch.optim.SGD(list(embed.parameters()) + list(linear.parameters()), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    batcher = CourseBatcher(*windows, batch_size)

    def step():
        context_ids, center_ids = batcher.next_batch()
        hidden = torch.relu(embed(torch.from_numpy(context_ids)))
        loss = loss_fn(linear(hidden), torch.from_numpy(center_ids))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def epoch_seconds(windows, V, N, batch_size, dtype) -> float:
    """Wall time of one epoch (every window once, shuffled) with the sparse trainer."""
    params = model.initialize_model(N, V, 1, dtype)
    ws = model.Workspace.for_params(params, batch_size)
    batcher = EpochBatcher(*windows, batch_size, shuffle=True, seed=0)
    start = time.perf_counter()
    for _ in range(batcher.batches_per_epoch()):
        model.train_step(params, *batcher.next_batch(), 1e-3, ws)
    return time.perf_counter() - start


def step_allocation_peak(windows, V, N, batch_size, dtype) -> int:
    """Peak bytes that numpy allocates inside one (warm) sparse step, measured with tracemalloc."""
    step = fast_step(windows, V, N, batch_size, dtype)
    step()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True




def benchmark(N=50, batch_size=128, dtypes=("float64", "float32"), repeats=200, warmup=20,
        with_torch=True, with_epoch=True, dense_repeats=30, print=print) -> dict:
    tokens, vocab, windows = load_shakespeare()
    V = len(vocab)
    use_torch = with_torch and torch_available()
    dense_key = ("dense course step", "float64")
    steps = {dense_key: (dense_course_step(tokens, vocab, N, batch_size), dense_repeats, 5)}
    for name in dtypes:
        dtype = model.DTYPES[name]
        steps[("cbow sparse step", name)] = (fast_step(windows, V, N, batch_size, dtype),
                                             repeats, warmup)
        steps[("floor: 3 matmuls", name)] = (floor_step(V, N, batch_size, dtype), repeats, warmup)
        if use_torch:
            steps[("pytorch cpu step", name)] = (torch_step(windows, V, N, batch_size, dtype),
                                                 repeats, warmup)
    times = interleaved_times(steps)
    timings = [Timing(label, dtype, seconds, batch_size) for (label, dtype), seconds in times.items()]
    by_key = {(t.name, t.dtype): t for t in timings}
    dense = by_key[dense_key]
    results = {"V": V, "N": N, "batch_size": batch_size, "dense_ms": dense.median_ms}
    for name in dtypes:
        fast, floor = by_key[("cbow sparse step", name)], by_key[("floor: 3 matmuls", name)]
        results[name] = {"fast_ms": fast.median_ms, "floor_ms": floor.median_ms,
                         "dense_over_fast": dense.median_ms / fast.median_ms,
                         "fast_over_floor": fast.median_ms / floor.median_ms}
        if use_torch:
            torch_timing = by_key[("pytorch cpu step", name)]
            results[name]["torch_ms"] = torch_timing.median_ms
            results[name]["torch_over_fast"] = torch_timing.median_ms / fast.median_ms
        dtype = model.DTYPES[name]
        results[name]["step_alloc_peak_bytes"] = step_allocation_peak(windows, V, N, batch_size,
                                                                      dtype)
        if with_epoch:
            results[name]["epoch_s"] = epoch_seconds(windows, V, N, batch_size, dtype)

    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"{_cpu_count()} cores; numpy {np.__version__}; python {platform.python_version()}")
    print(f"V={V}, N={N}, batch={batch_size}; medians of {repeats} steps "
          f"({dense_repeats} for the dense step), all timed in the same 5 interleaved rounds after warm-up\n")
    print(f"| {'step':<20} | {'dtype':<7} | {'ms/step':>8} | {'examples/s':>11} |")
    print(f"|{'-' * 22}|{'-' * 9}|{'-' * 10}|{'-' * 13}|")
    for t in timings:
        print(f"| {t.name:<20} | {t.dtype:<7} | {t.median_ms:8.2f} | {t.examples_per_s:11,.0f} |")
    print()
    for name in dtypes:
        r = results[name]
        line = (f"{name}: dense/sparse = {r['dense_over_fast']:.1f}x, "
                f"sparse/floor = {r['fast_over_floor']:.2f}x")
        if "torch_over_fast" in r:
            line += f", pytorch/sparse = {r['torch_over_fast']:.2f}x"
        print(line)
        extra = [f"peak numpy allocation inside one step: {r['step_alloc_peak_bytes'] / 1e6:.2f} MB "
                 f"(one B x V array: {batch_size * V * np.dtype(name).itemsize / 1e6:.2f} MB)"]
        if "epoch_s" in r:
            extra.append(f"one epoch ({windows[1].shape[0]:,} windows): {r['epoch_s']:.2f} s")
        print("  " + "; ".join(extra))
    if with_torch and not use_torch:
        print("pytorch: not installed (pip install torch) - skipped")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["peak_rss_mb"] = peak_mb
    print(f"process peak memory (max RSS): {peak_mb:.0f} MB")
    return results


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
