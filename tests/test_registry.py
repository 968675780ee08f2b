"""The registries (cbow.registry): one declaration per name, loaded lazily, used everywhere."""
from __future__ import annotations

import numpy as np
import pytest

from cbow import config
from cbow.cli import build_parser
from cbow.errors import InputError
from cbow.registry import OBJECTIVES, TOKENIZERS, VECTOR_FORMATS, Registry, Tokenizer


def test_config_allows_exactly_the_registered_names():
    for dotted, registry in (("tokenizer", TOKENIZERS), ("model.objective", OBJECTIVES)):
        rule = config.KEYS[dotted].rule
        assert all(rule.check(name) for name in registry.names())
        assert not rule.check("no-such-name")
        assert rule.text == "one of " + registry.valid()


def test_command_choices_come_from_the_registries():
    parser = build_parser()
    export = parser._subparsers._group_actions[0].choices["export"]
    [fmt] = [a for a in export._actions if a.dest == "format"]
    assert tuple(fmt.choices) == VECTOR_FORMATS.names()
    [which] = [a for a in export._actions if a.dest == "which"]
    for entry in OBJECTIVES:
        assert all(name in which.help for name in entry.vectors)


def test_every_tokenizer_loads_and_splits_a_block_into_sentences():
    for entry in TOKENIZERS:
        sentences = entry.load()("The cat sat\nThe dog ran", True)
        assert sentences and all(isinstance(s, list) for s in sentences)
        assert [t for s in sentences for t in s]== ["the", "cat", "sat", "the", "dog", "ran"]


def test_objective_entries_name_their_classes_and_vectors():
    for entry in OBJECTIVES:
        cls = entry.load()
        assert cls.name == entry.name
        assert tuple(cls.VECTORS) == entry.vectors  # --help reads them without the import
        assert isinstance(entry.declared(), config.Declaration)  # its settings module's


def test_an_objectives_settings_module_imports_neither_numba_nor_nltk():
    # the config loads every objective's declaration: none may pull in the kernels' imports
    import subprocess
    import sys
    for module in sorted({entry.settings.partition(":")[0] for entry in OBJECTIVES}):
        code = (f"import sys, {module}; "
                "print(sorted(m for m in ('numba', 'nltk') if m in sys.modules))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
        assert out.strip() == "[]", module


@pytest.mark.parametrize("name", VECTOR_FORMATS.names())
def test_every_vector_format_writes_what_it_reads(tmp_path, name):
    codec = VECTOR_FORMATS.load(name)
    words, vectors = ["a", "b"], np.array([[1.0, 0.5], [-2.0, 0.25]], dtype=np.float32)
    written = codec.write(tmp_path / "v", words, vectors, None)
    assert all(path.exists() for path in written)
    read_words, read_vectors, _ = codec.read(tmp_path / "v")
    assert read_words == words and np.array_equal(read_vectors, vectors)


def test_unknown_name_is_one_clear_error():
    with pytest.raises(InputError, match="unknown tokenizer 'bpe'; valid names are 'course'"):
        TOKENIZERS.get("bpe")
    with pytest.raises(InputError, match="unknown vector format 'csv'"):
        VECTOR_FORMATS.get("csv")


def test_table_and_duplicates():
    table = TOKENIZERS.table().splitlines()
    assert table[:2] == ["| name | what it is |", "|---|---|"] and len(table) == 2 + len(TOKENIZERS)
    assert "| `whitespace` | text already tokenized, one sentence per line |" in table
    with pytest.raises(AssertionError, match="declared twice"):
        Registry("tokenizers", Tokenizer("a", "x", "m:f"), Tokenizer("a", "y", "m:g"))
