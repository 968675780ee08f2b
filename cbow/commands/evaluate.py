"""Score word vectors on word-pair similarity and analogy benchmarks; print a table.

    cbow evaluate RUN_OR_VECTOR_FILE --pairs FILE... --analogies FILE... [--restrict K]
                  [--method 3cosadd|3cosmul] [--case auto|lower|exact|insensitive] [--json PATH]

Word pairs: Spearman and Pearson correlations of the cosines with the human scores, over the
pairs whose two words are in the vocabulary. Analogies: accuracy per section and in total over
the questions whose four words are in the vocabulary, and the coverage (attempted / total).

Benchmark files: gensim ships wordsim353.tsv, simlex999.txt and questions-words.txt in
gensim/test/test_data/; with gensim installed,
    python -c "from gensim.test.utils import datapath; print(datapath('wordsim353.tsv'))"
prints the path of one. See cbow/evaluation/ for the formats and how the figures compare with
gensim's.
"""
from __future__ import annotations

import math

from cbow.evaluation import CASES, METHODS  # numpy only, which importing cbow loads anyway
from cbow.registry import which_help

HELP = "word-pair similarity and analogy benchmarks"


def add_arguments(parser) -> None:
    parser.add_argument("source", metavar="RUN_OR_VECTOR_FILE",
                        help="training run folder, checkpoint, or exported vectors "
                             "(word2vec text/binary, .npy, an npy or projector export folder, or "
                             "a fastText .bin model); runs and .bin models with subwords give "
                             "unseen words the vector of their character n-grams")
    parser.add_argument("--pairs", nargs="+", action="extend", default=[], metavar="FILE",
                        help="word-pair files: 'word1 word2 score' lines (WordSim-353, "
                             "SimLex-999, MEN)")
    parser.add_argument("--analogies", nargs="+", action="extend", default=[], metavar="FILE",
                        help="analogy files in the word2vec format (questions-words.txt)")
    parser.add_argument("--restrict", type=int, metavar="K",
                        help="analogies: use only the K most frequent words, as questions and "
                             "as answers (default: all)")
    parser.add_argument("--method", choices=METHODS, default="3cosadd",
                        help="analogy objective (default 3cosadd)")
    parser.add_argument("--case", choices=CASES, default="auto",
                        help="auto (default): lower-case benchmark words if every vocabulary "
                             "word is lower-case, else exact; lower; exact; insensitive: "
                             "upper-case both sides, as gensim does by default")
    parser.add_argument("--which", help="vectors of a run, by objective: " + which_help()
                        + "; not for vector files")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")


def run(args) -> int:
    import json
    import os

    from cbow import evaluation as evaluate
    from cbow.errors import InputError
    from cbow.vectors.subword import SubwordEmbeddings
    from cbow.io import atomic_write_bytes
    from cbow.training.run import load_embeddings, refuse_run_file

    if not args.pairs and not args.analogies:
        raise InputError("nothing to evaluate: give --pairs FILE... and/or --analogies FILE... "
                         "(gensim ships wordsim353.tsv, simlex999.txt and questions-words.txt in "
                         "gensim/test/test_data/)")
    if args.json and os.path.isdir(args.json):  # before the work, not after it
        raise InputError(f"--json {args.json} is a folder; give the path of a file to write")
    if args.json:
        refuse_run_file(args.json, "the --json figures")
    if args.restrict is not None and args.restrict < 1:
        raise InputError(f"--restrict must be a positive number of words; got {args.restrict}")
    pair_files = list(dict.fromkeys(args.pairs))
    analogy_files = list(dict.fromkeys(args.analogies))
    # Read every benchmark before the vectors, so that a typo in a file name fails fast.
    for path in pair_files:
        evaluate.read_word_pairs(path)
    for path in analogy_files:
        evaluate.read_analogies(path)

    loaded = load_embeddings(args.source, which=args.which)
    # cbow's vocabularies are alphabetical; with the corpus counts, put the most frequent words
    # first, so that --restrict K means the K most frequent words.
    embeddings = evaluate.by_frequency(loaded)
    case = evaluate.resolve_case(embeddings.words, args.case)
    print(describe_vectors(embeddings, case, args.case))
    if args.restrict is not None and analogy_files:
        print(describe_restriction(args.restrict, len(embeddings), embeddings is not loaded))

    pairs = [evaluate.evaluate_word_pairs(embeddings, path, case=case) for path in pair_files]
    analogies = [evaluate.evaluate_analogies(embeddings, path, method=args.method,
                                             restrict_vocab=args.restrict, case=case)
                 for path in analogy_files]
    if pairs:
        print()
        print(format_pairs_table(pairs, subword=isinstance(loaded, SubwordEmbeddings)))
    for result in analogies:
        print()
        print(format_analogy_table(result))

    if args.json:
        report = {"vectors": embeddings.source, "which": embeddings.which,
                  "words": len(embeddings), "dims": embeddings.vector_size,
                  **evaluate.to_json([*pairs, *analogies])}
        atomic_write_bytes(args.json, (json.dumps(report, indent=2) + "\n").encode("utf-8"))
        print(f"\nwrote {args.json}")
    return 0


