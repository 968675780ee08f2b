"""The config's schema: every key once, each section composed from the core keys and the keys
the registered objectives declare.

:class:`Config` and its sections are dataclasses; every field carries its default, the rule its
values must follow, whether it is part of the run's identity (a resume is refused when it
changes) and its one-line meaning. The core keys are declared here; the keys only some
objectives read are declared by those objectives (a :class:`~cbow.config.rules.Declaration` in
each family's settings module, which :data:`cbow.registry.OBJECTIVES` names and importlib loads:
the objectives sit above the config, which never imports them by name). Validation, "did you
mean" hints, the resume check, the ``config.yaml`` of a run folder and the key table of the docs
all come from the composed declaration.

Code reads ``cfg.train.alpha``: a typo there is an ``AttributeError``, a bug, not a user error.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from cbow.config.rules import (BOOLEAN, Declaration, KeySpec, Rule, integer, key, number, one_of,
                               optional, text)
from cbow.parallel.dask_executor import MERGES
from cbow.registry import OBJECTIVES, TOKENIZERS, or_list

__all__ = ["Config", "KEYS", "SECTIONS", "RECORDS", "DECLARED", "declarations", "objectives_of",
           "to_dict", "flatten", "from_dict", "run_identity", "dump", "key_table",
           "ModelConfig", "TrainConfig", "EvalConfig", "CheckpointConfig", "VocabConfig",
           "PrepareConfig", "ClusterConfig"]

# ---------------------------------------------------------------- the objectives' declarations

#: Each registered objective's declaration, by objective name (a family's objectives share one).
DECLARED: dict[str, Declaration] = {entry.name: entry.declared() for entry in OBJECTIVES}


def declarations() -> tuple[Declaration, ...]:
    """Every family's declaration once, in the order of the registry."""
    return tuple({id(d): d for d in DECLARED.values()}.values())


def objectives_of(declaration: Declaration) -> tuple[str, ...]:
    """The objectives ``declaration`` is the declaration of, in the order of the registry."""
    return tuple(name for name, d in DECLARED.items() if d is declaration)


def _objectives_meaning() -> list[str]:
    """``model.objective``'s meaning: each objective's description, its family's summary after
    the family's last one."""
    parts = []
    for declaration in declarations():
        names = objectives_of(declaration)
        described = "; ".join(f"`{name}`: {OBJECTIVES.get(name).description}" for name in names)
        parts.append(described + (f" ({declaration.summary})" if declaration.summary else ""))
    return parts


# --------------------------------------------------------------------------- the core keys
# Each class holds one section's core keys; :func:`_compose` makes the section's dataclass from
# them and the keys the objectives declare for that section.

#: Upper bound of a key whose value multiplies the work of every example (word2vec uses windows
#: of 5 to 10; this is a hundred times that).
MAX_C = 1000
#: Processes (prepare) and threads (word2vec training) are bounded too: each costs memory up
#: front, and `workers: 100000` would start that many before any work.
MAX_WORKERS = 1024


class _Model:
    N: int = key(50, integer(1), "embedding size", identity=True)
    # C multiplies the work of every example: bounded so that a typo (an extra zero or three)
    # is a config error, not a step that never ends.
    C: int = key(2, integer(1, MAX_C),
                 "context half-size: C words before and C after the center word", identity=True)
    objective: str = key("softmax", one_of(*OBJECTIVES.names()),
                         "; ".join(_objectives_meaning()), identity=True)


