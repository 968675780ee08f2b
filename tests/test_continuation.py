"""Continued training (--init-from): a new run from another run's weights on new text."""
import dataclasses
import hashlib

import numpy as np
import pytest
import yaml

from cbow.models import checkpoint as ckpt
from cbow.config import ConfigError, dump, load_config
from cbow.training.continuation import renumbered
from cbow.errors import InputError, TrainingError
from cbow.models.objective import objective_class
from cbow.training.loop import train
from cbow.data.vocab import Vocabulary
from conftest import run_cbow
from test_train import assert_same_params
from test_train_word2vec import stop_after

OLD_WORDS = "king queen lord lady man woman dog wolf the a of and to in my thy".split()
NEW_WORDS = "king queen ship sea sail wind storm the a of and to in harbour".split()
OBJECTIVES = ("negative", "hierarchical", "softmax")


def write_corpus(path, words, seed):
    rng = np.random.default_rng(seed)
    lines = [" ".join(rng.choice(words, size=10)) + " ." for _ in range(150)]
    lines.append("rare")  # once: below min_count, never in a vocabulary
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpora")
    return (write_corpus(folder / "old.txt", OLD_WORDS, 0),
            write_corpus(folder / "new.txt", NEW_WORDS, 1))


def config(corpus, out_dir, objective="negative", *overrides):
    word2vec = objective != "softmax"
    return load_config(None, [
        f"corpus={corpus}", "tokenizer=whitespace", f"model.objective={objective}",
        "model.N=8", "model.C=2", f"model.hidden={'linear' if word2vec else 'relu'}",
        f"model.init={'word2vec' if word2vec else 'course'}",
        f"train.dtype={'float32' if word2vec else 'float64'}",
        f"train.batch_size={100 if word2vec else 32}", "train.steps=20", "train.workers=1",
        "train.alpha=0.05", "train.eval_every=5", "train.log_every=5", "checkpoint.every=5",
        "train.val_fraction=0.1", "vocab.min_count=2", "vocab.order=frequency",
        f"out_dir={out_dir}", "prepare.workers=1",
        f"prepare.cache_dir={out_dir.parent / 'prepared'}", *overrides])


@pytest.fixture(scope="module")
def old_runs(corpora, tmp_path_factory):
    """One finished run per objective on the old corpus."""
    folder = tmp_path_factory.mktemp("old")
    return {o: train(config(corpora[0], folder / o, o), quiet=True, log=None).out_dir
            for o in OBJECTIVES}


def capture_start(monkeypatch, objective):
    """The model the trainer's grown() returns, copied before any step changes it."""
    cls = objective_class(objective)
    original, started = cls.grown, {}

    def grown(cfg, vocab, origin, log=None):
        model = original(cfg, vocab, origin, log)
        started.update({k: a.copy() for k, a in model.arrays().items()}, vocab=vocab)
        return model

    monkeypatch.setattr(cls, "grown", grown)
    return started


def test_extended_vocabulary_keeps_old_ids_appends_new_words_and_adds_counts():
    old = Vocabulary(["the", "king", "dog"], [10, 4, 2])
    new = Vocabulary(["the", "sea", "king", "ship"], [7, 5, 3, 1])
    merged, ids = old.extended(new)
    assert merged.words == ["the", "king", "dog", "sea", "ship"]
    assert merged.counts.tolist() == [17, 7, 2, 5, 1]
    assert ids.dtype == np.uint32 and ids.tolist() == [0, 3, 1, 4]
    assert old.words == ["the", "king", "dog"] and old.counts.tolist() == [10, 4, 2]


