"""`python -m benchmarks.compare_gensim`, runnable as a script: python scripts/compare_gensim.py --help"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: benchmarks/, cbow/

from benchmarks.compare_gensim import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
