"""word2vec's CBOW (negative sampling, hierarchical softmax; fastText's subwords with a row
table) as compiled per-example SGD kernels.

The modules, in the order a newcomer may read them:

- :mod:`~cbow.models.word2vec.settings`: the objectives' config keys and their checks, and
  ``Word2VecSettings``, what the objectives take from the config; no numba.
- :mod:`~cbow.models.word2vec.tables`: what is built once from the vocabulary (the noise
  distribution, the Huffman tree, keep probabilities, row tables); numpy only.
- :mod:`~cbow.models.word2vec.initialisation`: the initial weights; numpy only.
- :mod:`~cbow.models.word2vec.rng`: the generators' seeds and the draws the kernels make.
- :mod:`~cbow.models.word2vec.simd`: the dot products and the row prefetch, written for LLVM.
- :mod:`~cbow.models.word2vec.records`: the records a kernel takes; numpy only.
- :mod:`~cbow.models.word2vec.kernels`: one example's steps and the compiled kernel.
- :mod:`~cbow.models.word2vec.driver`: settings and arguments checked, a range cut into
  pieces for an executor, the held-out losses.
- :mod:`~cbow.models.word2vec.objective`: the trainer's objectives built on them.

The kernel-level API is importable from here; each name is loaded on first use, so that
importing a numpy-only module of this package (or the package) does not import numba.
"""
from __future__ import annotations

import importlib

#: name -> the module of this package that defines it.
_EXPORTS = {
    **dict.fromkeys(("NOISE_DOMAIN", "NOISE_GUIDE_BITS", "NegativeSampling",
                     "HierarchicalSoftmax", "Objective", "RowTable", "noise_distribution",
                     "keep_probabilities", "huffman_tree", "make_noise_guide"), "tables"),
    "INITIALISATIONS": "settings",
    "initial_weights": "initialisation",
    **dict.fromkeys(("worker_rng_states", "resize_rng_states", "subsample_key"), "rng"),
    "Piece": "records",
    **dict.fromkeys(("SATURATED", "STOP_CHECK_EVERY", "GENSIM_SIGMOID_TABLE"), "kernels"),
    **dict.fromkeys(("MAX_SENTENCE_LENGTH", "StepRules", "KernelSettings", "TrainResult",
                     "HeldOutLoss", "PieceResult", "TaskInputs", "train", "train_piece",
                     "held_out_loss", "train_range", "negative_sampling_loss",
                     "hierarchical_softmax_loss"), "driver"),
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
