"""Benchmark files: word pairs with human similarity scores, and analogy questions.

gensim ships the three usual ones in its test data folder ``gensim/test/test_data/``:
``wordsim353.tsv`` (WordSim-353), ``simlex999.txt`` (SimLex-999), both as ``word1 TAB word2
TAB score`` lines after two ``#`` header lines, and ``questions-words.txt`` (the word2vec
analogies). With gensim installed, ``python -c "from gensim.test.utils import datapath;
print(datapath('questions-words.txt'))"`` prints where they are. Other files in the same
layouts (MEN's ``word1 word2 score`` lines, your own analogies) work too. The original
``SimLex-999.txt`` has ten columns and a header row: keep columns 1, 2 and 4 without the
header (``cut -f1,2,4 SimLex-999.txt | tail -n +2``).

A file that cannot be used is one :class:`BenchmarkFileError` naming the file and the line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from cbow.errors import InputError
from cbow.io import special_kind

_PAIRS_LAYOUT = "'word1 word2 score' (three fields separated by tabs or spaces)"
_ANALOGY_LAYOUT = "'a b c d' (four words: a is to b as c is to d)"


class BenchmarkFileError(InputError):
    """A benchmark file that cannot be read; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class WordPair:
    """One line of a word-pair file: two words and the human similarity score."""

    word1: str
    word2: str
    score: float
    line: int  # 1-based line number in the file


@dataclass(frozen=True)
class AnalogySection:
    """A ``: name`` section of an analogy file and its questions ``(a, b, c, d)``."""

    name: str
    questions: tuple[tuple[str, str, str, str], ...]
    line: int  # 1-based line number of the header


def _read_lines(path: str | Path) -> list[tuple[int, str]]:
    """``(line number, text)`` of the lines of a UTF-8 file that are neither blank nor ``#``.

    The bytes are decoded line by line, so a byte that is not UTF-8 is reported with its line.
    """
    path = Path(path)
    kind = special_kind(path)
    if kind is not None:  # /dev/zero never ends; a FIFO cannot be read twice (checked, then used)
        raise BenchmarkFileError(f"{path} is {kind}, not a benchmark file; save it to a file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BenchmarkFileError(f"{path}: no such benchmark file (gensim ships wordsim353.tsv, "
                                 f"simlex999.txt and questions-words.txt in "
                                 f"gensim/test/test_data/)") from None
    except IsADirectoryError:
        raise BenchmarkFileError(f"{path} is a folder; give a benchmark file") from None
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, as some editors write
        data = data[3:]
    lines = []
    # bytes.splitlines breaks at \n, \r\n and \r only, so line numbers are what editors show.
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise BenchmarkFileError(f"{path}, line {number}: expected UTF-8 text; byte "
                                     f"{err.start + 1} of the line, "
                                     f"{raw[err.start:err.start + 1]!r}, is not ({err.reason})"
                                     ) from None
        if text and not text.startswith("#"):
            lines.append((number, text))
    return lines


def read_word_pairs(path: str | Path) -> list[WordPair]:
    """The pairs of a word-pair similarity file (WordSim-353, SimLex-999, MEN, ...).

    Each line is ``word1 word2 score``, the fields separated by tabs or spaces; blank lines and
    lines starting with ``#`` are skipped.

    Raises
    ------
    BenchmarkFileError
        If the file is missing or not UTF-8, a line does not have three fields, a score is not a
        finite number, or the file holds no pair; the message names the file and the line.
    """
    pairs = []
    for number, text in _read_lines(path):
        fields = text.split()
        if len(fields) != 3:
            hint = ("; if it is a header, start it with '#'" if len(fields) > 3 else "")
            raise BenchmarkFileError(f"{path}, line {number}: expected {_PAIRS_LAYOUT}; got "
                                     f"{len(fields)} fields: {text[:80]!r}{hint}")
        try:
            score = float(fields[2])
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise BenchmarkFileError(f"{path}, line {number}: expected a number as the score (the "
                                     f"third field); got {fields[2][:40]!r}")
        pairs.append(WordPair(fields[0], fields[1], score, number))
    if not pairs:
        raise BenchmarkFileError(f"{path}: no word pairs found; expected lines {_PAIRS_LAYOUT}")
    return pairs


def read_analogies(path: str | Path) -> list[AnalogySection]:
    """The sections of an analogy file in the word2vec format.

    A line ``: name`` starts a section; each following line holds four words ``a b c d``
    separated by spaces or tabs. Blank lines and lines starting with ``#`` are skipped.

    Raises
    ------
    BenchmarkFileError
        If the file is missing or not UTF-8, a question comes before the first section header,
        a header has no name, a line does not have four words, or there is no question; the
        message names the file and the line.
    """
    sections: list[tuple[str, int, list]] = []
    for number, text in _read_lines(path):
        if text.startswith(":"):
            name = text[1:].strip()
            if not name:
                raise BenchmarkFileError(f"{path}, line {number}: expected a section header "
                                         f"': name'; the name is missing")
            sections.append((name, number, []))
            continue
        if not sections:
            raise BenchmarkFileError(f"{path}, line {number}: expected a section header ': name' "
                                     f"before the first question; got {text[:80]!r}")
        words = text.split()
        if len(words) != 4:
            raise BenchmarkFileError(f"{path}, line {number}: expected {_ANALOGY_LAYOUT}; got "
                                     f"{len(words)} fields: {text[:80]!r}")
        sections[-1][2].append(tuple(words))
    if not any(questions for _, _, questions in sections):
        raise BenchmarkFileError(f"{path}: no analogy questions found; expected ': section' "
                                 f"headers, each followed by lines {_ANALOGY_LAYOUT}")
    return [AnalogySection(name, tuple(questions), line) for name, line, questions in sections]
