"""scripts/export.py, similar.py and plot.py, run as a user would; cbow.analysis.plot without matplotlib."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cbow.models.checkpoint import checkpoint_path, save_checkpoint
from cbow.vectors.embeddings import Embeddings
from cbow.training.run import load_embeddings
from cbow.models.softmax.model import initialize_model
from cbow.data.vocab import Vocabulary
from conftest import make_run, run_cbow

REPO_ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WORDS = sorted([".", "and", "king", "lord", "man", "queen", "the", "woman", "thou", "good"])


@pytest.fixture
def run(tmp_path) -> Path:
    return make_run(tmp_path / "my-run", WORDS, 5)


def script(name: str, *args) -> subprocess.CompletedProcess:
    return run_cbow(name, *args, timeout=120)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


# ------------------------------------------------------------------------------------ export

@pytest.mark.parametrize("format, out", [("word2vec", "vectors.txt"),
                                         ("word2vec-bin", "vectors.bin"),
                                         ("npy", "npy-export")])
def test_export_writes_loadable_vectors(run, tmp_path, format, out):
    result = script("export", run, "--format", format, "--which", "w2", "--out", tmp_path / out)
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(WORDS)} words x 5 dims" in result.stdout and out in result.stdout
    expected = load_embeddings(run, which="w2")
    back = Embeddings.load(tmp_path / out)
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, expected.vectors.astype(back.vectors.dtype))
    if format == "npy":
        assert sorted(p.name for p in (tmp_path / out).iterdir()) == ["vectors.npy", "vocab.txt"]


def test_export_normalized_to_a_npy_path(run, tmp_path):
    result = script("export", run, "--format", "npy", "--normalize", "--out", tmp_path / "e.npy")
    assert result.returncode == 0, result.stderr
    back = Embeddings.load(tmp_path / "e.npy")
    assert (tmp_path / "vocab.txt").is_file()
    np.testing.assert_allclose(np.linalg.norm(back.vectors, axis=1), 1.0)


def test_export_missing_run(tmp_path):
    result = script("export", tmp_path / "no-such-run", "--out", tmp_path / "v.txt")
    assert_user_error(result, "no-such-run", "does not exist")
    assert not (tmp_path / "v.txt").exists()


# ----------------------------------------------------------------------------------- similar

def test_similar_prints_a_table_per_word(run, tmp_path):
    exported = tmp_path / "v.bin"
    load_embeddings(run).save(exported, "word2vec-bin")
    for source in (run, exported):
        result = script("similar", source, "king", ".", "--topn", "3")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "nearest to 'king':" and lines[1].split() == ["rank", "word", "cosine"]
        expected = load_embeddings(run).most_similar("king", topn=3)
        for line, (word, cosine) in zip(lines[2:5], expected):
            rank, got_word, got_cosine = line.split()
            assert got_word == word and abs(float(got_cosine) - cosine) < 1e-4
        assert "nearest to '.':" in result.stdout


def test_similar_unknown_word(run):
    result = script("similar", run, "king", "quen")
    assert_user_error(result, "'quen' is not in the vocabulary", "did you mean 'queen'")
    assert result.stdout == ""


# -------------------------------------------------------------------------------------- plot

def test_plot_words_writes_a_png(run, tmp_path):
    out = tmp_path / "pca.png"
    result = script("plot", run, "--words", "king", "queen", "lord", "man", "woman", "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_loss_writes_a_png(run, tmp_path):
    out = tmp_path / "loss.png"
    result = script("plot", run, "--loss", "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_names_every_unknown_word_and_writes_nothing(run, tmp_path):
    out = tmp_path / "pca.png"
    result = script("plot", run, "--words", "king", "kng", "womn", "--out", out)
    assert_user_error(result, "'kng'", "'womn'", "did you mean 'king'", "'woman'")
    assert not out.exists()


def test_plot_functions_in_process(run, tmp_path):
    from cbow.analysis.plot import plot_loss, plot_run_words
    from cbow.training.run import read_metrics_file
    assert [r["step"] for r in read_metrics_file(run) if "val_loss" in r] == [5, 10]
    svg = plot_run_words(run, ["king", "queen", "lord"], tmp_path / "p.svg")
    assert svg.read_text().startswith("<?xml")
    png = plot_loss(run / "metrics.jsonl", tmp_path / "l.png")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="at least 2 distinct words"):
        plot_run_words(run, ["king", "king"], tmp_path / "p.png")


def test_metrics_lines_cut_by_a_crash_are_ignored_and_bad_lines_named(run, tmp_path):
    from cbow.analysis.plot import plot_loss
    from cbow.training.run import RunFolderError, read_metrics_file
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 11')  # the last line, cut by a crash: one reader, one rule
    assert read_metrics_file(run)[-1]["step"] == 10
    assert plot_loss(run, tmp_path / "loss.png").is_file()
    with open(run / "metrics.jsonl", "a") as f:
        f.write('\n{"step": 12, "loss": 1.0}\n')
    with pytest.raises(RunFolderError, match=r"metrics.jsonl, line 11: not valid JSON"):
        plot_loss(run, tmp_path / "loss2.png")


def test_missing_matplotlib_message(run, tmp_path, monkeypatch, capsys):
    from cbow.analysis.plot import MATPLOTLIB_MISSING, MatplotlibMissing, plot_loss, plot_run_words
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(MatplotlibMissing, match=r"pip install 'cbow\[plot\]'"):
        plot_run_words(run, ["king", "queen"], tmp_path / "pca.png")
    with pytest.raises(MatplotlibMissing, match="matplotlib is needed for pictures"):
        plot_loss(run, tmp_path / "loss.png")
    assert not list(tmp_path.glob("*.png"))

    from cbow.cli import main
    assert main(["plot", str(run), "--loss", "--out", str(tmp_path / "loss.png")]) == 2
    assert capsys.readouterr().err == f"error: {MATPLOTLIB_MISSING}\n"
