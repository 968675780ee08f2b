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
    from pathlib import Path

    from cbow.errors import InputError
    from cbow.training.run import load_embeddings, refuse_run_file

    out = Path(args.out)
    for path in ([out, out.with_name("vocab.txt")] if args.format == "npy" and out.suffix == ".npy"
                 else [out]):
        refuse_run_file(path, f"the {args.format} export")
    embeddings = load_embeddings(args.run, which=args.which)
    if embeddings.which is None:
        raise InputError(f"{args.run} holds exported vectors (a vector file or folder), not a "
                         f"training run; export reads runs and checkpoints (to convert vectors "
                         f"in Python: Embeddings.load(path).save(out, format))")
    if args.format == "fasttext-bin":
        check_keeps_ngrams(embeddings, args.normalize)
    if args.normalize:
        embeddings = embeddings.normalized()
    if args.limit is not None:
        embeddings = embeddings.most_frequent(args.limit)
    model = None
    if args.format == "fasttext-bin":
        # a run whose objective fastText trains too, exporting its word vectors: the model as
        # fastText holds it (its settings, output rows); None for any other run
        from cbow.training.run import fasttext_model
        model = fasttext_model(args.run, embeddings.which)
        if model is not None and (args.normalize or args.limit is not None):
            model = these_words(model, embeddings)
    if model is not None:
        from cbow.vectors.formats.fasttext_bin import write_model
        written = [write_model(args.out, model)]
    else:
        written = embeddings.save(args.out, args.format)
    print(f"wrote {len(embeddings)} words x {embeddings.vector_size} dims "
          f"({embeddings.which} vectors{', normalized' if args.normalize else ''} of "
          f"{embeddings.source}) to {', '.join(map(str, written))}")
    return 0


def these_words(model, embeddings):
    """The run's fastText ``model`` cut to ``embeddings``' words, in their order (``--limit``),
    with their vectors (``--normalize``; a subword model keeps its own rows, which
    :func:`check_keeps_ngrams` lets through unnormalized only). The run's settings stay;
    negative sampling's output rows are the words' own, hierarchical softmax's tree cannot be
    cut to some of the words: its output rows are left zero."""
    import numpy as np

    from cbow.vectors.formats.fasttext_bin import FastTextModel

    index = {word: i for i, word in enumerate(model.words)}
    order = np.array([index[word] for word in embeddings.words], dtype=np.int64)
    word_rows = (model.word_rows[order] if model.args.maxn
                 else np.asarray(embeddings.vectors, dtype=model.word_rows.dtype))
    whole = len(order) == len(model.words)  # the same words in the same order (--normalize)
    output = (model.output[order] if model.args.loss == "ns"
              else model.output if whole else None)
    return FastTextModel(model.args, embeddings.words, model.counts[order], model.ntokens,
                         word_rows, model.ngram_rows, output)


def check_keeps_ngrams(embeddings, normalize: bool) -> None:
    """Refuse a fastText ``.bin`` of a subword run that would hold no n-gram rows: fastText and
    gensim would give every unseen word a zero vector, the point of such a model lost.

    Only the run's input vectors, as trained, are word and n-gram rows: ``--normalize`` (unit
    composed vectors are no rows of a model) and the other vector sets (``--which``) have none.
    """
    from cbow.errors import InputError
    from cbow.training.run import checkpoint_meta
    from cbow.vectors.subword import SubwordEmbeddings

    if isinstance(embeddings, SubwordEmbeddings):
        if normalize and embeddings.maxn > 0:
            raise InputError(
                "--normalize cannot go into a fastText .bin of a subword run: the file holds "
                "word and n-gram rows, which fastText averages into a word's vector, and unit "
                "vectors are no such rows (unseen words would get none); export the .bin "
                "without --normalize (fastText and gensim scale vectors when they compare "
                "them), or normalized vectors in another format")
        return
    if checkpoint_meta(embeddings.source).get("run_identity", {}).get("model.maxn", 0) > 0:
        raise InputError(
            f"--which {embeddings.which}: a fastText .bin of a subword run holds its input "
            f"vectors with their n-gram rows, and the {embeddings.which} vectors have no "
            f"n-gram rows (unseen words would get none); export --which input to "
            f"fasttext-bin, or the {embeddings.which} vectors in another format")
