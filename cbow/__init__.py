"""cbow: CBOW word embeddings in numpy, course-exact and fast.

What a user needs, importable from here (each loaded on first use, so ``import cbow`` is quick)::

    import cbow
    model = cbow.train(sentences, N=100, C=5, min_count=5, epochs=5, workers=2)
    model.vectors.most_similar("king")                 # an Embeddings
    model.save("runs/mine")                            # else the run folder is temporary

    cfg = cbow.load_config("configs/word2vec.yaml", ["train.epochs=1"])
    cbow.train(cfg)                                    # a config as it is: into cfg.out_dir
    vectors = cbow.load_embeddings(cfg.out_dir)

The packages follow the pipeline: :mod:`cbow.data` (text to ids), :mod:`cbow.models`,
:mod:`cbow.training`, :mod:`cbow.vectors`, :mod:`cbow.evaluation`, :mod:`cbow.analysis`, with
:mod:`cbow.parallel` (threads, Dask) beneath them; :mod:`cbow.course` is the course's exercise.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: name -> the module that defines it.
_EXPORTS = {
    "Config": "cbow.config",
    "load_config": "cbow.config",
    "train": "cbow.training.api",
    "TrainedModel": "cbow.training.api",
    "prepare_corpus": "cbow.training.preparation",
    "Embeddings": "cbow.vectors.embeddings",
    "SubwordEmbeddings": "cbow.vectors.subword",
    "load_embeddings": "cbow.training.run",
    "Vocabulary": "cbow.data.vocab",
    "UserError": "cbow.errors",
    "ConfigError": "cbow.config",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cbow' has no attribute {name!r}")
