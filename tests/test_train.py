"""The training loop: resume bit-equality, crash safety, SIGINT, divergence, CLI end to end."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cbow.models import checkpoint as ckpt
from cbow import course
from cbow.config import load_config
from cbow.data.corpus import read_text
from cbow.data.text import course_tokenize
from cbow.training.loop import TrainingDiverged, TrainingError, train
from cbow.training.result import Throughput
from conftest import REPO_ROOT, run_cbow

WORDS = ("king queen lord lady man woman dog wolf rich poor happy sad love death war peace "
         "the a of and to in my thy his her").split()


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """A small, deterministic English-like corpus with sentences, commas and an apostrophe."""
    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(120):
        words = rng.choice(WORDS, size=rng.integers(4, 12)).tolist()
        words[0] = words[0].capitalize()
        if rng.random() < 0.3:
            words.insert(2, "'tis,")
        sentences.append(" ".join(words) + rng.choice([".", "!", "?"]))
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text("\n".join(" ".join(sentences[i:i + 3]) for i in range(0, 120, 3)) + "\n",
                    encoding="utf-8")
    return path


def small_config(corpus_file, out_dir, *overrides):
    return load_config(None, [f"corpus={corpus_file}", "model.N=8", "train.batch_size=16",
                              "train.steps=40", "train.alpha=0.05", "train.decay_every=15",
                              "train.eval_every=10", "train.log_every=5", "checkpoint.every=10",
                              "checkpoint.keep=2", "train.val_fraction=0.1",
                              f"out_dir={out_dir}", "prepare.workers=1",
                              f"prepare.cache_dir={out_dir.parent / 'prepared'}", *overrides])


def assert_same_params(a, b):
    """Equal bits; ``a`` and ``b`` are Params or the named arrays of a checkpoint."""
    a, b = (x if isinstance(x, dict) else x.arrays() for x in (a, b))
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, f"{name}: dtype differs"
        assert np.array_equal(a[name], b[name]), f"{name} differs"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batcher", ["default", "course"])
def test_resumed_run_is_bit_identical(corpus_file, tmp_path, dtype, batcher):
    extra = [f"train.dtype={dtype}", f"train.batcher={batcher}"]
    full = train(small_config(corpus_file, tmp_path / "full", *extra), quiet=True, log=None)
    train(small_config(corpus_file, tmp_path / "half", "train.steps=17", *extra), quiet=True,
          log=None)
    resumed = train(small_config(corpus_file, tmp_path / "half", *extra), resume=True,
                    quiet=True, log=lambda m: None)
    assert full.step == resumed.step == 40
    assert_same_params(full.params, resumed.params)
    saved, _, meta = ckpt.load_checkpoint(resumed.checkpoint)
    assert_same_params(saved, full.params)
    assert meta["step"] == 40
    steps = [json.loads(l)["step"] for l in (tmp_path / "half" / "metrics.jsonl").open()]
    assert steps == sorted(set(steps)), "metrics after a resume must not repeat steps"


def test_run_folder_artifacts(corpus_file, tmp_path):
    result = train(small_config(corpus_file, tmp_path), quiet=True, log=None)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path / "checkpoints")] == [
        "step_00000030.npz", "step_00000040.npz"]  # keep = 2
    assert (tmp_path / "vocab.txt").read_text().count("\n") == len(result.vocab)
    assert load_config(tmp_path / "config.yaml").model.N == 8
    rows = [json.loads(l) for l in (tmp_path / "metrics.jsonl").open()]
    assert [r["step"] for r in rows] == list(range(0, 41, 5))
    assert rows[0]["loss"] is None and rows[0]["val_loss"] == result.val_loss_start
    for row in rows:
        assert {"step", "epoch", "loss", "alpha", "examples_per_s", "elapsed_s"} <= set(row)
    assert [r["step"] for r in rows if "val_loss" in r] == [0, 10, 20, 30, 40]
    assert result.val_loss_start is not None and result.val_loss_end < result.val_loss_start
    arrays, vocab, meta = ckpt.load_checkpoint(result.checkpoint)
    assert meta["objective"] == "softmax"
    assert arrays["W1"].shape == (8, len(vocab))
    assert arrays["b2"].shape == (len(vocab), 1)
    assert meta["alpha"] == pytest.approx(0.05 * 0.66 ** 2)


def test_result_splits_the_time_into_model_steps_checkpoints_and_evaluation(corpus_file,
                                                                             tmp_path):
    result = train(small_config(corpus_file, tmp_path), quiet=True, log=None)
    # the full softmax's feed times its model steps; the loop's own work is what remains
    assert 0 < result.compute_s
    assert 0 < result.checkpoint_s and 0 < result.eval_s
    assert result.compute_s + result.checkpoint_s + result.eval_s < result.wall_s


def test_throughput_reports_no_compute_time_once_a_step_did_not_measure_it():
    speed = Throughput()
    speed.count(4, 4, 0.25)
    speed.count(4, 4, 0.5)
    assert speed.compute_s == 0.75 and speed.words == 8
    speed.count(4, 4)  # a feed that does not time its computation
    speed.count(4, 4, 0.5)
    assert speed.compute_s is None and speed.words == 16


def test_corrupt_newest_checkpoint_is_reported_and_skipped(corpus_file, tmp_path):
    full = train(small_config(corpus_file, tmp_path / "full"), quiet=True, log=None)
    train(small_config(corpus_file, tmp_path / "cut", "train.steps=30"), quiet=True, log=None)
    newest = ckpt.checkpoint_path(tmp_path / "cut" / "checkpoints", 30)
    newest.write_bytes(newest.read_bytes()[:1000])  # a crash mid-write without atomic rename
    messages = []
    resumed = train(small_config(corpus_file, tmp_path / "cut"), resume=True, quiet=True,
                    log=messages.append)
    assert any("skipping unreadable checkpoint" in m and "step_00000030" in m for m in messages)
    assert any("resuming from" in m and "step_00000020" in m for m in messages)
    assert_same_params(full.params, resumed.params)


def test_crash_while_writing_keeps_the_previous_checkpoint(corpus_file, tmp_path, monkeypatch):
    cfg = small_config(corpus_file, tmp_path, "train.steps=10")
    first = train(cfg, quiet=True, log=None)
    before = first.checkpoint.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "write_npz", crash)
    with pytest.raises(OSError, match="disk full"):
        train(small_config(corpus_file, tmp_path, "train.steps=20"), resume=True, quiet=True,
              log=None)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["step_00000010.npz"], "no temporary or partial file may remain"
    assert first.checkpoint.read_bytes() == before
    ckpt.load_checkpoint(first.checkpoint)


@pytest.mark.parametrize("override, key", [("model.N=9", "model.N"),
                                           ("train.alpha=0.1", "train.alpha"),
                                           ("train.dtype=float32", "train.dtype")])
def test_resume_with_other_settings_is_refused(corpus_file, tmp_path, override, key):
    train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)
    with pytest.raises(TrainingError, match=f"cannot resume .*{key}"):
        train(small_config(corpus_file, tmp_path, override), resume=True, quiet=True, log=None)


def test_resume_after_the_corpus_text_changed_is_refused(corpus_file, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(corpus_file.read_text(encoding="utf-8"), encoding="utf-8")
    train(small_config(corpus, tmp_path / "run", "train.steps=10"), quiet=True, log=None)
    corpus.write_text(corpus.read_text(encoding="utf-8").replace("wolf", "fox"), encoding="utf-8")
    with pytest.raises(TrainingError, match="cannot resume .*another vocabulary"):
        train(small_config(corpus, tmp_path / "run"), resume=True, quiet=True, log=None)
    corpus.write_text(corpus.read_text(encoding="utf-8") + "\nThe king.\n", encoding="utf-8")
    corpus.write_text(corpus.read_text(encoding="utf-8").replace("fox", "wolf"), encoding="utf-8")
    with pytest.raises(TrainingError, match="cannot resume .*the corpus text changed"):
        train(small_config(corpus, tmp_path / "run"), resume=True, quiet=True, log=None)


def test_divergence_stops_with_the_step_and_keeps_the_last_good_checkpoint(corpus_file, tmp_path):
    train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)
    cfg = small_config(corpus_file, tmp_path / "boom", "train.alpha=1e300", "train.decay=1")
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+"):
        train(cfg, quiet=True, log=None)
    assert ckpt.list_checkpoints(tmp_path / "boom" / "checkpoints") == []
    proc = subprocess.run([sys.executable, "scripts/train.py", "--config", str(tmp_path / "config.yaml"),
                           "--set", "train.alpha=1e300", "--set", "train.decay=1",
                           "--set", f"out_dir={tmp_path / 'boom2'}", "--quiet"],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 3 and "diverged at step" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_course_gradient_descent_equals_the_config_driven_loop(corpus_file, tmp_path):
    data = course_tokenize(read_text(corpus_file))
    word2Ind, _ = course.get_dict(data)
    expected = course.gradient_descent(data, word2Ind, 10, len(word2Ind), num_iters=150)
    cfg = load_config(REPO_ROOT / "configs" / "course.yaml",
                      [f"corpus={corpus_file}", "model.N=10", f"out_dir={tmp_path}"])
    result = train(cfg, quiet=True, log=None)
    assert result.step == 150
    for name, want, got in zip("W1 W2 b1 b2".split(), expected, result.params.arrays().values()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13, err_msg=name)


def run_cli(*args, **kwargs):
    return run_cbow("train", *args, **kwargs)


def write_config(corpus_file, tmp_path, steps, **extra):
    lines = [f"corpus: {corpus_file}", "model: {N: 8, C: 2}",
             f"train: {{batch_size: 16, steps: {steps}, alpha: 0.05, val_fraction: 0.1, "
             f"eval_every: 50, log_every: 5}}",
             "checkpoint: {every: 20, keep: 2}", f"out_dir: {tmp_path / 'run'}"]
    path = tmp_path / "cfg.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_end_to_end(corpus_file, tmp_path):
    config = write_config(corpus_file, tmp_path, steps=60)
    proc = run_cli("--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "trained to step 60" in proc.stdout
    assert "held-out loss" in proc.stdout
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {"checkpoints", "vocab.txt", "config.yaml",
                                               "metrics.jsonl"}
    assert ckpt.list_checkpoints(run / "checkpoints")[-1].name == "step_00000060.npz"
    out = tmp_path / "elsewhere"
    proc = run_cli("--config", str(config), "--out", str(out), "--set", "train.steps=5", "--quiet")
    assert proc.returncode == 0 and proc.stdout == "" and (out / "checkpoints").is_dir()


def test_cli_reports_config_errors_without_traceback(corpus_file, tmp_path):
    config = write_config(corpus_file, tmp_path, steps=10)
    proc = run_cli("--config", str(config), "--set", "train.batchsize=3")
    assert proc.returncode == 2
    assert "unknown key 'train.batchsize'; did you mean 'train.batch_size'?" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("--config", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2 and "missing.yaml does not exist" in proc.stderr


def test_sigint_saves_a_checkpoint_and_resume_finishes_identically(corpus_file, tmp_path):
    config = write_config(corpus_file, tmp_path, steps=10_000_000)
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "scripts/train.py", "--config", str(config)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ckpt.list_checkpoints(run / "checkpoints") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted by SIGINT at step" in stderr and "--resume" in stderr
    interrupted_at = ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])[2]["step"]
    assert f"at step {interrupted_at};" in stderr  # saved at the interrupt itself
    target = interrupted_at + 25
    proc = run_cli("--config", str(config), "--resume", "--set", f"train.steps={target}", "--quiet")
    assert proc.returncode == 0, proc.stderr
    resumed, _, meta = ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])
    assert meta["step"] == target
    cfg = load_config(config, [f"train.steps={target}", f"out_dir={tmp_path / 'straight'}"])
    straight = train(cfg, quiet=True, log=None)
    assert_same_params(straight.params, resumed)
