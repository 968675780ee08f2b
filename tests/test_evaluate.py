"""cbow.evaluation.evaluate and the evaluate command: hand-computed figures, malformed files, and agreement
with gensim's evaluate_word_pairs / evaluate_word_analogies on the same vectors."""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cbow.commands import evaluate as command
from cbow import evaluation as ev
from cbow.vectors.embeddings import Embeddings
from cbow.errors import UserError
from cbow.models.baseline import unigram_cross_entropy

REPO_ROOT = Path(__file__).resolve().parents[1]


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def on_circle(degrees: float) -> list[float]:
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]


# -------------------------------------------------------------------------------- statistics

def test_average_ranks_share_tied_ranks():
    assert ev.average_ranks([10, 20, 20, 30]).tolist() == [1, 2.5, 2.5, 4]
    assert ev.average_ranks([3, 1, 3, 3]).tolist() == [3, 1, 3, 3]  # ranks 2, 3, 4 -> 3
    assert ev.average_ranks([5.0]).tolist() == [1]


def test_spearman_and_pearson_by_hand():
    # Ranks of x: 1, 2.5, 2.5, 4 (centred -1.5, 0, 0, 1.5); of y: 1, 2, 3, 4 (-1.5, -.5, .5, 1.5).
    # Spearman = 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10).
    x, y = [1, 2, 2, 3], [0.0, 0.6, 0.8, 1.0]
    assert ev.spearman(x, y) == pytest.approx(3 / math.sqrt(10), rel=1e-14)
    # x centred: -1, 0, 0, 1; y centred: -.6, 0, .2, .4 -> 1 / sqrt(2 * 0.56).
    assert ev.pearson(x, y) == pytest.approx(1 / math.sqrt(1.12), rel=1e-14)
    assert ev.spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0, abs=1e-15)
    assert math.isnan(ev.pearson([1.0], [2.0]))
    assert math.isnan(ev.spearman([1, 1, 1], [1, 2, 3]))


def test_statistics_match_scipy_with_many_ties():
    from scipy import stats  # a dependency of gensim, which the tests need

    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, size=200).astype(float)  # heavy ties
    y = x + rng.integers(0, 4, size=200)
    assert ev.spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    assert ev.pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)


def test_unigram_cross_entropy_by_hand():
    # counts 2, 1, 0 over 3 training tokens, V = 3: p = 3/6, 2/6, 1/6.
    # Held out [0, 2]: -(log(1/2) + log(1/6)) / 2 = log(12) / 2.
    assert unigram_cross_entropy([0, 0, 1], [0, 2], 3) == pytest.approx(math.log(12) / 2,
                                                                           rel=1e-14)
    # No training tokens: the uniform model, log V.
    assert unigram_cross_entropy([], [4, 1], 5) == pytest.approx(
        math.log(5), rel=1e-14)
    with pytest.raises(UserError, match=r"\[0, 3\)"):
        unigram_cross_entropy([0, 3], [0], 3)
    with pytest.raises(UserError, match="empty"):
        unigram_cross_entropy([0], [], 3)


# -------------------------------------------------------------------------------- word pairs

@pytest.fixture
def plane() -> Embeddings:
    """Five 2-D words whose cosines with ``a`` are 0, 0.6, 0.8 and 1."""
    return Embeddings(["a", "b", "c", "d", "e"],
                      [[1, 0], [0, 1], [0.6, 0.8], [0.8, 0.6], [2, 0]])


PAIRS = ("# word1 word2 score\n"
         "a b 1\n"
         "\n"
         "a\tc\t2\n"
         "A d 2\n"          # found as 'a' when benchmark words are lower-cased
         "a e 3.0\r\n"
         "a zebra 5\n"      # out of vocabulary
         "qq a 1\n")        # out of vocabulary


