"""Issue 18 items 2, 6 and 8: a run resumed with another number of workers, a collapsed ReLU
layer stopped as divergence, and stop signals answered inside a long step or evaluation. Real
processes and real signals wherever the case is about them."""
import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cbow.models import checkpoint as ckpt
from cbow.models import word2vec as w2v
from cbow.errors import TrainingDiverged
from cbow.models.objective import collapsed_relu
from cbow.training.loop import train
from conftest import REPO_ROOT, run_cbow
from test_train import assert_same_params, corpus_file, small_config  # noqa: F401  (fixture)
from test_train_word2vec import w2v_config

# w2v_config's settings as `cbow train` options
W2V_SETS = ["model.N=12", "model.C=3", "train.batch_size=60", "train.epochs=null",
            "train.steps=40", "train.workers=1", "train.eval_every=10", "train.log_every=5",
            "checkpoint.every=10", "train.val_fraction=0.1", "train.alpha=0.05",
            "prepare.workers=1"]


def cli_args(corpus, run, *sets) -> list[str]:
    """``cbow train`` arguments: configs/word2vec.yaml with W2V_SETS, then ``sets``."""
    args = ["train", "--config", str(REPO_ROOT / "configs" / "word2vec.yaml"), "--out", str(run)]
    for assignment in [f"corpus={corpus}", f"prepare.cache_dir={run.parent / 'prepared'}",
                       *W2V_SETS, *sets]:
        args += ["--set", assignment]
    return args


def start(args, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cbow", *args], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def wait_until(condition, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended ({proc.returncode}) before {what}: "
                                 f"{proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.02)


def stopped_after_a_checkpoint(corpus, run, *sets) -> dict:
    """Run ``cbow train`` for ever, SIGTERM it once it has a checkpoint; its newest meta."""
    proc = start(cli_args(corpus, run, "train.steps=100000000", "checkpoint.every=5", *sets))
    wait_until(lambda: ckpt.list_checkpoints(run / "checkpoints"), proc, "checkpoint")
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    return newest_meta(run)


def newest_meta(run) -> dict:
    return ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])[2]