class _Train:
    batch_size: int = key(128, integer(1), "examples per step (word2vec objectives: center "
                          "positions per step, shared by the workers)", identity=True)
    alpha: float = key(0.03, number("a number > 0", lambda v: v > 0), "learning rate",
                       identity=True)
    schedule: str = key("step", one_of("step", "linear"),
                        "`step`: alpha * decay ** (step // decay_every); `linear`: from alpha "
                        "to min_alpha over the whole run, as word2vec", identity=True)
    min_alpha: float = key(0.0001, number("a number >= 0", lambda v: v >= 0),
                           "the learning rate at the end of a `linear` schedule", identity=True)
    decay: float = key(0.66, number("a number in (0, 1]", lambda v: 0 < v <= 1),
                       "alpha is multiplied by this ...", identity=True)
    decay_every: int = key(100, integer(1), "... every this many steps: "
                           "alpha(step) = alpha * decay ** (step // decay_every)", identity=True)
    steps: int | None = key(None, optional(integer(1)),
                            "total steps, steps before a resume included")
    epochs: float | None = key(None, optional(number("a number > 0", lambda v: v > 0)),
                               "passes over the training windows; with `steps` too, the run stops "
                               "at whichever comes first; one of them is required")
    seed: int = key(282, integer(0), "seeds the initialisation (the course's `initialize_model`) "
                    "and the shuffle", identity=True)
    dtype: str = key("float64", one_of("float64", "float32"), "`float64` or `float32` "
                     "(word2vec objectives: float32)", identity=True)
    workers: int | None = key(None, optional(integer(1, MAX_WORKERS)),
                              "threads of the word2vec objectives (null: the number of cores); "
                              "1 is deterministic, more share the weights lock-free")
    piece_words: int | None = key(None, optional(integer(1)),
                                  "with more than one worker (word2vec objectives): cut each "
                                  "step into pieces of about this many positions that the "
                                  "threads take from a shared counter, gensim's job queue, so a "
                                  "stalled thread holds up one piece, not its share of the step "
                                  "(null: one equal piece per worker); no effect with 1 worker")
    shards: int = key(2, integer(1),
                      "with a scheduler (`cluster.scheduler`), word2vec objectives: each round is "
                      "cut into this many pieces, trained apart on the workers from the "
                      "round's weights and then averaged; the bits depend on it, not on the "
                      "number of workers")
    sync_every: int = key(100_000, integer(1),
                          "with a scheduler: centre positions per round of model averaging "
                          "(a round never spans two steps, so at most `batch_size`)")
    merge: str = key("sum", one_of(*MERGES),
                     "with a scheduler: how a round's pieces become the next round's weights: "
                     "`sum`, the round's plus every piece's change; `rows`, each row the mean "
                     "change of the pieces that changed it; `mean`, the pieces' mean (Spark "
                     "MLlib's); `rss`, each row the summed change shortened to at most the "
                     "root-sum-square of the pieces' change lengths (trains with 4+ shards, "
                     "where `sum` diverges)")
    val_fraction: float = key(0.05, number("a number in [0, 0.5)", lambda v: 0 <= v < 0.5),
                              "the last fraction of the corpus held out for validation, "
                              "in [0, 0.5)", identity=True)
    blas_threads: int | None = key(1, optional(integer(1)),
                                   "BLAS threads for the full softmax's matrix products (null: "
                                   "all cores); 1 because on a machine busy with other work "
                                   "more threads run several times slower", identity=True)
    eval_every: int = key(200, integer(1), "steps between held-out loss evaluations "
                          "(and at the end)")
    log_every: int = key(10, integer(1), "steps between lines of `metrics.jsonl`")


def _paths(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)


PATHS = Rule(_paths, "a list of file paths (e.g. [wordsim353.tsv])")


class _Eval:
    pairs: list = key([], PATHS, "word-pair similarity files (`word1 word2 score` lines, "
                      "e.g. WordSim-353), scored (Spearman) at every held-out evaluation")
    analogies: list = key([], PATHS, "analogy files in the word2vec format "
                          "(`questions-words.txt`), scored (3CosAdd accuracy) at every "
                          "held-out evaluation")
    restrict: int | None = key(30000, optional(integer(1)),
                               "analogies search only this many of the most frequent words "
                               "(null: all), as word2vec's compute-accuracy does")


class _Checkpoint:
    every: int = key(500, integer(1), "steps between checkpoints")
    keep: int = key(3, integer(1), "checkpoints kept")


class _Vocab:
    min_count: int = key(1, integer(1), "drop words seen fewer times (their tokens too, as "
                         "word2vec does)", identity=True)
    max_size: int | None = key(None, optional(integer(1)), "keep only this many of the most "
                               "frequent words (null: all)", identity=True)
    order: str = key("alpha", one_of("alpha", "frequency"), "word ids in `alpha`betical order "
                     "(the course's) or by descending `frequency` (word2vec's)", identity=True)