def test_word_pairs_by_hand(plane, tmp_path):
    path = write(tmp_path, "pairs.txt", PAIRS)
    result = ev.evaluate_word_pairs(plane, path)
    # Used: scores 1, 2, 2, 3 against cosines 0, 0.6, 0.8, 1, as in
    # test_spearman_and_pearson_by_hand.
    assert result.case == "lower"
    assert (result.pairs_used, result.pairs_total, result.pairs_oov) == (4, 6, 2)
    assert result.oov_ratio == pytest.approx(2 / 6)
    assert result.spearman == pytest.approx(3 / math.sqrt(10), rel=1e-12)
    assert result.pearson == pytest.approx(1 / math.sqrt(1.12), rel=1e-12)
    assert result.file == str(path)


def test_word_pairs_exact_case_misses_upper_case_words(plane, tmp_path):
    path = write(tmp_path, "pairs.txt", PAIRS)
    result = ev.evaluate_word_pairs(plane, path, case="exact")
    # 'A d' is now out of vocabulary: scores 1, 2, 3 against cosines 0, 0.6, 1. Same order:
    # Spearman 1. Pearson: Sxy = 4.2 - 6 * 1.6 / 3 = 1, Sxx = 2, Syy = 1.36 - 1.6**2 / 3 = 38/75.
    assert (result.pairs_used, result.pairs_oov) == (3, 3)
    assert result.spearman == pytest.approx(1.0, rel=1e-12)
    assert result.pearson == pytest.approx(1 / math.sqrt(2 * 38 / 75), rel=1e-12)


def test_word_pairs_with_words_and_vectors_instead_of_embeddings(tmp_path):
    path = write(tmp_path, "pairs.txt", "x y 1\nx z 2\nz y 0\n")
    words, vectors = ["x", "y", "z"], np.array([[1.0, 0.0], on_circle(60), on_circle(30)])
    result = ev.evaluate_word_pairs((words, vectors), path)
    # Cosines 0.5, c = cos 30 = 0.866, c against scores 1, 2, 0. Pearson: scores centred -> 0, 1,
    # -1; so r = (c - c) / ... = 0. Spearman: ranks 2, 3, 1 against 1, 2.5, 2.5 (a tie) -> 0 too.
    assert result.pairs_used == 3
    assert result.pearson == pytest.approx(0.0, abs=1e-15)
    assert result.spearman == pytest.approx(0.0, abs=1e-15)


def test_too_few_pairs_give_nan_and_json_null(plane, tmp_path):
    path = write(tmp_path, "pairs.txt", "a b 1\na zebra 2\n")
    result = ev.evaluate_word_pairs(plane, path)
    assert (result.pairs_used, result.pairs_total) == (1, 2)
    assert math.isnan(result.spearman) and math.isnan(result.pearson)
    data = ev.to_json([result])["pairs"][str(path)]
    assert data["spearman"] is None and data["pearson"] is None
    assert json.loads(json.dumps(data, allow_nan=False)) == data  # valid JSON: no NaN


# --------------------------------------------------------------------------------- analogies

@pytest.fixture
def royals() -> Embeddings:
    return Embeddings(["man", "woman", "king", "queen", "apple", "princess"],
                      [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 1], [-1, 2, 1.5]])


def test_analogies_3cosadd_by_hand(tmp_path):
    # man:king :: woman:?  query unit(king) - man + woman = (-.293, 1, .707): queen scores
    # .707 + .5 = 1.207, apple .707. woman:queen :: man:? -> king (1.207) by symmetry.
    # king:queen :: man:? query (.293, .707, 0): woman .707, apple 0.
    vectors = Embeddings(["man", "woman", "king", "queen", "apple"],
                         [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 1]])
    path = write(tmp_path, "questions.txt",
                 ": royal\n"
                 "man king woman queen\n"
                 "Woman Queen Man King\n"       # lower-cased: the vocabulary is lower-case
                 "man king woman apple\n"       # the model answers queen: wrong
                 ": fruit\n"
                 "man woman apple pear\n"       # pear is unknown: not attempted
                 "\n"
                 "king queen man woman\n")
    result = ev.evaluate_analogies(vectors, path)
    assert result.method == "3cosadd" and result.case == "lower" and result.restrict_vocab == 5
    assert [(s.name, s.correct, s.attempted, s.total) for s in result.sections] == [
        ("royal", 2, 3, 3), ("fruit", 1, 1, 2)]
    assert (result.correct, result.attempted, result.total) == (3, 4, 5)
    assert result.accuracy == 0.75 and result.coverage == 0.8
    assert result.sections[0].accuracy == pytest.approx(2 / 3)
    assert ev.answer_analogies(vectors, [("man", "king", "woman"), ("king", "queen", "man"),
                                         ("man", "pear", "king")]) == ["queen", "woman", None]


