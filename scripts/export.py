"""Export a run's word vectors for other tools: gensim, the word2vec C tool, numpy.

    python scripts/export.py RUN_DIR --format word2vec|word2vec-bin|npy [--which mean|w1|w2]
                             [--normalize] --out PATH
"""
import argparse
import sys

from cbow.cli import run_cli
from cbow.embeddings import FORMATS, WHICH, Embeddings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("run", metavar="RUN_DIR",
                        help="training run folder (its newest checkpoint is used) or a checkpoint")
    parser.add_argument("--format", choices=FORMATS, default="word2vec",
                        help="word2vec: text; word2vec-bin: binary float32 (gensim, C tool); "
                             "npy: vectors.npy + vocab.txt (default word2vec)")
    parser.add_argument("--which", choices=WHICH, default="mean",
                        help="mean: (W1^T + W2)/2, the course's choice; w1: W1^T; w2: W2 "
                             "(default mean)")
    parser.add_argument("--normalize", action="store_true", help="scale vectors to unit length")
    parser.add_argument("--out", required=True,
                        help="output file; for npy, a folder or a .npy path "
                             "(vocab.txt goes beside it)")
    args = parser.parse_args(argv)

    embeddings = Embeddings.from_run(args.run, which=args.which, normalize=args.normalize)
    written = embeddings.save(args.out, args.format)
    print(f"wrote {len(embeddings)} words x {embeddings.vector_size} dims "
          f"({args.which} vectors{', normalized' if args.normalize else ''} of "
          f"{embeddings.source}) to {', '.join(map(str, written))}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
