"""Export a run's word vectors for other tools: gensim, the word2vec C tool, numpy.

    cbow export RUN_DIR --format word2vec|word2vec-bin|npy [--which mean|w1|w2] [--normalize]
                --out PATH
"""
from __future__ import annotations

HELP = "write a run's vectors as word2vec text/binary or .npy"
FORMATS = ("word2vec", "word2vec-bin", "npy")  # cbow.formats.FORMATS, kept light to import


def add_arguments(parser) -> None:
    parser.add_argument("run", metavar="RUN_DIR",
                        help="training run folder (its newest checkpoint is used) or a checkpoint")
    parser.add_argument("--format", choices=FORMATS, default="word2vec",
                        help="word2vec: text; word2vec-bin: binary float32 (gensim, C tool); "
                             "npy: vectors.npy + vocab.txt (default word2vec)")
    parser.add_argument("--which",
                        help="which vectors of the model; full softmax: mean (default, "
                             "(W1^T + W2)/2, the course's choice), w1 (W1^T) or w2 (W2)")
    parser.add_argument("--normalize", action="store_true", help="scale vectors to unit length")
    parser.add_argument("--out", required=True,
                        help="output file; for npy, a folder or a .npy path "
                             "(vocab.txt goes beside it)")


def run(args) -> int:
    from cbow.run import load_embeddings

    embeddings = load_embeddings(args.run, which=args.which, normalize=args.normalize)
    if embeddings.which is None:
        from cbow.errors import InputError
        raise InputError(f"{args.run} is a vector file, not a training run; export reads runs "
                         f"and checkpoints")
    written = embeddings.save(args.out, args.format)
    print(f"wrote {len(embeddings)} words x {embeddings.vector_size} dims "
          f"({embeddings.which} vectors{', normalized' if args.normalize else ''} of "
          f"{embeddings.source}) to {', '.join(map(str, written))}")
    return 0
