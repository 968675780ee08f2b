"""The vocabulary of the config's declarations: what a key accepts, how a key is declared, and
what an objective declares of its own.

A key is a dataclass field made by :func:`key`: its default, the :class:`Rule` its values must
follow, its one-line meaning and whether it is part of the run's identity. The core keys are
declared in :mod:`cbow.config.schema`; the keys only some objectives read are declared by those
objectives, each family in a :class:`Declaration` of its own settings module (named by its
entries in :data:`cbow.registry.OBJECTIVES`), with the checks its objectives need, what a run
started from one of theirs must share, and their export metadata. This module imports neither
the schema nor any objective, so an objective's settings module can import it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from cbow.errors import UserError

__all__ = ["BOOLEAN", "ConfigError", "Declaration", "KeySpec", "Rule", "Values", "integer",
           "is_int", "is_number", "key", "number", "one_of", "optional", "text"]


class ConfigError(UserError, ValueError):
    """A configuration that cannot be run; the message names the key and what to change."""


# ------------------------------------------------------------------------------ the rules

@dataclass(frozen=True)
class Rule:
    """What a key accepts: ``check(value)`` and the words that describe it in messages."""

    check: Callable[[Any], bool]
    text: str


def is_int(v) -> bool:
    """An int that is not a bool (YAML's ``true`` is no number of steps)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v) -> bool:
    """A finite int or float (not a bool)."""
    return (is_int(v) or isinstance(v, float)) and math.isfinite(v)


def integer(minimum: int, maximum: int | None = None) -> Rule:
    if maximum is None:
        return Rule(lambda v: is_int(v) and v >= minimum, f"an integer >= {minimum}")
    return Rule(lambda v: is_int(v) and minimum <= v <= maximum,
                f"an integer from {minimum} to {maximum:,}")


def number(text: str, within: Callable[[float], bool]) -> Rule:
    return Rule(lambda v: is_number(v) and within(v), text)


def one_of(*choices: str) -> Rule:
    return Rule(lambda v: v in choices, "one of " + ", ".join(map(repr, choices)))


def optional(rule: Rule) -> Rule:
    return Rule(lambda v: v is None or rule.check(v), f"null or {rule.text}")


BOOLEAN = Rule(lambda v: isinstance(v, bool), "true or false")


def text(description: str) -> Rule:
    return Rule(lambda v: isinstance(v, str) and v.strip() != "", description)


# ------------------------------------------------------------------------------- the keys

def key(default, rule: Rule, meaning: str, identity: bool = False, *, after: str | None = None,
        exclusive: bool | str = False):
    """A config key: its default, its rule, its meaning and whether a resume must keep it.

    For a key an objective declares (:attr:`Declaration.keys`):

    ``after``
        the dotted key of its section it follows in the key table and ``config.yaml`` (None:
        it follows the key declared before it in the same section of its declaration, or ends
        the section if it is the first).
    ``exclusive``
        ``True``: a config that trains an objective of another family must leave it at its
        default (a setting that would silently do nothing is refused); a string: the same,
        and the message says that string.
    """
    metadata = {"rule": rule, "meaning": meaning, "identity": identity, "after": after,
                "exclusive": exclusive}
    if isinstance(default, list):  # a fresh list per Config, as dataclasses require
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class KeySpec:
    """One declared key, as the rest of the config sees it."""

    dotted: str
    default: Any
    rule: Rule
    meaning: str
    identity: bool
    #: the objectives whose declaration declares it (empty: a core key, every objective's)
    owners: tuple[str, ...] = ()


# ------------------------------------------------------------------- what the checks read

@dataclass(frozen=True)
class Values:
    """A merged config being checked: each dotted key's value and where it was set."""

    flat: Mapping[str, Any]
    origins: Mapping[str, str]

    def __getitem__(self, dotted: str) -> Any:
        return self.flat[dotted]

    def source(self, dotted: str) -> str:
        """The file or ``--set`` that set ``dotted``, or ``defaults``: how a message begins."""
        return self.origins.get(dotted, "defaults")


def _no_problems(*_) -> list[str]:
    return []


# -------------------------------------------------------------- what an objective declares

@dataclass(frozen=True, eq=False)
class Declaration:
    """What one family of objectives declares to the config (its settings module's
    ``DECLARATION``, named by each of its entries in :data:`cbow.registry.OBJECTIVES`).

    The config composes its sections from the core keys and every declaration's :attr:`keys`
    and checks each key's rule whichever objective trains. For the family of the objective
    being trained it then checks :attr:`requires`, refuses an :func:`exclusive <key>` key of
    another family set away from its default, and runs :attr:`check`; last, :attr:`consistent`
    of every declaration.
    """

    #: how messages name the family's objectives: "needs a {family} objective"
    family: str
    #: the keys only these objectives read: dotted name -> :func:`key`; problems of exclusive
    #: keys are reported in this order
    keys: Mapping[str, Any] = field(default_factory=dict)
    #: the values of other keys (core ones) these objectives need: dotted name -> (value,
    #: message), the message formatted with ``objective`` (the name), said when it differs
    requires: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    #: ``check(values, objective)``: the other problems of a config that trains
    #: ``objective``, one of this family's
    check: Callable[[Values, str], list[str]] = _no_problems
    #: ``consistent(values)``: the problems of its keys among themselves, checked whichever
    #: objective trains (as each key's own rule is)
    consistent: Callable[[Values], list[str]] = _no_problems
    #: the settings a run started from another's weights (``--init-from``) must share with
    #: them: the arrays' shapes and meaning depend on them
    must_match: tuple[str, ...] = ()
    #: what the family is, after its objectives in ``model.objective``'s meaning
    summary: str = ""
    #: said after a key of another family that a config training one of these sets
    note: str = ""
    #: export: ``fasttext(objective, arrays, vocab, meta, source)``, the whole model as
    #: fastText's ``.bin`` holds it (None: fastText has no such model)
    fasttext: Callable[..., Any] | None = None
    #: the vector set (``--which``) that fastText's model holds as its word vectors
    fasttext_vectors: str | None = None
