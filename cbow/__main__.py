"""``python -m cbow COMMAND ...``: the same as the installed ``cbow`` command."""
import sys

from cbow.cli import main

sys.exit(main())
