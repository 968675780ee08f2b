"""Check that a tokenizer gives the same sentences of tokens as an earlier commit's, on a corpus.

The earlier ``cbow/text.py`` (``git show COMMIT:cbow/text.py`` of this repository) is loaded
as a module of its own next to the current ``cbow.data.text``; the corpus is read in pieces, cut
into blocks and tokenized by each (its own :class:`BlockSplitter` and
:func:`tokenize_block`), and the two streams of sentences are compared token for token as
they come. It prints the counts, or the first difference with the sentences around it, and
exits with status 1 when they differ. It takes minutes on a large corpus (the earlier code
is the slow one): it is run by hand, not in CI.

Usage::

    python -m benchmarks.check_tokenizer_identity /tmp/gcide/gcide.txt
    python -m benchmarks.check_tokenizer_identity /tmp/gcide/gcide.txt --tokenizer nltk --mb 2

(``python -m benchmarks.dictionary_text`` writes the GCIDE files.)
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import tempfile
import time
from collections import deque
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The commit before the course tokenizer was made faster.
REFERENCE_COMMIT = "3f4dd79"


def load_reference_text_module(commit: str, folder: Path):
    """``cbow/text.py`` as of ``commit``, imported under another name (it imports the current
    ``cbow.errors`` and ``cbow.registry``)."""
    source = subprocess.run(["git", "-C", str(REPO_ROOT), "show", f"{commit}:cbow/text.py"],
                            capture_output=True, text=True, check=True).stdout
    path = folder / f"cbow_text_{commit}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pieces_of(path: str, megabytes: float | None, piece_chars: int = 1 << 20):
    """The text of ``path`` (its first ``megabytes`` if given) in pieces of ``piece_chars``."""
    limit = None if megabytes is None else int(megabytes * 1e6)
    read = 0
    with open(path, encoding="utf-8", errors="replace") as file:
        while limit is None or read < limit:
            piece = file.read(piece_chars if limit is None else min(piece_chars, limit - read))
            if not piece:
                return
            read += len(piece)
            yield piece


class _Side:
    """One implementation: its splitter, the sentences it produced not yet compared, its time."""

    def __init__(self, module, tokenizer: str):
        from cbow.registry import TOKENIZERS

        # The module's own function (tokenize_block would look the name up in the registry,
        # which names the current module's).
        self.tokenize = getattr(module, TOKENIZERS.get(tokenizer).loader.partition(":")[2])
        self.splitter = module.BlockSplitter(tokenizer)
        self.pending: deque[list[str]] = deque()
        self.seconds = 0.0

    def add(self, blocks) -> None:
        started = time.process_time()
        for block in blocks:
            self.pending.extend(self.tokenize(block.text, True))
        self.seconds += time.process_time() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", help="a text file (e.g. GCIDE as plain text)")
    parser.add_argument("--tokenizer", default="course", help="course (default) or nltk")
    parser.add_argument("--commit", default=REFERENCE_COMMIT,
                        help=f"the earlier commit to compare with (default {REFERENCE_COMMIT})")
    parser.add_argument("--mb", type=float, default=None, help="only the first MB of the corpus")
    args = parser.parse_args(argv)

    from cbow.data import text
    with tempfile.TemporaryDirectory() as folder:
        reference = load_reference_text_module(args.commit, Path(folder))
    sides = {"current": _Side(text, args.tokenizer), args.commit: _Side(reference,
                                                                          args.tokenizer)}
    current, earlier = sides.values()
    tokens = sentences = 0
    recent: deque[list[str]] = deque(maxlen=3)
    pieces = pieces_of(args.corpus, args.mb)
    for piece in [*pieces, None]:
        for side in sides.values():
            side.add(side.splitter.feed(piece) if piece is not None
                     else side.splitter.end_of_file())
        while current.pending and earlier.pending:
            mine, theirs = current.pending.popleft(), earlier.pending.popleft()
            if mine != theirs:
                print(f"DIFFERENT at sentence {sentences:,} (after {tokens:,} tokens):\n"
                      f"  previous sentences: {list(recent)}\n"
                      f"  current:     {mine}\n  {args.commit}: {theirs}")
                raise SystemExit(1)
            recent.append(mine)
            sentences += 1
            tokens += len(mine)
    if current.pending or earlier.pending:
        print(f"DIFFERENT: after {sentences:,} equal sentences, {len(current.pending)} more "
              f"from the current code and {len(earlier.pending)} more from {args.commit}")
        raise SystemExit(1)
    print(f"identical: {tokens:,} tokens in {sentences:,} sentences ({args.tokenizer} tokenizer, "
          f"{args.corpus}{'' if args.mb is None else f', first {args.mb} MB'}); "
          f"CPU seconds tokenizing: current {current.seconds:.1f}, {args.commit} "
          f"{earlier.seconds:.1f}")


if __name__ == "__main__":
    main()