class _Prepare:
    lowercase: bool = key(True, BOOLEAN, "lower-case tokens (only `whitespace` can keep case)",
                          identity=True)
    errors: str = key("strict", one_of("strict", "replace"),
                      "bytes that are not UTF-8: `strict` stops with the file, line and byte; "
                      "`replace` puts U+FFFD instead (and counts them)", identity=True)
    workers: int | None = key(None, optional(integer(1, MAX_WORKERS)),
                              "processes that tokenize and count "
                              "(null: the number of cores); the ids do not depend on it")
    cache_dir: str | None = key(None, optional(text("a folder path")),
                                "where prepared corpora are kept (null: `prepared/` in the data "
                                "folder)")


def _scheduler(v) -> bool:
    return v is None or (isinstance(v, str) and re.fullmatch(
        r"local:[1-9][0-9]*|[a-z][a-z0-9+.-]*://\S+", v) is not None)


class _Cluster:
    scheduler: str | None = key(None, Rule(_scheduler, "null, 'local:N' (N >= 1) or a Dask "
                                           "scheduler address such as 'tcp://host:8786'"),
                                "where `prepare` and the word2vec objectives' training run "
                                "their tasks: null in this process (as without Dask); "
                                "`local:N` a Dask `LocalCluster` of N worker processes "
                                "started for the run; `tcp://host:8786` a running Dask "
                                "scheduler (`pip install 'cbow[dask]'`); the prepared corpus "
                                "does not depend on it, training follows `train.shards`")
    shared_dir: str | None = key(None, optional(text("a folder path or an fsspec URL")),
                                 "where the workers write the prepared shards, a folder or "
                                 "fsspec URL (`s3://...`) that every worker and this process "
                                 "can reach (null: beside the prepared-corpus cache, right for "
                                 "`local:N` and for workers that share its file system)")
    connect_timeout: float = key(5.0, number("a number > 0", lambda v: v > 0),
                                 "seconds to reach the scheduler and for its first worker to "
                                 "be there before giving up with an error")


def _corpus(v) -> bool:
    if isinstance(v, list):
        return bool(v) and all(isinstance(x, str) and x.strip() for x in v)
    return isinstance(v, str) and v.strip() != ""


# ------------------------------------------------------------------------ the composition

def _compose(name: str, section: str, core: type) -> type:
    """The dataclass of ``section``: ``core``'s keys, and each declaration's keys of the
    section placed as their :func:`~cbow.config.rules.key` ``after`` says."""
    fields = [(leaf, kind, getattr(core, leaf)) for leaf, kind in core.__annotations__.items()]
    for declaration in declarations():
        previous = None
        for dotted, declared in declaration.keys.items():
            where, _, leaf = dotted.partition(".")
            if where != section:
                continue
            names = [f[0] for f in fields]
            assert leaf not in names, f"{dotted} is declared twice"
            after = declared.metadata["after"]
            if after is not None:
                assert after.startswith(section + "."), f"{dotted} follows a key of its section"
                at = names.index(after.partition(".")[2]) + 1
            else:
                at = len(names) if previous is None else names.index(previous) + 1
            fields.insert(at, (leaf, Any, declared))
            previous = leaf
    composed = dataclasses.make_dataclass(name, fields)
    composed.__module__ = __name__  # where it is found by name (pickle, repr)
    return composed


_SECTIONS = {"vocab": _Vocab, "prepare": _Prepare, "model": _Model, "train": _Train,
             "eval": _Eval, "checkpoint": _Checkpoint, "cluster": _Cluster}
for _declaration in declarations():
    for _dotted in _declaration.keys:
        assert _dotted.partition(".")[0] in _SECTIONS, f"{_dotted}: no such section"

