"""Devices and FIFOs where cbow reads or writes whole files (issue 18, found past the list):
a write renamed over /dev/zero replaced the device; reading /dev/zero never ended."""
from __future__ import annotations

import os

import pytest

from cbow.vectors import formats
from cbow.errors import InputError
from cbow.evaluation import BenchmarkFileError, read_analogies, read_word_pairs
from cbow.io import atomic_write_bytes, special_kind
from conftest import make_run, run_cbow


def test_special_kind():
    assert special_kind("/dev/null") == "a character device"
    assert special_kind("/") is None and special_kind("/nonexistent") is None


def test_a_write_never_replaces_a_fifo_or_device(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"out.fifo is not a regular file \(a FIFO\); cbow "
                                         r"writes whole files"):
        atomic_write_bytes(fifo, b"x")
    assert special_kind(fifo) == "a FIFO" and os.listdir(tmp_path) == ["out.fifo"]


def test_export_to_a_device_is_one_line_and_leaves_it_alone(tmp_path):
    run = make_run(tmp_path / "run", ["a", "b", "c"], N=2)
    fifo = tmp_path / "vectors.fifo"
    os.mkfifo(fifo)
    proc = run_cbow("export", run, "--format", "word2vec", "--out", fifo, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "is not a regular file (a FIFO)" in proc.stderr
    assert special_kind(fifo) == "a FIFO"


@pytest.mark.parametrize("read", [read_word_pairs, read_analogies])
def test_benchmark_files_that_are_devices_are_refused_not_read_for_ever(read):
    with pytest.raises(BenchmarkFileError, match="/dev/zero is a character device, not a "
                                                 "benchmark file"):
        read("/dev/zero")


def test_a_vector_file_that_is_a_device_is_refused():
    with pytest.raises(formats.VectorFileError, match="/dev/zero is a character device, not a "
                                                      "vector file"):
        formats.read_vectors("/dev/zero")
