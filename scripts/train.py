"""Train CBOW embeddings from a YAML config.

    python scripts/train.py --config configs/shakespeare.yaml [--set train.steps=2000] [--resume]
"""
import argparse
import sys

from cbow.cli import run_cli
from cbow.config import load_config
from cbow.train import train


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--config", required=True, help="YAML config file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.alpha=0.05 (repeatable)")
    parser.add_argument("--out", help="output folder (overrides out_dir)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the newest valid checkpoint in the output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    args = parser.parse_args(argv)

    overrides = args.overrides + ([f"out_dir={args.out}"] if args.out else [])
    cfg = load_config(args.config, overrides)
    log = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    result = train(cfg, resume=args.resume, quiet=args.quiet, log=log)
    if result.interrupted:
        resume = " ".join(["python scripts/train.py", *sys.argv[1:]])
        if "--resume" not in sys.argv:
            resume += " --resume"
        print(f"interrupted at step {result.step}; saved {result.checkpoint}\n"
              f"resume with: {resume}", file=sys.stderr)
        return 130
    if not args.quiet:
        print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
