"""Show the words whose vectors are nearest (by cosine) to each query word.

    cbow similar RUN_DIR_OR_VECTOR_FILE king queen [--topn 10] [--which mean]
"""
from __future__ import annotations

from cbow.registry import which_help

HELP = "nearest words by cosine"


def add_arguments(parser) -> None:
    parser.add_argument("source", metavar="RUN_DIR_OR_VECTOR_FILE",
                        help="training run folder, checkpoint, or exported vectors "
                             "(word2vec text/binary, .npy, or an npy export folder)")
    parser.add_argument("words", nargs="+", help="query words")
    parser.add_argument("--topn", type=int, default=10, help="neighbours per word (default 10)")
    parser.add_argument("--which", help="vectors of a run, by objective: " + which_help()
                        + "; not for vector files")


def run(args) -> int:
    from cbow.run import load_embeddings

    embeddings = load_embeddings(args.source, which=args.which)
    words = [embeddings.vocab.resolve_case(w) for w in args.words]
    embeddings.check_words(words)  # every unknown word in one error, before any output
    print("\n\n".join(format_neighbours(word, embeddings.most_similar(word, topn=args.topn))
                      for word in words))
    return 0


def format_neighbours(query: str, neighbours: list[tuple[str, float]]) -> str:
    """A small text table of ``(word, cosine)`` pairs: rank, word, cosine to 4 decimals."""
    width = max([4, *(len(word) for word, _ in neighbours)])
    lines = [f"nearest to {query!r}:", f"{'rank':>4}  {'word':<{width}}  cosine"]
    lines += [f"{rank:>4}  {word:<{width}}  {cosine:6.4f}"
              for rank, (word, cosine) in enumerate(neighbours, start=1)]
    return "\n".join(lines)
