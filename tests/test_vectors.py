"""Vectors where practitioners use them (issue 17): gensim in memory, vector arithmetic, the
embedding projector export, the run report."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from gensim.models import KeyedVectors

from cbow.vectors.embeddings import Embeddings, GensimMissing
from cbow.errors import InputError, UnknownWord
from conftest import make_run, run_cbow

WORDS = ["the", "king", "queen", "man", "woman", "lord", "lady", "dog", "wolf", "café", "<b>&",
         "and", "of", "love", "death", "war", "peace", "rich", "poor", "sad"]
N = 7


@pytest.fixture
def emb() -> Embeddings:
    rng = np.random.default_rng(5)
    counts = np.arange(len(WORDS), 0, -1) * 3  # distinct, frequency order
    return Embeddings(WORDS, rng.standard_normal((len(WORDS), N)), counts=counts)


def assert_same_answers(ours, theirs, atol):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=0, atol=atol)


QUERIES = [(["king", "woman"], ["man"]), (["queen"], []), (["lord", "lady", "dog"], ["wolf"]),
           (["rich"], ["poor", "sad"]), (["<b>&", "café"], [])]


# ---------------------------------------------------------------------- 1. gensim in memory

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_to_gensim_keeps_words_order_vectors_and_counts(emb, dtype):
    emb = Embeddings(emb.words, emb.vectors.astype(dtype), counts=emb.counts)
    kv = emb.to_gensim()
    assert isinstance(kv, KeyedVectors)
    assert kv.index_to_key == WORDS
    assert kv.vectors.dtype == dtype
    np.testing.assert_array_equal(kv.vectors, emb.vectors)
    assert [kv.get_vecattr(w, "count") for w in WORDS] == emb.counts.tolist()
    kv.vectors[0] += 1  # a copy: our vectors are untouched
    assert not np.array_equal(kv.vectors[0], emb.vectors[0])
    for word in ("king", "café", "<b>&"):
        assert_same_answers(emb.most_similar(word, topn=5), kv.most_similar(word, topn=5), 1e-6)


def test_to_gensim_without_counts(emb):
    kv = Embeddings(emb.words, emb.vectors).to_gensim()
    assert kv.index_to_key == WORDS and "count" not in kv.expandos
    assert Embeddings.from_gensim(kv).counts is None


def test_from_gensim_reads_words_vectors_and_counts(emb):
    kv = KeyedVectors(vector_size=N)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((len(WORDS), N)).astype(np.float32)
    kv.add_vectors(WORDS, vectors)
    for i, word in enumerate(WORDS):
        kv.set_vecattr(word, "count", 100 - i)
    back = Embeddings.from_gensim(kv)
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, vectors)
    assert back.vectors.dtype == np.float32
    assert back.counts.tolist() == [100 - i for i in range(len(WORDS))]
    for word in ("king", "café", "<b>&"):
        assert_same_answers(back.most_similar(word, topn=5), kv.most_similar(word, topn=5), 1e-6)
    round_trip = Embeddings.from_gensim(emb.to_gensim())
    assert round_trip.words == emb.words and round_trip.counts.tolist() == emb.counts.tolist()
    np.testing.assert_array_equal(round_trip.vectors, emb.vectors)


def test_from_gensim_refuses_integer_keys():
    kv = KeyedVectors(vector_size=3)
    kv.add_vectors([1, 2], np.ones((2, 3), dtype=np.float32))
    with pytest.raises(InputError, match="not non-empty strings"):
        Embeddings.from_gensim(kv)


def test_missing_gensim_is_one_clear_error(emb, monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim", None)  # import gensim now raises ImportError
    for call in (emb.to_gensim, lambda: Embeddings.from_gensim(object())):
        with pytest.raises(GensimMissing, match=r"pip install 'cbow\[gensim\]'"):
            call()


# ---------------------------------------------------------------------- 2. vector arithmetic

@pytest.mark.parametrize("positive, negative", QUERIES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_3cosadd_equals_gensim_most_similar(emb, positive, negative, dtype):
    emb = Embeddings(emb.words, emb.vectors.astype(dtype))
    kv = emb.to_gensim()
    for topn in (1, 5, len(WORDS)):
        ours = emb.most_similar(positive=positive, negative=negative, topn=topn)
        theirs = kv.most_similar(positive=positive, negative=negative, topn=topn)
        # gensim rounds the mean query vector to float32: scores agree to ~1e-7.
        assert_same_answers(ours, theirs, 1e-6)
        assert not set(positive + negative) & {w for w, _ in ours}  # query words excluded
    assert len(emb.most_similar(positive=positive, negative=negative, topn=100)) \
        == len(WORDS) - len(set(positive + negative))


@pytest.mark.parametrize("positive, negative", QUERIES)
def test_3cosmul_equals_gensim_most_similar_cosmul(emb, positive, negative):
    kv = emb.to_gensim()
    for topn in (1, 5, len(WORDS)):
        ours = emb.most_similar(positive=positive, negative=negative, topn=topn,
                                method="3cosmul")
        theirs = kv.most_similar_cosmul(positive=positive, negative=negative, topn=topn)
        assert_same_answers(ours, theirs, 1e-12)


def test_3cosmul_epsilon_is_a_parameter(emb):
    ours = emb.most_similar(positive=["king"], negative=["man"], topn=3, method="3cosmul",
                            epsilon=1e-3)
    unit = emb.unit_vectors
    shifted = (1 + unit @ unit[[emb.index("king"), emb.index("man")]].T) / 2
    scores = shifted[:, 0] / (shifted[:, 1] + 1e-3)
    best = emb.words[int(np.argmax(np.where(np.isin(emb.words, ["king", "man"]), -np.inf,
                                            scores)))]
    assert ours[0][0] == best


def test_one_word_keeps_its_plain_cosine_ranking(emb):
    assert emb.most_similar("king", topn=4) == emb.most_similar(positive=["king"], topn=4)
    assert ([w for w, _ in emb.most_similar("king", topn=4, method="3cosmul")]
            == [w for w, _ in emb.most_similar("king", topn=4)])  # (1+cos)/2 ranks alike


def test_a_single_query_word_may_be_a_string(emb):
    assert (emb.most_similar(positive="king", negative="man", topn=3)
            == emb.most_similar(positive=["king"], negative=["man"], topn=3))


def test_arithmetic_errors(emb):
    with pytest.raises(UnknownWord, match=r"'kng' \(did you mean 'king'.*'wman'"):
        emb.most_similar(positive=["kng", "woman"], negative=["wman"])
    with pytest.raises(InputError, match="not both"):
        emb.most_similar("king", positive=["queen"])
    with pytest.raises(InputError, match="method must be one of"):
        emb.most_similar(positive=["king"], method="cosmul")
    with pytest.raises(InputError, match="at least one positive"):
        emb.most_similar(negative=["king"], method="3cosmul")
    with pytest.raises(InputError, match="at least one"):
        emb.most_similar(positive=[])
    with pytest.raises(InputError, match="list of words"):
        emb.most_similar(positive=[np.ones(N)])


def test_cli_similar_arithmetic(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N)
    from cbow.training.run import load_embeddings
    emb = load_embeddings(run)
    for method in ("3cosadd", "3cosmul"):
        result = run_cbow("similar", run, "--positive", "king", "woman", "--negative", "man",
                          "--topn", "3", "--method", method)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "nearest to 'king + woman - man':"
        expected = emb.most_similar(positive=["king", "woman"], negative=["man"], topn=3,
                                    method=method)
        assert [line.split()[1] for line in lines[2:]] == [w for w, _ in expected]
    bad = run_cbow("similar", run, "--positive", "kng", "--negative", "man")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "'kng'" in bad.stderr
    assert "did you mean 'king'" in bad.stderr
    both = run_cbow("similar", run, "king", "--positive", "queen")
    assert both.returncode == 2 and "not both" in both.stderr and "Traceback" not in both.stderr


# ------------------------------------------------------------------ 3. the embedding projector

def read_like_the_projector(folder):
    """The two files split as the projector splits them: lines on '\\n', columns on '\\t'."""
    def rows(name):
        text = (folder / name).read_bytes().decode("utf-8")
        assert text.endswith("\n")
        return [line.split("\t") for line in text[:-1].split("\n")]
    return rows("vectors.tsv"), rows("metadata.tsv")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_projector_files_parse_as_the_projector_expects(emb, tmp_path, dtype):
    from cbow.vectors.formats.projector import write_projector
    emb = Embeddings(emb.words, emb.vectors.astype(dtype), counts=emb.counts)
    written = write_projector(emb, tmp_path / "proj")
    assert written == [tmp_path / "proj" / "vectors.tsv", tmp_path / "proj" / "metadata.tsv"]
    vectors, metadata = read_like_the_projector(tmp_path / "proj")
    assert metadata[0] == ["word", "count"]
    assert len(vectors) == len(metadata) - 1 == len(WORDS)
    assert all(len(row) == N for row in vectors) and all(len(row) == 2 for row in metadata)
    np.testing.assert_array_equal(np.array(vectors, dtype=dtype), emb.vectors)  # exact
    assert [w for w, _ in metadata[1:]] == WORDS  # '<b>&' and 'café' as they are
    assert [int(c) for _, c in metadata[1:]] == emb.counts.tolist()


def test_projector_escapes_tabs_and_line_breaks(tmp_path):
    from cbow.vectors.formats.projector import unescape_word, write_projector
    words = ["plain", "tab\there", "new\nline", "cr\rx", "back\\slash", "\\t", "ls\u2028x",
             "ff\x0cx", "nbsp\u00a0ok"]
    emb = Embeddings(words, np.arange(len(words) * 3.0).reshape(-1, 3), counts=[1] * len(words))
    write_projector(emb, tmp_path)
    vectors, metadata = read_like_the_projector(tmp_path)
    assert len(vectors) == len(metadata) - 1 == len(words)
    assert all(len(row) == 2 for row in metadata)
    shown = [w for w, _ in metadata[1:]]
    assert shown[:6] == ["plain", "tab\\there", "new\\nline", "cr\\rx", "back\\\\slash", "\\\\t"]
    assert [unescape_word(w) for w in shown] == words
    assert all(len(w.splitlines()) == 1 for w in shown)  # Python's readers see one row too


def test_projector_limit_keeps_the_most_frequent_words(tmp_path):
    from cbow.vectors.formats.projector import write_projector
    counts = [5, 9, 1, 9, 7, 2]
    words = ["e", "b", "z", "a", "c", "y"]
    emb = Embeddings(words, np.arange(18.0).reshape(6, 3), counts=counts)
    write_projector(emb, tmp_path, limit=4)
    vectors, metadata = read_like_the_projector(tmp_path)
    # Most frequent first; the tie between 'b' and 'a' (9) keeps row order.
    assert metadata[1:] == [["b", "9"], ["a", "9"], ["c", "7"], ["e", "5"]]
    np.testing.assert_array_equal(np.array(vectors, dtype=float), emb[["b", "a", "c", "e"]])
    write_projector(emb, tmp_path, limit=100)
    assert len(read_like_the_projector(tmp_path)[0]) == 6
    for bad in (0, -1, 2.5):
        with pytest.raises(InputError, match="positive integer"):
            write_projector(emb, tmp_path, limit=bad)


def test_projector_without_counts_writes_the_word_column_alone(tmp_path):
    from cbow.vectors.formats.projector import write_projector
    emb = Embeddings(["a", "b"], np.eye(2))
    write_projector(emb, tmp_path)
    assert (tmp_path / "metadata.tsv").read_text(encoding="utf-8") == "a\nb\n"  # no header
    with pytest.raises(InputError, match="no word counts"):
        write_projector(emb, tmp_path, limit=1)


def test_cli_export_projector(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N)
    result = run_cbow("export", run, "--format", "projector", "--out", tmp_path / "p",
                      "--limit", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 5 words x 7 dims")
    vectors, metadata = read_like_the_projector(tmp_path / "p")
    # make_run counts word i as i + 1: the last five words, most frequent first.
    assert [w for w, _ in metadata[1:]] == WORDS[::-1][:5]
    assert len(vectors) == 5 and all(len(row) == N for row in vectors)
    # --limit is not the projector's alone: every format keeps the same five words, in order.
    npy = run_cbow("export", run, "--format", "npy", "--out", tmp_path / "n", "--limit", "5")
    assert npy.returncode == 0, npy.stderr
    assert Embeddings.load(tmp_path / "n").words == WORDS[::-1][:5]
    read_back = Embeddings.load(tmp_path / "p", format="projector")
    assert read_back.words == WORDS[::-1][:5]
    assert np.allclose(read_back.vectors, Embeddings.load(tmp_path / "n").vectors)
    (tmp_path / "file").write_text("x")
    bad = run_cbow("export", run, "--format", "projector", "--out", tmp_path / "file")
    assert bad.returncode == 2 and "is a file" in bad.stderr and "Traceback" not in bad.stderr


# ------------------------------------------------------------------------- 4. the run report

REPORT_WORDS = ("king queen lord lady man woman dog wolf love death war peace the a of and "
                "<b>& x<y").split()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A short real run (whitespace tokens, a word with '<' and '&') scoring a pairs file."""
    from cbow.config import load_config
    from cbow.training.loop import train
    root = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(REPORT_WORDS, size=rng.integers(5, 12))) for _ in range(150)]
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pairs = root / "pairs.tsv"
    pairs.write_text("king queen 9\nman woman 8\ndog wolf 7\nlove death 3\nwar peace 4\n"
                     "the <b>& 1\n", encoding="utf-8")
    out = root / "run"
    cfg = load_config(None, [f"corpus={corpus}", "tokenizer=whitespace", "model.N=8",
                             "train.batch_size=16", "train.steps=40", "train.alpha=0.05",
                             "train.eval_every=10", "train.log_every=5", "checkpoint.every=20",
                             "train.val_fraction=0.1", f"eval.pairs=[{pairs}]",
                             f"out_dir={out}", "prepare.workers=1",
                             f"prepare.cache_dir={root / 'prepared'}"])
    train(cfg, quiet=True)
    return out


