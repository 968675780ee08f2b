"""Python's documentation as plain words, one paragraph per line: a second real corpus.

Debian's ``python3.11-doc`` package installs the reStructuredText sources of Python's manuals
(tutorial, library reference, language reference, HOWTOs, what's new...) as
``/usr/share/doc/python3.11/html/_sources/**/*.rst.txt``: about 500 files of technical English
prose, another kind of text than GCIDE's dictionary entries or Shakespeare's verse. Each file is
cut into paragraphs (blank lines), and the markup that is not prose is left out:

- literal blocks: the indented block after a paragraph ending in ``::``, the body of a code
  directive (``.. code-block::``, ``.. productionlist::`` ...) and of a comment or link target;
  directive lines themselves and their ``:option:`` lines (the body of ``.. function::``,
  ``.. note::`` ... is prose and kept); interactive sessions (``>>>`` and ``...`` lines);
- ``:role:`` names and their link targets (``:func:`open <open>```: ``open`` is kept), inline
  literals in double backquotes, section underlines, table borders;
- then only words are kept (``benchmarks.dictionary_text.WORD``: letters, with inner apostrophes or
  hyphens), separated by single spaces: pre-tokenized text for the ``whitespace`` tokenizer.

    apt-get install python3.11-doc
    python -m benchmarks.python_docs /work/bench/pydocs-words.txt

The Linux kernel's manuals are reStructuredText too (``linux-doc-6.1``: ~2,800 gzipped ``.rst``
files under ``/usr/share/doc/linux-doc-6.1/Documentation``; its ``translations`` are left out):
both packages together make a larger corpus of the same kind, software documentation:

    apt-get install python3.11-doc linux-doc-6.1
    python -m benchmarks.python_docs /work/bench/docs-words.txt \
        --sources /usr/share/doc/python3.11/html/_sources /usr/share/doc/linux-doc-6.1/Documentation

The output must lie outside the repository (corpora are never committed).
"""
from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from pathlib import Path
from typing import Iterator

from benchmarks.dictionary_text import REPO_ROOT, WORD
from cbow.io import atomic_writer

SOURCES = Path("/usr/share/doc/python3.11/html/_sources")
DIRECTIVE = re.compile(r"^\s*\.\.\s")                  # .. note::, .. _label:, .. comment
CODE_DIRECTIVE = re.compile(r"^\s*\.\.\s+(code-block|code|sourcecode|productionlist|doctest|"
                            r"testcode|testoutput|testsetup|highlight|literalinclude|"
                            r"parsed-literal|csv-table|raw|only|toctree|include)::")
OPTION = re.compile(r"^\s*:[\w-]+:(\s|$)")               # :noindex:, :param x: under a directive
UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+<>_.:])\1{2,}\s*$")  # ===== section lines
TABLE_BORDER = re.compile(r"^\s*[+=|-][-+=|\s]*$")
SESSION = re.compile(r"^\s*(>>>|\.\.\.)(\s|$)")
ROLE = re.compile(r":[A-Za-z][\w:+.-]*:(?=`)")          # :func: in :func:`open`
TARGET = re.compile(r"\s*<[^<>`]*>(?=`)")                # the <target> of `text <target>`
LITERAL = re.compile(r"``[^`]*``")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def paragraphs(text: str) -> Iterator[str]:
    """The prose paragraphs of one reStructuredText file, markup removed, words only."""
    lines = text.splitlines()
    current: list[str] = []
    skip_below: int | None = None  # inside a literal or directive block: its parent's indent

    def flush():
        words = WORD.findall(LITERAL.sub(" ", TARGET.sub("", ROLE.sub("", " ".join(current)))))
        current.clear()
        return " ".join(words)

    for i, line in enumerate(lines):
        stripped = line.strip()
        if skip_below is not None:
            if not stripped or _indent(line) > skip_below:
                continue  # still inside the block
            skip_below = None
        if not stripped:
            if current and (paragraph := flush()):
                yield paragraph
            continue
        if DIRECTIVE.match(line):  # its body is prose (.. function::, .. note::) or code
            if current and (paragraph := flush()):
                yield paragraph
            if CODE_DIRECTIVE.match(line) or not line.rstrip().endswith("::") and "::" not in line:
                skip_below = _indent(line)  # code, or a comment / link target: no prose
            continue
        if OPTION.match(line) and not current:
            continue
        if UNDERLINE.match(line) or TABLE_BORDER.match(line) or SESSION.match(line):
            continue
        current.append(line)
        if stripped.endswith("::"):  # a literal block follows
            current[-1] = line.rstrip()[:-2]
            if current and (paragraph := flush()):
                yield paragraph
            skip_below = _indent(line)
    if current and (paragraph := flush()):
        yield paragraph


RST_FILES = ("*.rst.txt", "*.rst", "*.rst.gz")  # Python's sources, the kernel's (gzipped)


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def corpus_lines(sources: Path = SOURCES) -> Iterator[str]:
    """Every paragraph of every reStructuredText file under ``sources`` (``.rst.txt``,
    ``.rst``, ``.rst.gz``; not under a ``translations`` folder), files in sorted order."""
    paths = {path for pattern in RST_FILES for path in sources.rglob(pattern)
             if "translations" not in path.relative_to(sources).parts}
    for path in sorted(paths):
        yield from paragraphs(_read(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output text file (outside the repository)")
    parser.add_argument("--sources", type=Path, nargs="+", default=[SOURCES],
                        help=f"folders of reStructuredText files, read in this order; default {SOURCES}")
    args = parser.parse_args(argv)
    out = args.out.expanduser().resolve()
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        parser.error(f"{out} is inside the repository; write corpora elsewhere (e.g. /tmp)")
    for sources in args.sources:
        if not sources.is_dir():
            parser.error(f"{sources} not found; install its package (`apt-get install "
                         f"python3.11-doc` or `linux-doc-6.1`)")
    started = time.perf_counter()
    n_lines = n_words = 0
    with atomic_writer(out) as sink:
        for line in (line for sources in args.sources for line in corpus_lines(sources)):
            sink.write((line + "\n").encode("utf-8"))
            n_lines += 1
            n_words += line.count(" ") + 1
    print(f"{out}: {n_lines:,} paragraphs, {n_words:,} words, "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