def metrics(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# ------------------------------------------------------------------ item 2: another worker count

def test_resized_generator_states_follow_one_rule():
    saved = w2v.worker_rng_states(7, 2, epoch=3)
    assert w2v.resize_rng_states(saved, 2).tolist() == saved.tolist()  # same count: unchanged
    assert w2v.resize_rng_states(saved, 1).tolist() == saved[:1].tolist()
    grown = w2v.resize_rng_states(saved, 4)
    assert grown[:2].tolist() == saved.tolist()
    assert len(set(grown.tolist())) == 4  # the new lanes draw other numbers
    assert grown.tolist() == w2v.resize_rng_states(saved, 4).tolist()  # deterministic
    assert grown[:3].tolist() == w2v.resize_rng_states(saved, 3).tolist()
    with pytest.raises(ValueError):
        w2v.resize_rng_states([], 2)


@pytest.mark.parametrize("before, after", [(1, 2), (2, 1)])
def test_a_run_stopped_by_sigterm_resumes_with_another_number_of_workers(
        corpus_file, tmp_path, before, after):
    run = tmp_path / "run"
    saved = stopped_after_a_checkpoint(corpus_file, run, f"train.workers={before}")
    assert len(saved["model_state"]["rng_states"]) == before
    goal = saved["step"] + 12
    resumed = run_cbow(*cli_args(corpus_file, run, f"train.steps={goal}",
                                 f"train.workers={after}"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert "resuming from" in resumed.stderr and f"(step {saved['step']})" in resumed.stderr
    final = newest_meta(run)
    assert final["step"] == goal and len(final["model_state"]["rng_states"]) == after
    # it went on from the saved position: the metrics continue, no step is trained twice
    steps = [r["step"] for r in metrics(run)]
    assert steps == sorted(set(steps)) and steps[-1] == goal


def test_workers_null_resumed_on_fewer_cores(corpus_file, tmp_path):
    """``workers: null`` is the number of cores; a resume on one core (taskset -c 0, done here
    with sched_setaffinity in the child) continues with one worker."""
    run = tmp_path / "run"
    cores = len(os.sched_getaffinity(0))
    saved = stopped_after_a_checkpoint(corpus_file, run, "train.workers=null")
    assert len(saved["model_state"]["rng_states"]) == cores
    one_core = min(os.sched_getaffinity(0))
    resumed = subprocess.run(
        [sys.executable, "-m", "cbow", *cli_args(corpus_file, run, "train.workers=null",
                                                 f"train.steps={saved['step'] + 7}"), "--resume"],
        cwd=REPO_ROOT, capture_output=True, text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {one_core}))
    assert resumed.returncode == 0, resumed.stderr
    final = newest_meta(run)
    assert final["step"] == saved["step"] + 7 and len(final["model_state"]["rng_states"]) == 1


# ------------------------------------------------------------------ item 6: a collapsed layer

def test_collapsed_relu_is_every_unit_dead_for_every_input():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(30, 4))  # input rows (words), 4 hidden units
    bias = -rows.max(axis=0) - 0.01
    assert "collapsed" in collapsed_relu(rows.max(axis=0), bias)
    # then no context (any mean of rows) lights a unit
    contexts = rng.integers(0, 30, size=(500, 6))
    assert (rows[contexts].mean(axis=1) + bias <= 0).all()
    alive = bias.copy()
    alive[2] += 0.02  # one unit can still fire (for the context of its best word)
    assert collapsed_relu(rows.max(axis=0), alive) is None
    assert collapsed_relu(np.array([np.nan]), np.array([-1.0])) is None  # not finite: not this


def test_a_collapsed_word2vec_relu_layer_is_divergence_and_keeps_the_last_good_checkpoint(
        corpus_file, tmp_path):
    """train.alpha 1000 with hidden relu: every unit ends at zero (the loss stuck at the value
    of a score of 0); the run stopped with exit 3 at the first check after the collapse."""
    run = tmp_path / "run"
    # word2vec's narrower start: the collapse comes after a good checkpoint was written; every
    # row stepped (with gensim's skip beyond +-6, the loss diverges before the layer dies)
    done = run_cbow(*cli_args(corpus_file, run, "model.hidden=relu", "model.init=word2vec",
                              "model.skip_saturated=false", "train.alpha=1000",
                              "train.steps=200"), "--quiet")
    assert done.returncode == 3, done.stderr
    message = done.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    assert "training diverged at step" in message and "hidden layer collapsed" in message
    assert "Lower train.alpha (now 1000)" in message
    kept = ckpt.list_checkpoints(run / "checkpoints")
    assert kept and f"the last good checkpoint is {kept[-1]}" in message
    arrays, _, meta = ckpt.load_checkpoint(kept[-1])
    assert collapsed_relu(arrays["input_vectors"].max(axis=0), arrays["hidden_bias"]) is None
    assert f"at step {meta['step'] + 10}:" in message  # the first check after it


def test_a_collapsed_softmax_encoder_is_divergence(corpus_file, tmp_path):
    with pytest.raises(TrainingDiverged, match=r"at step 10: the hidden layer collapsed: each "
                                               r"of its 8 ReLU units .*Lower train.alpha"):
        train(small_config(corpus_file, tmp_path, "train.alpha=20", "train.steps=200"),
              quiet=True, log=None)


@pytest.mark.parametrize("objective", ["softmax", "negative", "hierarchical"])
def test_the_normal_settings_are_healthy(corpus_file, tmp_path, objective):
    if objective == "softmax":
        result = train(small_config(corpus_file, tmp_path), quiet=True, log=None)
    else:
        result = train(w2v_config(corpus_file, tmp_path, f"model.objective={objective}",
                                  "model.hidden=relu"), quiet=True, log=None)
    assert result.model.health() is None and result.step == 40


# ------------------------------------------------------------------ item 8: stop signals

def stream_corpus(path, lines: int = 400):
    """One stream (no sentence breaks for the course tokenizer) of 12 * lines words."""
    rng = np.random.default_rng(0)
    words = ["".join(t) for t in itertools.product("abcdefghij", "klmnopqrst", "uvw")][:300]
    p = 1.0 / np.arange(1, 301)
    chosen = rng.choice(words, size=(lines, 12), p=p / p.sum())
    path.write_text("\n".join(" ".join(line) for line in chosen) + "\n")
    return path


# Every example reads 2 * 1000 context words and scores 1001 output rows: a step of thousands
# of positions takes seconds (minutes at the corpus sizes word2vec is run on).
# A step of seconds; every row stepped (with gensim's skip beyond +-6, wrongly saturated rows of
# 1,000 noise words are never corrected and the loss check ends the run as divergence)
SLOW = ["model.C=1000", "model.negative=1000", "train.sample=0", "checkpoint.every=1000",
        "train.eval_every=1000", "model.skip_saturated=false"]


def test_sigterm_inside_a_long_step_saves_where_it_stopped_and_resumes_bit_for_bit(tmp_path):
    corpus = stream_corpus(tmp_path / "stream.txt")
    sets = [*SLOW, "model.C=400", "model.N=1024", "train.batch_size=2400", "train.steps=2",
            "train.val_fraction=0.2"]
    run = tmp_path / "stopped"
    proc = start(cli_args(corpus, run, *sets))
    # the untrained model's held-out row is written just before step 1 starts
    wait_until(lambda: (run / "metrics.jsonl").exists() and metrics(run), proc, "step-0 row")
    time.sleep(0.1)  # into the step (about a second of work with the SIMD dot product)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    meta = newest_meta(run)
    assert (f"interrupted by SIGTERM at step {meta['step']}, part-way through step "
            f"{meta['step'] + 1} (the checkpoint of step {meta['step']} holds how far it got); "
            f"saved") in stderr
    partial = meta["batcher"]["partial"]  # stopped inside the step after meta["step"]
    assert (partial["begin"], partial["end"]) == [(0, 2400), (2400, 3840)][meta["step"]]
    [[reached, end]] = partial["remaining"]
    assert partial["begin"] < reached < end == partial["end"]
    assert partial["words"] == reached - partial["begin"]
    resumed = run_cbow(*cli_args(corpus, run, *sets), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    full = train(w2v_config(corpus, tmp_path / "full", *sets), quiet=True, log=None)
    arrays, _, final = ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])
    assert final["step"] == 2 and "partial" not in final["batcher"]
    assert_same_params(full.model.arrays(), arrays)
    assert final["effective_words"] == full.effective_words
    # the untrained model's row once, not again for the model resumed inside step 1
    assert [r["step"] for r in metrics(run)] == [r["step"] for r in full.history]
    assert final["val_loss_start"] == full.val_loss_start
    print(f"exited {waited:.2f} s after SIGTERM, stopped at position {reached} of {end}")


