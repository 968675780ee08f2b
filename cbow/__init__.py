"""cbow: CBOW word embeddings in numpy, course-exact and fast.

What a user needs, importable from here (each loaded on first use, so ``import cbow`` is quick)::

    import cbow
    cfg = cbow.load_config("configs/word2vec.yaml", ["train.epochs=1"])
    from cbow.training.loop import train
    result = train(cfg)                                # a run folder: cfg.out_dir
    vectors = cbow.load_embeddings(cfg.out_dir)        # an Embeddings
    vectors.most_similar("king")

``train`` and ``prepare`` live in the modules of those names (``cbow.training.loop.train``,
``cbow.data.prepare.prepare``), which a package attribute of the same name would hide.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: name -> the module that defines it.
_EXPORTS = {
    "Config": "cbow.config",
    "load_config": "cbow.config",
    "Embeddings": "cbow.vectors.embeddings",
    "load_embeddings": "cbow.training.run",
    "Vocabulary": "cbow.data.vocab",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cbow' has no attribute {name!r}")
