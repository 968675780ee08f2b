"""fastText's CBOW through the trainer: config, subword rows, exact resume, exports."""
import json

import fasttext
import numpy as np
import pytest
from gensim.models.fasttext import load_facebook_model, load_facebook_vectors

from cbow.models import checkpoint as ckpt
from cbow.data import subwords
from cbow.config import ConfigError, load_config
from cbow.errors import UnknownWord
from cbow.vectors.subword import SubwordEmbeddings
from cbow.models.objective import objective_class
from cbow.training.run import load_embeddings
from cbow.training.loop import train
from conftest import REPO_ROOT, run_cbow
from test_train import corpus_file  # noqa: F401  (the corpus fixture)
from test_train_word2vec import check_deterministic_and_exact_resume

BUCKET = 400


def ft_config(corpus_file, out_dir, *overrides):
    return load_config(REPO_ROOT / "configs" / "fasttext.yaml", [
        f"corpus={corpus_file}", "model.N=12", "model.C=3", f"model.bucket={BUCKET}",
        "model.minn=2", "model.maxn=4", "vocab.min_count=1", "train.batch_size=60",
        "train.epochs=null", "train.steps=40", "train.workers=1", "train.eval_every=10",
        "train.log_every=5", "checkpoint.every=10", "train.val_fraction=0.1", "train.sample=0",
        f"out_dir={out_dir}", "prepare.workers=1",
        f"prepare.cache_dir={out_dir.parent / 'prepared'}", *overrides])


# ------------------------------------------------------------------------------ the config

def test_fasttext_yaml_holds_fasttexts_cbow_defaults():
    cfg = load_config(REPO_ROOT / "configs" / "fasttext.yaml")
    m, t = cfg.model, cfg.train
    # fastText 0.9.2's Args(): lr 0.05, dim 100, ws 5, epoch 5, minCount 5, neg 5, loss ns,
    # minn 3, maxn 6, bucket 2,000,000, t 1e-4. Its noise table draws counts ** 0.5; the
    # config keeps word2vec's and gensim's 0.75, measured better (docs/benchmarks.md).
    assert (t.alpha, m.N, m.C, t.epochs, cfg.vocab.min_count, m.negative) == (0.05, 100, 5, 5, 5, 5)
    assert (m.objective, m.minn, m.maxn, m.bucket, t.sample) == ("negative", 3, 6, 2_000_000, 1e-4)
    assert (m.ns_exponent, m.hidden, m.shrink_window, t.schedule, t.min_alpha) == (
        0.75, "linear", True, "linear", 0.0)


def test_fasttext_yaml_draws_the_rows_as_fasttext(corpus_file, tmp_path):
    """configs/fasttext.yaml's model.init: gensim: word and n-gram rows in +-1/N (twice
    word2vec's draws from the same seed), output rows zero; word2vec's stays selectable."""
    from cbow.training.preparation import prepare_corpus
    cfg = ft_config(corpus_file, tmp_path / "run")
    assert cfg.model.init == "gensim"
    vocab = prepare_corpus(cfg, progress=False).vocab
    Objective = objective_class(cfg.model.objective)
    ours = Objective.build(cfg, vocab).params
    word2vecs = Objective.build(ft_config(corpus_file, tmp_path / "run", "model.init=word2vec"),
                                vocab).params
    assert ours.input_vectors.shape == (len(vocab) + BUCKET, 12)
    np.testing.assert_array_equal(ours.input_vectors, 2 * word2vecs.input_vectors)
    assert np.abs(ours.input_vectors).max() < 1 / 12 and not ours.output_vectors.any()


def test_without_maxn_there_are_no_subwords():
    cfg = load_config(REPO_ROOT / "configs" / "word2vec.yaml")
    assert cfg.model.maxn == 0  # every existing config: one input row per word, as before


@pytest.mark.parametrize("overrides, message", [
    (["model.objective=softmax", "model.init=course", "model.hidden=relu",
      "model.shrink_window=false", "train.sample=0"], r"model.maxn=6 needs a word2vec objective"),
    (["model.init=course"], r"model.maxn 6 \(subwords\) .* set model.init: word2vec"),
    (["model.minn=5", "model.maxn=4"], r"model.minn 5 is longer than model.maxn 4"),
    (["model.bucket=0"], r"model.bucket must be an integer in \[1, "),
])
def test_subword_settings_that_cannot_train_are_one_clear_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(REPO_ROOT / "configs" / "fasttext.yaml", overrides)


