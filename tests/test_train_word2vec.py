"""word2vec's objectives through the trainer: determinism, exact resume, workers, exports."""
import json

import numpy as np
import pytest

from cbow.models import checkpoint as ckpt
from cbow.config import ConfigError, load_config
from cbow.errors import InputError
from cbow.training.run import load_embeddings
from cbow.training.loop import TrainingError, train
from conftest import REPO_ROOT
from test_train import assert_same_params, corpus_file  # noqa: F401  (the corpus fixture)


def w2v_config(corpus_file, out_dir, *overrides):
    corpus = [f"corpus={corpus_file}"] if corpus_file is not None else []
    return load_config(REPO_ROOT / "configs" / "word2vec.yaml", [
        *corpus, "model.N=12", "model.C=3", "train.batch_size=60",
        "train.epochs=null", "train.steps=40", "train.workers=1", "train.eval_every=10",
        "train.log_every=5", "checkpoint.every=10", "train.val_fraction=0.1",
        "train.alpha=0.05", f"out_dir={out_dir}", "prepare.workers=1",
                              f"prepare.cache_dir={out_dir.parent / 'prepared'}", *overrides])


def stop_after(monkeypatch, steps: int, feed_class=None) -> None:
    """Send this process SIGINT after ``steps`` steps of ``feed_class`` (default: word2vec's
    StreamFeed), as a user's Ctrl-C would."""
    import os
    import signal

    from cbow.models.word2vec.objective import StreamFeed
    feed_class = feed_class or StreamFeed
    original, done = feed_class.step, []

    def step(self, *args):
        result = original(self, *args)
        done.append(1)
        if len(done) == steps:
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(feed_class, "step", step)


def check_deterministic_and_exact_resume(config, tmp_path, monkeypatch):
    """Two runs of ``config(out_dir)`` give the same bits, and so does one stopped after 17
    steps and resumed; returns the resumed run's result."""
    full = train(config(tmp_path / "full"), quiet=True, log=None)
    again = train(config(tmp_path / "again"), quiet=True, log=None)
    assert_same_params(full.model.arrays(), again.model.arrays())
    with monkeypatch.context() as patch:
        stop_after(patch, 17)
        stopped = train(config(tmp_path / "half"), quiet=True, log=None)
    assert stopped.interrupted and stopped.step == 17
    resumed = train(config(tmp_path / "half"), resume=True, quiet=True, log=lambda m: None)
    assert resumed.step == full.step == 40
    assert_same_params(full.model.arrays(), resumed.model.arrays())
    return resumed


@pytest.mark.parametrize("objective", ["negative", "hierarchical"])
def test_one_worker_is_deterministic_and_resumes_bit_for_bit(corpus_file, tmp_path, objective,
                                                            monkeypatch):
    extra = [f"model.objective={objective}", "model.hidden=relu"]
    resumed = check_deterministic_and_exact_resume(
        lambda out: w2v_config(corpus_file, out, *extra), tmp_path, monkeypatch)
    arrays, _, meta = ckpt.load_checkpoint(resumed.checkpoint)
    assert meta["objective"] == objective
    assert set(arrays) == {"input_vectors", "output_vectors", "hidden_bias"}
    assert len(meta["model_state"]["rng_states"]) == 1
    # The run went through more than one epoch: the generators were carried across the resume.
    assert meta["epoch"] > 1


