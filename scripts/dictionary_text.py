"""`python -m benchmarks.dictionary_text`, runnable as a script: python scripts/dictionary_text.py --help"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: benchmarks/, cbow/

from benchmarks.dictionary_text import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
