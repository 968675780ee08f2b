"""Corpus inputs (cbow.data.sources): files, folders, globs, compression, and every bad input."""
from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
from pathlib import Path

import pytest

from cbow.data.corpus import SHAKESPEARE_SHA256
from cbow.errors import UserError
from cbow.data.sources import (BinaryFileError, NoTextError, NotUTF8Error, SourceError,
                          SourceNotFoundError, TextStream, resolve_sources)
from conftest import shared_dir

TEXT = "first line\nsecond caf\u00e9 line\r\nthird\rfourth \u2014 end\n"
NORMALISED = "first line\nsecond caf\u00e9 line\nthird\nfourth \u2014 end\n"


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read_all(path: Path, **kwargs) -> tuple[str, TextStream]:
    [source] = resolve_sources(path)
    stream = TextStream(source, **kwargs)
    return "".join(stream), stream


# --- resolving inputs -------------------------------------------------------------------------

def test_a_file_is_itself(tmp_path):
    path = write(tmp_path / "a.txt", "hello\n")
    [source] = resolve_sources(str(path))
    assert source.path == path and source.size == 6 and source.spec == str(path)
    assert source.mtime_ns == path.stat().st_mtime_ns and source.compression is None


def test_a_folder_is_every_file_below_it_sorted_hidden_ones_skipped(tmp_path):
    corpus = tmp_path / "corpus"
    for name in ["b.txt", "a/z.txt", "a/b/c.txt", "c.gz", ".hidden.txt", ".git/config",
                 "d/.DS_Store"]:
        write(corpus / name, b"x")
    found = [s.path.relative_to(corpus).as_posix() for s in resolve_sources(corpus)]
    assert found == ["a/b/c.txt", "a/z.txt", "b.txt", "c.gz"]
    assert {s.spec for s in resolve_sources(corpus)} == {str(corpus)}


def test_a_glob_matches_files_sorted_and_spans_folders(tmp_path):
    for name in ["x/2.txt", "x/1.txt", "x/deep/3.txt", "x/skip.md"]:
        write(tmp_path / name, b"x")
    found = [s.path.relative_to(tmp_path).as_posix()
             for s in resolve_sources(str(tmp_path / "x" / "**" / "*.txt"))]
    assert found == ["x/1.txt", "x/2.txt", "x/deep/3.txt"]


def test_a_list_mixes_inputs_in_order_and_keeps_repeats(tmp_path):
    one, two = write(tmp_path / "1.txt", "a\n"), write(tmp_path / "f" / "2.txt", "b\n")
    found = [s.path for s in resolve_sources([str(two.parent), one, str(one)])]
    assert found == [two, one, one]


def test_shakespeare_is_found_by_name():
    shared_dir("data")  # fails with instructions when CBOW_DATA is not set
    [source] = resolve_sources("shakespeare")
    assert source.path.name == "shakespeare.txt" and source.spec == "shakespeare"
    stream = TextStream(source)
    assert "".join(stream).startswith("O for a Muse of fire")
    assert stream.sha256 == SHAKESPEARE_SHA256  # the hash taken while streaming


@pytest.mark.parametrize("spec, kind, words", [
    ("missing.txt", SourceNotFoundError, ["missing.txt", "does not exist", "glob pattern"]),
    ("nothing/*.txt", SourceNotFoundError, ["'nothing/*.txt'", "matches no file"]),
    ("empty_folder", NoTextError, ["empty_folder", "holds no files"]),
])
def test_inputs_that_name_nothing(tmp_path, monkeypatch, spec, kind, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(kind) as info:
        resolve_sources(spec)
    assert isinstance(info.value, UserError)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_missing_file_is_also_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        resolve_sources(tmp_path / "nope.txt")
    with pytest.raises(NoTextError, match="list of corpus inputs is empty"):
        resolve_sources([])


# --- reading ----------------------------------------------------------------------------------

@pytest.mark.parametrize("piece_bytes", [1, 2, 3, 5, 1 << 20])
def test_text_is_normalised_whatever_the_piece_size(tmp_path, piece_bytes):
    # Pieces of 1-5 bytes cut inside "é", "—" and "\r\n": nothing may be lost or doubled.
    path = write(tmp_path / "t.txt", b"\xef\xbb\xbf" + TEXT.encode("utf-8"))
    text, stream = read_all(path, piece_bytes=piece_bytes)
    assert text == NORMALISED
    assert stream.lines == 3 and stream.has_text  # "\r" alone is a line end only after decoding
    assert stream.text_bytes == path.stat().st_size
    assert stream.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_last_line_without_newline_is_counted(tmp_path):
    _, stream = read_all(write(tmp_path / "t.txt", "a\nb"))
    assert stream.lines == 2


@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress),
                                               (".xz", lzma.compress)])
def test_compressed_files_are_read_transparently(tmp_path, suffix, compress):
    path = write(tmp_path / f"t.txt{suffix}", compress(TEXT.encode("utf-8")))
    progress = []
    [source] = resolve_sources(path)
    stream = TextStream(source, piece_bytes=7, on_read=progress.append)
    assert "".join(stream) == NORMALISED
    assert source.compression == suffix[1:]
    # The hash and the progress are those of the bytes on disk, whose total stat knows.
    assert stream.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sum(progress) == stream.disk_bytes == path.stat().st_size
    assert stream.text_bytes == len(TEXT.encode("utf-8"))


def test_empty_and_blank_files_have_no_text(tmp_path):
    for name, data in [("empty.txt", b""), ("blank.txt", b" \n\t\n")]:
        text, stream = read_all(write(tmp_path / name, data))
        assert not stream.has_text and text == data.decode()


