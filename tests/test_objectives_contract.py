"""The contract every registered objective keeps (cbow.models.objective), run over each entry of
cbow.registry.OBJECTIVES: a new registration is picked up without editing this file.

Each objective is trained from a config made of small core settings plus the values its
declaration requires (Declaration.requires), nothing named per objective.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from cbow.cli import main as cbow_main
from cbow.config import DECLARED, KEYS, from_mapping, key_table
from cbow.training.preparation import prepare_training_data
from cbow.models.checkpoint import load_checkpoint
from cbow.models.objective import StepResult, objective_class
from cbow.registry import OBJECTIVES
from cbow.training.loop import train
from cbow.training.run import load_embeddings
from cbow.vectors.embeddings import Embeddings

NAMES = OBJECTIVES.names()
STEPS = 6


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Whitespace text of 40 words in 300 lines: two topics, so every objective learns."""
    rng = np.random.default_rng(4)
    topics = [[f"a{i}" for i in range(20)], [f"b{i}" for i in range(20)]]
    lines = [" ".join(rng.choice(topics[n % 2], size=int(rng.integers(4, 12))))
             for n in range(300)]
    path = tmp_path_factory.mktemp("contract") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config(name, corpus, out_dir, **train):
    """A small run of objective ``name``: core keys, and what its declaration requires."""
    values = {"corpus": str(corpus), "tokenizer": "whitespace", "out_dir": str(out_dir),
              "prepare": {"workers": 1, "cache_dir": str(corpus.parent / "prepared")},
              "model": {"N": 8, "C": 2, "objective": name},
              "train": {"batch_size": 40, "steps": STEPS, "seed": 5, "workers": 1,
                        "eval_every": 3, "log_every": 1, "val_fraction": 0.1, "alpha": 0.05,
                        **train},
              "checkpoint": {"every": 3, "keep": 5}}
    for dotted, (value, _) in DECLARED[name].requires.items():
        section, _, leaf = dotted.rpartition(".")
        (values.setdefault(section, {}) if section else values)[leaf] = value
    return from_mapping(values)


def same_arrays(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        assert a[name].tobytes() == b[name].tobytes(), f"{name} differs"


@pytest.mark.parametrize("name", NAMES)
def test_declared_keys_are_in_the_config_and_the_key_table(name, corpus, tmp_path):
    declared, table = DECLARED[name], key_table()
    cfg = config(name, corpus, tmp_path)
    for dotted in declared.keys:
        assert name in KEYS[dotted].owners
        section, _, leaf = dotted.partition(".")
        assert hasattr(getattr(cfg, section), leaf)
        assert f"| `{dotted}` |" in table
    for dotted in (*declared.must_match, *declared.requires):
        assert dotted in KEYS


@pytest.mark.parametrize("name", NAMES)
def test_build_one_step_and_state(name, corpus, tmp_path):
    cfg = config(name, corpus, tmp_path / "run")
    data = prepare_training_data(cfg, progress=False)
    Objective = objective_class(name)
    assert Objective.name == name and Objective.VECTORS == OBJECTIVES.get(name).vectors
    model = Objective.build(cfg, data.vocab)
    assert model.V == len(data.vocab) and model.N == 8 and model.all_finite()
    before = {k: v.copy() for k, v in model.arrays().items()}
    feed = model.feed(cfg, data, None)
    assert feed.steps_per_epoch >= 1 and feed.heldout_size > 0
    result = feed.step(0.05, 0.05)
    assert isinstance(result, StepResult) and result.complete
    assert result.examples > 0 and np.isfinite(result.loss)
    assert any(not np.array_equal(before[k], v) for k, v in model.arrays().items())
    json.dumps(model.state()), json.dumps(feed.state())  # what a checkpoint's meta keeps
    assert np.isfinite(feed.heldout_loss())
    # estimate_bytes: the parameters it will hold, as measured (at most 5% over, never under)
    measured = sum(a.nbytes for a in model.arrays().values())
    estimate = Objective.estimate_bytes(cfg, len(data.vocab))
    assert measured <= estimate["parameters"] <= 1.05 * measured
    assert estimate["buffers"] >= 0
    # a model built from a checkpoint's arrays is the same model
    rebuilt = Objective.build(cfg, data.vocab, checkpoint=_checkpoint(model, data.vocab))
    same_arrays(model.arrays(), rebuilt.arrays())


def _checkpoint(model, vocab):
    from pathlib import Path

    from cbow.models.checkpoint import Checkpoint
    return Checkpoint(Path("in-memory.npz"), {k: v.copy() for k, v in model.arrays().items()},
                      vocab, {"model_state": model.state()})


@pytest.mark.parametrize("name", NAMES)
def test_resume_equals_uninterrupted(name, corpus, tmp_path):
    whole = train(config(name, corpus, tmp_path / "whole"), quiet=True, log=None)
    half = train(config(name, corpus, tmp_path / "half", steps=STEPS // 2), quiet=True, log=None)
    assert half.step == STEPS // 2
    resumed = train(config(name, corpus, tmp_path / "half"), resume=True, quiet=True,
                    log=lambda message: None)
    assert whole.step == resumed.step == STEPS
    same_arrays(whole.model.arrays(), resumed.model.arrays())
    arrays, _, meta = load_checkpoint(resumed.checkpoint)
    same_arrays(whole.model.arrays(), arrays)
    assert meta["objective"] == name


@pytest.mark.parametrize("name", NAMES)
def test_vectors_and_export(name, corpus, tmp_path):
    run = tmp_path / "run"
    result = train(config(name, corpus, run), quiet=True, log=None)
    V = len(result.vocab)
    for which in OBJECTIVES.get(name).vectors:
        embeddings = load_embeddings(run, which=which)
        assert embeddings.which == which and embeddings.words[:V] == result.vocab.words
        assert embeddings.vectors.shape == (V, 8) and np.isfinite(embeddings.vectors).all()
        np.testing.assert_array_equal(
            embeddings.vectors, objective_class(name).vectors(result.model.arrays(), which))
    default = load_embeddings(run)
    assert default.which == OBJECTIVES.get(name).vectors[0]
    for fmt, out in (("npy", tmp_path / "npy"), ("word2vec", tmp_path / "v.txt"),
                     ("fasttext-bin", tmp_path / "v.bin")):
        assert cbow_main(["export", str(run), "--format", fmt, "--out", str(out)]) == 0
        read = Embeddings.load(out)
        assert read.words[:V] == default.words
        np.testing.assert_allclose(read.vectors[:V], default.vectors, rtol=1e-5, atol=1e-6)
