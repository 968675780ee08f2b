"""The word2vec objectives' settings (negative sampling, hierarchical softmax, fastText's
subwords): their config keys and checks, what a run started from one of theirs must share,
their fastText export, and :class:`Word2VecSettings`, the one record of them from the config to
the kernels.

Imports neither numba nor NLTK: the config reads :data:`DECLARATION` (through the entries of
:data:`cbow.registry.OBJECTIVES`) to compose its keys and checks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cbow.config.rules import (BOOLEAN, Declaration, Rule, Values, integer, is_int, key, number,
                               one_of)
from cbow.parallel.executor import default_workers
from cbow.registry import or_list

if TYPE_CHECKING:
    from cbow.config import Config
    from cbow.data.vocab import Vocabulary
    from cbow.vectors.formats.fasttext_bin import FastTextModel

__all__ = ["DECLARATION", "INITIALISATIONS", "Word2VecSettings"]

#: Upper bound of ``model.negative``, which multiplies the work of every example (word2vec
#: draws 5 to 20 noise words; this is fifty times that): a typo is a config error, not a step
#: that never ends.
MAX_NEGATIVE = 1000
#: Hash buckets of the n-grams: input rows are int32, so words + buckets stay below 2**31.
MAX_BUCKET = 1 << 30
#: Characters of an n-gram (minn, maxn): fastText cuts 3 to 6, and the row table's memory
#: grows with maxn - minn; bounded so that an extra zero or three is a config error.
MAX_NGRAM = 100
#: The input vectors' initial ranges the kernels draw (``model.init``; see
#: :func:`cbow.models.word2vec.initialisation.initial_weights`); ``course`` is the course's draws.
INITIALISATIONS = ("word2vec", "gensim")
#: fastText's name of each objective's loss (its ``.bin`` header's ``loss``).
FASTTEXT_LOSS = {"negative": "ns", "hierarchical": "hs"}


@dataclass(frozen=True)
class Word2VecSettings:
    """What the word2vec objectives take from the config (see :data:`DECLARATION` for each).

    No defaults here: :meth:`from_config` reads every value from the config, the one place
    a default lives.
    """

    C: int              # model.C: context words on each side (word2vec's `window`)
    negative: int       # model.negative
    ns_exponent: float  # model.ns_exponent
    relu: bool          # model.hidden == "relu"
    init: str           # model.init
    shrink_window: bool  # model.shrink_window
    skip_saturated: bool  # model.skip_saturated
    fast_dot: bool      # train.fast_dot
    sample: float       # train.sample
    workers: int        # train.workers (null: the number of cores): the held-out loss's threads
    seed: int           # train.seed
    minn: int           # model.minn
    maxn: int           # model.maxn: 0, one input row per word (word2vec); > 0, subwords
    bucket: int         # model.bucket: the n-grams' rows (read with maxn > 0 only)

    @classmethod
    def from_config(cls, cfg: "Config") -> "Word2VecSettings":
        m, t = cfg.model, cfg.train
        return cls(C=m.C, negative=m.negative, ns_exponent=m.ns_exponent,
                   relu=m.hidden == "relu", init=m.init, shrink_window=m.shrink_window,
                   sample=t.sample, workers=t.workers or default_workers(), seed=t.seed,
                   minn=m.minn, maxn=m.maxn, bucket=m.bucket,
                   skip_saturated=m.skip_saturated, fast_dot=t.fast_dot)

    @property
    def ngram_rows(self) -> int:
        """Input rows beyond the words': the n-gram buckets, or none without subwords."""
        return self.bucket if self.maxn > 0 else 0


# ------------------------------------------------------------------------------- the keys
# In the order their problems are reported; `after` places each in its section (see key()).

