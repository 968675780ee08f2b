"""Preparing corpora into memory-mapped token ids (cbow.data.prepare)."""
from __future__ import annotations

import bz2
import gzip
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from cbow.data import prepare as prep
from cbow.data import text
from cbow.errors import InputError, UserError
from cbow.data.prepare import PreparedCorpusError, build_vocabulary, load_prepared, prepare
from cbow.data.sources import BinaryFileError, NoTextError, NotUTF8Error
from cbow.data.vocab import Vocabulary
from conftest import shared_dir

# Seven lines (one empty), 23 tokens; counts: the 5, cat 4, sat 3, a 2, dog 2, mat 2, on 2,
# ran 1, away 1, Bird 1 (lower-cased: bird).
SMALL = ("the cat sat on the mat\n"
         "the dog ran away\n"
         "\n"
         "a cat sat on a mat\n"
         "Bird\n"
         "the cat the dog\n"
         "cat sat\n")


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def golden_tokens() -> list[str]:
    path = shared_dir("reference") / "shakespeare_course_tokens.txt"
    return path.read_text(encoding="utf-8").splitlines()


def write(path, data: str | bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def small(cache, tmp_path, **settings):
    settings = {"tokenizer": "whitespace", "workers": 1, "progress": False, **settings}
    return prepare(write(tmp_path / "small.txt", SMALL), cache_root=cache, **settings)


def words_of(prepared) -> list[str]:
    return [prepared.vocab.words[i] for i in prepared.ids]


# --- the course's corpus, exactly -------------------------------------------------------------

def test_course_settings_give_the_course_vocabulary_and_ids(cache, golden_tokens, monkeypatch):
    # Small chunks and blocks (~20 tasks) through two worker processes: the cuts, the merge
    # of counts and the renumbering must all leave the golden stream as it is.
    monkeypatch.setattr(prep, "CHUNK_CHARS", 16_000)
    monkeypatch.setattr(text, "PUNKT_BLOCK_CHARS", 4_000)
    prepared = prepare("shakespeare", workers=2, cache_root=cache, progress=False)
    expected = Vocabulary.from_tokens(golden_tokens)
    assert len(prepared.vocab) == 5_778 and prepared.vocab == expected
    assert prepared.ids.dtype == np.uint32 and isinstance(prepared.ids, np.memmap)
    assert np.array_equal(prepared.ids, expected.encode(golden_tokens))
    assert prepared.sentence_starts.tolist() == [0]
    d = prepared.description
    assert d["tokens"] == {"counted": 60_996, "kept": 60_996, "dropped": 0}
    assert d["settings"]["tokenizer"] == "course" and d["sentences"] == 1
    assert d["sources"][0]["sha256"].startswith("fca7572a")
    assert d["forced_cuts"] == {"paragraph": 0, "line": 0, "space": 0, "anywhere": 0}


# --- vocabulary: min_count, max_size, order ---------------------------------------------------

def test_vocabulary_orders_and_pruning():
    counts = {"b": 3, "a": 3, "c": 1, "d": 5, "e": 1}
    assert build_vocabulary(counts).words == ["a", "b", "c", "d", "e"]
    assert build_vocabulary(counts, order="frequency").words == ["d", "a", "b", "c", "e"]
    assert build_vocabulary(counts, min_count=2).words == ["a", "b", "d"]
    # max_size keeps the most frequent; the tie between a and b (3 each) goes to "a".
    assert build_vocabulary(counts, max_size=2).words == ["a", "d"]
    assert build_vocabulary(counts, max_size=2, order="frequency").words == ["d", "a"]
    vocab = build_vocabulary(counts, max_size=4, min_count=1, order="frequency")
    assert vocab.words == ["d", "a", "b", "c"] and vocab.counts.tolist() == [5, 3, 3, 1]


def test_min_count_drops_tokens_from_ids_and_moves_sentence_starts(cache, tmp_path):
    prepared = small(cache, tmp_path, min_count=2)
    assert prepared.vocab.words == ["a", "cat", "dog", "mat", "on", "sat", "the"]
    assert prepared.vocab.counts.tolist() == [2, 4, 2, 2, 2, 3, 5]  # full-corpus counts
    # "ran", "away" and "bird" are removed; the line "Bird" is left empty and has no start.
    assert words_of(prepared) == ("the cat sat on the mat | the dog | a cat sat on a mat | "
                                  "the cat the dog | cat sat").replace("| ", "").split()
    assert prepared.sentence_starts.tolist() == [0, 6, 8, 14, 18]
    d = prepared.description
    assert d["tokens"] == {"counted": 23, "kept": 20, "dropped": 3}
    assert d["words"] == {"counted": 10, "kept": 7, "dropped": 3}
    assert d["sentences"] == 5 and d["settings"]["min_count"] == 2
    assert int(prepared.vocab.counts.sum()) == prepared.n_tokens


def test_max_size_and_frequency_order(cache, tmp_path):
    prepared = small(cache, tmp_path, max_size=3, order="frequency")
    assert prepared.vocab.words == ["the", "cat", "sat"]  # 5, 4, 3
    assert prepared.ids.tolist() == [0, 1, 2, 0, 0, 1, 2, 0, 1, 0, 1, 2]
    assert prepared.sentence_starts.tolist() == [0, 4, 5, 7, 10]
    assert prepared.description["tokens"]["dropped"] == 11


def test_ties_in_max_size_are_alphabetical(cache, tmp_path):
    # a, dog, mat and on all occur twice; max_size=5 keeps the, cat, sat, then "a" and "dog".
    prepared = small(cache, tmp_path, max_size=5)
    assert prepared.vocab.words == ["a", "cat", "dog", "sat", "the"]


def test_lowercase_can_be_turned_off_for_whitespace(cache, tmp_path):
    prepared = small(cache, tmp_path, lowercase=False)
    assert "Bird" in prepared.vocab and "bird" not in prepared.vocab
    with pytest.raises(InputError, match="always lower-cases"):
        small(cache, tmp_path, tokenizer="course", lowercase=False)


def test_nltk_tokenizer_has_a_sentence_per_punkt_sentence(cache, tmp_path):
    sample = "The cat sat. Did it? Yes, it did!\n\nA new paragraph here."
    path = write(tmp_path / "p.txt", sample)
    prepared = prepare(path, tokenizer="nltk", workers=1, cache_root=cache, progress=False)
    sentences = text.tokenize_block(sample, "nltk")
    lengths = [len(s) for s in sentences if s]
    assert words_of(prepared) == [w for s in sentences for w in s]
    assert prepared.sentence_starts.tolist() == np.cumsum([0] + lengths[:-1]).tolist()


def test_settings_are_checked(cache, tmp_path):
    path = write(tmp_path / "s.txt", SMALL)
    for bad, message in [({"min_count": 0}, "min_count must be an integer >= 1"),
                         ({"max_size": -1}, "max_size must be"),
                         ({"order": "random"}, "order must be one of 'alpha', 'frequency'"),
                         ({"errors": "ignore"}, "errors must be one of"),
                         ({"tokenizer": "bpe"}, "tokenizer must be one of"),
                         ({"workers": 0}, "workers must be an integer >= 1")]:
        with pytest.raises(InputError, match=message):
            prepare(path, cache_root=cache, **{"tokenizer": "whitespace", **bad})


def test_min_count_above_every_count_is_an_error(cache, tmp_path):
    with pytest.raises(PreparedCorpusError, match="min_count=6 drops every word.*occurs 5 times"):
        small(cache, tmp_path, min_count=6)
    assert [p.name for p in cache.iterdir()] == []  # nothing half-written stays


# --- inputs: folders, globs, compressed files -------------------------------------------------

def test_folder_glob_and_compressed_inputs_give_the_ids_of_the_plain_text(cache, tmp_path):
    lines = SMALL.splitlines(keepends=True)
    plain = small(cache, tmp_path)
    folder = tmp_path / "corpus"
    write(folder / "1.txt", "".join(lines[:2]))
    write(folder / "2" / "a.txt.gz", gzip.compress("".join(lines[2:5]).encode()))
    write(folder / "2" / "b.txt.bz2", bz2.compress("".join(lines[5:]).encode()))
    for spec in (folder, str(folder / "**" / "*.*"),
                 [folder / "1.txt", str(folder / "2")]):
        prepared = prepare(spec, tokenizer="whitespace", workers=1, cache_root=cache,
                           progress=False)
        assert prepared.vocab == plain.vocab and np.array_equal(prepared.ids, plain.ids)
        assert np.array_equal(prepared.sentence_starts, plain.sentence_starts)
        assert [s["compression"] for s in prepared.description["sources"]] == [None, "gz", "bz2"]


def test_file_boundaries_end_lines(cache, tmp_path):
    write(tmp_path / "f" / "1.txt", "no newline at the end")
    write(tmp_path / "f" / "2.txt", "second file")
    prepared = prepare(tmp_path / "f", tokenizer="whitespace", workers=1, cache_root=cache,
                       progress=False)
    assert prepared.sentence_starts.tolist() == [0, 5]


# --- workers ----------------------------------------------------------------------------------

def test_output_does_not_depend_on_the_number_of_workers(cache, tmp_path, monkeypatch):
    # ~40 chunks, a long line cut at spaces (one sentence across chunks), pruning.
    monkeypatch.setattr(prep, "CHUNK_CHARS", 2_000)
    monkeypatch.setattr(text, "LINE_BLOCK_CHARS", 500)
    monkeypatch.setattr(text, "LINE_MAX_BLOCK_CHARS", 1_000)
    rng = np.random.default_rng(0)
    def words(n):  # Zipf-like: many words rarer than min_count
        return " ".join(f"w{k}" for k in rng.zipf(1.5, size=n) % 5_000)

    lines = [words(rng.integers(1, 30)) for _ in range(3_000)]
    lines[1_000] = words(2_000)  # ~6,000 characters
    path = write(tmp_path / "many.txt", "\n".join(lines) + "\n")
    results = [prepare(path, tokenizer="whitespace", min_count=3, workers=workers,
                       cache_root=cache / str(workers), progress=False) for workers in (1, 2)]
    one, two = results
    assert one.description["tokens"]["dropped"] > 0
    assert one.vocab == two.vocab and one.fingerprint == two.fingerprint
    assert np.array_equal(one.ids, two.ids)
    assert np.array_equal(one.sentence_starts, two.sentence_starts)
    assert one.description["forced_cuts"]["space"] > 0
    # The long line is one sentence; every other non-empty line is one too.
    kept = set(one.vocab.words)
    lengths = [sum(w in kept for w in line.split()) for line in lines]
    expected = np.cumsum([0] + [n for n in lengths if n][:-1])
    assert one.sentence_starts.tolist() == expected.tolist()
    for name in ("ids.npy", "sentence_starts.npy", "vocab.txt"):
        assert (one.folder / name).read_bytes() == (two.folder / name).read_bytes()


# --- the cache --------------------------------------------------------------------------------

def test_cache_is_reused_and_invalidated(cache, tmp_path, monkeypatch):
    path = write(tmp_path / "c.txt", SMALL)
    first = prepare(path, tokenizer="whitespace", workers=1, cache_root=cache, progress=False)
    assert first.folder.parent == cache and first.folder.name.startswith("whitespace-")
    built = []
    real_build = prep._build
    monkeypatch.setattr(prep, "_build", lambda *a: built.append(a) or real_build(*a))
    started = time.perf_counter()
    again = prepare(path, tokenizer="whitespace", workers=2, cache_root=cache, progress=False)
    assert time.perf_counter() - started < 0.5 and not built  # workers do not change the ids
    assert again.folder == first.folder and np.array_equal(again.ids, first.ids)
    # A changed setting, then a changed file, are other corpora.
    other = prepare(path, tokenizer="whitespace", min_count=2, workers=1, cache_root=cache,
                    progress=False)
    assert other.folder != first.folder and len(built) == 1
    write(path, SMALL + "one more line\n")
    changed = prepare(path, tokenizer="whitespace", workers=1, cache_root=cache, progress=False)
    assert changed.folder not in (first.folder, other.folder) and len(built) == 2
    assert changed.fingerprint != first.fingerprint and "more" in changed.vocab
    # The fingerprint is about content: the same text elsewhere has the same one.
    copy = prepare(write(tmp_path / "copy" / "c.txt", SMALL), tokenizer="whitespace",
                   workers=1, cache_root=cache, progress=False)
    assert copy.folder != first.folder and copy.fingerprint == first.fingerprint


def test_a_failed_prepare_leaves_no_cache_and_old_leftovers_are_removed(cache, tmp_path,
                                                                         monkeypatch):
    path = write(tmp_path / "c.txt", SMALL)

    def fail(*args):
        raise KeyboardInterrupt  # as if stopped while writing the ids

    monkeypatch.setattr(prep, "_encode", fail)
    with pytest.raises(KeyboardInterrupt):
        prepare(path, tokenizer="whitespace", workers=1, cache_root=cache, progress=False)
    assert list(cache.iterdir()) == []
    monkeypatch.undo()
    # The temporary folder of a prepare that was killed (its process is gone) is removed.
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    leftover = cache / f".tmp-{finished.stdout.strip()}-abc"
    write(leftover / "chunks" / "00000000.ids.npy", b"partial")
    prepared = prepare(path, tokenizer="whitespace", workers=1, cache_root=cache,
                       progress=False)
    assert not leftover.exists() and list(cache.iterdir()) == [prepared.folder]
    umask = os.umask(0)
    os.umask(umask)
    assert prepared.folder.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700


KILLED_CHILD = """
import sys, time
import cbow.data.prepare as prep
def stuck(*args):  # pass 1 is done and chunk files are on disk: wait to be killed
    print("ready", flush=True)
    time.sleep(600)
prep._encode = stuck
prep.prepare(sys.argv[1], tokenizer="whitespace", workers=2, cache_root=sys.argv[2],
             progress=False)
"""


def test_a_killed_prepare_leaves_no_cache(cache, tmp_path):
    path = write(tmp_path / "c.txt", SMALL)
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(path), str(cache)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        [temporary] = cache.iterdir()
        assert temporary.name.startswith(".tmp-") and any(temporary.rglob("*.npy"))
    finally:
        child.kill()  # SIGKILL: no cleanup code runs
        child.wait()
        child.stdout.close()
    prepared = prepare(path, tokenizer="whitespace", workers=1, cache_root=cache,
                       progress=False)
    assert list(cache.iterdir()) == [prepared.folder]  # the leftover is gone
    assert words_of(prepared)[:6] == "the cat sat on the mat".split()


def test_load_prepared_reports_missing_and_damaged_folders(cache, tmp_path):
    with pytest.raises(PreparedCorpusError, match="has no description.json"):
        load_prepared(tmp_path)
    prepared = small(cache, tmp_path)
    reloaded = load_prepared(prepared.folder)
    assert reloaded.vocab == prepared.vocab and np.array_equal(reloaded.ids, prepared.ids)
    description = json.loads((prepared.folder / "description.json").read_text())
    assert description["fingerprint"] == prepared.fingerprint
    ids = prepared.folder / "ids.npy"
    ids.write_bytes(ids.read_bytes()[:-8])
    with pytest.raises(PreparedCorpusError) as info:
        load_prepared(prepared.folder)
    assert str(prepared.folder) in str(info.value) and "Delete the folder" in str(info.value)


# --- bad inputs -------------------------------------------------------------------------------

def test_invalid_utf8_is_named_or_replaced(cache, tmp_path):
    path = write(tmp_path / "bad.txt", b"good words\nbad caf\xe9 here\n")
    with pytest.raises(NotUTF8Error) as info:
        prepare(path, tokenizer="whitespace", workers=1, cache_root=cache, progress=False)
    assert str(path) in str(info.value) and "line 2, byte 7 of the line" in str(info.value)
    assert list(cache.iterdir()) == []
    replaced = prepare(path, tokenizer="whitespace", workers=1, cache_root=cache,
                       errors="replace", progress=False)
    assert "caf\ufffd" in replaced.vocab and replaced.description["replaced_sequences"] == 1


def test_binary_file_in_a_folder_is_refused_by_name(cache, tmp_path):
    write(tmp_path / "f" / "a.txt", SMALL)
    binary = write(tmp_path / "f" / "b.bin", b"\x00\x01\x02")
    with pytest.raises(BinaryFileError, match=str(binary)):
        prepare(tmp_path / "f", tokenizer="whitespace", workers=1, cache_root=cache)


def test_empty_files_are_counted_and_reported(cache, tmp_path):
    write(tmp_path / "f" / "a.txt", SMALL)
    empty = write(tmp_path / "f" / "b.txt", "")
    with pytest.warns(UserWarning, match="1 of the 2 corpus files hold no text"):
        prepared = prepare(tmp_path / "f", tokenizer="whitespace", workers=1,
                           cache_root=cache, progress=False)
    assert prepared.description["empty_files"] == [str(empty)]
    with pytest.raises(NoTextError, match="all 1 of its files are empty") as info:
        prepare(empty, tokenizer="whitespace", workers=1, cache_root=cache, progress=False)
    assert isinstance(info.value, UserError)
    punctuation = write(tmp_path / "p.txt", "... !!! 123\n")
    with pytest.raises(NoTextError, match="has no tokens"):
        prepare(punctuation, tokenizer="course", workers=1, cache_root=cache, progress=False)


def test_default_workers_and_cache_root():
    assert prep.default_workers() == len(os.sched_getaffinity(0))
    assert prep.default_cache_root().name == "prepared"
