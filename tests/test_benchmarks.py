"""benchmarks/: runnable, on cbow's public names only; scripts/ wrap them thinly."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted(p for p in (REPO_ROOT / "benchmarks").glob("*.py") if p.name != "__init__.py")


def _private_cbow_names(path: Path) -> list[str]:
    """Names starting with '_' that the file takes from cbow (imports or module attributes)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cbow_aliases, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "cbow":
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
                cbow_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "cbow":
                    cbow_aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                and node.value.id in cbow_aliases):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmarks_use_only_public_names(path):
    assert _private_cbow_names(path) == []


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_help_runs(path):
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{path.stem}", "--help"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout


def test_scripts_are_thin_wrappers():
    for script in (REPO_ROOT / "scripts").glob("*.py"):
        assert len(script.read_text(encoding="utf-8").splitlines()) <= 40, script.name


def test_gcide_entry_cleaning():
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks.dictionary_text import WORD, clean
    finally:
        sys.path.remove(str(REPO_ROOT))
    entry = ('Apple \\Ap"ple\\, n. [OE. appel.] (ap"p\'l) The fruit of {Pyrus malus}; '
             'pl[ae]n[=a]. [1913 Webster]')
    assert clean(entry) == "Apple , n. The fruit of Pyrus malus; plaena."
    assert WORD.findall(clean(entry)) == ["Apple", "n", "The", "fruit", "of", "Pyrus", "malus",
                                          "plaena"]


def test_python_docs_keep_prose_and_drop_code():
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks.python_docs import paragraphs
    finally:
        sys.path.remove(str(REPO_ROOT))
    source = "\n".join([
        "Built-in Functions", "==================", "",
        "The :func:`open <open>` function opens a file, see ``os.open``::", "",
        "   f = open('x')", "   f.read()", "",
        ".. function:: abs(x)", "   :noindex:", "",
        "   Return the absolute value of a number.", "",
        ".. code-block:: python", "", "   print('hello')", "",
        ".. _label:", "", ">>> 1 + 1", "2", "",
        "The end."])
    assert list(paragraphs(source)) == [
        "Built-in Functions", "The open function opens a file see",
        "Return the absolute value of a number", "The end"]


def test_docs_corpus_reads_plain_and_gzipped_sources_but_not_translations(tmp_path):
    import gzip
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks.python_docs import corpus_lines
    finally:
        sys.path.remove(str(REPO_ROOT))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.rst.txt").write_text("First words here.\n")
    (tmp_path / "b.rst.gz").write_bytes(gzip.compress(b"Gzipped kernel prose.\n"))
    (tmp_path / "c.rst").write_text("Plain rst prose.\n")
    (tmp_path / "translations").mkdir()
    (tmp_path / "translations" / "zh.rst").write_text("Not this one.\n")
    assert list(corpus_lines(tmp_path)) == ["First words here", "Gzipped kernel prose",
                                            "Plain rst prose"]


def test_ablation_variants():
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks.ablate_word2vec import parse_variant
    finally:
        sys.path.remove(str(REPO_ROOT))
    assert parse_variant("exact") == {"skip_saturated": False, "sigmoid_table": False,
                                      "alpha_every": 1, "fast_dot": False, "init_scale": 1.0}
    assert parse_variant("skip+table+alpha10k+ginit") == {
        "skip_saturated": True, "sigmoid_table": True, "alpha_every": 10_000,
        "fast_dot": False, "init_scale": 2.0}
    with pytest.raises(ValueError, match="unknown variant part 'tabel'"):
        parse_variant("skip+tabel")


def _ablation():
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks import ablate_word2vec
    finally:
        sys.path.remove(str(REPO_ROOT))
    return ablate_word2vec


def test_ablation_tree_variants():
    ab = _ablation()
    assert ab.parse_variant("skip+ginit+gtree+table") == {
        "skip_saturated": True, "sigmoid_table": True, "alpha_every": 1, "fast_dot": False,
        "init_scale": 2.0, "tree": "gtree"}
    with pytest.raises(ValueError, match="one tree"):
        ab.parse_variant("gtree+innerfirst")
    from cbow.models import word2vec as w2v
    counts = np.array([5, 5, 9, 5, 7, 5, 20, 5, 12, 5, 5, 7])
    # cbow's rule written again: the same tree as cbow's own
    same = ab.two_queue_tree(counts, np.arange(counts.size), inner_first=False)
    for a, b in zip(same, w2v.huffman_tree(counts)):
        np.testing.assert_array_equal(a, b)
    # [2, 2, 1, 1]: leaf first makes the two 2s siblings (depth 2 each); inner first merges
    # the (1, 1) node with a 2, and the other 2 sits right below the root
    assert sorted(ab.two_queue_tree([2, 2, 1, 1], np.arange(4), False)[2].tolist()) == [2] * 4
    assert sorted(ab.two_queue_tree([2, 2, 1, 1], np.arange(4), True)[2].tolist()) == [1, 2, 3, 3]


def test_ablation_gensim_tree_is_the_tree_gensim_builds():
    from gensim.models import Word2Vec
    ab = _ablation()
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(40)]
    weights = 1.0 / np.arange(1, 41)
    sentences = [list(rng.choice(words, size=12, p=weights / weights.sum())) for _ in range(300)]
    model = Word2Vec(sg=0, hs=1, negative=0, min_count=1, vector_size=4, workers=1)
    model.build_vocab(sentences)
    # cbow's ids: frequency order, ties alphabetical (vocab.order: frequency)
    counted = {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}
    ours = sorted(counted, key=lambda w: (-counted[w], w))
    ids = {w: i for i, w in enumerate(ours)}
    tokens = np.array([ids[w] for s in sentences for w in s], np.uint32)
    codes, points, lengths = ab.gensim_tree(np.array([counted[w] for w in ours]), tokens)
    for w in ours:
        i = ids[w]
        assert codes[i, :lengths[i]].tolist() == model.wv.get_vecattr(w, "code").tolist()
        assert points[i, :lengths[i]].tolist() == model.wv.get_vecattr(w, "point").tolist()
