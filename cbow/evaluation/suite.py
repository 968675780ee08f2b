"""Several benchmark results together: as JSON (``cbow evaluate --json``), and the suite
of benchmark files a training run scores at every held-out evaluation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from cbow.evaluation.analogies import AnalogyResult, evaluate_analogies
from cbow.evaluation.files import read_analogies, read_word_pairs
from cbow.evaluation.lookup import by_frequency
from cbow.evaluation.pairs import PairsResult, evaluate_word_pairs
from cbow.vectors.embeddings import Embeddings


def _number(value: float) -> float | None:
    """JSON has no NaN: an undefined figure becomes null."""
    return None if math.isnan(value) else value


def pairs_to_dict(result: PairsResult) -> dict:
    return {"spearman": _number(result.spearman), "pearson": _number(result.pearson),
            "pairs_used": result.pairs_used, "pairs_total": result.pairs_total,
            "pairs_oov": result.pairs_oov, "oov_ratio": result.oov_ratio, "case": result.case,
            "pairs_subword": result.pairs_subword}


def analogies_to_dict(result: AnalogyResult) -> dict:
    def counts(r) -> dict:
        return {"accuracy": _number(r.accuracy), "correct": r.correct,
                "attempted": r.attempted, "total": r.total}

    return {**counts(result), "coverage": _number(result.coverage), "method": result.method,
            "restrict_vocab": result.restrict_vocab, "case": result.case,
            "sections": [{"name": s.name, **counts(s)} for s in result.sections]}


def to_json(results: Iterable[PairsResult | AnalogyResult]) -> dict:
    """Plain dicts (``json.dumps`` ready, NaN as None) of results, keyed by file.

    Returns
    -------
    dict
        ``{"pairs": {file: {spearman, pearson, pairs_used, pairs_total, pairs_oov, oov_ratio,
        case}}, "analogies": {file: {accuracy, correct, attempted, total, coverage, method,
        restrict_vocab, case, sections: [{name, accuracy, correct, attempted, total}]}}}``.
    """
    out: dict[str, dict] = {"pairs": {}, "analogies": {}}
    for result in results:
        if isinstance(result, PairsResult):
            out["pairs"][result.file] = pairs_to_dict(result)
        elif isinstance(result, AnalogyResult):
            out["analogies"][result.file] = analogies_to_dict(result)
        else:
            raise TypeError(f"expected PairsResult or AnalogyResult; got {type(result).__name__}")
    return out


@dataclass(frozen=True)
class BenchmarkSuite:
    """Benchmark files scored together, as training does at every held-out evaluation.

    The files are read (and so checked) when the suite is made, before any training.
    ``score`` returns one figure per file: ``"<stem> spearman"`` for word pairs and
    ``"<stem> accuracy"`` for analogies (3CosAdd over the ``restrict`` most frequent words),
    None where nothing could be scored.
    """

    pairs: tuple[str, ...] = ()
    analogies: tuple[str, ...] = ()
    restrict: int | None = None

    def __post_init__(self):
        for path in self.pairs:
            read_word_pairs(path)
        for path in self.analogies:
            read_analogies(path)

    def __bool__(self) -> bool:
        return bool(self.pairs or self.analogies)

    def score(self, embeddings: Embeddings) -> dict[str, float | None]:
        ranked = by_frequency(embeddings)  # so that `restrict` means the most frequent words
        figures: dict[str, float | None] = {}
        for path in self.pairs:
            figures[f"{Path(path).stem} spearman"] = _number(
                evaluate_word_pairs(ranked, path).spearman)
        for path in self.analogies:
            figures[f"{Path(path).stem} accuracy"] = _number(
                evaluate_analogies(ranked, path, restrict_vocab=self.restrict).accuracy)
        return figures
