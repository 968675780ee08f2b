"""A tiny model trained by fastText itself (the ``fasttext`` package): the oracle for the tests.

Import the fixture into a test module with ``from fasttext_oracle import fasttext_model``.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

MINN, MAXN, BUCKET, DIM = 2, 4, 20_000, 10


def write_corpus(path, lines: int = 500, seed: int = 0) -> None:
    """Zipf-distributed random words of ASCII, accented and CJK letters, 20 to a line."""
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz") + ["é", "ï", "ü", "日", "本", "語"]
    vocab = ["".join(rng.choice(letters, size=rng.integers(1, 9))) for _ in range(300)]
    vocab += ["café", "日本語", "naïve"]
    p = 1 / np.arange(1, len(vocab) + 1)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(lines):
            f.write(" ".join(rng.choice(vocab, size=20, p=p / p.sum())) + "\n")


@pytest.fixture(scope="session")
def fasttext_model(tmp_path_factory):
    """``(model, minn, maxn, bucket)``: fastText's CBOW on a tmp corpus, saved and loaded back.

    It is trained in a child process: fastText 0.9.2 trained twice in one process sometimes
    gives exploding weights on a corpus this small, a fresh process gives the same bits always.
    """
    import fasttext

    folder = tmp_path_factory.mktemp("fasttext")
    corpus, path = folder / "corpus.txt", folder / "model.bin"
    write_corpus(corpus)
    script = textwrap.dedent(f"""
        import fasttext
        model = fasttext.train_unsupervised({str(corpus)!r}, model="cbow", dim={DIM},
            minCount=2, epoch=1, lr=0.01, minn={MINN}, maxn={MAXN}, bucket={BUCKET}, thread=1,
            verbose=0)
        model.save_model({str(path)!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    model = fasttext.load_model(str(path))
    weights = model.get_input_matrix()
    assert np.isfinite(weights).all() and np.abs(weights).max() < 10, "fastText diverged"
    return model, MINN, MAXN, BUCKET