def test_3cosmul_prefers_what_3cosadd_does_not(tmp_path):
    # On the unit circle: a at 0 deg, b at 30, c at 90; candidates x at 75, y at 165.
    # 3CosAdd: x: cos45 - cos75 + cos15 = 1.414; y: cos135 - cos165 + cos75 = 0.518 -> x.
    # 3CosMul with cos' = (1 + cos) / 2: x: .854 * .983 / (.629 + eps) = 1.33;
    # y: .146 * .629 / (.017 + eps) = 5.11 -> y (dividing by y's small cos'(y, a) wins).
    angles = {"a": 0, "b": 30, "c": 90, "x": 75, "y": 165}
    vectors = Embeddings(list(angles), [on_circle(d) for d in angles.values()])

    def by_hand(method):
        def cos(u, v):
            return math.cos(math.radians(angles[u] - angles[v]))

        def shifted(u, v):
            return (1 + cos(u, v)) / 2

        score = {"3cosadd": lambda w: cos(w, "b") - cos(w, "a") + cos(w, "c"),
                 "3cosmul": lambda w: shifted(w, "b") * shifted(w, "c") / (shifted(w, "a") + 1e-3)}
        return max(["x", "y"], key=score[method])

    assert (by_hand("3cosadd"), by_hand("3cosmul")) == ("x", "y")
    path = write(tmp_path, "q.txt", ": s\na b c x\na b c y\n")
    add = ev.evaluate_analogies(vectors, path, method="3cosadd")
    mul = ev.evaluate_analogies(vectors, path, method="3CosMul")
    assert (add.correct, add.attempted, mul.correct, mul.attempted) == (1, 2, 1, 2)
    assert mul.method == "3cosmul"
    assert ev.answer_analogies(vectors, [("a", "b", "c")]) == ["x"]
    assert ev.answer_analogies(vectors, [("a", "b", "c")], method="3cosmul") == ["y"]


def test_restrict_vocab_limits_answers_and_questions(royals, tmp_path):
    # princess (row 5) beats queen for man:king :: woman:? -- (.293 + 2 + 1.061) / 2.693 = 1.245
    # against 1.207 -- unless only the first 5 rows are searched.
    path = write(tmp_path, "q.txt", ": royal\nman king woman queen\nwoman queen man king\n"
                                    "man king woman princess\n")
    full = ev.evaluate_analogies(royals, path)
    top5 = ev.evaluate_analogies(royals, path, restrict_vocab=5)
    assert (full.correct, full.attempted, full.total) == (2, 3, 3)
    assert (top5.correct, top5.attempted, top5.total) == (2, 2, 3)  # princess is out of reach
    assert top5.restrict_vocab == 5 and full.restrict_vocab == 6
    assert ev.answer_analogies(royals, [("man", "king", "woman")]) == ["princess"]
    assert ev.answer_analogies(royals, [("man", "king", "woman")], restrict_vocab=5) == ["queen"]
    assert ev.evaluate_analogies(royals, path, restrict_vocab=10**6).restrict_vocab == 6
    for bad in (0, -3, 2.5, True):
        with pytest.raises(UserError, match="restrict_vocab"):
            ev.evaluate_analogies(royals, path, restrict_vocab=bad)


