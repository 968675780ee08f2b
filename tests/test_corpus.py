"""Finding, downloading and reading corpora (cbow.data.corpus).

Downloads are tested against a local HTTP server on 127.0.0.1, never the real network.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import pytest

from cbow.data import corpus
from cbow.data.corpus import ChecksumError, find_corpus, read_text
from conftest import shared_dir

SMALL_TEXT = b"To be, or not to be: that is the question.\n"
SMALL_SHA256 = hashlib.sha256(SMALL_TEXT).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass  # keep request logs out of the test output


@pytest.fixture
def http_root(tmp_path):
    """A folder served over HTTP; yields (folder, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def no_env_folders(monkeypatch):
    monkeypatch.delenv(corpus.CORPUS_ENV_VAR, raising=False)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- local search ---------------------------------------------------------------------------

def test_finds_shakespeare_through_cbow_data(tmp_path):
    # CI sets CBOW_DATA; the conftest helper fails (not skips) with instructions otherwise.
    expected = shared_dir("data") / "shakespeare.txt"
    found = find_corpus("shakespeare", data_dir=tmp_path / "empty", download=False)
    assert found == expected
    assert found.stat().st_size == corpus.SHAKESPEARE_SIZE


def test_data_dir_comes_before_cbow_data(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "shakespeare.txt").write_bytes(SMALL_TEXT)
    monkeypatch.setenv("CBOW_DATA", str(second))
    found = find_corpus(data_dir=first, sha256=SMALL_SHA256, download=False)
    assert found == first / "shakespeare.txt"


def test_cbow_data_holds_several_folders(tmp_path, monkeypatch):
    empty, holder = tmp_path / "empty", tmp_path / "holder"
    empty.mkdir()
    holder.mkdir()
    (holder / "shakespeare.txt").write_bytes(SMALL_TEXT)
    monkeypatch.setenv("CBOW_DATA", os.pathsep.join([str(empty), "", str(holder)]))
    found = find_corpus(data_dir=tmp_path / "data", sha256=SMALL_SHA256, download=False)
    assert found == holder / "shakespeare.txt"


def test_found_file_with_wrong_checksum_is_named(tmp_path, no_env_folders):
    bad = tmp_path / "shakespeare.txt"
    bad.write_bytes(b"not the course text\n")
    with pytest.raises(ChecksumError) as info:
        find_corpus(data_dir=tmp_path, download=False)
    message = str(info.value)
    assert str(bad) in message
    assert corpus.SHAKESPEARE_SHA256 in message
    assert hashlib.sha256(b"not the course text\n").hexdigest() in message
    assert isinstance(info.value, ValueError)


def test_not_found_without_download_lists_every_place(tmp_path, monkeypatch):
    data_dir, extra_a, extra_b = tmp_path / "data", tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("CBOW_DATA", os.pathsep.join([str(extra_a), str(extra_b)]))
    with pytest.raises(FileNotFoundError) as info:
        find_corpus(data_dir=data_dir, download=False)
    message = str(info.value)
    for folder in (data_dir, extra_a, extra_b):
        assert str(folder / "shakespeare.txt") in message
    assert "download=False" in message
    assert "CBOW_DATA" in message and "your own text" in message


def test_not_found_message_says_cbow_data_is_unset(tmp_path, no_env_folders):
    with pytest.raises(FileNotFoundError, match=r"\$CBOW_DATA is not set"):
        find_corpus(data_dir=tmp_path, download=False)


# --- user's own files -----------------------------------------------------------------------

def test_own_file_is_returned_as_is(tmp_path):
    own = tmp_path / "mine.txt"
    own.write_text("hello world\n", encoding="utf-8")
    assert find_corpus(own) == own
    assert find_corpus(str(own)) == own


def test_own_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        find_corpus(str(missing))


def test_path_named_shakespeare_is_a_path_not_the_corpus(tmp_path, no_env_folders):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_corpus(tmp_path / "shakespeare", data_dir=tmp_path, download=False)


# --- download ------------------------------------------------------------------------------

def test_download_saves_verified_file(tmp_path, http_root, no_env_folders):
    served, base = http_root
    (served / "corpus.txt").write_bytes(SMALL_TEXT)
    data_dir = tmp_path / "data"
    found = find_corpus(data_dir=data_dir, url=f"{base}/corpus.txt", sha256=SMALL_SHA256)
    assert found == data_dir / "shakespeare.txt"
    assert found.read_bytes() == SMALL_TEXT
    assert sorted(p.name for p in data_dir.iterdir()) == ["shakespeare.txt"]
    # A second call finds the saved copy; the server no longer needs to have it.
    (served / "corpus.txt").unlink()
    assert find_corpus(data_dir=data_dir, url=f"{base}/corpus.txt", sha256=SMALL_SHA256) == found


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, http_root, no_env_folders):
    served, base = http_root
    (served / "corpus.txt").write_bytes(SMALL_TEXT)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        find_corpus(data_dir=data_dir, url=f"{base}/corpus.txt", sha256=wrong)
    message = str(info.value)
    assert wrong in message and SMALL_SHA256 in message
    assert list(data_dir.iterdir()) == []


