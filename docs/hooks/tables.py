"""MkDocs hook: the tables the code declares, written into the pages when the docs are built.

A page holds a marker, ``<!-- table: NAME -->``, where a table goes; :data:`TABLES` says what
makes each (the config's keys, the registry's tokenizers, objectives and vector formats), so
a key, an objective or a format added in the code shows up in the docs with no edit of them.
"""
from __future__ import annotations

import re

MARKER = re.compile(r"<!-- table: ([a-z-]+) -->")


def _config_keys() -> str:
    from cbow.config import key_table
    return key_table()


def _registry(kind: str):
    def table() -> str:
        from cbow import registry
        return getattr(registry, kind).table()
    return table


TABLES = {
    "config-keys": _config_keys,
    "tokenizers": _registry("TOKENIZERS"),
    "objectives": _registry("OBJECTIVES"),
    "vector-formats": _registry("VECTOR_FORMATS"),
}


def fill(markdown: str) -> str:
    """``markdown`` with each marker replaced by its table; an unknown name is an error."""
    def table(match: re.Match) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}; the tables are {', '.join(TABLES)}")
        return TABLES[name]()
    return MARKER.sub(table, markdown)


def on_page_markdown(markdown, page, config, files):  # the MkDocs hook
    return fill(markdown)
