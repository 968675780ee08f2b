"""A training run's newer surfaces as a hostile user meets them (issue 27): the report and the
loss picture on a damaged metrics.jsonl, fastText exports that would lose the n-grams, the
report's query words on a subword run."""
from __future__ import annotations

import json
import shutil

import pytest

from cbow.training.loop import train
from conftest import run_cbow
from test_fasttext_train import ft_config
from test_train import corpus_file  # noqa: F401  (the corpus fixture)


@pytest.fixture(scope="module")
def subword_run(corpus_file, tmp_path_factory):  # noqa: F811
    """A short fastText-style run (n-grams of 2-4 characters in 400 buckets)."""
    run = tmp_path_factory.mktemp("subword") / "run"
    train(ft_config(corpus_file, run), quiet=True, log=None)
    return run


def one_error_line(proc) -> str:
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("error: "), proc.stderr
    return proc.stderr


# --------------------------------------------------------------------------- the report

def test_report_shows_an_unseen_words_subword_neighbours(subword_run, tmp_path):
    out = tmp_path / "report.html"
    proc = run_cbow("report", subword_run, "--out", out, "--words", "wolfish", "king")
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert ("<strong>wolfish</strong> (not in the vocabulary: the vector of its character "
            "n-grams)") in page
