"""A smoke test of scripts/bench.py: it runs and prints its table (no timing is asserted)."""
import subprocess
import sys

from conftest import REPO_ROOT


def test_bench_runs_and_prints_the_table():
    proc = subprocess.run([sys.executable, "scripts/bench.py", "--repeats", "3", "--no-torch",
                           "--no-epoch", "--N", "10", "--batch-size", "16"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for label in ("dense course step", "cbow sparse step", "floor: 3 matmuls", "dense/sparse",
                  "sparse/floor", "peak numpy allocation", "max RSS"):
        assert label in proc.stdout, label