def describe_vectors(embeddings, case: str, asked: str) -> str:
    which = f", {embeddings.which} vectors" if embeddings.which else ""
    why = {"lower": "benchmark words lower-cased",
           "exact": "benchmark words as written",
           "insensitive": "benchmark and vocabulary words upper-cased"}[case]
    if asked == "auto":
        why += (" (every vocabulary word is lower-case)" if case == "lower"
                else " (the vocabulary has upper-case words)")
    return (f"vectors: {embeddings.source} ({len(embeddings):,} words x "
            f"{embeddings.vector_size} dims{which})\ncase: {case}, {why}")


def describe_restriction(k: int, V: int, by_count: bool) -> str:
    if by_count:
        return f"restrict: analogies use the {min(k, V):,} most frequent of {V:,} words"
    return (f"restrict: analogies use the first {min(k, V):,} of {V:,} words; the vectors carry "
            f"no counts, so these are the most frequent only if the file lists words by "
            f"decreasing frequency (word2vec and gensim files do; cbow's word2vec exports are "
            f"alphabetical: evaluate the run folder or an npy export instead)")


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}%"


def _correlation(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


def format_pairs_table(results, subword: bool = False) -> str:
    """One line per word-pair file: correlations, pairs used / total, OOV share; with
    ``subword`` (vectors with n-grams), how many used pairs have a word outside the vocabulary.
    """
    width = max(10, *(len(r.file) for r in results))
    lines = [f"{'word pairs':<{width}}  spearman   pearson   used / total     OOV"
             + ("  subword" if subword else "")]
    for r in results:
        lines.append(f"{r.file:<{width}}  {_correlation(r.spearman):>8}  "
                     f"{_correlation(r.pearson):>8}  {r.pairs_used:>6,} / {r.pairs_total:<6,}"
                     f"{_percent(r.oov_ratio):>7}"
                     + (f"  {r.pairs_subword:>7,}" if subword else ""))
    if subword:
        lines.append("subword: used pairs with a word outside the vocabulary, scored with the "
                     "vector of its character n-grams")
    return "\n".join(lines)


def format_analogy_table(result) -> str:
    """One line per section of an analogy file, then the total."""
    method = {"3cosadd": "3CosAdd", "3cosmul": "3CosMul"}[result.method]
    rows = [*result.sections, result]
    names = [s.name for s in result.sections] + ["total"]
    width = max(7, *(len(name) for name in names))
    lines = [f"analogies: {result.file} ({method}, {result.restrict_vocab:,} words searched)",
             f"{'section':<{width}}  accuracy   correct / attempted /  total  coverage"]
    for name, r in zip(names, rows):
        lines.append(f"{name:<{width}}  {_percent(r.accuracy):>8}  {r.correct:>8,} / "
                     f"{r.attempted:>9,} / {r.total:>6,}  {_percent(r.coverage):>8}")
    return "\n".join(lines)
