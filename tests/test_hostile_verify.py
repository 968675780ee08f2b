"""A hostile user's verification of a fresh clone: a full disk names the file whatever the
training loop was writing, a reader that closes the pipe costs no work, an unreadable
checkpoint is described in our own words, ``similar`` labels ``- man`` and reads a projector
folder, and a FIFO in a corpus folder is named when it is skipped. Real processes wherever the
case is about them (pipes, exit codes)."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cbow.models import checkpoint as ckpt
from cbow import cli as cbow_cli
from cbow.training import run as run_module
from cbow.commands.similar import format_neighbours
from cbow.vectors.embeddings import Embeddings
from cbow.training.run import load_embeddings
from cbow.data.sources import resolve_sources
from cbow.training.loop import train
from conftest import REPO_ROOT, make_run, run_cbow
from test_train import corpus_file, small_config  # noqa: F401  (the module's corpus fixture)

DISK_FULL = "the disk is full; free some space (or write elsewhere) and try again"
COMMAND = [sys.executable, "-m", "cbow"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- 1. a full disk while training: one line naming the file, exit 2, checkpoints kept -------

def test_a_full_disk_under_metrics_jsonl_names_it(corpus_file, tmp_path, monkeypatch, capsys):
    """metrics.jsonl is written a row at a time; its flush on a full disk must name it.

    No mount is needed: the metrics file is opened on /dev/full, whose writes the kernel
    fails with ENOSPC, as a full file system's do (the test replaces the ``open`` that
    cbow.training.run calls, for that one file)."""
    train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)
    checkpoints = tmp_path / "checkpoints"
    before = snapshot(checkpoints)
    real_open = open

    def full_disk(path, mode="r", *args, **kwargs):
        if Path(path).name == "metrics.jsonl" and "a" in mode:
            return real_open("/dev/full", mode, *args, **kwargs)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(run_module, "open", full_disk, raising=False)
    code = cbow_cli.main(["train", "--config", str(tmp_path / "config.yaml"), "--set",
                          "train.steps=20", "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[-1] == f"error: {tmp_path / 'metrics.jsonl'}: {DISK_FULL}"
    assert err.count("error") == 1 and "Traceback" not in err
    assert snapshot(checkpoints) == before  # the last good checkpoint, untouched


def test_the_log_on_a_full_disk_names_its_file(monkeypatch):
    """The training log (stderr redirected to a file) names that file when a write fails."""
    full = open("/dev/full", "w")
    monkeypatch.setattr(sys, "stderr", full)
    try:
        with pytest.raises(OSError) as info:
            cbow_cli.log("step 100/200: loss 5.0")
    finally:
        monkeypatch.undo()
        cbow_cli._discard([full.fileno()])  # its buffer still holds the line
        full.close()
    assert info.value.errno == errno.ENOSPC
    assert cbow_cli.describe_os_error(info.value) == f"/dev/full: {DISK_FULL}"


def test_a_run_whose_log_hits_a_full_disk_exits_2_and_keeps_its_checkpoints(corpus_file,
                                                                            tmp_path):
    """A real process whose stderr is /dev/full (ENOSPC on every write): the error line
    cannot be shown there, but the exit code says it (2, not a traceback's 1 or 120)."""
    train(small_config(corpus_file, tmp_path, "train.steps=10"), quiet=True, log=None)
    before = snapshot(tmp_path / "checkpoints")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*COMMAND, "train", "--config", str(tmp_path / "config.yaml"),
                               "--set", "train.steps=20", "--resume"], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=full, timeout=300)
    assert proc.returncode == 2
    assert snapshot(tmp_path / "checkpoints") == before
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("checkpoints/.*.tmp"))


# --- 6. a reader that closes the pipe ------------------------------------------------------