_KEYS = {
    "model.negative": key(5, integer(1, MAX_NEGATIVE), "noise words per example (`negative`)",
                          identity=True),
    "model.ns_exponent": key(0.75, number("a number", lambda v: True),
                             "noise words are drawn from counts ** ns_exponent (`negative`)",
                             identity=True),
    "model.hidden": key("relu", one_of("relu", "linear"),
                        "`relu`: ReLU(mean of the context's input vectors + b1), the course's; "
                        "`linear`: their mean, word2vec's (word2vec objectives only)",
                        identity=True, exclusive=True),
    "model.init": key("course", one_of("course", *INITIALISATIONS),
                      "`course`: every weight uniform in [0, 1); `word2vec`: input vectors "
                      "uniform in +-0.5/N, output vectors zero; `gensim`: input vectors (and "
                      "n-gram rows) uniform in +-1/N, as gensim 4 and fastText draw them, output "
                      "vectors zero (word2vec objectives only)", identity=True, exclusive=True),
    "model.shrink_window": key(False, BOOLEAN, "draw each example's window in [1, C], as "
                               "word2vec does (word2vec objectives only)", identity=True,
                               exclusive=True),
    "train.sample": key(0.0, number("a number >= 0", lambda v: v >= 0),
                        "frequent-word subsampling threshold, word2vec's `sample` (0: off; "
                        "word2vec objectives only)", identity=True, after="train.dtype",
                        exclusive=True),
    "model.minn": key(3, integer(1, MAX_NGRAM),
                      "shortest character n-gram of `<word>` (with `maxn`)", identity=True),
    "model.maxn": key(0, integer(0, MAX_NGRAM),
                      "longest character n-gram of `<word>`; 0: no subwords "
                      "(word2vec); > 0: fastText's CBOW, each word's input rows are its own and "
                      "its n-grams' (word2vec objectives, `init: gensim` or `word2vec`)",
                      identity=True, exclusive=True),
    "model.bucket": key(2_000_000, Rule(lambda v: is_int(v) and 1 <= v <= MAX_BUCKET,
                                        f"an integer in [1, {MAX_BUCKET:,}]"),
                        "hash buckets of the n-grams: input rows beyond the words' (with `maxn` "
                        "> 0; bucket x N float32 weights: 800 MB for 2,000,000 x 100)",
                        identity=True),
    "model.skip_saturated": key(False, BOOLEAN, "as gensim, an output row whose score is at or "
                                "beyond +-6 takes no step; false: every row its exact gradient "
                                "step (word2vec objectives only)", identity=True, exclusive=True),
    "train.fast_dot": key(False, BOOLEAN, "let the compiler reorder the kernels' dot product "
                          "for the processor's vector width; its float32 bits then depend on "
                          "that width: a resume is exact on the same machine only (word2vec "
                          "objectives only)", identity=True, exclusive=True),
}


def _subwords(values: Values) -> bool:
    return is_int(values["model.maxn"]) and values["model.maxn"] > 0


def _check(values: Values, objective: str) -> list[str]:
    """Subword rows are drawn by a kernel's initialisation (the course's draws have no n-gram
    rows)."""
    if _subwords(values) and values["model.init"] == "course":
        schemes = or_list(INITIALISATIONS)
        return [f"{values.source('model.maxn')}: model.maxn {values['model.maxn']} (subwords) "
                f"draws the word and n-gram rows as {schemes} does; set model.init: {schemes}"]
    return []


def _consistent(values: Values) -> list[str]:
    """With subwords, n-grams of ``minn`` to ``maxn`` characters: none if ``minn > maxn``."""
    minn, maxn = values["model.minn"], values["model.maxn"]
    if _subwords(values) and is_int(minn) and minn > maxn:
        return [f"{values.source('model.minn')}: model.minn {minn} is longer than model.maxn "
                f"{maxn}: no n-gram would be cut; set minn <= maxn (or maxn: 0 for none)"]
    return []


# ----------------------------------------------------------------------------- the export

def fasttext_model(objective: str, arrays: dict, vocab: "Vocabulary", meta: dict,
                   source: str) -> "FastTextModel":
    """A run's model (with or without subwords) as fastText's ``.bin`` holds it: the run's own
    settings, every input row and the output rows.

    Hierarchical softmax's output rows are the inner nodes of cbow's Huffman tree, padded with a
    zero row to fastText's V rows; fastText numbers its tree's nodes its own way, so only the
    input rows (the word vectors) carry over there. ``epoch`` is the epochs trained.
    """
    import numpy as np

    from cbow.models.checkpoint import CheckpointError
    from cbow.vectors.formats.fasttext_bin import FastTextArgs, FastTextModel

    identity = meta["run_identity"]
    maxn = identity.get("model.maxn", 0)
    bucket = identity["model.bucket"] if maxn else 0
    inputs, outputs = arrays["input_vectors"], arrays["output_vectors"]
    V = len(vocab)
    if inputs.shape[0] != V + bucket:
        raise CheckpointError(f"{source}: {inputs.shape[0]} input rows for {V} words and "
                              f"{bucket} buckets")
    if outputs.shape[0] < V:  # hierarchical softmax: V - 1 inner nodes
        outputs = np.concatenate([outputs, np.zeros((V - outputs.shape[0], outputs.shape[1]),
                                                    outputs.dtype)])
    args = FastTextArgs(
        dim=identity["model.N"], ws=identity["model.C"], epoch=int(round(meta.get("epoch", 0))),
        min_count=identity["vocab.min_count"], neg=identity["model.negative"],
        loss=FASTTEXT_LOSS[objective], model="cbow", bucket=bucket,
        minn=identity.get("model.minn", 0) if maxn else 0, maxn=maxn, t=identity["train.sample"])
    return FastTextModel(args, vocab.words, vocab.counts, int(vocab.counts.sum()), inputs[:V],
                         inputs[V:], outputs)


DECLARATION = Declaration(
    family="word2vec",
    keys=_KEYS,
    requires={"train.dtype": ("float32", "model.objective {objective!r} trains float32 weights; "
                                         "set train.dtype: float32")},
    check=_check,
    consistent=_consistent,
    # the input rows are words then n-gram buckets, hashed under these settings; the output
    # layer follows the hidden one
    must_match=("model.hidden", "model.minn", "model.maxn", "model.bucket"),
    summary="both word2vec's, compiled per-example SGD",
    fasttext=fasttext_model,
    fasttext_vectors="input",
)
