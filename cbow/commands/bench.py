"""``cbow bench``: time the full softmax's training step (dense course step, sparse step, BLAS
floor, PyTorch); the measuring code is :mod:`cbow.analysis.bench`, imported only when the command runs.

    cbow bench [--N 50] [--batch-size 128] [--dtype float64 float32] [--repeats 200]
"""
from __future__ import annotations

HELP = "time the full-softmax training step against its floor (and PyTorch)"


def _positive_int(text: str) -> int:
    import argparse
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--N", type=_positive_int, default=50, help="embedding size (default 50)")
    parser.add_argument("--batch-size", type=_positive_int, default=128)
    parser.add_argument("--dtype", nargs="+", choices=["float64", "float32"],
                        default=["float64", "float32"])
    parser.add_argument("--repeats", type=_positive_int, default=200,
                        help="timed steps per measurement (>= 1)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--no-epoch", action="store_true", help="skip the full-epoch timing")


def run(args) -> int:
    from cbow.analysis.bench import benchmark
    benchmark(N=args.N, batch_size=args.batch_size, dtypes=args.dtype, repeats=args.repeats,
              with_torch=not args.no_torch, with_epoch=not args.no_epoch,
              dense_repeats=max(5, args.repeats // 7))
    return 0