def test_the_memory_estimate_counts_the_buckets():
    Objective = objective_class("negative")
    plain = load_config(REPO_ROOT / "configs" / "word2vec.yaml")
    subword = load_config(REPO_ROOT / "configs" / "fasttext.yaml")
    V, N = 50_000, 100
    extra = Objective.estimate_bytes(subword, V)["parameters"] - \
        Objective.estimate_bytes(plain, V)["parameters"]
    assert extra == 2_000_000 * N * 4  # 800 MB of float32 bucket rows
    assert Objective.estimate_bytes(subword, V)["buffers"] > \
        Objective.estimate_bytes(plain, V)["buffers"]  # and the row table


def test_a_run_whose_buckets_do_not_fit_is_refused_before_any_work(corpus_file, tmp_path):
    proc = run_cbow("train", "--config", REPO_ROOT / "configs" / "fasttext.yaml", "--set",
                    f"corpus={corpus_file}", "--set", "model.bucket=1000000000", "--set",
                    "model.N=1000", "--out", tmp_path / "big")
    assert proc.returncode == 3, proc.stderr
    assert "GiB of memory" in proc.stderr and "Traceback" not in proc.stderr
    assert not list((tmp_path / "big").glob("checkpoints/*.npz"))


# ------------------------------------------------------------------------------ training

@pytest.mark.parametrize("objective", ["negative", "hierarchical"])
def test_one_worker_is_deterministic_and_resumes_bit_for_bit(corpus_file, tmp_path, objective,
                                                            monkeypatch):
    resumed = check_deterministic_and_exact_resume(
        lambda out: ft_config(corpus_file, out, f"model.objective={objective}"), tmp_path,
        monkeypatch)
    arrays, vocab, meta = ckpt.load_checkpoint(resumed.checkpoint)
    assert arrays["input_vectors"].shape == (len(vocab) + BUCKET, 12)
    assert meta["epoch"] > 1  # the generators were carried across the resume


