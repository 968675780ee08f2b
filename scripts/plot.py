"""Draw a run: a labelled 2-D PCA of chosen words' vectors, or the loss curve.

    python scripts/plot.py RUN_DIR --words king queen lord ... --out pca.png [--which mean]
    python scripts/plot.py RUN_DIR --loss --out loss.png
"""
import argparse
import sys

from cbow.cli import run_cli
from cbow.embeddings import WHICH
from cbow.plot import plot_loss, plot_run_words


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("run", metavar="RUN_DIR", help="training run folder (or a checkpoint)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--words", nargs="+", help="words to place on the PCA picture")
    what.add_argument("--loss", action="store_true",
                      help="plot training (and held-out) loss against the step instead")
    parser.add_argument("--which", choices=WHICH, default="mean",
                        help="vectors for --words: mean (default), w1 or w2")
    parser.add_argument("--out", required=True, help="picture file (.png, .svg, .pdf)")
    args = parser.parse_args(argv)

    if args.loss:
        out = plot_loss(args.run, args.out)
    else:
        out = plot_run_words(args.run, args.words, args.out, which=args.which)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