def test_sigterm_inside_a_long_held_out_evaluation_skips_it(tmp_path):
    corpus = stream_corpus(tmp_path / "stream.txt", lines=1200)
    run = tmp_path / "run"
    proc = start(cli_args(corpus, run, *SLOW, "model.N=64", "train.batch_size=100",
                          "train.steps=5", "train.val_fraction=0.45"))
    for line in proc.stderr:  # not --quiet: it says when the evaluation starts
        if "held-out loss of the untrained model" in line:
            break
    time.sleep(0.1)  # into the evaluation (over a second of work)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM at step 0;" in stderr
    assert not (run / "metrics.jsonl").exists() or metrics(run) == []  # no held-out row
    assert newest_meta(run)["step"] == 0


def test_sigterm_inside_the_last_evaluation_ends_the_run_and_says_which_figure_is_shown(
        tmp_path):
    corpus = stream_corpus(tmp_path / "stream.txt", lines=4800)
    run = tmp_path / "run"
    proc = start(cli_args(corpus, run, *SLOW, "model.N=64", "train.batch_size=50",
                          "train.steps=1", "train.val_fraction=0.45"))
    # step 0's evaluation, then one short step (milliseconds), then the last evaluation (as
    # long as the first: seconds, on a fast machine too)
    wait_until(lambda: (run / "metrics.jsonl").exists() and metrics(run), proc, "step-0 row")
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr  # every step was trained: the run is complete
    rows = metrics(run)
    assert [r["step"] for r in rows] == [0, 1] and "val_loss" not in rows[1]
    assert f"-> {rows[0]['val_loss']:.4f} at step 0 (the last evaluation)" in stdout
    assert newest_meta(run)["step"] == 1


