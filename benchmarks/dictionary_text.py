"""The GCIDE dictionary as plain text, one entry per line: the benchmarks' large real corpus.

GCIDE (the GNU Collaborative International Dictionary of English, mostly Webster's 1913) comes
in Debian's ``dict-gcide`` package as a dictd database: ``gcide.dict.dz`` (gzip-compatible
text) and ``gcide.index`` (one ``headword<TAB>offset<TAB>length`` line per headword, numbers in
dictd's base-64). Entries are cut at the offsets of the index (the database's header entries,
``00-database-*``, are left out), and their markup is stripped with a few regular expressions:

- ``[ae]``, ``[=a]``, ``[imac]``...: letters with diacritics or ligatures become plain letters;
  other codes (``[root]``, ``[deg]``...) are dropped;
- ``\\Ap"ple\\``: the headword's syllables and accents, dropped;
- ``[OE. appel, ...]``, ``[1913 Webster]``, ``[Obs.]``: etymologies, sources and labels in
  brackets, dropped; ``(ap"p'l)``: pronunciations (parentheses holding ``"``), dropped;
- ``{Pyrus malus}``: cross-references and italics, braces dropped, text kept;
- ``plau"sive*ly``: accent and syllable marks inside words, dropped.

:func:`entry_lines` gives the lines (the benchmarks read it in memory); the command writes them::

    python -m benchmarks.dictionary_text /tmp/gcide.txt              # plain text, punctuation kept
    python -m benchmarks.dictionary_text /tmp/gcide-words.txt --words  # words only, space-separated

(``python scripts/dictionary_text.py`` is the same command.)

``--words`` keeps only words (letters, with inner apostrophes or hyphens) separated by single
spaces: pre-tokenized text for the ``whitespace`` tokenizer. The output must lie outside the
repository (corpora are never committed).
"""
from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
DICT_PATH = Path("/usr/share/dictd/gcide.dict.dz")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Named codes of GCIDE's character entities, as the plain letters they stand for.
NAMED = {"ae": "ae", "AE": "Ae", "oe": "oe", "OE": "Oe", "imac": "i", "aum": "a", "asl": "a",
         "add": "a", "udd": "u", "eth": "th", "thorn": "th", "yogh": "y", "ng": "ng",
         "th": "th", "alpha": "alpha", "beta": "beta"}
# [=a] [a^] ['e] [.a] ["o] [oo^] [*a] [,c] [-o] [~e] [`e] [^o]: one or two letters with marks.
MARKED = re.compile(r"\[[=~'`\"^.,*-]?([A-Za-z]{1,2})[\^~]?\]")
NAMED_CODE = re.compile(r"\[(" + "|".join(sorted(NAMED, key=len, reverse=True)) + r")\]")
SYMBOL_CODE = re.compile(r"\[(?:root|deg|sect|bar|dsdot|\d)\]")  # symbols, footnote marks
PRONUNCIATION = re.compile(r"\\[^\\]*\\")              # \Ap"ple\
BRACKETED = re.compile(r"\[[^\[\]]*\]")                # [OE. ...], [1913 Webster], [Obs.]
RESPELLING = re.compile(r"\([^()]*\"[^()]*\)")         # (ap"p'l)
BRACES = re.compile(r"[{}]")
INNER_MARKS = re.compile(r"(?<=[A-Za-z])[*\"`](?=[A-Za-z])")
WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")


def b64_number(text: str) -> int:
    value = 0
    for character in text:
        value = value * 64 + B64.index(character)
    return value


def entry_spans(index_path: Path) -> list[tuple[int, int]]:
    """(offset, length) of each entry of the dictionary, in file order, header left out."""
    spans = set()
    with open(index_path, encoding="utf-8") as index:
        for line in index:
            headword, offset, length = line.rstrip("\n").split("\t")
            if not headword.startswith("00-"):
                spans.add((b64_number(offset), b64_number(length)))
    return sorted(spans)


def clean(entry: str) -> str:
    """One entry as one line of plain text."""
    text = " ".join(entry.split())
    text = NAMED_CODE.sub(lambda m: NAMED[m.group(1)], text)
    text = MARKED.sub(r"\1", text)
    text = SYMBOL_CODE.sub("", text)
    text = PRONUNCIATION.sub(" ", text)
    # Etymologies can hold brackets once the codes above are gone: strip from the inside out.
    previous = None
    while previous != text:
        previous, text = text, BRACKETED.sub(" ", text)
    text = RESPELLING.sub(" ", text)
    text = BRACES.sub("", text)
    text = INNER_MARKS.sub("", text)
    return " ".join(text.split())


def entries(dict_path: Path, spans: list[tuple[int, int]]):
    """Entry texts, read from the gzip stream in order (never the whole file at once)."""
    with gzip.open(dict_path, "rb") as stream:
        position = 0
        for offset, length in spans:
            if offset < position:  # overlapping spans: an entry inside another; skip it
                continue
            stream.read(offset - position)  # gaps between entries (file headers)
            data = stream.read(length)
            try:
                yield data.decode("utf-8")
            except UnicodeDecodeError:  # three entries have Windows-1252 quotes: ’ and ç
                yield data.decode("cp1252", errors="replace")
            position = offset + length


def default_index(dict_path: Path) -> Path:
    """The dictd index beside a ``.dict.dz`` file."""
    return dict_path.with_name(dict_path.name.split(".")[0] + ".index")


def entry_lines(dict_path: Path = DICT_PATH, index_path: Path | None = None,
                words: bool = False) -> Iterator[str]:
    """Each entry of the dictionary as one line of plain text (no newline), empty ones left out.

    ``words``: only the words (letters, with inner apostrophes or hyphens), separated by single
    spaces: pre-tokenized text for the ``whitespace`` tokenizer.
    """
    for entry in entries(dict_path, entry_spans(index_path or default_index(dict_path))):
        line = clean(entry)
        if words:
            line = " ".join(WORD.findall(line))
        if line:
            yield line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output text file (outside the repository)")
    parser.add_argument("--dict", type=Path, default=DICT_PATH, help=f"default {DICT_PATH}")
    parser.add_argument("--index", type=Path, help="default: the .index beside --dict")
    parser.add_argument("--words", action="store_true",
                        help="keep only words, separated by single spaces")
    args = parser.parse_args(argv)
    out = args.out.expanduser().resolve()
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        parser.error(f"{out} is inside the repository; write corpora elsewhere (e.g. /tmp)")
    index = args.index or default_index(args.dict)
    for path in (args.dict, index):
        if not path.is_file():
            parser.error(f"{path} not found; install it with `apt-get install dict-gcide`")
    started = time.perf_counter()
    n_entries = n_bytes = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            for line in entry_lines(args.dict, index, words=args.words):
                sink.write(line + "\n")
                n_entries += 1
                n_bytes += len(line.encode("utf-8")) + 1
        os.chmod(temp, 0o644)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    print(f"{out}: {n_entries:,} entries, {n_bytes / 1e6:.1f} MB, "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