@pytest.mark.parametrize("objective", ["negative", "hierarchical"])
def test_two_workers_train_the_subword_rows(corpus_file, tmp_path, objective):
    train(ft_config(corpus_file, tmp_path, f"model.objective={objective}", "train.workers=2",
                    "train.steps=120", "train.eval_every=40"), quiet=True, log=None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").open()]
    held_out = [r["val_loss"] for r in rows if r.get("val_loss") is not None]
    assert len(held_out) == 4 and held_out[-1] < held_out[0]


def test_training_moves_the_ngram_rows_the_words_read(corpus_file, tmp_path):
    cfg = ft_config(corpus_file, tmp_path / "run")
    result = train(cfg, quiet=True, log=None)
    first = ckpt.load_checkpoint(sorted((tmp_path / "run" / "checkpoints").glob("*.npz"))[0])
    vocab = result.vocab
    before = train(ft_config(corpus_file, tmp_path / "zero", "train.steps=1", "train.alpha=1e-30"),
                   quiet=True, log=None).model.arrays()["input_vectors"]
    after = result.model.arrays()["input_vectors"]
    _, rows = subwords.row_table(vocab.words, 2, 4, BUCKET)
    read = np.zeros(len(vocab) + BUCKET, bool)
    read[rows] = True
    moved = np.any(after != before, axis=1)
    assert moved[read].mean() > 0.9  # the rows the words read are trained...
    assert not moved[~read].any()  # ...and the buckets no word reads stay as they started:
    assert (~read).any() and not after[~read].any()  # zero, their memory never touched
    assert np.all(before[read] != 0)  # (the rows read are drawn)
    assert first[0]["input_vectors"].shape == after.shape
    held_out = [json.loads(line).get("val_loss") for line in open(tmp_path / "run" /
                                                                   "metrics.jsonl")]
    held_out = [v for v in held_out if v is not None]
    assert held_out[-1] < held_out[0]


def test_subword_vectors_out_of_a_run_and_its_files(corpus_file, tmp_path):
    run = tmp_path / "run"
    result = train(ft_config(corpus_file, run), quiet=True, log=None)
    emb = load_embeddings(run)
    assert isinstance(emb, SubwordEmbeddings) and emb.words == result.vocab.words
    assert (emb.minn, emb.maxn, emb.bucket) == (2, 4, BUCKET)
    unseen = "wolfish"
    assert unseen not in emb and emb[unseen].shape == (12,)
    # The composed vectors of the vocabulary, computed by hand from the run's input rows.
    inputs = result.model.arrays()["input_vectors"]
    offsets, rows = subwords.row_table(emb.words, 2, 4, BUCKET)
    for w in (0, len(emb) - 1):
        np.testing.assert_allclose(emb.vectors[w], inputs[rows[offsets[w]:offsets[w + 1]]]
                                   .mean(axis=0), rtol=1e-5, atol=1e-7)
    # The other vector sets are plain vectors of the vocabulary.
    output = load_embeddings(run, which="output")
    assert type(output) is not SubwordEmbeddings and len(output) == len(emb)

    binary, text = tmp_path / "model.bin", tmp_path / "model.vec"
    for format, path in (("fasttext-bin", binary), ("fasttext-vec", text)):
        proc = run_cbow("export", run, "--format", format, "--out", path)
        assert proc.returncode == 0, proc.stderr
    theirs = fasttext.load_model(str(binary))
    vectors = load_facebook_vectors(str(binary))
    model = load_facebook_model(str(binary))
    assert theirs.words == emb.words and vectors.index_to_key == emb.words
    args = theirs.f.getArgs()
    assert (args.dim, args.ws, args.minn, args.maxn, args.bucket, args.neg) == (12, 3, 2, 4,
                                                                                BUCKET, 5)
    np.testing.assert_array_equal(model.syn1neg, result.model.arrays()["output_vectors"])
    for word in [*emb.words[:20], unseen, "Kingly", "ワード"]:
        np.testing.assert_array_equal(theirs.get_word_vector(word), emb[word], err_msg=word)
        np.testing.assert_allclose(vectors[word], emb[word], rtol=1e-5, atol=1e-7)
    from cbow.vectors.embeddings import Embeddings
    vec = Embeddings.load(text, dtype=np.float32)
    np.testing.assert_array_equal(vec.vectors, emb.vectors)

    proc = run_cbow("similar", run, unseen, "--topn", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"nearest to {unseen!r}:")


def test_evaluation_during_training_scores_unseen_words(corpus_file, tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("wolf wolves 9\nking kingly 8\nwolf king 2\nthe wolfish 1\n",
                     encoding="utf-8")
    train(ft_config(corpus_file, tmp_path / "run", f"eval.pairs=[{pairs}]"), quiet=True,
          log=None)
    rows = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
    scored = [r["benchmarks"] for r in rows if "benchmarks" in r]
    assert scored and all(len(s) > 0 for s in scored)
    proc = run_cbow("evaluate", tmp_path / "run", "--pairs", pairs)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith(str(pairs)))
    assert "4 / 4" in line


@pytest.mark.parametrize("objective", ["negative", "softmax"])
def test_a_run_without_subwords_exports_a_words_only_fasttext_model(corpus_file, tmp_path,
                                                                    objective):
    from test_train import small_config
    from test_train_word2vec import w2v_config
    cfg = (w2v_config(corpus_file, tmp_path / "run") if objective == "negative"
           else small_config(corpus_file, tmp_path / "run"))
    train(cfg, quiet=True, log=None)
    emb = load_embeddings(tmp_path / "run")
    path = tmp_path / "words.bin"
    proc = run_cbow("export", tmp_path / "run", "--format", "fasttext-bin", "--out", path)
    assert proc.returncode == 0, proc.stderr
    theirs, vectors = fasttext.load_model(str(path)), load_facebook_vectors(str(path))
    assert theirs.words == emb.words and theirs.get_input_matrix().shape == emb.vectors.shape
    for word in emb.words[:10]:
        np.testing.assert_array_equal(theirs.get_word_vector(word), emb[word].astype(np.float32))
        np.testing.assert_array_equal(vectors[word], emb[word].astype(np.float32))
    np.testing.assert_array_equal(theirs.get_word_vector("unseen"), np.zeros(emb.vector_size))
    back = load_embeddings(path)
    assert isinstance(back, SubwordEmbeddings) and back.maxn == 0
    with pytest.raises(UnknownWord, match="no n-grams"):
        back["unseen"]
