"""`cbow prepare`, runnable from a checkout: python scripts/prepare.py --help"""
import sys

from cbow.cli import script_main

if __name__ == "__main__":
    sys.exit(script_main("prepare"))
