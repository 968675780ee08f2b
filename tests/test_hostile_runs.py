"""A training run's newer surfaces as a hostile user meets them (issue 27): the report and the
loss picture on a damaged metrics.jsonl, fastText exports that would lose the n-grams, the
report's query words on a subword run."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cbow.training.loop import train
from conftest import run_cbow
from test_fasttext_train import ft_config
from test_train import corpus_file  # noqa: F401  (the corpus fixture)


@pytest.fixture(scope="module")
def subword_run(corpus_file, tmp_path_factory):  # noqa: F811
    """A short fastText-style run (n-grams of 2-4 characters in 400 buckets)."""
    run = tmp_path_factory.mktemp("subword") / "run"
    train(ft_config(corpus_file, run), quiet=True, log=None)
    return run


def one_error_line(proc) -> str:
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("error: "), proc.stderr
    return proc.stderr


# --------------------------------------------------------------------------- the report

def test_report_shows_an_unseen_words_subword_neighbours(subword_run, tmp_path):
    out = tmp_path / "report.html"
    proc = run_cbow("report", subword_run, "--out", out, "--words", "wolfish", "king")
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert ("<strong>wolfish</strong> (not in the vocabulary: the vector of its character "
            "n-grams)") in page


def damaged(run, tmp_path, line: int, key: str, value):
    """A copy of ``run`` whose metrics row on ``line`` (1-based) has ``key`` set to ``value``."""
    copy = tmp_path / "damaged"
    shutil.copytree(run, copy)
    metrics = copy / "metrics.jsonl"
    rows = [json.loads(text) for text in metrics.read_text().splitlines()]
    rows[line - 1][key] = value
    metrics.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return copy


@pytest.mark.parametrize("line, key, value, message", [
    (3, "loss", "high", "'loss' must be a number or null; it is 'high'"),
    (3, "val_loss", "x", "'val_loss' must be a number or null; it is 'x'"),
    (1, "unigram_val_loss", [1], "'unigram_val_loss' must be a number or null; it is [1]"),
    (3, "loss", True, "'loss' must be a number or null; it is True"),
    (4, "elapsed_s", "1 s", "'elapsed_s' must be a number or null; it is '1 s'"),
    (3, "benchmarks", {"ws": "x"}, "the benchmark 'ws' must be a number or null; it is 'x'"),
    (3, "benchmarks", "x", "'benchmarks' must map names to numbers; it is 'x'"),
    (3, "step", "10", "'step' must be a whole number >= 0; it is '10'"),
    (3, "step", None, "'step' must be a whole number >= 0; it is None"),
    (3, "step", 2.5, "'step' must be a whole number >= 0; it is 2.5"),
    (3, "step", -1, "'step' must be a whole number >= 0; it is -1"),
    (3, "step", 1000, "line 4: step 15 comes after step 1000 (line 3); a run's steps never go "
                      "back"),
])
def test_a_damaged_metrics_row_is_one_line_naming_file_and_line(subword_run, tmp_path, line,
                                                                  key, value, message):
    run = damaged(subword_run, tmp_path, line, key, value)
    expected = (f"{run / 'metrics.jsonl'}, " + (message if message.startswith("line ")
                                                  else f"line {line}: {message}"))
    out = tmp_path / "out"
    for args in (["report", run, "--out", out.with_suffix(".html")],
                 ["plot", run, "--loss", "--out", out.with_suffix(".png")]):
        stderr = one_error_line(run_cbow(*args))
        assert expected in stderr, stderr
    assert not list(tmp_path.glob("out.*"))


def test_a_nan_loss_is_a_number_and_a_cut_last_line_a_warning(subword_run, tmp_path):
    run = damaged(subword_run, tmp_path, 3, "loss", float("nan"))
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 45, "loss": 0.')  # a crash cut the last line
    lines = len((run / "metrics.jsonl").read_text().splitlines())
    for args in (["report", run, "--out", tmp_path / "r.html"],
                 ["plot", run, "--loss", "--out", tmp_path / "l.png"]):
        proc = run_cbow(*args)
        assert proc.returncode == 0, proc.stderr
        assert (f"{run / 'metrics.jsonl'}, line {lines}: left out, not valid JSON"
                in proc.stderr), proc.stderr


# --------------------------------------------------------------------------- export

@pytest.mark.parametrize("args, message", [
    (["--normalize"], "--normalize cannot go into a fastText .bin of a subword run"),
    (["--normalize", "--limit", "5"], "--normalize cannot go into a fastText .bin"),
    (["--which", "mean"], "--which mean: a fastText .bin of a subword run holds its input "
                          "vectors with their n-gram rows, and the mean vectors have no n-gram "
                          "rows (unseen words would get none)"),
    (["--which", "output"], "--which output: a fastText .bin of a subword run"),
])
def test_a_fasttext_bin_that_would_lose_the_ngrams_is_refused(subword_run, tmp_path, args,
                                                              message):
    out = tmp_path / "x.bin"
    stderr = one_error_line(run_cbow("export", subword_run, "--format", "fasttext-bin", *args,
                                     "--out", out))
    assert message in stderr and not out.exists()


def test_what_a_subword_run_can_export_with_normalize_or_which(subword_run, tmp_path):
    from gensim.models.fasttext import load_facebook_vectors

    from cbow.training.run import load_embeddings
    from cbow.vectors.embeddings import Embeddings, unit_rows
    emb = load_embeddings(subword_run)
    for args in (["--format", "word2vec", "--normalize"], ["--format", "npy", "--which", "mean"],
                 ["--format", "fasttext-bin", "--limit", "5"]):
        out = tmp_path / f"{args[1]}-{args[2]}"
        proc = run_cbow("export", subword_run, *args, "--out", out)
        assert proc.returncode == 0, proc.stderr
    back = Embeddings.load(tmp_path / "word2vec---normalize")
    np.testing.assert_allclose(back.vectors, unit_rows(emb.vectors), rtol=1e-6)
    five = load_facebook_vectors(str(tmp_path / "fasttext-bin---limit"))
    assert len(five.index_to_key) == 5  # the n-grams kept: unseen words keep their vectors
    np.testing.assert_allclose(five["wolfish"], emb["wolfish"], rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- the config

SUBWORDS = ["train.steps=5", "model.objective=negative", "train.dtype=float32",
            "model.init=gensim"]


@pytest.mark.parametrize("override, key, bound", [
    ("model.maxn=1000000000", "model.maxn", "an integer from 0 to 100"),
    ("model.minn=1000000000", "model.minn", "an integer from 1 to 100"),
])
def test_ngram_lengths_are_bounded_and_named(override, key, bound):
    # issue 27, case 9: maxn 1e9 was refused as 103,637 GiB of step buffers, maxn not named
    from cbow.config import ConfigError, load_config
    with pytest.raises(ConfigError, match=f"--set {override}: {key} must be {bound}"):
        load_config(None, [*SUBWORDS, "model.maxn=6", override])
    assert load_config(None, [*SUBWORDS, "model.minn=100", "model.maxn=100"])


def test_report_notes_a_word_whose_vector_is_zero_instead_of_failing(tmp_path):
    # An untrained row (output vectors after a step, say) has no neighbours; the report said
    # nothing else and stopped with the query's error.
    from cbow.data.vocab import Vocabulary
    from cbow.models.checkpoint import load_checkpoint, save_checkpoint
    from conftest import make_run
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    run = make_run(tmp_path / "run", words, N=4)
    newest = run / "checkpoints" / "step_00000010.npz"
    arrays, vocab, meta = load_checkpoint(newest)
    arrays["W1"][:, 0], arrays["W2"][0] = 0, 0  # 'alpha', the rarest word: a zero mean vector
    save_checkpoint(newest, arrays, Vocabulary(vocab.words, vocab.counts), meta)
    out = tmp_path / "report.html"
    proc = run_cbow("report", run, "--out", out)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert ("<strong>alpha</strong> (1)</td><td><span class=\"note\">a zero vector: no word is "
            "nearer to it than another</span>") in page
    proc = run_cbow("report", run, "--out", out, "--words", "beta", "alpha", "beta")
    assert proc.returncode == 0 and out.read_text().count("<strong>beta</strong>") == 1


def test_cli_outputs_in_the_way_are_refused_before_the_work(subword_run, tmp_path):
    in_the_way = tmp_path / "p.txt"
    in_the_way.write_text("keep me\n")
    one_error_line(run_cbow("export", subword_run, "--format", "npy", "--out", in_the_way))
    assert in_the_way.read_text() == "keep me\n" and not (tmp_path / "vocab.txt").exists()
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("king queen 9\nwolf dog 3\n")
    proc = run_cbow("evaluate", subword_run, "--pairs", pairs, "--json", tmp_path)
    assert "--json" in one_error_line(proc) and proc.stdout == ""


@pytest.mark.parametrize("command, where, message", [
    (["export", "--format", "npy", "--limit", "3", "--out"], ".",
     "is a training run folder; the npy export there would mix with the run's own files"),
    (["export", "--format", "projector", "--out"], ".", "is a training run folder"),
    (["export", "--format", "npy", "--out"], "vocab.npy", "vocab.txt is a file of the training "
                                                          "run"),
    (["export", "--out"], "checkpoints/step_00000040.npz", "step_00000040.npz is a file of the "
                                                           "training run"),
    (["export", "--out"], "metrics.jsonl", "the word2vec export would replace it"),
    (["report", "--out"], "config.yaml", "the report would replace it"),
    (["plot", "--loss", "--out"], "checkpoints/step_99.png", "the picture would replace it"),
])
def test_an_output_is_never_written_over_a_runs_own_files(subword_run, tmp_path, command, where,
                                                          message):
    run = tmp_path / "run"
    shutil.copytree(subword_run, run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    name, *options = command
    proc = run_cbow(name, run, *options, run / where)
    assert message in one_error_line(proc)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_evaluate_json_never_replaces_a_runs_metrics(subword_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(subword_run, run)
    metrics = (run / "metrics.jsonl").read_bytes()
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("king queen 9\nwolf dog 3\n")
    proc = run_cbow("evaluate", run, "--pairs", pairs, "--json", run / "metrics.jsonl")
    assert "the --json figures would replace it" in one_error_line(proc)
    assert (run / "metrics.jsonl").read_bytes() == metrics
    proc = run_cbow("plot", run, "--loss", "--out", run / "loss.png")  # a new file: written
    assert proc.returncode == 0 and (run / "loss.png").is_file()


# --------------------------------------------------------------------------- --init-from

def with_nan(run, tmp_path):
    """A copy of ``run`` whose checkpoints hold NaN in the input row of word 3; that word."""
    copy = tmp_path / "nan"
    shutil.copytree(run, copy)
    for path in (copy / "checkpoints").glob("step_*.npz"):
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        arrays["input_vectors"][3, 1] = np.nan
        np.savez(path, **arrays)
    return copy, (copy / "vocab.txt").read_text(encoding="utf-8").splitlines()[3].split("\t")[0]


def test_vectors_of_a_checkpoint_with_nan_name_the_word(subword_run, tmp_path):
    run, word = with_nan(subword_run, tmp_path)
    newest = sorted((run / "checkpoints").glob("step_*.npz"))[-1]
    for given in (newest, run):
        stderr = one_error_line(run_cbow("similar", given, "king"))
        assert (f"input_vectors hold NaN or infinite values (the first in input_vectors: the row "
                f"of {word!r})") in stderr, stderr


def test_init_from_a_checkpoint_with_nan_names_the_word_and_moves_nothing(subword_run,
                                                                           corpus_file,  # noqa: F811
                                                                           tmp_path):
    origin, word = with_nan(subword_run, tmp_path)
    files = sorted(p.relative_to(origin) for p in origin.rglob("*"))
    newest = sorted((origin / "checkpoints").glob("step_*.npz"))[-1]
    config = ft_config(corpus_file, tmp_path / "new")
    from cbow.config import dump
    (tmp_path / "new.yaml").write_text(dump(config), encoding="utf-8")
    for given in (newest, origin):
        proc = run_cbow("train", "--config", tmp_path / "new.yaml", "--init-from", given,
                        "--out", tmp_path / "new")
        stderr = one_error_line(proc)
        assert (f"input_vectors hold NaN or infinite values (the first in input_vectors: the row "
                f"of {word!r})") in stderr, stderr
    assert sorted(p.relative_to(origin) for p in origin.rglob("*")) == files  # nothing moved


@pytest.mark.parametrize("key, value, problem", [
    ("tokens", [], "'tokens' is not a map of whole numbers"),
    ("tokens", {"kept": "many"}, "'tokens' is not a map of whole numbers"),
    ("sentences", "x", "'sentences' is not a whole number"),
    ("sources", {"a": 1}, "'sources' is not a list of files with their sizes"),
    ("sources", [{"path": "a", "size": "big"}], "'sources' is not a list of files"),
])
def test_a_damaged_corpus_description_is_a_warning_and_a_note(subword_run, tmp_path, key, value,
                                                              problem):
    import yaml
    run = tmp_path / "run"
    shutil.copytree(subword_run, run)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    prepared = tmp_path / "prepared"
    shutil.copytree(config["prepare"]["cache_dir"], prepared)
    config["prepare"]["cache_dir"] = str(prepared)
    (run / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (description,) = prepared.glob("*/description.json")
    content = json.loads(description.read_text(encoding="utf-8"))
    content[key] = value
    description.write_text(json.dumps(content), encoding="utf-8")
    out = tmp_path / "report.html"
    proc = run_cbow("report", run, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{description}: {problem}" in proc.stderr
    assert f"{description} is damaged ({problem}" in out.read_text(encoding="utf-8").replace(
        "&#x27;", "'")


def test_a_limited_fasttext_bin_keeps_the_runs_settings_and_rows(subword_run, tmp_path):
    from cbow.training.run import fasttext_model
    from cbow.vectors.formats.fasttext_bin import read_model
    whole = fasttext_model(subword_run)
    proc = run_cbow("export", subword_run, "--format", "fasttext-bin", "--limit", "5", "--out",
                    tmp_path / "five.bin")
    assert proc.returncode == 0, proc.stderr
    five = read_model(tmp_path / "five.bin", output=True)
    assert five.args == whole.args  # ws, epoch, loss... as trained, not fastText's defaults
    order = [whole.words.index(w) for w in five.words]
    assert np.argsort(-whole.counts, kind="stable")[:5].tolist() == order
    np.testing.assert_array_equal(five.word_rows, whole.word_rows[order])
    np.testing.assert_array_equal(five.output, whole.output[order])  # negative sampling's rows
    np.testing.assert_array_equal(five.ngram_rows, whole.ngram_rows)


def test_these_words_of_a_hierarchical_or_normalized_model():
    from cbow.commands.export import these_words
    from cbow.vectors.embeddings import Embeddings
    from cbow.vectors.formats.fasttext_bin import FastTextArgs, FastTextModel
    rng = np.random.default_rng(0)
    words = ["a", "b", "c"]
    model = FastTextModel(FastTextArgs(dim=2, bucket=0, minn=0, maxn=0, loss="hs", ws=2),
                          words, np.array([3, 2, 1]), 6, rng.standard_normal((3, 2)),
                          np.zeros((0, 2)), rng.standard_normal((3, 2)))
    cut = these_words(model, Embeddings(["b", "a"], model.word_rows[[1, 0]]))
    assert cut.words == ["b", "a"] and cut.counts.tolist() == [2, 3] and cut.output is None
    assert cut.args == model.args  # hierarchical softmax's tree is not cut: no output rows
    unit = Embeddings(words, model.word_rows).normalized()
    kept = these_words(model, unit)
    np.testing.assert_array_equal(kept.word_rows, unit.vectors)
    np.testing.assert_array_equal(kept.output, model.output)  # every word, in order: kept


def test_report_shows_a_null_benchmark_figure_as_a_dash(tmp_path):
    from conftest import make_run
    run = make_run(tmp_path / "run", ["alpha", "beta", "gamma", "delta"], N=3)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rows[4]["benchmarks"], rows[9]["benchmarks"] = {"ws spearman": None}, {"ws spearman": 0.5}
    (run / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "report.html"
    assert run_cbow("report", run, "--out", out).returncode == 0
    page = out.read_text(encoding="utf-8")
    assert '<td class="num">5</td><td class="num">-</td>' in page and ">None<" not in page
    assert '<td class="num">10</td><td class="num">0.5000</td>' in page