VocabConfig = _compose("VocabConfig", "vocab", _Vocab)
PrepareConfig = _compose("PrepareConfig", "prepare", _Prepare)
ModelConfig = _compose("ModelConfig", "model", _Model)
TrainConfig = _compose("TrainConfig", "train", _Train)
EvalConfig = _compose("EvalConfig", "eval", _Eval)
CheckpointConfig = _compose("CheckpointConfig", "checkpoint", _Checkpoint)
ClusterConfig = _compose("ClusterConfig", "cluster", _Cluster)


def section(cls):
    return field(default_factory=cls)


@dataclass
class Config:
    corpus: str | list = key("shakespeare", Rule(_corpus, "'shakespeare', a text file, a folder, "
                                                 "a glob, or a list of these"),
                             "`shakespeare`, a UTF-8 text file (`.gz`, `.bz2`, `.xz` too), a "
                             "folder (every file below it), a glob, or a list of these",
                             identity=True)
    tokenizer: str = key("course", one_of(*TOKENIZERS.names()),
                         or_list(f"`{t.name}` ({t.description})" for t in TOKENIZERS),
                         identity=True)
    vocab: VocabConfig = section(VocabConfig)
    prepare: PrepareConfig = section(PrepareConfig)
    model: ModelConfig = section(ModelConfig)
    train: TrainConfig = section(TrainConfig)
    eval: EvalConfig = section(EvalConfig)
    checkpoint: CheckpointConfig = section(CheckpointConfig)
    cluster: ClusterConfig = section(ClusterConfig)
    out_dir: str = key("runs/default", text("a folder path"), "the run folder")
    # Not a setting but a record (left out of KEYS and of the key table): the checkpoint the
    # run started from (cbow.training.continuation), set by --init-from and kept in config.yaml.
    init_from: str | dict | None = field(default=None, metadata={"record": True})


def _owners(dotted: str) -> tuple[str, ...]:
    for declaration in declarations():
        if dotted in declaration.keys:
            return objectives_of(declaration)
    return ()


def _walk(cls, prefix: str = ""):
    for f in dataclasses.fields(cls):
        if "record" in f.metadata:
            continue
        if "rule" in f.metadata:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            yield KeySpec(prefix + f.name, default, f.metadata["rule"], f.metadata["meaning"],
                          f.metadata["identity"], _owners(prefix + f.name))
        else:
            yield from _walk(f.default_factory, f"{prefix}{f.name}.")


KEYS: dict[str, KeySpec] = {spec.dotted: spec for spec in _walk(Config)}
SECTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config)
                                  if not {"rule", "record"} & set(f.metadata))
#: Top-level entries that record where a run came from (None when it came from nowhere).
RECORDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config)
                                 if "record" in f.metadata)


# ---------------------------------------------------------------------- dicts <-> Config

def to_dict(cfg: Config) -> dict:
    """The nested plain dict of ``cfg``, in declaration order (what ``config.yaml`` holds);
    a :data:`RECORDS` entry only when it records something."""
    values = dataclasses.asdict(cfg)
    return {name: value for name, value in values.items()
            if not (name in RECORDS and value is None)}


def flatten(cfg: dict, prefix: str = "") -> dict[str, Any]:
    """``{"train": {"alpha": 0.1}}`` -> ``{"train.alpha": 0.1}`` (the leaves only)."""
    flat = {}
    for name, value in cfg.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def from_dict(values: dict) -> Config:
    """A :class:`Config` from a complete nested dict (every section, every key), unchecked."""
    top = {}
    for f in dataclasses.fields(Config):
        value = values[f.name]
        top[f.name] = f.default_factory(**value) if f.name in SECTIONS else value
    return Config(**top)


# ---------------------------------------------------------------------------------- uses

def run_identity(cfg: Config) -> dict[str, Any]:
    """The settings that a resumed run must share with the checkpoint it continues."""
    flat = flatten(to_dict(cfg))
    return {dotted: flat[dotted] for dotted, spec in KEYS.items() if spec.identity}


def dump(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def _markdown_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"`{value}`"
    return str(value)


def key_table() -> str:
    """The docs' table of config keys, made from the declaration (a test compares them)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{spec.dotted}` | {_markdown_value(spec.default)} | {spec.meaning} |"
             for spec in KEYS.values()]
    return "\n".join(rows)
