"""A hostile user against the prepared corpus (issue 18): damaged folders, a killed worker,
a full disk, odd inputs. Each case ends in one clear line and leaves nothing half-made."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cbow import cli
from cbow.data import prepared_corpus as prep
from cbow.data.prepare import DamagedPreparedCorpus, load_prepared, prepare
from conftest import REPO_ROOT, run_cbow

TEXT = ("the cat sat on the mat\nthe dog ran away\na cat sat on a mat\nthe cat the dog\n"
        "cat sat\n") * 20


def prepared_folder(tmp_path: Path) -> Path:
    corpus = tmp_path / "small.txt"
    corpus.write_text(TEXT)
    return prepare(corpus, tokenizer="whitespace", workers=1, cache_root=tmp_path / "cache",
                   progress=False).folder


def rewrite_npy(path: Path, change) -> None:
    array = np.load(path).copy()
    np.save(path, change(array))


def edit_json(path: Path, change) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


DAMAGE = {
    # description.json that parses but is not what was written
    "description is a list": (lambda f: (f / "description.json").write_text("[1, 2]"),
                              "description.json holds a JSON list, not an object"),
    "description lacks a key": (lambda f: edit_json(f / "description.json",
                                                    lambda d: {k: v for k, v in d.items()
                                                               if k != "tokens"}),
                                "description.json has no int 'tokens.kept'"),
    "description not JSON": (lambda f: (f / "description.json").write_text("{"),
                             "description.json cannot be read"),
    # empty and truncated arrays
    "empty starts": (lambda f: (f / "sentence_starts.npy").write_bytes(b""),
                     "damaged: sentence_starts.npy cannot be read (No data left in file)"),
    "truncated ids": (lambda f: (f / "ids.npy").write_bytes((f / "ids.npy").read_bytes()[:-4]),
                      "damaged: ids.npy cannot be read"),
    # valid arrays with wrong content
    "id >= V": (lambda f: rewrite_npy(f / "ids.npy", lambda a: np.where(
        np.arange(a.size) == 7, 999, a).astype(a.dtype)),
        "ids.npy holds id 999 at position 7, but the vocabulary has 9 words"),
    "ids reordered": (lambda f: rewrite_npy(f / "ids.npy", lambda a: a[::-1].copy()),
                      "ids.npy does not match the checksum recorded"),
    "word renamed": (lambda f: (f / "vocab.txt").write_text(
        (f / "vocab.txt").read_text().replace("cat\t", "cow\t")),
        "vocab.txt does not match the checksum recorded"),
    "starts decreasing": (lambda f: rewrite_npy(f / "sentence_starts.npy",
                                                lambda a: a[[0, 2, 1, *range(3, a.size)]]),
                          "sentence start 2 in sentence_starts.npy is 6: starts must increase"),
    "start out of range": (lambda f: rewrite_npy(f / "sentence_starts.npy",
                                                 lambda a: np.append(a[:-1], 10**6)),
                           "starts must increase and stay below the 440 tokens"),
    "start not 0": (lambda f: rewrite_npy(f / "sentence_starts.npy", lambda a: a + 1),
                    "sentence_starts.npy begins at 1, not 0"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_prepared_folder_is_one_error_naming_it_and_the_way_out(tmp_path, case):
    folder = prepared_folder(tmp_path)
    damage, expected = DAMAGE[case]
    damage(folder)
    with pytest.raises(DamagedPreparedCorpus) as info:
        load_prepared(folder)
    message = str(info.value)
    assert expected in message, message
    assert str(folder) in message and "cbow prepare --force" in message
    assert info.value.folder == folder


def test_checksums_are_recorded_and_a_sound_folder_loads(tmp_path):
    folder = prepared_folder(tmp_path)
    description = json.loads((folder / "description.json").read_text())
    assert set(description["checksums"]) == {"ids.npy", "sentence_starts.npy", "vocab.txt"}
    assert description["checksums"]["ids.npy"] == prep._file_checksum(folder / "ids.npy")
    # an array bigger than one piece of the scan is checked across the pieces' seams
    loaded = load_prepared(folder)
    assert loaded.n_tokens == 440 and loaded.sentence_starts[0] == 0


def test_scan_checks_across_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(prep, "_SCAN_ELEMENTS", 4)
    folder = prepared_folder(tmp_path)
    load_prepared(folder)  # sound: passes with pieces of 4
    rewrite_npy(folder / "sentence_starts.npy", lambda a: np.where(np.arange(a.size) == 4,
                                                                    a[3], a))
    with pytest.raises(DamagedPreparedCorpus, match="sentence start 4 in sentence_starts.npy"):
        load_prepared(folder)


def test_cli_damaged_folder_exit_2_then_force_prepares_it_again(tmp_path):
    corpus = tmp_path / "small.txt"
    corpus.write_text(TEXT)
    args = ["prepare", "--config", REPO_ROOT / "configs" / "course.yaml", "--set",
            f"corpus={corpus}", "--set", "tokenizer=whitespace", "--set",
            f"prepare.cache_dir={tmp_path / 'cache'}", "--set", "prepare.workers=1", "--quiet"]
    assert run_cbow(*args, timeout=120).returncode == 0
    [folder] = (tmp_path / "cache").iterdir()
    rewrite_npy(folder / "ids.npy", lambda a: a[::-1].copy())
    damaged = run_cbow(*args, timeout=120)
    assert damaged.returncode == 2 and damaged.stderr.count("\n") == 1, damaged.stderr
    assert damaged.stderr.startswith(f"error: prepared corpus {folder} is damaged: ids.npy")
    forced = run_cbow(*args, "--force", timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [folder.name]
    fresh = load_prepared(folder)
    assert fresh.vocab.words[fresh.ids[0]] == "the"
    again = run_cbow(*args, "--force", timeout=120)  # a sound folder is prepared again too
    assert again.returncode == 0 and "prepared corpus" in again.stdout
    assert "found the prepared" not in again.stdout


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("command", ["prepare", "train"])
def test_a_worker_killed_by_sigkill_ends_the_command_with_one_line(tmp_path, command):
    corpus = tmp_path / "big.txt"
    words = "alpha beta gamma delta the cat sat on mat river stone light".split()
    rng = np.random.default_rng(0)
    lines = [" ".join(words[i] for i in row) + " ." for row in rng.integers(0, 12, (480_000, 12))]
    corpus.write_text("\n".join(lines))  # ~24 MB: work left for each worker when one is killed
    cache = tmp_path / "cache"
    args = [sys.executable, "-m", "cbow", command, "--config",
            str(REPO_ROOT / "configs" / "course.yaml"), "--set", f"corpus={corpus}", "--set",
            f"prepare.cache_dir={cache}", "--set", "prepare.workers=2", "--quiet"]
    if command == "train":
        args += ["--out", str(tmp_path / "run")]
    # A session of its own: if the command does not end, the cleanup kills its pool workers
    # too, which would otherwise hold the pipes open and hang communicate().
    child = subprocess.Popen(args, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while len(workers) < 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
            workers = _children(child.pid)
        assert len(workers) == 2, "the pool's two workers never appeared"
        time.sleep(0.5)  # let them take their first chunks
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)  # what the out-of-memory killer does
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate(timeout=60)
    assert child.returncode == 2, stderr
    assert stderr == (f"error: prepare worker process {victim} was killed by SIGKILL (most "
                      f"likely by the out-of-memory killer); nothing was cached. Use fewer "
                      f"workers (prepare.workers) or free some memory, and prepare again.\n")
    assert list(cache.iterdir()) == []  # no partial cache, no temporary folder
    assert not (tmp_path / "run").exists()  # training never started: no run folder either


def test_a_full_disk_while_preparing_names_the_file(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "small.txt"
    corpus.write_text(TEXT)
    real_open = open

    class Full:
        """ids.npy on a disk that fills up after 100 bytes: write raises as the OS makes it."""

        def __init__(self, out):
            self.out, self.left = out, 100

        def write(self, data):
            size = memoryview(data).nbytes
            if size > self.left:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.left -= size
            return self.out.write(data)

        def __getattr__(self, name):
            return getattr(self.out, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.out.__exit__(*exc)

    def filling_open(path, *args, **kwargs):
        out = real_open(path, *args, **kwargs)
        return Full(out) if Path(path).name == "ids.npy" and "w" in args[0] else out

    monkeypatch.setattr(prep, "open", filling_open, raising=False)
    cache = tmp_path / "cache"
    code = cli.main(["prepare", "--config", str(REPO_ROOT / "configs" / "course.yaml"),
                     "--set", f"corpus={corpus}", "--set", "tokenizer=whitespace",
                     "--set", f"prepare.cache_dir={cache}", "--set", "prepare.workers=1",
                     "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "/ids.npy: the disk is full; free some space" in err, err
    assert list(cache.iterdir()) == []  # the half-written folder is gone