# ------------------------------------------------------------------ the kernels' stop flag

def kernel_case(T: int = 60_000):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 50, T).astype(np.uint32)
    starts = np.arange(0, T, 37, dtype=np.int64)
    counts = np.bincount(tokens, minlength=50)
    objective = w2v.NegativeSampling.from_counts(counts, 5)
    settings = dict(alpha_start=0.05, alpha_end=0.01, C=3, relu=True,
                    keep=w2v.keep_probabilities(counts, 1e-2))
    return tokens, starts, objective, settings


def fresh_weights(objective):
    return [a.copy() for a in w2v.initial_weights(objective, 16, 1)]


def test_a_flag_set_before_the_call_trains_nothing():
    tokens, starts, objective, settings = kernel_case(5_000)
    weights = fresh_weights(objective)
    before = [a.copy() for a in weights]
    flag = np.full(1, signal.SIGTERM, np.int32)
    result = w2v.train_range(objective, weights[0], weights[1], tokens, starts, 100, 4_000,
                             hidden_bias=weights[2], stop_flag=flag, **settings)
    assert result.words == 0 and result.remaining == ((100, 4_000),)
    assert all(np.array_equal(a, b) for a, b in zip(weights, before))
    held_out = w2v.negative_sampling_loss(objective, weights[0], weights[1], tokens, starts,
                                          C=3, relu=True, hidden_bias=weights[2],
                                          stop_flag=flag)
    assert held_out.stopped
    with pytest.raises(TypeError, match="stop_flag"):
        w2v.train_range(objective, weights[0], weights[1], tokens, starts, 0, 10,
                        hidden_bias=weights[2], stop_flag=np.zeros(1, np.int64), **settings)


def test_a_range_stopped_by_another_thread_continues_bit_for_bit():
    import threading
    tokens, starts, objective, settings = kernel_case(600_000)  # about 0.4 s of work
    whole = fresh_weights(objective)
    expected = w2v.train_range(objective, whole[0], whole[1], tokens, starts, 0, tokens.size,
                               hidden_bias=whole[2], **settings)
    parts = fresh_weights(objective)
    flag = np.zeros(1, np.int32)
    setter = threading.Timer(0.05, lambda: flag.__setitem__(0, 1))
    setter.start()
    first = w2v.train_range(objective, parts[0], parts[1], tokens, starts, 0, tokens.size,
                            hidden_bias=parts[2], stop_flag=flag, **settings)
    setter.join()
    flag[0] = 0
    if first.remaining:  # stopped part-way (a busy machine may finish first: then nothing is left)
        [(reached, end)] = first.remaining
        assert 0 <= reached < end == tokens.size and first.words == reached
        second = w2v.train_range(objective, parts[0], parts[1], tokens, starts, reached, end,
                                 hidden_bias=parts[2], rng_states=first.rng_states,
                                 schedule=(0, tokens.size), stop_flag=flag, **settings)
        assert second.rng_states.tolist() == expected.rng_states.tolist()
        assert first.effective_words + second.effective_words == expected.effective_words
        assert first.examples + second.examples == expected.examples
    else:
        assert first.words == tokens.size
    for got, want in zip(parts, whole):
        assert np.array_equal(got, want)
