"""Dask: the scheduler setting (cbow.cluster) and preparing on a cluster (cbow.distributed_prepare).

One LocalCluster of 2 worker processes serves the module; separate `dask scheduler` and
`dask worker` processes serve the command-line test.
"""
from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cbow import cluster
from cbow.distributed_prepare import _plan, prepare_on_cluster, resolve_inputs
from cbow.config import load_config
from cbow.prepare import load_prepared, prepare
from cbow.sources import NotUTF8Error, SourceError
from cbow.train import prepare_corpus
from conftest import REPO_ROOT, run_cbow, shared_dir

WORDS = ("the cat sat on a mat and the dog ran far away while quick brown foxes "
         "jumped over lazy dogs Zebra zebra").split()


def lines(seed: int, n: int) -> str:
    """``n`` lines of random words (some empty, some CRLF-ended), lower and upper case."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words = rng.choice(WORDS, rng.integers(0, 12))
        out.append(" ".join(words) + ("\r\n" if rng.random() < 0.1 else "\n"))
    return "".join(out)


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local2():
    """A LocalCluster of 2 worker processes, shared by this module's tests."""
    with cluster.session("local:2", timeout=30, log=lambda line: None) as client:
        yield client


def assert_same_corpus(distributed, in_process) -> None:
    assert np.array_equal(distributed.ids, in_process.ids)
    assert np.array_equal(distributed.sentence_starts, in_process.sentence_starts)
    assert distributed.vocab.words == in_process.vocab.words
    assert distributed.vocab.counts.tolist() == in_process.vocab.counts.tolist()
    assert distributed.fingerprint == in_process.fingerprint
    for key in ("tokens", "words", "sentences", "empty_files", "replaced_sequences"):
        assert distributed.description[key] == in_process.description[key], key
    for ours, theirs in zip(distributed.description["sources"],
                            in_process.description["sources"], strict=True):
        for key in ("sha256", "size", "compression", "text_bytes", "lines", "replaced", "empty"):
            assert ours[key] == theirs[key], key


def corpus_folder(tmp_path: Path, tokenizer: str) -> Path:
    folder = tmp_path / "corpus"
    if tokenizer == "whitespace":
        write(folder / "a.txt", "\ufeff" + lines(1, 1500))  # cut into byte ranges
        write(folder / "b" / "b.txt", lines(2, 40))
        write(folder / "c.txt.gz", gzip.compress(lines(3, 300).encode()))
        write(folder / "d.txt", "")
        write(folder / "e.txt", lines(4, 20).rstrip("\n"))  # no newline at the end
    else:
        text = (shared_dir("data") / "shakespeare.txt").read_text(encoding="utf-8")
        write(folder / "a.txt", text[:40_000])
        write(folder / "b" / "b.txt", text[40_000:45_000])
        write(folder / "c.txt.gz", gzip.compress(text[45_000:60_000].encode()))
    return folder


@pytest.mark.filterwarnings("ignore:1 of the 5 corpus files hold no text")
@pytest.mark.parametrize("tokenizer", ["whitespace", "course"])
def test_prepared_on_the_cluster_is_the_in_process_corpus(local2, tmp_path, tokenizer):
    folder = corpus_folder(tmp_path, tokenizer)
    settings = dict(tokenizer=tokenizer, min_count=2, progress=False)
    ours = prepare_on_cluster(folder, scheduler="local:2", cache_root=tmp_path / "c1",
                              piece_bytes=8192, **settings)
    theirs = prepare(folder, cache_root=tmp_path / "c2", workers=1, **settings)
    assert_same_corpus(ours, theirs)
    plan = _plan(resolve_inputs(folder), tokenizer, 8192)
    assert ours.description["pieces"] == len(plan)
    if tokenizer == "whitespace":  # a.txt was cut into byte ranges, each after a newline
        data = (folder / "a.txt").read_bytes()
        cut = [piece[0] for piece in plan if piece[0].file == 0]
        assert len(cut) > 3 and all(data[r.start - 1:r.start] == b"\n" for r in cut[1:])
        assert [r.start for r in cut[1:]] == [r.end for r in cut[:-1]] and cut[-1].end == len(data)
    else:  # the Punkt tokenizers never cut a file
        assert all(part.end is None for piece in plan for part in piece) and len(plan) > 1
    assert ours.description["scheduler"] == "local:2" and ours.description["workers"] == 2
    # The same cache folder: an in-process prepare finds what the cluster made.
    again = prepare(folder, cache_root=tmp_path / "c1", workers=1, **settings)
    assert again.reused and again.folder == ours.folder
    assert sorted(p.name for p in (tmp_path / "c1").iterdir()) == [ours.folder.name]


