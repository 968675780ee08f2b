"""Write a training run as one self-contained HTML page a person can open in any browser.

    cbow report RUN_DIR --out report.html [--which mean] [--words king love ...]

The page shows the config, the prepared corpus (files, tokens, V), the loss curves with the
unigram baseline, the benchmark scores over training, the nearest neighbours of a few frequent
and a few rare words, and a 2-D PCA map of the most frequent words. Its pictures are embedded:
it needs no network and no other file. Needs matplotlib (pip install 'cbow[plot]').
"""
from __future__ import annotations

HELP = "one self-contained HTML page about a run"


def add_arguments(parser) -> None:
    parser.add_argument("run", metavar="RUN_DIR", help="training run folder")
    parser.add_argument("--out", required=True, help="the HTML file to write")
    parser.add_argument("--which", help="vectors of the model (full softmax: mean (default), "
                                        "w1 or w2)")
    parser.add_argument("--words", nargs="+", metavar="WORD",
                        help="show the neighbours of these words instead of a few frequent and "
                             "a few rare ones")


def run(args) -> int:
    from cbow.analysis.report import write_report
    from cbow.training.run import refuse_run_file

    refuse_run_file(args.out, "the report")
    out = write_report(args.run, args.out, which=args.which, words=args.words)
    print(f"wrote {out} ({out.stat().st_size / 1e3:,.0f} kB); open it in a browser")
    return 0
