"""What every script shares: known errors become one line on stderr and an exit code.

Exit codes: 2 for input a person can fix (config, files, words, a missing optional package),
3 for training that cannot go on (divergence, a checkpoint that does not fit). Anything else is
a bug and keeps its traceback.
"""
from __future__ import annotations

import sys
from typing import Callable

USER_ERRORS = (FileNotFoundError, KeyError, ValueError, LookupError, ImportError)


def exit_code(err: BaseException) -> int | None:
    # cbow.train (and nltk behind it) is imported only by scripts that train: if it is not
    # loaded, a TrainingError cannot have been raised, and light scripts stay light.
    train = sys.modules.get("cbow.train")
    if train is not None and isinstance(err, train.TrainingError):
        return 3
    if isinstance(err, USER_ERRORS):  # ConfigError, CheckpointError, ... are ValueErrors
        return 2
    return None


def run_cli(main: Callable[[], int]) -> int:
    try:
        return main()
    except KeyboardInterrupt:  # Ctrl-C before training started (training itself saves and exits)
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        code = exit_code(err)
        if code is None:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return code