def test_an_error_in_a_later_range_names_the_line_as_in_process(local2, tmp_path):
    text = lines(5, 800)
    bad = text.index("\n", len(text) * 3 // 4) + 1  # a line in the last quarter
    path = write(tmp_path / "bad.txt", text[:bad].encode() + b"caf\xe9 " + text[bad:].encode())
    with pytest.raises(NotUTF8Error) as in_process:
        prepare(path, tokenizer="whitespace", cache_root=tmp_path / "c2", workers=1,
                progress=False)
    with pytest.raises(SourceError) as distributed:
        prepare_on_cluster(path, scheduler="local:2", tokenizer="whitespace",
                           cache_root=tmp_path / "c1", piece_bytes=4096, progress=False)
    assert str(distributed.value) == str(in_process.value)
    assert f"line {text[:bad].count(chr(10)) + 1}," in str(distributed.value)
    assert list((tmp_path / "c1").iterdir()) == []  # no folder left half made


def test_url_inputs_and_shared_storage(local2, tmp_path):
    # file:// inputs on the worker processes
    folder = corpus_folder(tmp_path, "whitespace")
    urls = [(folder / "a.txt").as_uri(), (folder / "b").as_uri()]
    ours = prepare_on_cluster(urls, scheduler="local:2", tokenizer="whitespace",
                              cache_root=tmp_path / "c1", piece_bytes=8192,
                              shared_dir=(tmp_path / "shared").as_uri(), progress=False)
    theirs = prepare([folder / "a.txt", folder / "b"], tokenizer="whitespace",
                     cache_root=tmp_path / "c2", workers=1, progress=False)
    assert_same_corpus(ours, theirs)
    assert list((tmp_path / "shared").iterdir()) == []  # the pieces were removed
    # memory:// lives in one process: a cluster of threads in this process reads it.
    import fsspec
    from distributed import LocalCluster

    memory = fsspec.filesystem("memory")
    memory.pipe("/cbow-test/x/1.txt", lines(6, 400).encode())
    memory.pipe("/cbow-test/x/2.txt", lines(7, 30).encode())
    memory.pipe("/cbow-test/x/.hidden", b"not corpus")
    write(tmp_path / "x" / "1.txt", memory.cat("/cbow-test/x/1.txt"))
    write(tmp_path / "x" / "2.txt", memory.cat("/cbow-test/x/2.txt"))
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                      dashboard_address=None) as threads:
        ours = prepare_on_cluster("memory://cbow-test/x", scheduler=threads.scheduler_address,
                                  tokenizer="whitespace", cache_root=tmp_path / "c3",
                                  piece_bytes=2048, shared_dir="memory://cbow-test/shared",
                                  progress=False)
    theirs = prepare(tmp_path / "x", tokenizer="whitespace", cache_root=tmp_path / "c4",
                     workers=1, progress=False)
    assert_same_corpus(ours, theirs)
    assert ours.description["sources"][0]["path"] == "memory:///cbow-test/x/1.txt"
    assert not memory.exists("/cbow-test/shared") or not memory.ls("/cbow-test/shared")
    memory.rm("/cbow-test", recursive=True)


def test_a_url_without_a_scheduler_is_one_clear_error(tmp_path):
    with pytest.raises(SourceError, match="give a scheduler"):
        prepare("s3://bucket/corpus/", cache_root=tmp_path, progress=False)


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(cluster.DaskMissing, match=r"pip install 'cbow\[dask\]'"):
        with cluster.session("local:1"):
            pass


