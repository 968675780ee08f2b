"""Draw a run: a labelled 2-D PCA of chosen words' vectors, or the loss curve.

    cbow plot RUN_DIR --words king queen lord ... --out pca.png [--which mean]
    cbow plot RUN_DIR --loss --out loss.png
"""
from __future__ import annotations

from cbow.registry import which_help

HELP = "PCA picture of words, or the loss curve"


def add_arguments(parser) -> None:
    parser.add_argument("run", metavar="RUN_DIR", help="training run folder (or a checkpoint)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--words", nargs="+", help="words to place on the PCA picture")
    what.add_argument("--loss", action="store_true",
                      help="plot training (and held-out) loss against the step instead")
    parser.add_argument("--which", help="vectors for --words, by objective: " + which_help())
    parser.add_argument("--out", required=True, help="picture file (.png, .svg, .pdf)")


def run(args) -> int:
    from cbow.analysis.plot import plot_loss, plot_run_words
    from cbow.training.run import refuse_run_file

    refuse_run_file(args.out, "the picture")
    if args.loss:
        out = plot_loss(args.run, args.out)
    else:
        out = plot_run_words(args.run, args.words, args.out, which=args.which)
    print(f"wrote {out}")
    return 0
