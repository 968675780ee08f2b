"""The names a user can choose, each declared once: tokenizers, objectives, vector formats.

Each kind is a :class:`Registry` of entries; an entry is a name, a one-line description and a
loader, ``"module:attribute"``, imported on first use. Importing this module imports neither
NLTK nor numba (nor numpy), so the config, the commands' ``choices=`` and ``--help`` use it
freely. From a registry come:

- the config's allowed values (``cbow.config``: ``one_of(*TOKENIZERS.names())``), and each
  objective's own keys and checks (its settings module, :meth:`Objective.declared`),
- the commands' ``choices=`` and help texts (``cbow.commands``),
- the docs' table of each kind (:meth:`Registry.table`),
- the code each name stands for (:meth:`Registry.load`).

Adding a tokenizer, an objective or a vector format is one function (or class) in its module
and one line below (an objective also has a settings module: its keys and rules).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Iterator

from cbow.errors import InputError

__all__ = ["Entry", "Objective", "Registry", "Tokenizer", "VectorFormat", "or_list", "which_help",
           "OBJECTIVES", "TOKENIZERS", "VECTOR_FORMATS"]


@dataclass(frozen=True)
class Entry:
    """One name of a kind: what it is called, what it does, where its code is."""

    name: str
    description: str  # one line, markdown; used in the config's meanings, --help and the docs
    loader: str  # "module:attribute", imported by load()

    def load(self) -> Any:
        """The function or class the name stands for (its module is imported now)."""
        return _load(self.loader)


def _load(loader: str) -> Any:
    """``"module:attribute"``: the attribute, its module imported now."""
    module, _, attribute = loader.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Tokenizer(Entry):
    """A tokenizer: ``loader`` gives ``tokenize(block: str, lowercase: bool) -> list[list[str]]``.

    The function turns one block of text (see :class:`cbow.data.text.BlockSplitter`) into its
    sentences, each a list of tokens. The fields below tell the pipeline what it needs to know
    without importing the function.
    """

    #: how a file's text is cut into blocks: ``"punkt"`` at the exact sentence breaks of NLTK's
    #: Punkt (the tokenizer splits the block into Punkt sentences; the ids depend on NLTK's
    #: release), ``"lines"`` at line breaks (one sentence per line).
    blocks: str = "punkt"
    #: ``True``: the corpus is one continuous stream (sentence starts ``[0]``), as the course
    #: trains; ``False``: every sentence the function returns starts a sentence.
    one_stream: bool = False
    #: whether ``lowercase=False`` is allowed (the tokenizer can keep case).
    keeps_case: bool = False

    @property
    def sentence_rule(self) -> str:
        """How sentence starts are set (a prepared corpus's ``description.json`` says it)."""
        if self.one_stream:
            return "one stream: starts are [0]"
        return "one sentence per Punkt sentence" if self.blocks == "punkt" else \
            "one sentence per line"


@dataclass(frozen=True)
class Objective(Entry):
    """A training objective: ``loader`` gives its class (see :mod:`cbow.models.objective`).

    ``vectors`` are the vector sets the model gives (``--which``), the first the default,
    declared here (the class's ``VECTORS`` reads them) so that ``--help`` needs no import of
    the class (which may import numba). ``settings`` names the declaration of its family's
    own config keys, checks, must-match settings and export metadata
    (:class:`cbow.config.rules.Declaration`), in a module that imports neither numba nor NLTK:
    the config composes its keys from every objective's.
    """

    vectors: tuple[str, ...] = ()
    settings: str = ""  # "module:attribute" of its Declaration

    def declared(self) -> Any:
        """Its family's :class:`~cbow.config.rules.Declaration` (its module is imported now)."""
        return _load(self.settings)


@dataclass(frozen=True)
class VectorFormat(Entry):
    """A vector file format: ``loader`` gives its codec, a
    :class:`~cbow.vectors.formats.common.Codec` (sniff, read, write): see
    :mod:`cbow.vectors.formats`.

    ``embeddings``, for a format whose files hold more than words and vectors, is the
    ``"module:attribute"`` of the :class:`~cbow.vectors.embeddings.Embeddings` subclass that
    loads them whole; ``Embeddings.load`` hands such files to it.
    """

    embeddings: str = ""

    def load_embeddings_class(self) -> type | None:
        """The class ``embeddings`` names (its module is imported now), or None."""
        return _load(self.embeddings) if self.embeddings else None


class Registry:
    """The entries of one kind, in declaration order; names are unique."""

    def __init__(self, kind: str, *entries: Entry):
        names = [entry.name for entry in entries]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        assert not duplicated, f"{kind}: names declared twice: {duplicated}"
        self.kind = kind
        self._entries = {entry.name: entry for entry in entries}

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def valid(self) -> str:
        """``'a', 'b', 'c'``: the names, for messages."""
        return ", ".join(map(repr, self._entries))

    def get(self, name: str) -> Entry:
        """The entry called ``name``; an unknown name is an :class:`InputError` listing them."""
        if name not in self:
            raise InputError(f"unknown {self.kind[:-1] if self.kind.endswith('s') else self.kind}"
                             f" {name!r}; valid names are {self.valid()}")
        return self._entries[name]

    def load(self, name: str) -> Any:
        """The code ``name`` stands for (imported now)."""
        return self.get(name).load()

    def help(self, separator: str = "; ") -> str:
        """``a: what a does; b: what b does``, for a command's help."""
        return separator.join(f"{entry.name}: {entry.description}" for entry in self)

    def table(self) -> str:
        """The markdown table of this kind in the docs (tests/test_docs.py compares them)."""
        rows = ["| name | what it is |", "|---|---|"]
        rows += [f"| `{entry.name}` | {entry.description} |" for entry in self]
        return "\n".join(rows)


def or_list(items) -> str:
    """``a, b or c``."""
    items = list(items)
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def which_help() -> str:
    """The ``--which`` help of the commands: each objective's vectors, the default first."""
    return "; ".join(f"{entry.name}: " + or_list([f"{entry.vectors[0]} (default)",
                                                   *entry.vectors[1:]])
                     for entry in OBJECTIVES)


# ------------------------------------------------------------------------------ the kinds
# One line per name (an objective's also names its settings module). The descriptions are
# markdown; the docs' tables, the config's key table among them, are made from them, so
# changing one means regenerating those tables (tests/test_config.py, tests/test_docs.py).

TOKENIZERS = Registry(
    "tokenizers",
    Tokenizer("course", "NLTK 3.5 rules, course-exact", "cbow.data.text:course_sentences",
              blocks="punkt", one_stream=True),
    Tokenizer("nltk", "installed NLTK", "cbow.data.text:nltk_sentences", blocks="punkt"),
    Tokenizer("whitespace", "text already tokenized, one sentence per line",
              "cbow.data.text:whitespace_sentences", blocks="lines", keeps_case=True),
)

OBJECTIVES = Registry(
    "objectives",
    Objective("softmax", "the course's full softmax (numpy, batches)",
              "cbow.models.softmax.objective:SoftmaxObjective", vectors=("mean", "w1", "w2"),
              settings="cbow.models.softmax.settings:DECLARATION"),
    Objective("negative", "negative sampling",
              "cbow.models.word2vec.objective:NegativeSamplingObjective",
              vectors=("input", "output", "mean"),
              settings="cbow.models.word2vec.settings:DECLARATION"),
    Objective("hierarchical", "hierarchical softmax over a Huffman tree",
              "cbow.models.word2vec.objective:HierarchicalSoftmaxObjective", vectors=("input",),
              settings="cbow.models.word2vec.settings:DECLARATION"),
)

VECTOR_FORMATS = Registry(
    "vector formats",
    VectorFormat("word2vec", "text: a `V N` header, then `word v1 ... vN` per line",
                 "cbow.vectors.formats.word2vec_text:CODEC"),
    VectorFormat("word2vec-bin", "binary float32, the word2vec C tool's and gensim's",
                 "cbow.vectors.formats.word2vec_binary:CODEC"),
    VectorFormat("npy", "`vectors.npy` and `vocab.txt` (word, tab, count) beside it",
                 "cbow.vectors.formats.npy:CODEC"),
    VectorFormat("projector", "`vectors.tsv` and `metadata.tsv` (word, count) in a folder, for "
                 "the TensorFlow Embedding Projector", "cbow.vectors.formats.projector:CODEC"),
    VectorFormat("fasttext-vec", "fastText's `.vec`: word2vec text of the words' vectors",
                 "cbow.vectors.formats.word2vec_text:CODEC"),
    VectorFormat("fasttext-bin", "fastText's `.bin` model: word and n-gram rows, so unseen words "
                 "get vectors too; fastText and gensim read it",
                 "cbow.vectors.formats.fasttext_bin:CODEC",
                 embeddings="cbow.vectors.subword:SubwordEmbeddings"),
)
