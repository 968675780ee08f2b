"""What every script shares: known errors become one line on stderr and exit code 2."""
from __future__ import annotations

import sys
from typing import Callable

from cbow.checkpoint import CheckpointError
from cbow.config import ConfigError
from cbow.train import TrainingError

# Errors whose message already tells the user what to do; anything else is a bug: traceback.
USER_ERRORS = (ConfigError, CheckpointError, FileNotFoundError, KeyError, ValueError, LookupError)


def run_cli(main: Callable[[], int]) -> int:
    try:
        return main()
    except USER_ERRORS as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    except TrainingError as err:  # includes TrainingDiverged
        print(f"error: {err}", file=sys.stderr)
        return 3