class PageParser:
    """Tags, attributes and text of an HTML page, read with the standard library's parser."""

    def __init__(self, page: str):
        from html.parser import HTMLParser
        self.tags, self.attrs, self.text = [], [], []
        outer = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                outer.tags.append(tag)
                outer.attrs += [(tag, name, value) for name, value in attrs]

            def handle_data(self, data):
                outer.text.append(data)

        parser = Parser(convert_charrefs=True)
        parser.feed(page)
        parser.close()
        self.all_text = "".join(self.text)


def test_report_is_one_self_contained_page(trained_run, tmp_path):
    import base64
    from cbow.analysis.report import write_report
    out = write_report(trained_run, tmp_path / "report.html", words=["<b>&", "x<y", "king"])
    page = out.read_text(encoding="utf-8")
    parsed = PageParser(page)
    assert parsed.tags[:2] == ["html", "head"] and "body" in parsed.tags
    images = [value for tag, name, value in parsed.attrs if tag == "img" and name == "src"]
    assert len(images) == 2  # the loss/benchmark figure and the PCA map
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    # Nothing is fetched at view time: no links, scripts, frames, or URLs in the style sheet.
    assert not [a for a in parsed.attrs if a[1] in ("href", "srcset", "action", "data")]
    assert not [a for a in parsed.attrs if a[1] == "src" and not a[2].startswith("data:")]
    assert not set(parsed.tags) & {"script", "link", "iframe", "object", "embed"}
    assert "url(" not in page and "@import" not in page and "http" not in page.split("<body>")[0]
    # Words from the run are text, never markup.
    assert "<b>&" in parsed.all_text and "b" not in parsed.tags and "&lt;b&gt;&amp;" in page
    assert "x<y" in parsed.all_text and "x&lt;y" in page
    # The sections and what they say about this run.
    for heading in ("Summary", "Corpus", "Loss and benchmarks over training",
                    "Nearest neighbours", "The most frequent words in two dimensions", "Config"):
        assert heading in parsed.all_text
    assert (trained_run / "config.yaml").read_text(encoding="utf-8") in parsed.all_text
    description = json.loads(next((trained_run.parent / "prepared").glob(
        "*/description.json")).read_text(encoding="utf-8"))
    assert f"{description['tokens']['kept']:,}" in parsed.all_text
    assert f"{description['words']['kept']:,} words kept" in parsed.all_text
    assert str(trained_run.parent / "corpus.txt") in parsed.all_text
    assert "pairs.tsv" in parsed.all_text  # the benchmark table names the file's figure