def test_a_pipe_closed_by_its_reader_stops_the_run_with_a_checkpoint(corpus_file, tmp_path):
    """``cbow train ... 2>&1 | head -1``: the reader takes one line and goes. The run stops at
    the end of its step as SIGPIPE would stop it, saved, quietly (exit 141), and resumes."""
    run = tmp_path / "run"
    args = ["train", "--config", str(REPO_ROOT / "configs" / "shakespeare.yaml"), "--set",
            f"corpus={corpus_file}", "--set", "model.N=8", "--set", "train.epochs=null",
            "--set", "train.eval_every=20", "--set", "checkpoint.every=100000000",
            "--set", f"prepare.cache_dir={tmp_path / 'cache'}", "--out", str(run)]
    proc = subprocess.Popen([*COMMAND, *args, "--set", "train.steps=100000000"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    first = proc.stdout.readline()
    proc.stdout.close()  # the only read end: every later write fails with EPIPE
    try:
        code = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("the run went on after its output was closed")
    assert first.startswith(b"held-out loss of the untrained model")
    assert code == 128 + signal.SIGPIPE
    [saved] = ckpt.list_checkpoints(run / "checkpoints")
    step = ckpt.load_checkpoint(saved)[2]["step"]
    assert step >= 20  # stopped at the first log line after the reader left, or later
    resumed = run_cbow(*args, "--set", f"train.steps={step + 5}", "--resume", "--quiet",
                       timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert ckpt.list_checkpoints(run / "checkpoints")[-1].name == f"step_{step + 5:08d}.npz"


def test_a_closed_stdout_ends_a_command_quietly(tmp_path):
    """``cbow similar ... | head -0``: no traceback, no 'Exception ignored', exit 141."""
    run = make_run(tmp_path / "run", ["a", "b", "c", "d"], N=3)
    proc = subprocess.Popen([*COMMAND, "similar", str(run), "a", "b", "c"], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGPIPE, err
    assert err == b""


# --- 3. an unreadable checkpoint under --resume auto ---------------------------------------

def test_unreadable_checkpoints_are_described_in_our_words(corpus_file, tmp_path):
    config = str(REPO_ROOT / "configs" / "course.yaml")
    sets = ["--set", f"corpus={corpus_file}", "--set", f"prepare.cache_dir={tmp_path / 'c'}",
            "--set", "checkpoint.every=10", "--set", "train.eval_every=100"]
    run = tmp_path / "run"
    first = run_cbow("train", "--config", config, *sets, "--set", "train.steps=10",
                     "--out", run, "--quiet", timeout=300)
    assert first.returncode == 0, first.stderr
    folder = run / "checkpoints"
    good = folder / "step_00000010.npz"
    data = good.read_bytes()
    garbage = folder / "step_00000098.npz"
    garbage.write_bytes(np.random.default_rng(0).bytes(4000))
    cut = folder / "step_00000097.npz"
    cut.write_bytes(data[:len(data) // 2])
    flipped = bytearray(data)
    with zipfile.ZipFile(good) as archive:  # a byte inside the first array's data
        member = archive.infolist()[0]
    flipped[member.header_offset + 30 + len(member.filename) + 200] ^= 0xFF
    bad_crc = folder / "step_00000096.npz"
    bad_crc.write_bytes(bytes(flipped))
    proc = run_cbow("train", "--config", config, *sets, "--set", "train.steps=12",
                    "--out", run, "--resume", "auto", "--quiet", timeout=300)
    assert proc.returncode == 0, proc.stderr
    unreadable = folder / "unreadable"
    instead = f"; resuming from {good} (step 10), the newest readable checkpoint"
    for path, reason in [
            (garbage, "it is not a .npz archive (a checkpoint is a zip file; this is not one)"),
            (cut, "it is a damaged .npz archive: cut short, or its table of contents is "
                  "damaged"),
            (bad_crc, f"it is a damaged .npz archive: its array {member.filename} fails its "
                      f"checksum")]:
        line = (f"warning: skipping unreadable checkpoint {path}: {reason}; moved it to "
                f"{unreadable / path.name}{instead}")
        assert proc.stderr.count(line + "\n") == 1, proc.stderr
        assert (unreadable / path.name).is_file()
    assert "pickle" not in proc.stderr and "delete it" not in proc.stderr


# --- 4. and 5. similar: '- man', and a projector folder ------------------------------------

WORDS = ["king", "queen", "man", "woman", "boy", "girl", "lord", "lady"]


def test_similar_with_negative_words_only_labels_the_query_as_written(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N=4)
    proc = run_cbow("similar", run, "--negative", "man", "--topn", "4")
    assert proc.returncode == 0, proc.stderr
    api = load_embeddings(run).most_similar(negative=["man"], topn=4)
    assert proc.stdout == format_neighbours("- man", api) + "\n"
    assert proc.stdout.startswith("nearest to '- man':\n")
    two = run_cbow("similar", run, "--positive", "king", "--negative", "man", "boy")
    assert two.stdout.startswith("nearest to 'king - man - boy':\n"), two.stderr


def test_similar_and_evaluate_read_a_projector_folder(tmp_path):
    run = make_run(tmp_path / "run", WORDS, N=4)
    projector = tmp_path / "projector"
    export = run_cbow("export", run, "--format", "projector", "--out", projector)
    assert export.returncode == 0, export.stderr
    from_run = run_cbow("similar", run, "king", "--topn", "3")
    from_folder = run_cbow("similar", projector, "king", "--topn", "3")
    assert from_folder.returncode == 0, from_folder.stderr
    assert from_folder.stdout == from_run.stdout  # the exported text reads back exactly
    loaded = load_embeddings(projector)
    assert loaded.words == Embeddings.load(projector).words
    assert np.array_equal(loaded.vectors, Embeddings.load(projector).vectors)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("king queen 9\nman woman 8\nboy lady 1\n")
    evaluated = run_cbow("evaluate", projector, "--pairs", pairs)
    assert evaluated.returncode == 0, evaluated.stderr


# --- a FIFO in a corpus folder ---------------------------------------------------------------

def test_a_fifo_in_a_corpus_folder_is_named_when_skipped(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("the cat sat .\n")
    os.mkfifo(folder / "b.fifo")
    with pytest.warns(UserWarning) as caught:
        files = resolve_sources(str(folder))
    assert [f.path.name for f in files] == ["a.txt"]
    assert len(caught) == 1
    assert f"{folder / 'b.fifo'} (a FIFO)" in str(caught[0].message)
    with pytest.warns(UserWarning, match=r"b.fifo \(a FIFO\)"):
        assert [f.path.name for f in resolve_sources(str(folder / "*"))] == ["a.txt"]
