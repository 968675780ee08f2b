"""The one base class for errors a person can fix, and the exit codes the CLI gives them.

Every error that the command line should print as a single ``error: ...`` line derives from
:class:`UserError` and says in its message which file, line or key is wrong and what to do. Any
other exception is a bug in cbow and keeps its traceback. IPython and Jupyter show a
``UserError`` as its message alone, as the CLI does (:meth:`UserError._render_traceback_`).
"""
from __future__ import annotations

EXIT_USER = 2       # input a person can fix: config, files, words, a missing optional package
EXIT_TRAINING = 3   # training that cannot go on: divergence, a checkpoint that does not fit


class UserError(Exception):
    """A problem with the user's input or environment; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_USER

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows for this exception in place of its traceback: IPython's
        ``InteractiveShell.showtraceback`` calls this method when an exception has one, so a
        notebook shows ``ConfigError: ...`` as the CLI shows ``error: ...``."""
        return f"{type(self).__name__}: {self}".splitlines()


class InputError(UserError, ValueError):
    """A value given by the user (an argument, a word, a file's content) that cannot be used."""


class UnknownWord(UserError, KeyError):
    """A word that is not in the vocabulary; the message suggests close spellings."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TrainingError(UserError, RuntimeError):
    """Training cannot start or continue; the message says why and what to do."""

    exit_code = EXIT_TRAINING


class TrainingDiverged(TrainingError):
    """The loss or the weights left any plausible range; the last good checkpoint is kept."""
