"""`python -m benchmarks.bench_prepare`, runnable as a script: python scripts/bench_prepare.py --help"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: benchmarks/, cbow/

from benchmarks.bench_prepare import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