def test_case_modes_with_a_mixed_case_vocabulary(tmp_path):
    # 'Queen' (row 3) is a variant of 'queen' that scores a little higher for man:king::woman:?
    # (1.217 against 1.207). exact: the answer 'Queen' is not 'queen'. insensitive: both are
    # QUEEN, so the answer is right; the question words are found through their upper case.
    vectors = Embeddings(["man", "woman", "king", "Queen", "queen", "apple"],
                         [[1, 0, 0], [0, 1, 0], [1, 0, 1], [-0.05, 1, 1], [0, 1, 1], [0, 0, 1]])
    path = write(tmp_path, "q.txt", ": s\nman king woman queen\nMAN KING WOMAN QUEEN\n")
    exact = ev.evaluate_analogies(vectors, path, case="exact")
    auto = ev.evaluate_analogies(vectors, path)
    insensitive = ev.evaluate_analogies(vectors, path, case="insensitive")
    lower = ev.evaluate_analogies(vectors, path, case="lower")
    assert (exact.case, auto.case, insensitive.case, lower.case) == (
        "exact", "exact", "insensitive", "lower")
    assert (exact.correct, exact.attempted) == (0, 1)
    assert (auto.correct, auto.attempted) == (0, 1)
    assert (lower.correct, lower.attempted) == (0, 2)
    assert (insensitive.correct, insensitive.attempted) == (2, 2)
    assert ev.answer_analogies(vectors, [("man", "king", "woman")], case="insensitive") == ["Queen"]
    # man:queen :: apple:? -- query (-1, .707, 1.707): Queen 1.742, woman .707, king .5. A variant
    # of a question word is never the answer: 'Queen' is excluded with 'queen'.
    assert ev.answer_analogies(vectors, [("man", "queen", "apple")],
                               case="insensitive") == ["woman"]
    assert ev.answer_analogies(vectors, [("man", "queen", "apple")], case="exact") == ["Queen"]
    with pytest.raises(UserError, match="case must be one of"):
        ev.evaluate_analogies(vectors, path, case="upper")


def test_by_frequency_orders_rows_by_count():
    vectors = Embeddings(["a", "b", "c"], np.eye(3), counts=[1, 5, 5])
    ordered = ev.by_frequency(vectors)
    assert ordered.words == ["b", "c", "a"]
    assert ordered.counts.tolist() == [5, 5, 1]
    assert np.array_equal(ordered.vectors, np.eye(3)[[1, 2, 0]])
    no_counts = Embeddings(["a", "b"], np.eye(2))
    assert ev.by_frequency(no_counts) is no_counts


def test_to_json_figures(royals, tmp_path):
    pairs = write(tmp_path, "p.txt", "man woman 1\nking queen 2\nman apple 3\nman zebra 1\n")
    questions = write(tmp_path, "q.txt", ": royal\nman king woman queen\n: empty\na b c d\n")
    data = ev.to_json([ev.evaluate_word_pairs(royals, pairs),
                       ev.evaluate_analogies(royals, questions)])
    assert set(data) == {"pairs", "analogies"}
    p = data["pairs"][str(pairs)]
    assert (p["pairs_used"], p["pairs_total"], p["pairs_oov"], p["oov_ratio"]) == (3, 4, 1, 0.25)
    assert isinstance(p["spearman"], float) and isinstance(p["pearson"], float)
    a = data["analogies"][str(questions)]
    assert (a["accuracy"], a["correct"], a["attempted"], a["total"]) == (0.0, 0, 1, 2)
    assert a["sections"] == [
        {"name": "royal", "accuracy": 0.0, "correct": 0, "attempted": 1, "total": 1},
        {"name": "empty", "accuracy": None, "correct": 0, "attempted": 0, "total": 1}]
    assert json.loads(json.dumps(data, allow_nan=False)) == data


# ---------------------------------------------------------------------------- malformed files

PAIRS_CASES = [
    ("a b\n", 1, "three fields"),
    ("# header\na b 1\na b high\n", 3, "expected a number"),
    ("a b 1\n\na b nan\n", 3, "expected a number"),
    ("word1 word2 POS score\n", 1, "start it with '#'"),
    (b"a b 1\n\xff\xfe b 2\n", 2, "UTF-8"),
]


@pytest.mark.parametrize("content, line, expected", PAIRS_CASES)
def test_malformed_pairs_file_names_file_and_line(tmp_path, content, line, expected):
    path = write(tmp_path, "bad-pairs.txt", content)
    with pytest.raises(ev.BenchmarkFileError) as caught:
        ev.read_word_pairs(path)
    message = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert message.startswith(f"{path}, line {line}: ") and expected in message


