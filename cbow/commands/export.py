"""Export a run's word vectors for other tools: gensim, the word2vec C tool, numpy, and the
TensorFlow Embedding Projector.

    cbow export RUN_DIR --format FORMAT [--which VECTORS] [--normalize] [--limit K] --out PATH
"""
from __future__ import annotations

from cbow.registry import VECTOR_FORMATS, which_help

HELP = "write a run's vectors as word2vec text/binary, .npy or Embedding Projector TSV"


def add_arguments(parser) -> None:
    parser.add_argument("run", metavar="RUN_DIR",
                        help="training run folder (its newest checkpoint is used) or a checkpoint")
    parser.add_argument("--format", choices=VECTOR_FORMATS.names(), default="word2vec",
                        help=VECTOR_FORMATS.help() + " (default word2vec)")
    parser.add_argument("--which", help="which vectors of the model, by objective: "
                                        + which_help())
    parser.add_argument("--normalize", action="store_true", help="scale vectors to unit length")
    parser.add_argument("--out", required=True,
                        help="output file; for npy, a folder or a .npy path "
                             "(vocab.txt goes beside it); for projector, a folder")
    parser.add_argument("--limit", type=int, metavar="K",
                        help="only the K most frequent words, most frequent first")


def run(args) -> int:
    from cbow.training.run import load_embeddings

    embeddings = load_embeddings(args.run, which=args.which, normalize=args.normalize)
    if embeddings.which is None:
        from cbow.errors import InputError
        raise InputError(f"{args.run} holds exported vectors (a vector file or folder), not a "
                         f"training run; export reads runs and checkpoints (to convert vectors "
                         f"in Python: Embeddings.load(path).save(out, format))")
    if args.limit is not None:
        embeddings = embeddings.most_frequent(args.limit)
    model = None
    if args.format == "fasttext-bin" and not args.normalize and args.limit is None:
        # a run whose objective fastText trains too, exporting its word vectors: the whole
        # model as fastText holds it (its settings, output rows); None for any other run
        from cbow.training.run import fasttext_model
        model = fasttext_model(args.run, embeddings.which)
    if model is not None:
        from cbow.vectors.formats.fasttext_bin import write_model
        written = [write_model(args.out, model)]
    else:
        written = embeddings.save(args.out, args.format)
    print(f"wrote {len(embeddings)} words x {embeddings.vector_size} dims "
          f"({embeddings.which} vectors{', normalized' if args.normalize else ''} of "
          f"{embeddings.source}) to {', '.join(map(str, written))}")
    return 0