def test_without_a_scheduler_nothing_imports_dask(tmp_path):
    corpus = write(tmp_path / "c.txt", lines(8, 50))
    code = ("import sys\nfrom cbow.cli import main\n"
            f"code = main(['prepare', '--config', {str(REPO_ROOT / 'configs/word2vec.yaml')!r},"
            f" '--set', 'corpus={corpus}', '--set', 'tokenizer=whitespace', '--set', "
            f"'prepare.cache_dir={tmp_path / 'cache'}', '--set', 'prepare.workers=1', "
            f"'--quiet'])\n"
            "assert code == 0\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed', 'fsspec')))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_scheduler_setting_is_checked(tmp_path):
    config = REPO_ROOT / "configs" / "word2vec.yaml"
    proc = run_cbow("prepare", "--config", config, "--scheduler", "local:0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--scheduler 'local:0': must be null, 'local:N'" in proc.stderr


def test_an_unreachable_scheduler_is_one_error_and_leaves_nothing(tmp_path):
    corpus = write(tmp_path / "c.txt", lines(9, 50))
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    common = ["--config", REPO_ROOT / "configs" / "word2vec.yaml", "--set", f"corpus={corpus}",
              "--set", "tokenizer=whitespace", "--set", f"prepare.cache_dir={tmp_path / 'cache'}",
              "--set", "cluster.connect_timeout=2", "--scheduler", address, "--quiet"]
    for command in (["prepare"], ["train", "--out", tmp_path / "run"]):
        proc = run_cbow(*command, *common, timeout=60)  # a hang fails here
        assert proc.returncode == 2, proc.stderr
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith(f"error: cannot reach the Dask scheduler at {address}")
        assert not (tmp_path / "cache").exists() and not (tmp_path / "run").exists()


@pytest.mark.filterwarnings("ignore:1 of the 5 corpus files hold no text")
def test_cli_on_a_scheduler_and_workers_started_by_hand(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}  # the workers import this cbow
    dask = [sys.executable, "-m", "dask"]
    worker = dask + ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                     "--host", "127.0.0.1"]
    folder = corpus_folder(tmp_path, "whitespace")

    def prepare_command(cache: Path) -> subprocess.CompletedProcess:
        return run_cbow("prepare", "--config", REPO_ROOT / "configs" / "word2vec.yaml",
                        "--set", f"corpus={folder}", "--set", "tokenizer=whitespace",
                        "--set", f"prepare.cache_dir={cache}",
                        "--set", "cluster.connect_timeout=30", "--scheduler", address,
                        "--quiet", timeout=120, env=env)

    processes = []
    try:
        processes.append(subprocess.Popen(
            dask + ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen(worker, env=env, cwd=tmp_path,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        made = prepare_command(tmp_path / "c1")
        # A worker whose cbow is not this one (here: a package that fails to import).
        write(tmp_path / "other" / "cbow" / "__init__.py", "raise ImportError('old cbow')\n")
        other = {**env, "PYTHONPATH": str(tmp_path / "other")}
        processes.append(subprocess.Popen(worker, env=other, cwd=tmp_path,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        refused = prepare_command(tmp_path / "c3")
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("prepared corpus") and "Traceback" not in made.stderr
    assert f"Dask scheduler {address}: 1 workers" in made.stderr
    [folder_made] = (tmp_path / "c1").iterdir()
    cfg = load_config(REPO_ROOT / "configs" / "word2vec.yaml",
                      [f"corpus={folder}", "tokenizer=whitespace", "prepare.workers=1",
                       f"prepare.cache_dir={tmp_path / 'c2'}"])
    assert_same_corpus(load_prepared(folder_made), prepare_corpus(cfg, progress=False))
    assert refused.returncode == 2 and not (tmp_path / "c3").exists()
    [line] = refused.stderr.strip().splitlines()
    assert "cannot run cbow's tasks" in line and "old cbow" in line