# --- bad input: every message names the file and what to do ---------------------------------

@pytest.mark.parametrize("piece_bytes", [4, 1 << 20])
def test_invalid_utf8_names_file_line_and_byte(tmp_path, piece_bytes):
    path = write(tmp_path / "latin1.txt", b"first line\nsecond caf\xe9 line\n")
    with pytest.raises(NotUTF8Error) as info:
        read_all(path, piece_bytes=piece_bytes)
    error, message = info.value, str(info.value)
    # Line 1 is 11 bytes with its newline, then "second caf" is 10 bytes: offset 21.
    assert (error.path, error.line, error.byte_in_line, error.offset) == (path, 2, 10, 21)
    assert str(path) in message and "line 2" in message and "byte 10 of the line" in message
    assert "byte offset 21 in the file" in message and "e9" in message
    assert "iconv -f latin1 -t utf-8" in message and "errors='replace'" in message
    assert isinstance(error, UserError) and isinstance(error, ValueError)


def test_invalid_utf8_offset_counts_the_byte_order_mark(tmp_path):
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbfab\xff\n")
    with pytest.raises(NotUTF8Error, match="line 1, byte 5 of the line .byte offset 5 "):
        read_all(path)


def test_truncated_character_at_the_end_is_reported(tmp_path):
    path = write(tmp_path / "cut.txt", "ok\ncaf\u00e9".encode("utf-8")[:-1])
    with pytest.raises(NotUTF8Error) as info:
        read_all(path, piece_bytes=3)
    assert (info.value.line, info.value.byte_in_line, info.value.offset) == (2, 3, 6)


def test_invalid_utf8_in_a_compressed_file_counts_decompressed_bytes(tmp_path):
    path = write(tmp_path / "t.txt.gz", gzip.compress(b"ok\n\x80bad\n"))
    with pytest.raises(NotUTF8Error, match="byte offset 3 in the file of the decompressed text"):
        read_all(path)


def test_errors_replace_replaces_and_counts(tmp_path):
    path = write(tmp_path / "mixed.txt", b"caf\xe9 ok \xff\xfe end\xc3")
    text, stream = read_all(path, errors="replace", piece_bytes=5)
    assert text == "caf\ufffd ok \ufffd\ufffd end\ufffd"
    assert stream.replaced == 4


@pytest.mark.parametrize("data, offset", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 8),       # NUL near invalid UTF-8: binary wins
    (b"plain text\n" * 10 + b"then\x00", 114),          # NUL in a later piece
])
def test_nul_byte_means_binary(tmp_path, data, offset):
    path = write(tmp_path / "image.png", data)
    with pytest.raises(BinaryFileError) as info:
        read_all(path, piece_bytes=16 if offset > 100 else 1 << 20)
    message = str(info.value)
    assert str(path) in message and f"byte offset {offset} " in message
    assert "binary file" in message and "iconv -f utf-16" in message
    assert isinstance(info.value, UserError)


def test_damaged_compressed_file_is_named(tmp_path):
    path = write(tmp_path / "fake.txt.gz", b"this is not gzip data\n")
    with pytest.raises(SourceError) as info:
        read_all(path)
    message = str(info.value)
    assert str(path) in message and "gzip -t" in message


# --- hostile inputs (issue 18) ------------------------------------------------------------------

def test_a_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)  # opening it would block: the check must only stat it
    with pytest.raises(SourceError, match=r"corpus.fifo is not a regular file \(a FIFO\)"):
        resolve_sources(str(fifo))
    with pytest.raises(SourceError, match=r"/dev/null is not a regular file \(a character"):
        resolve_sources("/dev/null")


@pytest.mark.parametrize("change", ["grow", "shrink", "touch"])
def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, change):
    path = write(tmp_path / "a.txt", "word " * 100_000)
    [source] = resolve_sources(path)

    def writer(_):  # another process writing the file while it is being read
        if change == "grow":
            with open(path, "ab") as f:
                f.write(b"more words\n")
        elif change == "shrink":
            os.truncate(path, 10)
        else:
            os.utime(path, ns=(source.mtime_ns + 10**9, source.mtime_ns + 10**9))

    stream = TextStream(source, piece_bytes=4096, on_read=writer)
    with pytest.raises(SourceError, match=r"a.txt changed while it was read: it had 500,000 "
                                          r"bytes when preparing started and has"):
        "".join(stream)
    assert stream.sha256 is None  # nothing describes the half-read file
    # unchanged, it reads: the recorded size is what was read
    text, unchanged = read_all(path)
    assert unchanged.disk_bytes == path.stat().st_size


def test_a_generated_file_of_size_0_is_refused_not_read_as_empty(tmp_path):
    [source] = resolve_sources("/proc/self/status")  # stat says 0 bytes; reading gives text
    assert source.size == 0
    with pytest.raises(SourceError, match=r"/proc/self/status says it has 0 bytes but has "
                                          r"content: it is a generated file"):
        "".join(TextStream(source))


def test_a_file_another_process_keeps_appending_to_is_refused_not_chased(tmp_path):
    import subprocess
    path = write(tmp_path / "log.txt", "word " * 200_000)
    [source] = resolve_sources(path)
    writer = subprocess.Popen(["sh", "-c", f"while true; do echo more words >> '{path}'; done"])
    try:
        import time
        deadline = time.monotonic() + 30
        while path.stat().st_size == source.size and time.monotonic() < deadline:
            time.sleep(0.01)  # until the writer has started
        with pytest.raises(SourceError, match="log.txt changed while it was read"):
            "".join(TextStream(source, piece_bytes=4096))
    finally:
        writer.kill()
        writer.wait()