def test_renumbered_ids_go_through_the_table_chunk_by_chunk(tmp_path):
    ids = np.array([0, 1, 2, 3, 2, 1, 0], np.uint32)
    table = np.array([5, 0, 7, 2], np.uint32)
    out = renumbered(ids, table, tmp_path / "ids.npy", chunk=3)
    assert out.dtype == np.dtype("<u4") and out.tolist() == table[ids].tolist()
    assert np.load(tmp_path / "ids.npy", allow_pickle=False).tolist() == table[ids].tolist()


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_old_rows_are_carried_and_new_words_drawn_as_a_new_model(corpora, old_runs, tmp_path,
                                                                objective, monkeypatch):
    started = capture_start(monkeypatch, objective)
    notes = []
    result = train(config(corpora[1], tmp_path / "new", objective), init_from=old_runs[objective],
                   quiet=True, log=notes.append)
    origin = ckpt.load_latest(old_runs[objective] / "checkpoints")
    old_vocab, vocab = origin.vocab, started["vocab"]
    V_old = len(old_vocab)
    # the old words keep their ids; the new corpus's kept words follow, in its frequency order
    assert vocab.words[:V_old] == old_vocab.words
    new_words = vocab.words[V_old:]
    assert set(new_words) == {"ship", "sea", "sail", "wind", "storm", "harbour"}
    new_counts = vocab.counts[V_old:]
    assert np.all(new_counts[:-1] >= new_counts[1:])
    assert "rare" not in vocab and result.vocab == vocab
    assert vocab.counts[vocab.index("king")] > old_vocab.counts[old_vocab.index("king")]
    # the rows a new model on the merged vocabulary would start with
    fresh = objective_class(objective).build(config(corpora[1], tmp_path / "x", objective),
                                             vocab).arrays()
    old = origin.arrays
    if objective == "softmax":
        assert np.array_equal(started["W1"][:, :V_old], old["W1"])
        assert np.array_equal(started["W2"][:V_old], old["W2"])
        assert np.array_equal(started["b2"][:V_old], old["b2"])
        assert np.array_equal(started["b1"], old["b1"])
        assert np.array_equal(started["W1"][:, V_old:], fresh["W1"][:, V_old:])
        assert np.array_equal(started["W2"][V_old:], fresh["W2"][V_old:])
    else:
        assert np.array_equal(started["input_vectors"][:V_old], old["input_vectors"])
        assert np.array_equal(started["input_vectors"][V_old:], fresh["input_vectors"][V_old:])
        assert np.array_equal(started["hidden_bias"], old["hidden_bias"])
        assert not np.array_equal(old["input_vectors"], fresh["input_vectors"][:V_old])
    if objective == "negative":
        assert np.array_equal(started["output_vectors"][:V_old], old["output_vectors"])
        assert np.array_equal(started["output_vectors"][V_old:], fresh["output_vectors"][V_old:])
    if objective == "hierarchical":  # a new tree: its nodes start afresh, and the log says so
        assert started["output_vectors"].shape == (len(vocab) - 1, 8)
        assert np.array_equal(started["output_vectors"], fresh["output_vectors"])
        assert any("start afresh" in n for n in notes)
    # it trained on the new corpus: the new words' rows moved
    first = "W1" if objective == "softmax" else "input_vectors"
    trained = result.model.arrays()[first]
    moved = trained[:, V_old:] if objective == "softmax" else trained[V_old:]
    assert not np.array_equal(moved, (started[first][:, V_old:] if objective == "softmax"
                                      else started[first][V_old:]))


def test_the_run_records_its_origin_in_config_yaml_and_checkpoints(corpora, old_runs, tmp_path):
    result = train(config(corpora[1], tmp_path / "new"), init_from=old_runs["negative"],
                   quiet=True, log=None)
    origin = ckpt.load_latest(old_runs["negative"] / "checkpoints")
    saved = yaml.safe_load((tmp_path / "new" / "config.yaml").read_text(encoding="utf-8"))
    expected = {"path": str(origin.path.resolve()), "step": 20,
                "sha256": hashlib.sha256(origin.path.read_bytes()).hexdigest()}
    assert saved["init_from"] == expected == result.init_from
    assert ckpt.load_checkpoint(result.checkpoint)[2]["init_from"] == expected
    assert "started from: " + expected["path"] in result.summary()
    # an ordinary run's config.yaml has no such entry
    assert "init_from" not in (old_runs["negative"] / "config.yaml").read_text(encoding="utf-8")
    # config.yaml is a config: training from it into another folder redoes the same run
    again = train(load_config(tmp_path / "new" / "config.yaml", [f"out_dir={tmp_path / 'again'}"]),
                  quiet=True, log=None)
    assert again.init_from == expected
    assert_same_params(result.model.arrays(), again.model.arrays())