def test_report_query_words_are_frequent_and_rare():
    from cbow.analysis.report import query_words
    words = [f"w{i}" for i in range(40)] + [",", "."]
    counts = list(range(40, 0, -1)) + [1000, 999]  # punctuation is the most frequent
    emb = Embeddings(words, np.ones((42, 2)), counts=counts)
    frequent, rare = query_words(emb)
    assert frequent == ["w0", "w1", "w2", "w3", "w4", "w5"]  # words with a letter only
    assert rare[0] == "w20" and rare[-1] == "w39" and len(rare) == 6  # the rarer half, spread


def test_report_says_when_the_prepared_corpus_is_gone(trained_run, tmp_path):
    import shutil
    from cbow.analysis.report import build_report
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    config = (run / "config.yaml").read_text(encoding="utf-8")
    (run / "config.yaml").write_text(config.replace(str(trained_run.parent / "prepared"),
                                                    str(tmp_path / "elsewhere")), encoding="utf-8")
    text = PageParser(build_report(run)).all_text
    assert "is not in the cache its config names" in text


def test_report_query_words_and_errors(trained_run, tmp_path):
    from cbow.analysis.report import build_report
    text = PageParser(build_report(trained_run, words=["KING", "wolf"])).all_text
    assert "king (" in text and "wolf (" in text
    with pytest.raises(UnknownWord, match="'kng'"):
        build_report(trained_run, words=["kng"])
    result = run_cbow("report", tmp_path / "nowhere", "--out", tmp_path / "r.html")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_missing_matplotlib_is_one_clear_error(trained_run, tmp_path, monkeypatch):
    from cbow.analysis.plot import MatplotlibMissing
    from cbow.analysis.report import write_report
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MatplotlibMissing, match=r"pip install 'cbow\[plot\]'"):
        write_report(trained_run, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_cli_report(trained_run, tmp_path):
    result = run_cbow("report", trained_run, "--out", tmp_path / "report.html")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {tmp_path / 'report.html'} (")
    PageParser((tmp_path / "report.html").read_text(encoding="utf-8"))