ANALOGY_CASES = [
    ("a b c d\n: s\n", 1, "section header ': name' before the first question"),
    (": s\na b c\n", 2, "four words"),
    (": s\na b c d\n\na b c d e\n", 4, "got 5 fields"),
    (": \na b c d\n", 1, "the name is missing"),
    (b": s\na b c d\n\xe9t\xe9 b c d\n", 3, "expected UTF-8"),
]


@pytest.mark.parametrize("content, line, expected", ANALOGY_CASES)
def test_malformed_analogy_file_names_file_and_line(tmp_path, content, line, expected):
    path = write(tmp_path, "bad-questions.txt", content)
    with pytest.raises(ev.BenchmarkFileError) as caught:
        ev.read_analogies(path)
    message = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert message.startswith(f"{path}, line {line}: ") and expected in message


def test_missing_empty_and_folder_benchmark_files(tmp_path, plane):
    missing = tmp_path / "nowhere.tsv"
    for evaluate in (ev.evaluate_word_pairs, ev.evaluate_analogies):
        with pytest.raises(ev.BenchmarkFileError, match="no such benchmark file") as caught:
            evaluate(plane, missing)
        assert str(missing) in str(caught.value) and "gensim/test/test_data" in str(caught.value)
    empty = write(tmp_path, "empty.txt", "# only a comment\n\n")
    with pytest.raises(ev.BenchmarkFileError, match="no word pairs found") as caught:
        ev.read_word_pairs(empty)
    assert str(empty) in str(caught.value)
    with pytest.raises(ev.BenchmarkFileError, match="no analogy questions found"):
        ev.read_analogies(write(tmp_path, "headers.txt", ": a\n: b\n"))
    with pytest.raises(ev.BenchmarkFileError, match="is a folder"):
        ev.read_word_pairs(tmp_path)


def test_reader_details(tmp_path):
    pairs = ev.read_word_pairs(write(tmp_path, "p.txt", "\ufeffx\ty\t1.5\r\n#c\r\nx  z  -2e1\r\n"))
    assert pairs == [ev.WordPair("x", "y", 1.5, 1), ev.WordPair("x", "z", -20.0, 3)]
    sections = ev.read_analogies(write(tmp_path, "q.txt", ": one\n\ta b\tc d \n:two words\n"))
    assert sections == [ev.AnalogySection("one", (("a", "b", "c", "d"),), 1),
                        ev.AnalogySection("two words", (), 3)]


# ----------------------------------------------------------------------- agreement with gensim

def _benchmarks() -> dict[str, str]:
    from gensim.test.utils import datapath  # gensim is a test dependency: no skipping

    return {name: datapath(name)
            for name in ("wordsim353.tsv", "simlex999.txt", "questions-words.txt")}


@pytest.fixture(scope="module")
def benchmarks() -> dict[str, str]:
    return _benchmarks()


@pytest.fixture(scope="module")
def structured(benchmarks) -> tuple[list[str], np.ndarray]:
    """Lower-case words of the three benchmarks (one in nine left out, plus fillers) in a random
    order, with float64 vectors in which many analogy pairs share their section's offset."""
    rng = np.random.default_rng(12)
    words, links = [], []
    for name in ("wordsim353.tsv", "simlex999.txt"):
        for pair in ev.read_word_pairs(benchmarks[name]):
            words += [pair.word1.lower(), pair.word2.lower()]
    for section in ev.read_analogies(benchmarks["questions-words.txt"]):
        for question in section.questions:
            a, b, c, d = (w.lower() for w in question)
            words += [a, b, c, d]
            links += [(a, b, section.name), (c, d, section.name)]
    words = [w for i, w in enumerate(dict.fromkeys(words)) if i % 9 != 4]
    words += [f"filler{i}" for i in range(200)]
    words = [words[i] for i in rng.permutation(len(words))]
    N = 16
    offsets: dict[str, np.ndarray] = {}
    vector: dict[str, np.ndarray] = {}
    # Chain the pairs: the second word of a pair is the first plus the section's offset, plus
    # noise; pairs whose words already have vectors break the pattern. Accuracy is in between.
    for a, b, name in dict.fromkeys(links):
        offset = offsets.setdefault(name, rng.normal(size=N))
        noise = rng.normal(size=N) * 0.7
        if a in vector and b in vector:
            continue
        if a in vector:
            vector[b] = vector[a] + offset + noise
        elif b in vector:
            vector[a] = vector[b] - offset + noise
        else:
            vector[a] = rng.normal(size=N)
            vector[b] = vector[a] + offset + noise
    return words, np.array([vector[w] if w in vector else rng.normal(size=N) for w in words])


