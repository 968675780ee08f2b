"""Show the words whose vectors are nearest (by cosine) to each query word, or do arithmetic.

    cbow similar RUN_DIR_OR_VECTOR_FILE king queen [--topn 10] [--which mean]
    cbow similar RUN_DIR_OR_VECTOR_FILE --positive king woman --negative man
                 [--topn 10] [--method 3cosadd|3cosmul]
"""
from __future__ import annotations

from cbow.evaluation.analogies import METHODS
from cbow.registry import which_help

HELP = "nearest words by cosine, or to king - man + woman"


def add_arguments(parser) -> None:
    parser.add_argument("source", metavar="RUN_DIR_OR_VECTOR_FILE",
                        help="training run folder, checkpoint, or exported vectors "
                             "(word2vec text/binary, .npy, an npy or projector export folder, or "
                             "a fastText .bin model); runs and .bin models with subwords give "
                             "unseen words the vector of their character n-grams")
    parser.add_argument("words", nargs="*", help="query words (each answered on its own)")
    parser.add_argument("--positive", nargs="+", default=[], metavar="WORD",
                        help="words to add (gensim's most_similar positive=...)")
    parser.add_argument("--negative", nargs="+", default=[], metavar="WORD",
                        help="words to subtract (negative=...)")
    parser.add_argument("--method", choices=METHODS, default="3cosadd",
                        help="how --positive and --negative combine: 3cosadd (cosine with the "
                             "mean of the unit vectors, default) or 3cosmul (Levy & Goldberg's "
                             "product of shifted cosines, as gensim's most_similar_cosmul)")
    parser.add_argument("--topn", type=int, default=10, help="neighbours per query (default 10)")
    parser.add_argument("--which", help="vectors of a run, by objective: " + which_help()
                        + "; not for vector files")


def run(args) -> int:
    from cbow.errors import InputError
    from cbow.training.run import load_embeddings

    arithmetic = bool(args.positive or args.negative)
    if arithmetic == bool(args.words):
        raise InputError("give query words, or --positive (and --negative) words, not both"
                         if arithmetic else "give query words, or --positive/--negative words")
    if args.topn < 1:
        raise InputError(f"--topn must be at least 1 (neighbours per query); got {args.topn}")
    embeddings = load_embeddings(args.source, which=args.which)
    resolve = embeddings.vocab.resolve_case
    if not arithmetic:
        words = [resolve(w) for w in args.words]
        embeddings.check_words(words)  # every unknown word in one error, before any output
        score = "cosine" if args.method == "3cosadd" else "3cosmul"
        # Every query answered before any is printed: a query that has no answer is one error.
        answers = [embeddings.most_similar(word, topn=args.topn, method=args.method)
                   for word in words]
        print("\n\n".join(format_neighbours(word, neighbours, score)
                           for word, neighbours in zip(words, answers)))
        return 0
    positive, negative = [resolve(w) for w in args.positive], [resolve(w) for w in args.negative]
    neighbours = embeddings.most_similar(positive=positive, negative=negative, topn=args.topn,
                                         method=args.method)
    print(format_neighbours(query_label(positive, negative), neighbours,
                            "cosine" if args.method == "3cosadd" else "3cosmul"))
    return 0


def query_label(positive: list[str], negative: list[str]) -> str:
    """``positive - negative`` as a person writes it: ``king + woman - man``, ``- man`` (no
    positive word), ``king + woman``."""
    return " ".join([" + ".join(positive), *(f"- {word}" for word in negative)]).strip()


def format_neighbours(query: str, neighbours: list[tuple[str, float]],
                      score: str = "cosine") -> str:
    """A small text table of ``(word, score)`` pairs: rank, word, score to 4 decimals (bytes
    that are not UTF-8, a fastText model's, shown as ``\\xHH``)."""
    from cbow.vectors.embeddings import readable

    neighbours = [(readable(word), cosine) for word, cosine in neighbours]
    width = max([4, *(len(word) for word, _ in neighbours)])
    lines = [f"nearest to {query!r}:", f"{'rank':>4}  {'word':<{width}}  {score}"]
    lines += [f"{rank:>4}  {word:<{width}}  {cosine:6.4f}"
              for rank, (word, cosine) in enumerate(neighbours, start=1)]
    return "\n".join(lines)
