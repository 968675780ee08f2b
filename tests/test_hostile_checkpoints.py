"""Unreadable checkpoints under --resume auto (issue 18, item 1): the garbage is moved aside
once, and every checkpoint the run writes survives pruning."""
from __future__ import annotations

import warnings

import numpy as np

from cbow.models import checkpoint as ckpt
from conftest import REPO_ROOT, make_run, run_cbow


def test_resume_into_unreadable_checkpoints_keeps_what_it_writes(tmp_path):
    corpus = tmp_path / "small.txt"
    rng = np.random.default_rng(0)
    words = "the cat sat on a mat and dog ran away from bird".split()
    corpus.write_text("\n".join(" ".join(rng.choice(words, 9)) + " ." for _ in range(80)))
    run = tmp_path / "run"
    garbage = [run / "checkpoints" / f"step_{s:08d}.npz" for s in range(84, 99, 2)]
    for path in garbage:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a checkpoint " * 10)
    proc = run_cbow("train", "--config", REPO_ROOT / "configs" / "course.yaml",
                    "--set", f"corpus={corpus}", "--set", "train.steps=30",
                    "--set", "checkpoint.every=7", "--set", "checkpoint.keep=2",
                    "--set", f"prepare.cache_dir={tmp_path / 'cache'}", "--set",
                    "train.eval_every=100", "--out", run, "--resume", "auto", "--quiet",
                    timeout=300)
    assert proc.returncode == 0, proc.stderr
    kept = [p.name for p in ckpt.list_checkpoints(run / "checkpoints")]
    assert kept == ["step_00000028.npz", "step_00000030.npz"]  # the newest two it wrote
    aside = sorted(p.name for p in (run / "checkpoints" / "unreadable").iterdir())
    assert aside == [p.name for p in garbage]  # moved, not deleted
    for path in garbage:  # said once each, naming where it went
        assert proc.stderr.count(f"skipping unreadable checkpoint {path}") == 1
    assert proc.stderr.count("moved it to") == len(garbage)
    assert "Traceback" not in proc.stderr


def test_pruning_never_ranks_unreadable_files_nor_deletes_the_newest(tmp_path):
    run = make_run(tmp_path / "run", ["a", "b", "c"], N=2)  # steps 5 and 10
    folder = run / "checkpoints"
    (folder / "step_00000099.npz").write_bytes(b"garbage")
    truncated = (folder / "step_00000010.npz").read_bytes()[:-20]
    (folder / "step_00000098.npz").write_bytes(truncated)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deleted = ckpt.prune_checkpoints(folder, keep=1)
    assert [p.name for p in deleted] == ["step_00000005.npz"]
    assert [p.name for p in ckpt.list_checkpoints(folder)] == ["step_00000010.npz"]
    assert sorted(p.name for p in (folder / "unreadable").iterdir()) == [
        "step_00000098.npz", "step_00000099.npz"]
    assert len(caught) == 1 and "moved 2 unreadable checkpoint file(s)" in str(caught[0].message)
    # a second prune has nothing more to say
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ckpt.prune_checkpoints(folder, keep=1) == []
    assert caught == []


def test_all_finite_in_slices_finds_every_bad_value():
    """checkpoint.all_finite checks a large array a slice at a time (no boolean copy of it):
    a NaN or an infinity anywhere, in the first, a middle or the last slice, is found."""
    rng = np.random.default_rng(3)
    for shape in [(1000, 7), (10,), (3, 4, 5), (0, 4), ()]:
        clean = rng.random(shape, dtype=np.float32)
        assert ckpt.all_finite(clean, chunk_elements=16)
        for flat in {0, clean.size // 2, clean.size - 1} if clean.size else ():
            for bad in (np.nan, np.inf, -np.inf):
                dirty = clean.copy()
                dirty.reshape(-1)[flat] = bad
                assert not ckpt.all_finite(dirty, chunk_elements=16)
                assert not ckpt.all_finite(dirty[::-1] if dirty.ndim else dirty, chunk_elements=16)


def test_write_npz_writes_what_np_savez_writes(monkeypatch):
    """checkpoint.write_npz (a large array's data written from its own memory, a slice at a
    time) gives the members np.savez gives, byte for byte, for every kind of array a
    checkpoint holds (and others: Fortran order, empty, 0-d)."""
    import io
    import zipfile
    rng = np.random.default_rng(5)
    arrays = {"input_vectors": rng.random((1000, 37), dtype=np.float32),
              "counts": np.arange(5), "vocab_words": np.array(["ab", "cé", "日本"]),
              "meta": np.array('{"format_version": 1}'),
              "fortran": np.asfortranarray(rng.random((3, 4))),
              "empty": np.zeros((0, 3), np.float32), "scalar": np.float32(3)}
    ours, numpys = io.BytesIO(), io.BytesIO()
    monkeypatch.setattr(ckpt, "WRITE_CHUNK_BYTES", 1000)  # the big array in 148 slices
    ckpt.write_npz(ours, **arrays)
    np.savez(numpys, **arrays)
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(numpys) as b:
        assert a.namelist() == b.namelist()
        for name in b.namelist():
            assert a.read(name) == b.read(name), name
    ours.seek(0)
    with np.load(ours, allow_pickle=False) as back:
        assert np.array_equal(back["input_vectors"], arrays["input_vectors"])