def test_a_recorded_checkpoint_that_changed_is_refused(corpora, old_runs, tmp_path):
    first = train(config(corpora[1], tmp_path / "new"), init_from=old_runs["negative"],
                  quiet=True, log=None)
    changed = dict(first.init_from, sha256="0" * 64)
    cfg = dataclasses.replace(config(corpora[1], tmp_path / "other"), init_from=changed)
    with pytest.raises(InputError, match="changed since the run was started from it"):
        train(cfg, quiet=True, log=None)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_resumed_init_from_run_equals_the_uninterrupted_one(corpora, old_runs, tmp_path,
                                                             objective, monkeypatch):
    cfg = config(corpora[1], tmp_path / "full", objective)
    full = train(cfg, init_from=old_runs[objective], quiet=True, log=None)
    half = config(corpora[1], tmp_path / "half", objective)
    if objective == "softmax":
        from cbow.models.softmax.objective import WindowFeed as Feed
    else:
        from cbow.models.word2vec.objective import StreamFeed as Feed
    with monkeypatch.context() as patch:
        stop_after(patch, 7, Feed)
        stopped = train(half, init_from=old_runs[objective], quiet=True, log=None)
    assert stopped.interrupted and stopped.step == 7
    # the resume reads its own checkpoint only: the origin may be gone, and is not re-grown
    grown = []
    monkeypatch.setattr(objective_class(objective), "grown",
                        classmethod(lambda *a, **k: grown.append(1)))
    notes = []
    resumed = train(half, resume=True, quiet=True, log=notes.append)
    assert not grown and resumed.step == full.step == 20
    assert any("this run started from" in n for n in notes)
    assert_same_params(full.model.arrays(), resumed.model.arrays())
    assert resumed.init_from == full.init_from
    saved = yaml.safe_load((tmp_path / "half" / "config.yaml").read_text(encoding="utf-8"))
    assert saved["init_from"] == full.init_from  # kept by a resume that did not name it


def test_resume_checks_the_origin_it_is_given(corpora, old_runs, tmp_path):
    cfg = config(corpora[1], tmp_path / "new", "negative", "train.steps=10")
    train(cfg, init_from=old_runs["negative"], quiet=True, log=None)
    more = config(corpora[1], tmp_path / "new", "negative", "train.steps=15")
    with pytest.raises(TrainingError, match="that run started from .*not from"):
        train(more, resume=True, init_from=old_runs["hierarchical"], quiet=True, log=None)
    # the same origin, as the run folder or as the checkpoint file, is fine
    origin_file = ckpt.list_checkpoints(old_runs["negative"] / "checkpoints")[-1]
    assert train(more, resume=True, init_from=old_runs["negative"], quiet=True,
                 log=None).step == 15
    more = config(corpora[1], tmp_path / "new", "negative", "train.steps=20")
    assert train(more, resume="auto", init_from=origin_file, quiet=True, log=None).step == 20
    # the run's own config.yaml names its origin by a record: resumable with it
    own = load_config(tmp_path / "new" / "config.yaml", ["train.steps=25"])
    assert isinstance(own.init_from, dict)
    assert train(own, resume=True, quiet=True, log=None).step == 25
    # a run that started from nothing is not resumed as if it had
    plain = config(corpora[1], tmp_path / "plain", "negative", "train.steps=5")
    train(plain, quiet=True, log=None)
    with pytest.raises(TrainingError, match="did not start from"):
        train(config(corpora[1], tmp_path / "plain", "negative", "train.steps=10"), resume=True,
              init_from=old_runs["negative"], quiet=True, log=None)


@pytest.mark.parametrize("objective, override, message", [
    ("negative", "model.N=12", "model.N is 8, this config's 12"),
    ("negative", "model.objective=hierarchical", "holds a negative model and this config "
                                                 "trains hierarchical"),
    ("negative", "model.hidden=relu", "model.hidden is 'linear', this config's 'relu'"),
    ("softmax", "train.dtype=float32", "train.dtype is 'float64', this config's 'float32'"),
])
def test_what_cannot_be_carried_is_refused(corpora, old_runs, tmp_path, objective, override,
                                           message):
    cfg = config(corpora[1], tmp_path / "new", objective, override)
    with pytest.raises(InputError, match=message):
        train(cfg, init_from=old_runs[objective], quiet=True, log=None)
    assert not (tmp_path / "new" / "checkpoints").exists()


