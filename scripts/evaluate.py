"""`cbow evaluate`, runnable from a checkout: python scripts/evaluate.py --help"""
import sys

from cbow.cli import script_main

if __name__ == "__main__":
    sys.exit(script_main("evaluate"))
