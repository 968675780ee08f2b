"""Intrinsic evaluation of word vectors: word-pair similarity and analogy benchmarks.

Everything here is a function of the vectors and a benchmark file; nothing is trained or cached.
The names below are the package's API, each defined in one module:

- :mod:`~cbow.evaluation.files`: reading benchmark files (WordSim-353, SimLex-999, MEN,
  ``questions-words.txt``);
- :mod:`~cbow.evaluation.lookup`: how benchmark words meet the vocabulary (the ``case`` modes,
  :func:`by_frequency`);
- :mod:`~cbow.evaluation.pairs`: word-pair similarity (Spearman, Pearson);
- :mod:`~cbow.evaluation.analogies`: analogies (3CosAdd, 3CosMul), answered in bulk;
- :mod:`~cbow.evaluation.suite`: results as JSON, and the benchmarks a training run scores at
  every held-out evaluation (:class:`BenchmarkSuite`).

Agreement with gensim (4.x ``KeyedVectors``; float64 vectors)
    * word pairs: ``evaluate_word_pairs(path, case_insensitive=True)`` with ``case="auto"`` on an
      all-lower-case vocabulary, or with ``case="insensitive"`` on any vocabulary; with
      ``case_insensitive=False`` and ``case="exact"``. gensim's ``restrict_vocab`` (300,000 by
      default) must cover the whole vocabulary. gensim reports the OOV ratio in percent; here it
      is a fraction.
    * analogies: ``evaluate_word_analogies(path, restrict_vocab=k, case_insensitive=...)`` with
      ``restrict_vocab=k``, ``method="3cosadd"`` and the case settings above: the same correct
      and attempted counts. gensim's 3CosMul is ``most_similar_cosmul`` with ``epsilon=1e-6``.
    * differences: gensim skips malformed lines, here they are errors; gensim reports an
      accuracy of 0 for a section with no attempted question, here it is NaN (``null`` in JSON).
      A pair listed twice (wordsim353.tsv has money-cash and bank-money twice) gets the same
      cosine twice here, a tie; gensim's two cosines can differ in the last bit, which moves its
      Spearman by about 1e-7.
"""
from __future__ import annotations

from cbow.evaluation.analogies import (COSMUL_EPSILON, METHODS, AnalogyResult, SectionResult,
                                       answer_analogies, best_answers, evaluate_analogies)
from cbow.evaluation.files import (AnalogySection, BenchmarkFileError, WordPair, read_analogies,
                                   read_word_pairs)
from cbow.evaluation.lookup import CASES, by_frequency, resolve_case
from cbow.evaluation.pairs import (PairsResult, average_ranks, evaluate_word_pairs,
                                   pair_similarities, pearson, spearman)
from cbow.evaluation.suite import BenchmarkSuite, analogies_to_dict, pairs_to_dict, to_json

__all__ = ["AnalogyResult", "AnalogySection", "BenchmarkFileError", "BenchmarkSuite", "CASES",
           "COSMUL_EPSILON", "METHODS", "PairsResult", "SectionResult", "WordPair",
           "analogies_to_dict", "answer_analogies", "average_ranks", "best_answers",
           "by_frequency", "evaluate_analogies", "evaluate_word_pairs", "pair_similarities",
           "pairs_to_dict", "pearson", "read_analogies", "read_word_pairs", "resolve_case",
           "spearman", "to_json"]
