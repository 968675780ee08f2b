"""The run folder: one owner, refusals before work, stop signals that save, clear errors."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cbow.models import checkpoint as ckpt
from cbow.errors import TrainingDiverged
from cbow.training.run import RunFolder, RunFolderError
from cbow.training.loop import train
from conftest import REPO_ROOT, run_cbow
from test_train import corpus_file, small_config  # noqa: F401  (the module's corpus fixture)


cli = run_cbow


def test_a_new_run_into_a_folder_holding_a_run_is_refused(corpus_file, tmp_path):
    first = train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)
    before = {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()}
    with pytest.raises(RunFolderError, match=r"already holds a training run.*--resume.*--out"
                                             r".*--overwrite"):
        train(small_config(corpus_file, tmp_path, "train.steps=5"), quiet=True, log=None)
    assert {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()} == before
    again = train(small_config(corpus_file, tmp_path, "train.steps=5"), overwrite=True,
                  quiet=True, log=None)
    assert [p.name for p in RunFolder(tmp_path).checkpoints()] == ["step_00000005.npz"]
    assert again.checkpoint != first.checkpoint


def test_resume_needs_a_checkpoint_unless_auto(corpus_file, tmp_path):
    with pytest.raises(RunFolderError, match=r"no checkpoint to resume from .*step_\*\.npz"):
        train(small_config(corpus_file, tmp_path / "typo"), resume=True, quiet=True, log=None)
    assert not (tmp_path / "typo").exists(), "a refused run leaves no folder behind"
    messages = []
    result = train(small_config(corpus_file, tmp_path / "auto", "train.steps=10"), resume="auto",
                   quiet=True, log=messages.append)
    assert result.step == 10
    assert any("starting from step 0" in m for m in messages)
    done = train(small_config(corpus_file, tmp_path / "auto", "train.steps=10"), resume="auto",
                 quiet=True, log=None)
    assert done.already_complete and "already complete at step 10" in done.summary()


def test_a_second_process_on_a_folder_in_use_fails_at_once(corpus_file, tmp_path):
    folder = RunFolder(tmp_path / "busy")
    with folder.lock():
        start = time.monotonic()
        proc = cli("train", "--config", REPO_ROOT / "configs" / "course.yaml",
                   "--set", f"corpus={corpus_file}", "--out", folder.path)
        assert time.monotonic() - start < 30
    assert proc.returncode == 2, proc.stderr
    assert f"{folder.path} is in use by another cbow process (pid {os.getpid()})" in proc.stderr
    assert "Traceback" not in proc.stderr


def start_endless_run(corpus_file, run) -> subprocess.Popen:
    """``cbow train`` in a child process that would run for ever, once it has a checkpoint."""
    proc = subprocess.Popen([sys.executable, "-m", "cbow", "train", "--config",
                             str(REPO_ROOT / "configs" / "shakespeare.yaml"), "--set",
                             f"corpus={corpus_file}", "--set", "model.N=8", "--set",
                             "checkpoint.every=50", "--set", "train.epochs=null", "--set",
                             "train.steps=100000000", "--out", str(run)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not ckpt.list_checkpoints(run / "checkpoints") and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_save_and_print_the_resume_command(corpus_file, tmp_path, sig):
    run = tmp_path / "run"
    proc = start_endless_run(corpus_file, run)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stderr
    step = ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])[2]["step"]
    assert f"interrupted by {signal.Signals(sig).name} at step {step};" in stderr
    assert "-m cbow train" in stderr and "--resume" in stderr


def test_leftover_temporary_files_are_removed_when_a_run_starts(corpus_file, tmp_path):
    train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)
    leftover = tmp_path / "checkpoints" / ".step_00000020.npz.abc.tmp"
    leftover.write_bytes(b"PK half")
    messages = []
    train(small_config(corpus_file, tmp_path, "train.steps=20"), resume=True, quiet=True,
          log=messages.append)
    assert not leftover.exists()
    assert any("removed" in m and leftover.name in m for m in messages)


def test_no_checkpoint_holds_a_non_finite_number(tmp_path):
    from cbow.data.vocab import Vocabulary
    arrays = {"W1": np.array([[1.0, np.nan]])}
    with pytest.raises(ckpt.NonFiniteParameters, match="W1"):
        ckpt.save_checkpoint(tmp_path / "c.npz", arrays, Vocabulary(["a", "b"]), {})
    assert list(tmp_path.iterdir()) == []
    np.savez(tmp_path / "bad.npz", W1=arrays["W1"], meta=np.array("{}"))
    with pytest.raises(ckpt.CheckpointError, match="NaN or infinite"):
        ckpt.load_checkpoint(tmp_path / "bad.npz")


def test_divergence_that_stays_finite_stops_the_run(corpus_file, tmp_path):
    with pytest.raises(TrainingDiverged, match=r"exceeds 10 ln V"):
        train(small_config(corpus_file, tmp_path, "train.alpha=1e6", "train.decay=1"),
              quiet=True, log=None)


@pytest.mark.parametrize("args, message", [
    (["--out", "{file}/run"], "a part of its path is a file"),
    (["--out", "{file}"], "is a file; choose another --out"),
])
def test_bad_run_folders_are_one_line(corpus_file, tmp_path, args, message):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = [a.format(file=blocker) for a in args]
    proc = cli("train", "--config", REPO_ROOT / "configs" / "course.yaml",
               "--set", f"corpus={corpus_file}", *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
    from cbow.cli import run_cli

    def buggy():
        return [][1]

    with pytest.raises(IndexError):
        run_cli(buggy)


def test_query_words_fold_case_like_the_vocabulary(tmp_path):
    from cbow.data.vocab import Vocabulary
    vocab = Vocabulary(["king", "wing", "sing", "ring"])
    assert vocab.resolve_case("King") == "king"
    assert vocab.close_spellings("KING")[0] == "king"
    assert vocab.close_spellings("Kingg")[0] == "king"  # folded first, then spelt alike


def test_a_full_disk_while_checkpointing_is_one_line_and_leaves_nothing(corpus_file, tmp_path,
                                                                       monkeypatch, capsys):
    import errno

    from cbow.cli import main
    first = train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)

    def full(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "write_npz", full)
    code = main(["train", "--config", str(tmp_path / "config.yaml"), "--set", "train.steps=20",
                 "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "step_00000020.npz: the disk is full" in err and "Traceback" not in err
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == [first.checkpoint.name]


def test_a_run_too_big_for_memory_is_refused_before_any_work(corpus_file, tmp_path):
    proc = cli("train", "--config", REPO_ROOT / "configs" / "course.yaml", "--set",
               f"corpus={corpus_file}", "--set", "model.N=100000000", "--out", tmp_path / "big")
    assert proc.returncode == 3, proc.stderr
    assert "GiB of memory" in proc.stderr and "lower model.N" in proc.stderr
    assert not (tmp_path / "big").exists()


def test_export_out_onto_a_folder_or_under_a_file_is_one_line(tmp_path):
    from cbow.models.softmax.model import initialize_model
    from cbow.data.vocab import Vocabulary
    vocab = Vocabulary(["a", "b", "c"])
    ckpt.save_checkpoint(tmp_path / "run" / "checkpoints" / "step_00000001.npz",
                         initialize_model(2, 3).arrays(), vocab, {"step": 1})
    (tmp_path / "a-file").write_text("x")
    for out, message in [(tmp_path, "is a folder"), (tmp_path / "a-file" / "v.txt",
                                                      "a file is in the way")]:
        proc = cli("export", tmp_path / "run", "--out", out)
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr


def test_benchmarks_and_the_unigram_baseline_are_scored_during_training(corpus_file, tmp_path):
    import json

    from cbow.models.baseline import unigram_cross_entropy
    from cbow.analysis.plot import plot_loss
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# word1 word2 score\nking queen 8\nking dog 2\nman woman 8\nwar peace 6\n"
                     "love death 5\n")
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": family\nking queen man woman\nman woman king queen\n")
    result = train(small_config(corpus_file, tmp_path / "run", f"eval.pairs=[{pairs}]",
                                f"eval.analogies=[{analogies}]"), quiet=True, log=None)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    scored = [r for r in rows if "benchmarks" in r]
    assert [r["step"] for r in scored] == [0, 10, 20, 30, 40]
    for row in scored:
        assert set(row["benchmarks"]) == {"pairs spearman", "analogies accuracy"}
        assert -1 <= row["benchmarks"]["pairs spearman"] <= 1
    assert result.benchmarks == scored[-1]["benchmarks"]
    # The baseline: add-one unigram of the training tokens, on the held-out center words.
    from cbow.data.corpus import read_text
    from cbow.data.text import course_tokenize
    from cbow.data.vocab import Vocabulary
    tokens = course_tokenize(read_text(corpus_file))
    vocab = Vocabulary.from_tokens(tokens)
    ids = vocab.encode(tokens)
    n_val = round(len(ids) * 0.1)
    expected = unigram_cross_entropy(ids[:-n_val], ids[-n_val:][2:-2], len(vocab))
    assert rows[0]["unigram_val_loss"] == pytest.approx(expected, rel=1e-12)
    assert result.unigram_val_loss == rows[0]["unigram_val_loss"]
    assert "a unigram model of the training tokens" in result.summary()
    assert plot_loss(tmp_path / "run", tmp_path / "loss.png").stat().st_size > 0


def test_a_malformed_benchmark_file_stops_training_before_it_starts(corpus_file, tmp_path):
    from cbow.evaluation import BenchmarkFileError
    bad = tmp_path / "bad.tsv"
    bad.write_text("king queen\n")
    with pytest.raises(BenchmarkFileError, match="bad.tsv, line 1"):
        train(small_config(corpus_file, tmp_path / "run", f"eval.pairs=[{bad}]"), quiet=True,
              log=None)
    assert not RunFolder(tmp_path / "run").checkpoints()


def test_prepare_command_builds_then_reuses(corpus_file, tmp_path):
    args = ["prepare", "--config", REPO_ROOT / "configs" / "word2vec.yaml", "--set",
            f"corpus={corpus_file}", "--set", f"prepare.cache_dir={tmp_path}", "--set",
            "prepare.workers=1", "--quiet"]
    first, second = cli(*args), cli(*args)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.startswith("prepared corpus")
    assert second.stdout.startswith("found the prepared corpus")
    assert "1,071 tokens kept" in first.stdout
    bad = cli(*args[:-1], "--set", "vocab.min_count=0")
    assert bad.returncode == 2 and "vocab.min_count must be an integer >= 1" in bad.stderr


def test_a_checkpoints_entry_that_is_a_file_is_one_line(corpus_file, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoints").write_text("not a folder")
    proc = cli("train", "--config", REPO_ROOT / "configs" / "course.yaml", "--set",
               f"corpus={corpus_file}", "--out", tmp_path / "run")
    assert proc.returncode == 2
    assert "checkpoints is a file" in proc.stderr and "Traceback" not in proc.stderr


def test_out_is_a_path_even_when_it_looks_like_a_number(corpus_file, tmp_path):
    proc = cli("train", "--config", REPO_ROOT / "configs" / "course.yaml", "--set",
               f"corpus={corpus_file}", "--set", "train.steps=3", "--out", "2024", "--quiet",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert RunFolder(tmp_path / "2024").checkpoints()


def test_a_log_file_gets_plain_lines_and_quiet_keeps_warnings(corpus_file, tmp_path):
    args = ["train", "--config", REPO_ROOT / "configs" / "shakespeare.yaml", "--set",
            f"corpus={corpus_file}", "--set", "model.N=8", "--set", "train.epochs=null",
            "--set", "train.steps=300", "--set", "train.eval_every=100", "--set",
            "checkpoint.every=100", "--out", tmp_path / "r"]
    proc = cli(*args)  # stderr is a pipe here, as in a log file
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    assert [line.split(":")[0] for line in proc.stderr.splitlines() if line.startswith("step")] \
        == ["step 100/300", "step 200/300", "step 300/300"]
    newest = RunFolder(tmp_path / "r").checkpoints()[-1]
    newest.write_bytes(newest.read_bytes()[:100])
    proc = cli(*args[:-2], "--set", "train.steps=310", "--out", tmp_path / "r", "--resume",
               "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "warning: skipping unreadable checkpoint" in proc.stderr


def test_a_second_signal_while_stopping_changes_nothing(corpus_file, tmp_path):
    run = tmp_path / "run"
    proc = start_endless_run(corpus_file, run)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)  # impatient: the second arrives while the first is handled
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    step = ckpt.load_checkpoint(ckpt.list_checkpoints(run / "checkpoints")[-1])[2]["step"]
    assert f"interrupted by SIGTERM at step {step};" in stderr
    assert not list((run / "checkpoints").glob(".*.tmp"))


def test_sizes_in_messages_show_their_numbers():
    from cbow.training.run import size
    assert [size(n) for n in (0, 1023, 358935, 3 << 20, 5 << 30, 1 << 45)] == [
        "0 bytes", "1,023 bytes", "350.5 KiB", "3.0 MiB", "5.0 GiB", "32,768.0 GiB"]