def test_download_404_is_file_not_found(tmp_path, http_root, no_env_folders):
    _, base = http_root
    data_dir = tmp_path / "data"
    with pytest.raises(FileNotFoundError) as info:
        find_corpus(data_dir=data_dir, url=f"{base}/missing.txt", sha256=SMALL_SHA256)
    message = str(info.value)
    assert str(data_dir / "shakespeare.txt") in message
    assert "404" in message
    assert not data_dir.exists()  # the folder the failed download created is removed again


def test_unreachable_server_is_file_not_found(tmp_path, monkeypatch):
    extra = tmp_path / "extra"
    monkeypatch.setenv("CBOW_DATA", str(extra))
    data_dir = tmp_path / "data"
    url = f"http://127.0.0.1:{_unused_port()}/shakespeare.txt"
    with pytest.raises(FileNotFoundError) as info:
        find_corpus(data_dir=data_dir, url=url, sha256=SMALL_SHA256)
    message = str(info.value)
    assert str(data_dir / "shakespeare.txt") in message
    assert str(extra / "shakespeare.txt") in message
    assert url in message
    assert not data_dir.exists()  # the folder the failed download created is removed again


# --- reading -------------------------------------------------------------------------------

def test_read_text_reads_utf8(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes("caf\u00e9 na\u00efve\r\nline two\n".encode("utf-8"))
    assert read_text(path) == "caf\u00e9 na\u00efve\nline two\n"


def test_read_text_drops_byte_order_mark(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello\n")
    assert read_text(path) == "hello\n"


def test_invalid_utf8_names_file_line_and_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"first line\nsecond caf\xe9 line\n")
    with pytest.raises(ValueError) as info:
        read_text(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 2" in message
    # Line 1 is 11 bytes with its newline, then "second caf" is 10 bytes: 0-based offset 21.
    assert "byte offset 21 in the file" in message
    assert "byte 10 of the line" in message
    assert "e9" in message
    assert "iconv -f latin1 -t utf-8" in message


def test_invalid_utf8_offset_counts_byte_order_mark(tmp_path):
    path = tmp_path / "bom_then_bad.txt"
    path.write_bytes(b"\xef\xbb\xbfab\xff\n")
    with pytest.raises(ValueError, match="byte offset 5"):
        read_text(path)


def test_read_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.txt"):
        read_text(tmp_path / "absent.txt")


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_corpus_is_rejected(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="corpus is empty") as info:
        read_text(path)
    assert str(path) in str(info.value)


def test_read_shakespeare(tmp_path):
    shared_dir("data")  # fails with instructions when CBOW_DATA is not set
    text = read_text(find_corpus(data_dir=tmp_path, download=False))
    assert text.startswith("O for a Muse of fire, that would ascend\n")
    assert len(text.encode("utf-8")) == corpus.SHAKESPEARE_SIZE
