"""Benchmark the training step: dense course step, sparse step, BLAS floor, PyTorch.

    python scripts/bench.py [--N 50] [--batch-size 128] [--dtype float64 float32] [--repeats 200]
"""
import argparse
import sys

from cbow.bench import run
from cbow.cli import run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--N", type=int, default=50, help="embedding size (default 50)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--dtype", nargs="+", choices=["float64", "float32"],
                        default=["float64", "float32"])
    parser.add_argument("--repeats", type=int, default=200, help="timed steps per measurement")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--no-epoch", action="store_true", help="skip the full-epoch timing")
    args = parser.parse_args(argv)
    run(N=args.N, batch_size=args.batch_size, dtypes=args.dtype, repeats=args.repeats,
        with_torch=not args.no_torch, with_epoch=not args.no_epoch,
        dense_repeats=max(5, args.repeats // 7))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
