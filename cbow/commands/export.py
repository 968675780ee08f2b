"""Export a run's word vectors for other tools: gensim, the word2vec C tool, numpy, and the
TensorFlow Embedding Projector.

    cbow export RUN_DIR --format word2vec|word2vec-bin|npy [--which mean|w1|w2] [--normalize]
                --out PATH
    cbow export RUN_DIR --format projector --out FOLDER [--limit K]
"""
from __future__ import annotations

HELP = "write a run's vectors as word2vec text/binary, .npy or Embedding Projector TSV"
FORMATS = ("word2vec", "word2vec-bin", "npy")  # cbow.formats.FORMATS, kept light to import
PROJECTOR = "projector"  # cbow.projector.write_projector: vectors.tsv + metadata.tsv


def add_arguments(parser) -> None:
    parser.add_argument("run", metavar="RUN_DIR",
                        help="training run folder (its newest checkpoint is used) or a checkpoint")
    parser.add_argument("--format", choices=FORMATS + (PROJECTOR,), default="word2vec",
                        help="word2vec: text; word2vec-bin: binary float32 (gensim, C tool); "
                             "npy: vectors.npy + vocab.txt; projector: vectors.tsv + "
                             "metadata.tsv in the --out folder, for the TensorFlow Embedding "
                             "Projector (default word2vec)")
    parser.add_argument("--which",
                        help="which vectors of the model; full softmax: mean (default, "
                             "(W1^T + W2)/2, the course's choice), w1 (W1^T) or w2 (W2)")
    parser.add_argument("--normalize", action="store_true", help="scale vectors to unit length")
    parser.add_argument("--out", required=True,
                        help="output file; for npy, a folder or a .npy path "
                             "(vocab.txt goes beside it); for projector, a folder")
    parser.add_argument("--limit", type=int, metavar="K",
                        help="projector: only the K most frequent words, most frequent first")


def run(args) -> int:
    from cbow.run import load_embeddings

    embeddings = load_embeddings(args.run, which=args.which, normalize=args.normalize)
    if embeddings.which is None:
        from cbow.errors import InputError
        raise InputError(f"{args.run} is a vector file, not a training run; export reads runs "
                         f"and checkpoints")
    if args.limit is not None and args.format != PROJECTOR:
        from cbow.errors import InputError
        raise InputError(f"--limit applies to --format {PROJECTOR} only")
    if args.format == PROJECTOR:
        from cbow.projector import write_projector
        written = write_projector(embeddings, args.out, limit=args.limit)
    else:
        written = embeddings.save(args.out, args.format)
    kept = len(embeddings) if args.limit is None else min(args.limit, len(embeddings))
    print(f"wrote {kept} words x {embeddings.vector_size} dims "
          f"({embeddings.which} vectors{', normalized' if args.normalize else ''} of "
          f"{embeddings.source}) to {', '.join(map(str, written))}")
    return 0