@pytest.fixture(scope="module")
def unique_pairs(benchmarks, tmp_path_factory) -> dict[str, Path]:
    """wordsim353.tsv and simlex999.txt without their repeated pairs (see
    test_repeated_pairs_are_exact_ties), keeping the first line of each."""
    folder = tmp_path_factory.mktemp("benchmarks")
    out = {}
    for name in ("wordsim353.tsv", "simlex999.txt"):
        seen, lines = set(), []
        for pair in ev.read_word_pairs(benchmarks[name]):
            key = frozenset((pair.word1.lower(), pair.word2.lower()))
            if key not in seen:
                seen.add(key)
                lines.append(f"{pair.word1}\t{pair.word2}\t{pair.score!r}\n")
        assert len(lines) > 300
        out[name] = write(folder, name, "".join(lines))
    return out


def keyed_vectors(words, vectors):
    from gensim.models import KeyedVectors
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float64)
    kv.add_vectors(words, vectors)
    assert kv.vectors.dtype == np.float64
    return kv


def gensim_counts(sections) -> list[tuple[int, int]]:
    return [(len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections]


def assert_pairs_agree(ours: ev.PairsResult, theirs) -> None:
    (pearson, _), (spearman, _), oov_percent = theirs
    assert ours.spearman == pytest.approx(spearman, abs=1e-12)
    assert ours.pearson == pytest.approx(pearson, abs=1e-12)
    assert 100 * ours.oov_ratio == pytest.approx(oov_percent, abs=1e-12)


def assert_analogies_agree(ours: ev.AnalogyResult, theirs) -> None:
    score, sections = theirs
    assert sections[-1]["section"] == "Total accuracy"
    assert [s["section"] for s in sections[:-1]] == [s.name for s in ours.sections]
    ours_counts = [(s.correct, s.attempted) for s in ours.sections]
    assert ours_counts + [(ours.correct, ours.attempted)] == gensim_counts(sections)
    assert ours.accuracy == pytest.approx(score, abs=1e-12)


def test_structured_vectors_make_a_meaningful_comparison(structured, benchmarks):
    words, vectors = structured
    result = ev.evaluate_analogies(structured, benchmarks["questions-words.txt"])
    # Neither all right nor all wrong, and many questions attempted, in every section.
    assert 0.2 < result.accuracy < 0.9 and result.attempted > 5000
    assert all(s.attempted > 0 for s in result.sections)
    assert len(words) > 2000 and vectors.dtype == np.float64


def test_repeated_pairs_are_exact_ties(structured, benchmarks):
    """wordsim353.tsv lists money-cash twice (and bank-money), simlex999.txt sly-strange: the
    same two vectors, so the same cosine. Ours are equal numbers, a tie sharing its ranks;
    gensim's may differ in the last bit, which moves its Spearman (by ~3e-7 here). With the
    repeats set equal in gensim's own similarities, the Spearman is ours to 1e-12."""
    from scipy import stats

    kv = keyed_vectors(*structured)
    repeats = 0
    for name in ("wordsim353.tsv", "simlex999.txt"):
        pairs = ev.read_word_pairs(benchmarks[name])
        used, cosines, _ = ev.pair_similarities(structured, pairs)
        kept = [pair for pair, u in zip(pairs, used) if u]
        theirs = np.array([kv.similarity(p.word1.lower(), p.word2.lower()) for p in kept])
        assert np.abs(theirs - cosines).max() < 1e-15
        first_of: dict[frozenset, float] = {}
        keys = [frozenset((p.word1.lower(), p.word2.lower())) for p in kept]
        for key, cosine in zip(keys, theirs):
            first_of.setdefault(key, cosine)
        repeats += len(keys) - len(first_of)
        tied = np.array([first_of[key] for key in keys])
        gold = np.array([p.score for p in kept])
        ours = ev.evaluate_word_pairs(structured, benchmarks[name])
        assert ours.spearman == pytest.approx(stats.spearmanr(gold, tied)[0], abs=1e-12)
        (pearson, _), (spearman, _), _ = kv.evaluate_word_pairs(benchmarks[name])
        assert ours.pearson == pytest.approx(pearson, abs=1e-12)
        assert ours.spearman == pytest.approx(spearman, abs=1e-5)
    assert repeats > 0  # some repeated pairs have both words in the vocabulary


@pytest.mark.parametrize("restrict", [None, 1200])
def test_agrees_with_gensim_on_lower_case_vocabulary(structured, benchmarks, unique_pairs,
                                                     restrict):
    kv = keyed_vectors(*structured)
    for path in unique_pairs.values():
        ours = ev.evaluate_word_pairs(structured, path)  # case auto -> lower
        assert ours.case == "lower" and 0 < ours.pairs_oov < ours.pairs_total // 2
        assert_pairs_agree(ours, kv.evaluate_word_pairs(path))
    path = benchmarks["questions-words.txt"]
    ours = ev.evaluate_analogies(structured, path, restrict_vocab=restrict)
    theirs = kv.evaluate_word_analogies(path, restrict_vocab=restrict or 300000)
    assert ours.correct > 100 and ours.attempted > ours.correct
    assert_analogies_agree(ours, theirs)


@pytest.fixture(scope="module")
def mixed_case(structured) -> tuple[list[str], np.ndarray]:
    """The structured vocabulary plus a capitalised near-copy of one word in four (some placed
    before their lower-case form, some after): variants that compete for answers."""
    words, vectors = structured
    rng = np.random.default_rng(3)
    out_words, out_vectors = list(words), list(vectors)
    for i in rng.choice(len(words), size=len(words) // 4, replace=False):
        if not words[i].isalpha():
            continue
        at = int(rng.integers(0, len(out_words) + 1))
        out_words.insert(at, words[i].capitalize())
        out_vectors.insert(at, vectors[i] + rng.normal(size=vectors.shape[1]) * 0.05)
    return out_words, np.array(out_vectors)


@pytest.mark.parametrize("case, case_insensitive", [("insensitive", True), ("exact", False),
                                                    ("auto", False)])
def test_agrees_with_gensim_on_mixed_case_vocabulary(mixed_case, benchmarks, unique_pairs,
                                                     case, case_insensitive):
    kv = keyed_vectors(*mixed_case)
    for path in unique_pairs.values():
        ours = ev.evaluate_word_pairs(mixed_case, path, case=case)
        assert ours.case == ("exact" if case == "auto" else case)
        assert_pairs_agree(ours, kv.evaluate_word_pairs(path, case_insensitive=case_insensitive))
    path = benchmarks["questions-words.txt"]
    ours = ev.evaluate_analogies(mixed_case, path, case=case, restrict_vocab=2000)
    theirs = kv.evaluate_word_analogies(path, case_insensitive=case_insensitive,
                                        restrict_vocab=2000)
    assert ours.correct > 50 and ours.attempted > ours.correct
    assert_analogies_agree(ours, theirs)


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")  # gensim's init_sims
def test_3cosmul_agrees_with_gensim_most_similar_cosmul(structured, benchmarks):
    kv = keyed_vectors(*structured)
    known = set(structured[0])
    questions = [tuple(w.lower() for w in q)
                 for s in ev.read_analogies(benchmarks["questions-words.txt"])
                 for q in s.questions[::25]]
    questions = [q for q in questions if all(w in known for w in q)]
    assert len(questions) > 300
    ours = ev.answer_analogies(structured, [q[:3] for q in questions], method="3cosmul",
                               epsilon=1e-6)
    theirs = [kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0]
              for a, b, c, _ in questions]
    assert ours == theirs
    # The two objectives answer differently often enough for this to be a test of 3CosMul.
    additive = ev.answer_analogies(structured, [q[:3] for q in questions])
    assert sum(x != y for x, y in zip(ours, additive)) > 10


# ---------------------------------------------------------------------------------- command

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def test_command_prints_tables_and_writes_json(royals, tmp_path, capsys):
    vectors = tmp_path / "vectors.txt"
    royals.save(vectors)
    pairs = write(tmp_path, "p.txt", "man woman 1\nking queen 2\nman apple 3\nman zebra 1\n")
    questions = write(tmp_path, "q.txt", ": royal\nman king woman queen\n"
                                         "man king woman princess\n: fruit\na b c d\n")
    out = tmp_path / "report" / "eval.json"
    assert command.run(parse(vectors, "--pairs", pairs, "--analogies", questions,
                             "--json", out)) == 0
    printed = capsys.readouterr().out
    assert "6 words x 3 dims" in printed and "case: lower" in printed
    assert f"analogies: {questions} (3CosAdd, 6 words searched)" in printed
    assert "royal" in printed and "fruit" in printed and "total" in printed
    report = json.loads(out.read_text())
    expected = ev.to_json([ev.evaluate_word_pairs(royals, pairs),
                           ev.evaluate_analogies(royals, questions)])
    assert report["pairs"] == expected["pairs"] and report["analogies"] == expected["analogies"]
    assert report["analogies"][str(questions)]["correct"] == 1  # princess is the answer to both
    assert (report["words"], report["dims"], report["vectors"]) == (6, 3, str(vectors))
    assert [p.name for p in out.parent.iterdir()] == ["eval.json"]  # no temporary file left


def test_command_restricts_to_the_most_frequent_words_when_counts_are_known(royals, tmp_path,
                                                                            capsys):
    # An npy export keeps corpus counts; princess is the rarest word, so --restrict 5 drops it.
    counted = Embeddings(royals.words, royals.vectors, counts=[9, 8, 7, 6, 5, 1])
    counted.save(tmp_path / "npy", "npy")
    questions = write(tmp_path, "q.txt", ": royal\nman king woman queen\n")
    assert command.run(parse(tmp_path / "npy", "--analogies", questions, "--restrict", "5",
                             "--method", "3cosmul", "--json", tmp_path / "r.json")) == 0
    printed = capsys.readouterr().out
    assert "the 5 most frequent of 6 words" in printed
    report = json.loads((tmp_path / "r.json").read_text())["analogies"][str(questions)]
    assert (report["correct"], report["attempted"], report["method"]) == (1, 1, "3cosmul")


def test_command_without_benchmarks_is_a_user_error(royals, tmp_path):
    royals.save(tmp_path / "v.txt")
    with pytest.raises(UserError, match="nothing to evaluate"):
        command.run(parse(tmp_path / "v.txt"))
    with pytest.raises(UserError, match="--restrict"):
        command.run(parse(tmp_path / "v.txt", "--analogies", "x", "--restrict", "0"))


def test_script_runs_and_reports_malformed_files(royals, tmp_path):
    royals.save(tmp_path / "v.txt")
    good = write(tmp_path, "p.txt", "man woman 1\nking queen 2\nman apple 3\n")
    bad = write(tmp_path, "q.txt", ": s\nman king woman\n")

    def script(*args):
        return subprocess.run([sys.executable, "scripts/evaluate.py", *map(str, args)],
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    result = script(tmp_path / "v.txt", "--pairs", good)
    assert result.returncode == 0, result.stderr
    assert "spearman" in result.stdout and "3 / 3" in result.stdout
    result = script(tmp_path / "v.txt", "--pairs", good, "--analogies", bad)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {bad}, line 2: expected 'a b c d'")
    assert "Traceback" not in result.stderr
