"""Show the words whose vectors are nearest (by cosine) to each query word.

    python scripts/similar.py RUN_DIR_OR_VECTOR_FILE king queen [--topn 10] [--which mean]
"""
import argparse
import sys

from cbow.cli import run_cli
from cbow.embeddings import WHICH, Embeddings, format_neighbours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("source", metavar="RUN_DIR_OR_VECTOR_FILE",
                        help="training run folder, checkpoint, or exported vectors "
                             "(word2vec text/binary, .npy, or an npy export folder)")
    parser.add_argument("words", nargs="+", help="query words")
    parser.add_argument("--topn", type=int, default=10, help="neighbours per word (default 10)")
    parser.add_argument("--which", choices=WHICH,
                        help="vectors of a run: mean (default), w1 or w2; not for vector files")
    args = parser.parse_args(argv)

    embeddings = Embeddings.from_path(args.source, which=args.which)
    embeddings.check_words(args.words)  # every unknown word in one error, before any output
    tables = [format_neighbours(word, embeddings.most_similar(word, topn=args.topn))
              for word in args.words]
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