def test_an_origin_that_is_not_a_run_is_refused(corpora, old_runs, tmp_path):
    cfg = config(corpora[1], tmp_path / "new")
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not a checkpoint\n", encoding="utf-8")
    for given, message in ((tmp_path / "missing", "no such run folder or checkpoint file"),
                           (tmp_path / "empty", "is not a run folder"),
                           (tmp_path / "notes.txt", "is not a run folder nor a cbow checkpoint"),
                           (tmp_path / "new" / "x", "inside this run's own folder")):
        with pytest.raises(InputError, match=message):
            train(cfg, init_from=given, quiet=True, log=None)


def test_cli_init_from(corpora, old_runs, tmp_path):
    new_yaml = tmp_path / "new.yaml"
    new_yaml.write_text(dump(config(corpora[1], tmp_path / "unused")), encoding="utf-8")
    proc = run_cbow("train", "--config", new_yaml, "--init-from", old_runs["negative"],
                    "--out", tmp_path / "new")
    assert proc.returncode == 0, proc.stderr
    assert "started from: " in proc.stdout and "vocabulary: 23 words" in proc.stdout
    assert "17 words carried, 6 new words from this corpus, 23 in all" in proc.stderr
    # what cannot be carried: one line, exit 2
    proc = run_cbow("train", "--config", new_yaml, "--init-from", old_runs["softmax"],
                    "--out", tmp_path / "refused")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "holds a softmax model and this config trains negative" in proc.stderr


def test_init_from_in_a_config_is_a_path_or_a_record(tmp_path):
    assert load_config(None, ["train.steps=1", "init_from=runs/old"]).init_from == "runs/old"
    record = {"path": "runs/old/checkpoints/step_00000010.npz", "step": 10, "sha256": "ab"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"train": {"steps": 1}, "init_from": record}), encoding="utf-8")
    assert load_config(path).init_from == record
    for bad in ("init_from=5", "init_from={path: x, steps: 3}", "init_from={step: 3}"):
        with pytest.raises(ConfigError, match="init_from must be null, a run folder or "
                                              "checkpoint path, or a record"):
            load_config(None, ["train.steps=1", bad])


def test_another_spelling_of_the_corpus_is_noted(corpora, old_runs, tmp_path):
    notes = []
    train(config(corpora[1], tmp_path / "new", "negative", "prepare.lowercase=false"),
          init_from=old_runs["negative"], quiet=True, log=notes.append)
    assert any("prepare.lowercase True" in n and "spelt differently" in n for n in notes)


def test_merged_counts_are_gensims_build_vocab_update(corpora, old_runs, tmp_path):
    """The grown vocabulary's words and counts are those of gensim's
    ``build_vocab(update=True)`` on the same sentences (its order of new words aside)."""
    from gensim.models import Word2Vec

    def sentences(path):
        return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]

    model = Word2Vec(vector_size=8, min_count=2, sg=0)
    model.build_vocab(sentences(corpora[0]))
    model.build_vocab(sentences(corpora[1]), update=True)
    theirs = {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}
    result = train(config(corpora[1], tmp_path / "new"), init_from=old_runs["negative"],
                   quiet=True, log=None)
    assert dict(zip(result.vocab.words, result.vocab.counts.tolist())) == theirs


def test_subword_rows_are_carried_with_the_words(corpora, tmp_path, monkeypatch):
    # fastText's n-gram rows follow the words' rows: they move with the grown vocabulary
    subwords = ("model.minn=2", "model.maxn=3", "model.bucket=50")
    old_run = train(config(corpora[0], tmp_path / "old", "negative", *subwords), quiet=True,
                    log=None).out_dir
    started = capture_start(monkeypatch, "negative")
    train(config(corpora[1], tmp_path / "new", "negative", *subwords), init_from=old_run,
          quiet=True, log=None)
    old = ckpt.load_latest(old_run / "checkpoints")
    V_old, V = len(old.vocab), len(started["vocab"])
    inputs, old_inputs = started["input_vectors"], old.arrays["input_vectors"]
    assert inputs.shape == (V + 50, 8) and old_inputs.shape == (V_old + 50, 8)
    assert np.array_equal(inputs[:V_old], old_inputs[:V_old])
    assert np.array_equal(inputs[V:], old_inputs[V_old:])
    with pytest.raises(InputError, match="model.bucket"):  # another hashing: not carried
        train(config(corpora[1], tmp_path / "other", "negative", "model.minn=2", "model.maxn=3",
                     "model.bucket=40"), init_from=old_run, quiet=True, log=None)