@pytest.mark.parametrize("objective", ["negative", "hierarchical"])
def test_fast_dot_and_gensims_rules_reach_the_kernels_and_resume_exactly(
        corpus_file, tmp_path, objective, monkeypatch):
    """train.fast_dot, model.skip_saturated and model.init: gensim are the kernels' and the
    initialisation's; one worker still resumes bit for bit (same machine), and a resume with
    another fast_dot is refused (run identity)."""
    from cbow.models.word2vec import driver, initialisation
    extra = [f"model.objective={objective}", "train.fast_dot=true",
             "model.skip_saturated=true", "model.init=gensim"]
    seen, schemes, original, original_init = [], [], driver.train, initialisation.initial_weights

    def spy(settings, *args, **kwargs):
        seen.append(settings.rules)
        return original(settings, *args, **kwargs)

    def init_spy(*args, **kwargs):
        schemes.append(args[3])
        return original_init(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(driver, "train", spy)
        patch.setattr(initialisation, "initial_weights", init_spy)
        full = train(w2v_config(corpus_file, tmp_path / "full", *extra), quiet=True, log=None)
    assert len(seen) == 40 and set(seen) == {driver.StepRules(skip_saturated=True, fast_dot=True)}
    assert schemes == ["gensim"]
    with monkeypatch.context() as patch:
        stop_after(patch, 17)
        train(w2v_config(corpus_file, tmp_path / "half", *extra), quiet=True, log=None)
    with pytest.raises(TrainingError, match="train.fast_dot: True in the checkpoint, False now"):
        train(w2v_config(corpus_file, tmp_path / "half", *extra, "train.fast_dot=false"),
              resume=True, quiet=True, log=lambda m: None)
    resumed = train(w2v_config(corpus_file, tmp_path / "half", *extra), resume=True,
                    quiet=True, log=lambda m: None)
    assert_same_params(full.model.arrays(), resumed.model.arrays())
    exact = train(w2v_config(corpus_file, tmp_path / "exact", f"model.objective={objective}",
                             "model.init=gensim"), quiet=True, log=None)
    for name, array in exact.model.arrays().items():  # fast_dot changes roundings only
        np.testing.assert_allclose(full.model.arrays()[name], array, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("objective", ["negative", "hierarchical"])
def test_two_workers_train(corpus_file, tmp_path, objective):
    result = train(w2v_config(corpus_file, tmp_path, f"model.objective={objective}",
                              "train.workers=2", "train.steps=120", "train.eval_every=40"),
                   quiet=True, log=None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").open()]
    held_out = [r["val_loss"] for r in rows if r.get("val_loss") is not None]
    assert len(held_out) == 4
    assert held_out[-1] < held_out[0]
    assert all(r["words_per_s"] > 0 for r in rows[1:])
    if objective == "hierarchical":  # a cross-entropy over the vocabulary: the baseline applies
        assert rows[0]["unigram_val_loss"] is not None
    else:
        assert rows[0]["unigram_val_loss"] is None
    assert result.model.all_finite()


def test_vectors_of_each_objective(corpus_file, tmp_path):
    train(w2v_config(corpus_file, tmp_path / "ns"), quiet=True, log=None)
    train(w2v_config(corpus_file, tmp_path / "hs", "model.objective=hierarchical"), quiet=True,
          log=None)
    ns = load_embeddings(tmp_path / "ns")
    assert ns.which == "input" and ns.vectors.shape[1] == 12
    arrays = ckpt.load_checkpoint(ckpt.list_checkpoints(tmp_path / "ns" / "checkpoints")[-1])[0]
    np.testing.assert_array_equal(ns.vectors, arrays["input_vectors"])
    mean = load_embeddings(tmp_path / "ns", which="mean").vectors
    np.testing.assert_allclose(mean, (arrays["input_vectors"] + arrays["output_vectors"]) / 2)
    assert load_embeddings(tmp_path / "hs").which == "input"
    with pytest.raises(InputError, match="hierarchical model gives the vectors input; got 'output'"):
        load_embeddings(tmp_path / "hs", which="output")


@pytest.mark.parametrize("override, key", [
    ("train.dtype=float64", "train.dtype"), ("model.negative=0", "model.negative"),
    ("train.sample=-1", "train.sample"), ("model.hidden=tanh", "model.hidden"),
    ("train.schedule=cosine", "train.schedule"), ("train.workers=0", "train.workers"),
    ("model.init=xavier", "model.init"), ("model.shrink_window=maybe", "model.shrink_window"),
    ("train.batcher=course", "train.batcher"), ("train.min_alpha=-0.1", "train.min_alpha"),
])
def test_bad_word2vec_settings_name_the_key(corpus_file, tmp_path, override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        w2v_config(corpus_file, tmp_path, override)


def test_softmax_refuses_word2vec_only_settings():
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.steps=3", "model.hidden=linear", "train.sample=0.001"])
    assert "model.hidden='linear' needs a word2vec objective" in str(info.value)
    assert "train.sample=0.001 needs a word2vec objective" in str(info.value)


def test_softmax_refuses_the_kernels_rules():
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.steps=3", "train.fast_dot=true", "model.skip_saturated=true",
                           "model.init=gensim"])
    for setting in ("train.fast_dot=True", "model.skip_saturated=True", "model.init='gensim'"):
        assert f"{setting} needs a word2vec objective" in str(info.value)


def test_linear_schedule_runs_from_alpha_to_min_alpha(corpus_file, tmp_path):
    train(w2v_config(corpus_file, tmp_path, "train.min_alpha=0.001"), quiet=True, log=None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").open()]
    alphas = [r["alpha"] for r in rows]
    assert alphas[0] == pytest.approx(0.05)
    assert alphas == sorted(alphas, reverse=True)
    assert rows[-1]["step"] == 40
    assert alphas[-1] == pytest.approx(0.05 + (0.001 - 0.05) * 39 / 40)


def test_whitespace_corpus_folder_with_pruning_trains_both_kinds(tmp_path):
    """A folder of pre-tokenized files (one compressed), min_count and frequency order."""
    import gzip
    corpus = tmp_path / "texts"
    corpus.mkdir()
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(30)] + ["rare"]
    lines = [" ".join(rng.choice(words[:30], size=8)) for _ in range(300)] + ["rare w1 w2"]
    (corpus / "a.txt").write_text("\n".join(lines[:150]) + "\n")
    with gzip.open(corpus / "b.txt.gz", "wt") as f:
        f.write("\n".join(lines[150:]) + "\n")
    overrides = [f"corpus={corpus}", "tokenizer=whitespace", "vocab.min_count=2",
                 "vocab.order=frequency"]
    for objective in ("negative", "softmax"):
        extra = (["model.objective=softmax", "model.hidden=relu", "model.init=course",
                  "model.shrink_window=false", "model.skip_saturated=false", "train.sample=0",
                  "train.dtype=float64",
                  "train.schedule=step", "model.C=2", "train.batch_size=16"]
                 if objective == "softmax" else [])
        result = train(w2v_config(None, tmp_path / objective, *overrides, *extra),
                       quiet=True, log=None)
        assert "rare" not in result.vocab and len(result.vocab) == 30
        counts = result.vocab.counts
        assert list(counts) == sorted(counts, reverse=True)
        assert result.model.all_finite()


def test_effective_words_are_logged_kept_across_a_resume_and_summed(corpus_file, tmp_path,
                                                                     monkeypatch):
    """The kernel's count of centre words kept by subsampling reaches metrics, Result, summary."""
    extra = ["train.sample=0.01"]  # the test corpus is small: a large threshold still drops
    full = train(w2v_config(corpus_file, tmp_path / "full", *extra), quiet=True, log=None)
    rows = full.history[1:]
    counts = [r["effective_words"] for r in rows]
    assert counts == sorted(counts) and counts[-1] == full.effective_words > 0
    every = train(w2v_config(corpus_file, tmp_path / "every", "train.sample=0"), quiet=True,
                  log=None)
    assert full.effective_words < every.effective_words  # subsampling dropped some words
    assert f"since step 0: {full.effective_words:,}" in full.summary()
    with monkeypatch.context() as patch:
        stop_after(patch, 17)
        train(w2v_config(corpus_file, tmp_path / "half", *extra), quiet=True, log=None)
    resumed = train(w2v_config(corpus_file, tmp_path / "half", *extra), resume=True, quiet=True,
                    log=lambda m: None)
    assert resumed.effective_words == full.effective_words
    assert ckpt.load_checkpoint(resumed.checkpoint)[2]["effective_words"] == full.effective_words


def test_result_params_for_every_objective(corpus_file, tmp_path):
    result = train(w2v_config(corpus_file, tmp_path / "ns"), quiet=True, log=None)
    assert_same_params(result.params, result.model.arrays())
    assert result.params.all_finite()


def test_piece_words_changes_no_bit_with_one_worker_and_a_resume_may_change_it(corpus_file,
                                                                              tmp_path,
                                                                              monkeypatch):
    """train.piece_words is not part of the run's identity: with one worker a step is one
    piece whatever it says, so the bits are those of the default cut, resumed or not."""
    full = train(w2v_config(corpus_file, tmp_path / "full"), quiet=True, log=None)
    pieces = train(w2v_config(corpus_file, tmp_path / "pieces", "train.piece_words=7"),
                   quiet=True, log=None)
    assert_same_params(full.model.arrays(), pieces.model.arrays())
    with monkeypatch.context() as patch:
        stop_after(patch, 17)
        stopped = train(w2v_config(corpus_file, tmp_path / "half"), quiet=True, log=None)
    assert stopped.interrupted and stopped.step == 17
    resumed = train(w2v_config(corpus_file, tmp_path / "half", "train.piece_words=7"),
                    resume=True, quiet=True, log=lambda m: None)
    assert resumed.step == 40
    assert_same_params(full.model.arrays(), resumed.model.arrays())


@pytest.mark.parametrize("piece_words, pieces", [(None, 2), (7, 9)])
def test_piece_words_reaches_the_executor(corpus_file, tmp_path, monkeypatch, piece_words,
                                          pieces):
    from cbow.models.word2vec import driver
    seen = []
    original = driver.train

    def spy(*args, executor=None, **kwargs):
        seen.append(executor)
        return original(*args, executor=executor, **kwargs)

    monkeypatch.setattr(driver, "train", spy)
    result = train(w2v_config(corpus_file, tmp_path, "train.workers=2",
                              f"train.piece_words={'null' if piece_words is None else 7}"),
                   quiet=True, log=None)
    assert len(seen) == 40 and len({id(e) for e in seen}) == 1
    assert seen[0].workers == 2 and seen[0].piece_words == piece_words
    assert len(seen[0].cut(0, 60)) == pieces  # train.batch_size=60 positions a step
    assert result.model.all_finite() and result.val_loss_end < result.val_loss_start


@pytest.mark.parametrize("value", [0, -5, 2.5, "many"])
def test_bad_piece_words_names_the_key(corpus_file, tmp_path, value):
    with pytest.raises(ConfigError, match=r"train\.piece_words must be null or an integer >= 1"):
        w2v_config(corpus_file, tmp_path, f"train.piece_words={value}")
