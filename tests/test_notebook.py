"""``cbow.train`` in one call, as a notebook uses it: the README's example as written, the
keywords, token lists, the temporary run folder, Ctrl-C and resume, and errors shown in one
line by IPython."""
from __future__ import annotations

import ast
import gc
import inspect
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import cbow
from cbow.cli import main
from cbow.models import checkpoint as ckpt
from conftest import REPO_ROOT, run_cbow


def _ipython(cells: list[str]) -> list[str]:
    """What IPython's shell prints for each cell (plain text), run in a fresh process."""
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance(colors='nocolor')\n"
            f"for cell in {cells!r}:\n"
            "    shell.run_cell(cell)\n"
            "    print('<end of cell>')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return out.split("<end of cell>\n")[:-1]


def test_ipython_shows_a_user_error_as_one_line_and_a_bug_with_its_traceback():
    # IPython shows an exception's _render_traceback_() lines in place of its traceback
    shown = _ipython(["import cbow\ncbow.load_config('word2vec', ['min_cont=5'])",
                      "from cbow.errors import InputError\n"
                      "raise InputError('line one\\n  line two')",
                      "raise ValueError('a bug in cbow')"])
    assert shown[0] == ("ConfigError: --set min_cont=5: unknown key 'min_cont'; did you mean "
                        "'min_count'?\n")
    assert shown[1] == "InputError: line one\n  line two\n"
    assert "Traceback" in shown[2] and "raise ValueError('a bug in cbow')" in shown[2]
