"""Shared fixtures: the Shakespeare corpus and the course's reference numbers from ../shared.

CI sets CBOW_DATA (and NLTK_DATA); these tests must run there, so a missing variable is a
failure with instructions, not a skip.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from cbow.models.checkpoint import checkpoint_path, save_checkpoint
from cbow.models.softmax.model import initialize_model
from cbow.data.vocab import Vocabulary

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir(kind: str) -> Path:
    """``reference`` folder: $CBOW_REFERENCE, else the ``reference`` sibling of $CBOW_DATA."""
    if kind == "reference" and os.environ.get("CBOW_REFERENCE"):
        return Path(os.environ["CBOW_REFERENCE"])
    data = os.environ.get("CBOW_DATA")
    if not data:
        pytest.fail("CBOW_DATA is not set: run the tests with CBOW_DATA=<abs path of ../shared/data> "
                    "and NLTK_DATA=<abs path of ../shared/nltk_data>, as .ci/run does")
    base = Path(data.split(os.pathsep)[0])
    return base if kind == "data" else base.parent / kind


@pytest.fixture(scope="session")
def shakespeare_tokens() -> list[str]:
    from cbow.data.corpus import find_corpus, read_text
    from cbow.data.text import course_tokenize
    return course_tokenize(read_text(find_corpus("shakespeare", download=False)))


@pytest.fixture(scope="session")
def first_batch() -> dict:
    with open(shared_dir("reference") / "first_batch.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def max_relative_error(actual: np.ndarray, spec: dict) -> float:
    """Largest relative error of ``actual`` over the printed entries of a reference array."""
    assert list(actual.shape) == spec["shape"], f"shape {actual.shape} != reference {spec['shape']}"
    rows, cols, expected = (np.array(v) for v in zip(*spec["entries"]))
    got = actual[rows.astype(int), cols.astype(int)]
    scale = np.where(expected == 0, 1.0, np.abs(expected))
    return float(np.max(np.abs(got - expected) / scale))


def dense_grad_W1(context_ids: np.ndarray, ws, V: int) -> np.ndarray:
    """The ``(N, V)`` ``grad_W1`` that the sparse step applies column by column (for checks)."""
    B, two_C = context_ids.shape
    grad = np.zeros((V, ws.grad_z1.shape[1]), ws.dtype)
    np.add.at(grad, context_ids.ravel(), np.repeat(ws.grad_z1[:B] / two_C, two_C, axis=0))
    return grad.T


def make_run(root: Path, words: list[str], N: int, dtype=np.float64,
             vocab_in_checkpoint: bool = True) -> Path:
    """A tiny run folder as ``cbow train`` leaves it: two checkpoints, vocab.txt, metrics.

    The newer checkpoint (step 10) holds ``initialize_model(N, V, random_seed=3)``, the older
    one (step 5) seed 11; metrics have rows for steps 1-10, held-out losses at 5 and 10.
    """
    vocab = Vocabulary(words, range(1, len(words) + 1))
    checkpoints = root / "checkpoints"
    for step, seed in [(5, 11), (10, 3)]:  # the newer one (step 10) is the final model
        params = initialize_model(N, len(vocab), random_seed=seed, dtype=dtype)
        path = checkpoint_path(checkpoints, step)
        if vocab_in_checkpoint:
            save_checkpoint(path, params.arrays(), vocab, {"step": step})
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, **params.arrays())
    vocab.save(root / "vocab.txt")
    rows = [{"step": s, "epoch": 0, "loss": 3.0 - 0.1 * s, "alpha": 0.03, "examples_per_s": 1e4,
             "elapsed_s": 0.1 * s} for s in range(1, 11)]
    for row in rows[4::5]:
        row["val_loss"] = row["loss"] + 0.2
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def run_cbow(*args, cwd=REPO_ROOT, **kwargs) -> subprocess.CompletedProcess:
    """``python -m cbow ARGS...`` (from the repository root by default), output captured."""
    return subprocess.run([sys.executable, "-m", "cbow", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, **kwargs)
