#!/usr/bin/env python
"""Time cbow.models.word2vec's CBOW kernels against gensim's Word2Vec, interleaved in one process.

    python -m benchmarks.bench_word2vec                       # synthetic Zipf corpus
    python -m benchmarks.bench_word2vec gcide                 # the GCIDE dictionary, if installed
    python -m benchmarks.bench_word2vec corpus.txt --epochs 2 # any text: one sentence per line

(``python scripts/bench_word2vec.py`` is the same command.) The text is lower-cased and split on
whitespace, one sentence per line (the GCIDE dictionary is first reduced to one line of plain
words per entry by :func:`benchmarks.dictionary_text.entry_lines`). The vocabulary keeps words seen at least
``--min-count`` times, most frequent first, as gensim's. The last ``--held-out`` fraction of the
lines is kept out of training; both implementations' vectors are scored on it with the same
functions (cbow.models.word2vec's held-out negative-sampling loss and exact hierarchical-softmax
negative log-likelihood, gensim's own Huffman tree and noise distribution for gensim's vectors),
so that "faster" cannot hide "learns less".

Settings are the same for both: CBOW with cbow_mean=1, vector_size, window (shrunk at random),
sample, min_count, alpha decaying linearly to min_alpha over all epochs, and either negative
sampling or hierarchical softmax. Each (objective, workers) pair is timed for cbow and for
gensim fed a list of token lists ("iterable") and, with --gensim-file, gensim's corpus_file mode;
rounds are interleaved and medians are reported. Raw words/s counts every token of the training
lines, unknown words included (gensim's raw count); effective words/s counts the centre words
left after subsampling (gensim's "effective words"). Both start from gensim's initial vectors
(``--init word2vec`` gives cbow word2vec's narrower range instead), so that the held-out losses
compare the training, not the initialisations.

The GCIDE text is extracted in memory; only ``--gensim-file`` writes it, to a temporary folder
that is removed at the end. On a shared machine the absolute numbers move with other people's
work (the load average is printed at the start and the end): compare the ratios of one run.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks import dictionary_text
from cbow.models import word2vec as w2v
from cbow.config import from_mapping
from cbow.vectors.embeddings import Embeddings
from cbow.training.schedule import alpha_at

GCIDE = dictionary_text.DICT_PATH
OBJECTIVES = {"ns": "negative sampling (negative=5)", "hs": "hierarchical softmax"}


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------

def zipf_lines(n_tokens: int, vocab: int = 50_000, seed: int = 0) -> list[str]:
    """Sentences of 5..40 words drawn from a Zipf(1) law over ``vocab`` word types."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    ids = rng.choice(vocab, size=n_tokens, p=p / p.sum())
    lengths = rng.integers(5, 41, size=n_tokens // 5 + 1)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    bounds = bounds[bounds < n_tokens].tolist() + [n_tokens]
    return [" ".join(f"w{i}" for i in ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def load_sentences(source: str | None, max_tokens: int | None, synthetic_tokens: int):
    if source is None:
        name, lines = f"synthetic Zipf corpus ({synthetic_tokens:,} tokens)", zipf_lines(synthetic_tokens)
    elif source == "gcide":
        if not GCIDE.exists():
            sys.exit(f"{GCIDE} is not installed (apt-get install dict-gcide)")
        name, lines = f"GCIDE ({GCIDE})", list(dictionary_text.entry_lines(GCIDE, words=True))
    else:
        name = source
        lines = Path(source).read_text(encoding="utf-8", errors="replace").splitlines()
    canonical: dict[str, str] = {}  # one str object per word type: lists of tokens stay small
    sentences, n = [], 0
    for line in lines:
        tokens = [canonical.setdefault(t, t) for t in line.lower().split()]
        if tokens:
            sentences.append(tokens)
            n += len(tokens)
            if max_tokens and n >= max_tokens:
                break
    return name, sentences


def build_stream(sentences, word_to_id):
    """In-vocabulary ids as one uint32 stream and the offsets where sentences start."""
    ids, starts = [], []
    for sentence in sentences:
        starts.append(len(ids))
        ids.extend(word_to_id[t] for t in sentence if t in word_to_id)
    return np.array(ids, np.uint32), np.array(starts, np.int64)


# --------------------------------------------------------------------------------------------
# The two implementations
# --------------------------------------------------------------------------------------------

def schedule(args):
    """A config whose ``alpha_at(cfg, epoch, args.epochs)`` is the learning rate at an epoch's
    start: word2vec's linear decay from alpha to min_alpha over all epochs."""
    return from_mapping({"model": {"objective": "negative"},
                         "train": {"schedule": "linear", "alpha": args.alpha,
                                   "min_alpha": args.min_alpha, "epochs": args.epochs,
                                   "dtype": "float32"}}, "bench_word2vec")


def train_ours(args, kind, objective, keep, tokens, starts, workers, initial_vectors):
    input_vectors, output_vectors, _ = w2v.initial_weights(objective, args.vector_size, args.seed)
    if initial_vectors is not None:
        input_vectors[:] = initial_vectors
    effective = 0
    cfg = schedule(args)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        result = w2v.train_range(objective, input_vectors, output_vectors, tokens, starts, 0, tokens.size,
                                 alpha_start=alpha_at(cfg, epoch, args.epochs),
                                 alpha_end=alpha_at(cfg, epoch + 1, args.epochs),
                                 C=args.window, keep=keep, workers=workers,
                                 seed=args.seed, epoch=epoch)
        effective += result.effective_words
    return time.perf_counter() - started, effective, (input_vectors, output_vectors)


def gensim_model(args, kind, sentences):
    from gensim.models import Word2Vec
    model = Word2Vec(sg=0, cbow_mean=1, vector_size=args.vector_size, window=args.window,
                     hs=int(kind == "hs"), negative=5 if kind == "ns" else 0, sample=args.sample,
                     min_count=args.min_count, alpha=args.alpha, min_alpha=args.min_alpha,
                     seed=args.seed, epochs=args.epochs, workers=1)
    model.build_vocab(corpus_iterable=sentences)
    # init_weights() keeps existing input vectors (it only initialises new rows), so each timed
    # run restores this copy instead.
    model.bench_initial_vectors = model.wv.vectors.copy()
    return model


def train_gensim(args, model, sentences, corpus_file, raw_words, workers):
    model.wv.vectors[:] = model.bench_initial_vectors  # untrained again
    if model.hs:
        model.syn1[:] = 0.0
    if model.negative:
        model.syn1neg[:] = 0.0
    model.workers = workers
    started = time.perf_counter()
    if corpus_file is None:
        effective, _ = model.train(corpus_iterable=sentences, total_examples=model.corpus_count,
                                   epochs=args.epochs)
    else:
        effective, _ = model.train(corpus_file=corpus_file, total_words=raw_words, epochs=args.epochs)
    seconds = time.perf_counter() - started
    output = model.syn1neg if model.negative else model.syn1[:len(model.wv) - 1]
    return seconds, effective, (model.wv.vectors.copy(), np.ascontiguousarray(output).copy())


def gensim_objective(model, kind):
    """Our objective tables for gensim's vocabulary: gensim's counts, Huffman tree."""
    V = len(model.wv)
    counts = np.array([model.wv.get_vecattr(i, "count") for i in range(V)])
    if kind == "ns":
        return w2v.NegativeSampling.from_counts(counts, negative=5)
    codes = [model.wv.get_vecattr(i, "code") for i in range(V)]
    points = [model.wv.get_vecattr(i, "point") for i in range(V)]
    longest = max(len(c) for c in codes)
    padded_codes = np.zeros((V, longest), np.uint8)
    padded_points = np.full((V, longest), -1, np.int32)
    for i, (c, p) in enumerate(zip(codes, points)):
        padded_codes[i, :len(c)], padded_points[i, :len(p)] = c, p
    return w2v.HierarchicalSoftmax(padded_codes, padded_points, np.array([len(c) for c in codes]))


def held_out_loss(kind, objective, weights, tokens, starts, C):
    loss = w2v.negative_sampling_loss if kind == "ns" else w2v.hierarchical_softmax_loss
    return loss(objective, weights[0], weights[1], tokens, starts, C=C, workers=2).mean


def neighbours(vectors, index_to_word, word, topn=5):
    return ", ".join(w for w, _ in Embeddings(index_to_word, vectors).most_similar(word, topn))


# --------------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", help="a text file, 'gcide', or nothing for a synthetic corpus")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="use only the first lines, up to this many tokens")
    parser.add_argument("--synthetic-tokens", type=int, default=5_000_000)
    parser.add_argument("--objectives", default="ns,hs", help="comma-separated: ns, hs")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--gensim-file", action="store_true", help="also time gensim's corpus_file mode")
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.025)
    parser.add_argument("--min-alpha", type=float, default=0.0001)
    parser.add_argument("--held-out", type=float, default=0.05, help="fraction of lines kept for the loss")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", choices=["gensim", "word2vec"], default="gensim",
                        help="cbow's initial input vectors: gensim's own (default, so the losses "
                             "compare the kernels) or word2vec's range from initial_weights")
    parser.add_argument("--words", default="", help="comma-separated words whose neighbours to print")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    import gensim
    import numba
    from gensim.models.word2vec_inner import FAST_VERSION
    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work: load "
          f"average {load[0]:.2f} at the start); python {platform.python_version()}, numpy "
          f"{np.__version__}, numba {numba.__version__}, gensim {gensim.__version__} "
          f"(FAST_VERSION {FAST_VERSION})")

    name, sentences = load_sentences(args.corpus, args.max_tokens, args.synthetic_tokens)
    n_held_out = int(len(sentences) * args.held_out)
    n_train = len(sentences) - n_held_out
    train_sentences, test_sentences = sentences[:n_train], sentences[n_train:]
    raw_words = sum(map(len, train_sentences))
    counts = Counter(t for s in train_sentences for t in s)
    vocab = sorted((w for w, c in counts.items() if c >= args.min_count), key=lambda w: (-counts[w], w))
    word_to_id = {w: i for i, w in enumerate(vocab)}
    tokens, starts = build_stream(train_sentences, word_to_id)
    test_tokens, test_starts = build_stream(test_sentences, word_to_id)
    vocab_counts = np.array([counts[w] for w in vocab])
    keep = w2v.keep_probabilities(vocab_counts, args.sample)
    print(f"corpus: {name}: {len(train_sentences):,} training lines, {raw_words:,} tokens, "
          f"{tokens.size:,} in the vocabulary of {len(vocab):,} words (min_count {args.min_count}); "
          f"held out: {len(test_sentences):,} lines, {test_tokens.size:,} tokens")
    print(f"settings: CBOW mean, vector_size {args.vector_size}, window {args.window} (shrunk), "
          f"sample {args.sample:g}, alpha {args.alpha} -> {args.min_alpha}, epochs {args.epochs}, "
          f"{args.repeats} interleaved rounds, medians")

    kinds = [k.strip() for k in args.objectives.split(",") if k.strip()]
    worker_counts = [int(w) for w in args.workers.split(",")]
    ours = {k: (w2v.NegativeSampling.from_counts(vocab_counts, negative=5) if k == "ns"
                else w2v.HierarchicalSoftmax.from_counts(vocab_counts)) for k in kinds}
    for kind in kinds:  # compile (or load the cache) outside the timings
        w2v.train_range(ours[kind], *w2v.initial_weights(ours[kind], args.vector_size, 0)[:2],
                        tokens, starts, 0, min(tokens.size, 1000), alpha_start=0.01, alpha_end=0.01,
                        C=args.window, keep=keep)
    started = time.perf_counter()
    models = {k: gensim_model(args, k, train_sentences) for k in kinds}
    print(f"gensim build_vocab: {(time.perf_counter() - started) / len(kinds):.1f} s per model "
          "(not timed below)")
    # Same starting point for both: gensim 4 draws initial vectors in [-1/N, 1/N), twice
    # word2vec's range, which alone changes the held-out loss after one epoch measurably.
    initial = {k: None for k in kinds}
    if args.init == "gensim":
        for kind in kinds:
            gensim_index = models[kind].wv.key_to_index
            initial[kind] = models[kind].bench_initial_vectors[[gensim_index[w] for w in vocab]]
    print("initial input vectors: " + ("gensim's, the same for both" if args.init == "gensim" else
                                       "word2vec's range for cbow (initial_weights), gensim's for gensim"))

    implementations = ["cbow", "gensim iterable"] + (["gensim file"] if args.gensim_file else [])
    corpus_file = None
    with tempfile.TemporaryDirectory() as scratch:
        if args.gensim_file:
            corpus_file = os.path.join(scratch, "corpus.txt")
            with open(corpus_file, "w", encoding="utf-8") as f:
                f.writelines(" ".join(s) + "\n" for s in train_sentences)
        times = {}
        weights = {}
        for round_ in range(args.repeats):
            for kind in kinds:
                for workers in worker_counts:
                    for impl in implementations:
                        if impl == "cbow":
                            seconds, effective, trained = train_ours(args, kind, ours[kind], keep, tokens,
                                                                     starts, workers, initial[kind])
                        else:
                            seconds, effective, trained = train_gensim(
                                args, models[kind], train_sentences,
                                corpus_file if impl == "gensim file" else None, raw_words, workers)
                        times.setdefault((kind, workers, impl), []).append((seconds, effective))
                        weights[(kind, workers, impl)] = trained
                        print(f"  round {round_ + 1}: {kind} workers={workers} {impl:16s} {seconds:7.2f} s",
                              file=sys.stderr, flush=True)

    gensim_tables = {k: gensim_objective(models[k], k) for k in kinds}
    gensim_ids = {k: models[k].wv.key_to_index for k in kinds}
    gensim_streams = {k: build_stream(test_sentences, gensim_ids[k]) for k in kinds}

    print()
    print("| objective | workers | implementation | s/epoch | raw words/s | effective words/s | "
          "ours/gensim | held-out loss |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        for workers in worker_counts:
            rate = {}
            for impl in implementations:
                runs = times[(kind, workers, impl)]
                seconds = statistics.median(s for s, _ in runs)
                effective = statistics.median(e for _, e in runs)
                rate[impl] = raw_words * args.epochs / seconds
                table, stream = ((ours[kind], (test_tokens, test_starts)) if impl == "cbow"
                                 else (gensim_tables[kind], gensim_streams[kind]))
                loss = held_out_loss(kind, table, weights[(kind, workers, impl)], *stream, args.window)
                ratio = "" if impl == "cbow" else f"{rate['cbow'] / rate[impl]:.2f}"
                print(f"| {kind} | {workers} | {impl} | {seconds / args.epochs:.2f} | {rate[impl]:,.0f} | "
                      f"{effective / seconds:,.0f} | {ratio} | {loss:.4f} |")
    print("(held-out loss: negative sampling loss with fixed noise words for ns, exact "
          "negative log-likelihood for hs, nats per example, same held-out lines for all)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")

    for word in [w for w in args.words.split(",") if w]:
        for kind in kinds:
            key = (kind, worker_counts[-1])
            if word in word_to_id:
                ours_vectors = weights[key + ("cbow",)][0]
                print(f"{word} ({kind}) cbow: {neighbours(ours_vectors, vocab, word)}")
                gensim_vectors = weights[key + ("gensim iterable",)][0]
                gensim_vocab = models[kind].wv.index_to_key
                print(f"{word} ({kind}) gensim: "
                      f"{neighbours(gensim_vectors, gensim_vocab, word)}")


if __name__ == "__main__":
    main()
