"""Training configuration as typed plain data, each key declared once.

:class:`Config` and its sections are dataclasses; every field carries its default, the rule its
values must follow, whether it is part of the run's identity (a resume is refused when it
changes) and its one-line meaning. Validation, "did you mean" hints, the resume check, the
``config.yaml`` of a run folder and the README's key table all come from that one declaration.

``load_config`` reads a YAML file over the defaults, applies ``--set`` overrides and checks every
key, reporting every problem at once, each naming the key, the value and where it came from.
Code then reads ``cfg.train.alpha``: a typo there is an ``AttributeError``, a bug, not a user error.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from cbow.errors import UserError
from cbow.registry import OBJECTIVES, TOKENIZERS, or_list


class ConfigError(UserError, ValueError):
    """A configuration that cannot be run; the message names the key and what to change."""


# ------------------------------------------------------------------------------------ rules

@dataclass(frozen=True)
class Rule:
    """What a key accepts: ``check(value)`` and the words that describe it in messages."""

    check: Callable[[Any], bool]
    text: str


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def integer(minimum: int, maximum: int | None = None) -> Rule:
    if maximum is None:
        return Rule(lambda v: _is_int(v) and v >= minimum, f"an integer >= {minimum}")
    return Rule(lambda v: _is_int(v) and minimum <= v <= maximum,
                f"an integer from {minimum} to {maximum:,}")


def number(text: str, within: Callable[[float], bool]) -> Rule:
    return Rule(lambda v: _is_number(v) and within(v), text)


def one_of(*choices: str) -> Rule:
    return Rule(lambda v: v in choices, "one of " + ", ".join(map(repr, choices)))


def optional(rule: Rule) -> Rule:
    return Rule(lambda v: v is None or rule.check(v), f"null or {rule.text}")


BOOLEAN = Rule(lambda v: isinstance(v, bool), "true or false")


def text(description: str) -> Rule:
    return Rule(lambda v: isinstance(v, str) and v.strip() != "", description)


def key(default, rule: Rule, meaning: str, identity: bool = False):
    """A config key: its default, its rule, its meaning and whether a resume must keep it."""
    metadata = {"rule": rule, "meaning": meaning, "identity": identity}
    if isinstance(default, list):  # a fresh list per Config, as dataclasses require
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def section(cls):
    return field(default_factory=cls)


# ------------------------------------------------------------------------------ the schema

#: Upper bounds of the keys whose value multiplies the work of every example (word2vec uses
#: windows of 5 to 10 and 5 to 20 noise words; these are a hundred times that).
MAX_C = 1000
MAX_NEGATIVE = 1000
#: Processes (prepare) and threads (word2vec training) are bounded too: each costs memory up
#: front, and `workers: 100000` would start that many before any work.
MAX_WORKERS = 1024
#: Hash buckets of the n-grams: input rows are int32, so words + buckets stay below 2**31.
MAX_BUCKET = 1 << 30


@dataclass
class ModelConfig:
    N: int = key(50, integer(1), "embedding size", identity=True)
    # C and negative multiply the work of every example: bounded so that a typo (an extra
    # zero or three) is a config error, not a step that never ends.
    C: int = key(2, integer(1, MAX_C),
                 "context half-size: C words before and C after the center word", identity=True)
    objective: str = key("softmax", one_of(*OBJECTIVES.names()),
                         "; ".join(f"`{o.name}`: {o.description}" for o in OBJECTIVES)
                         + " (both word2vec's, compiled per-example SGD)", identity=True)
    negative: int = key(5, integer(1, MAX_NEGATIVE), "noise words per example (`negative`)",
                        identity=True)
    ns_exponent: float = key(0.75, number("a number", lambda v: True),
                             "noise words are drawn from counts ** ns_exponent (`negative`)",
                             identity=True)
    hidden: str = key("relu", one_of("relu", "linear"),
                      "`relu`: ReLU(mean of the context's input vectors + b1), the course's; "
                      "`linear`: their mean, word2vec's (word2vec objectives only)",
                      identity=True)
    init: str = key("course", one_of("course", "word2vec", "gensim"),
                    "`course`: every weight uniform in [0, 1); `word2vec`: input vectors "
                    "uniform in +-0.5/N, output vectors zero; `gensim`: input vectors (and "
                    "n-gram rows) uniform in +-1/N, as gensim 4 and fastText draw them, output "
                    "vectors zero (word2vec objectives only)", identity=True)
    shrink_window: bool = key(False, BOOLEAN, "draw each example's window in [1, C], as "
                              "word2vec does (word2vec objectives only)", identity=True)
    minn: int = key(3, integer(1), "shortest character n-gram of `<word>` (with `maxn`)",
                    identity=True)
    maxn: int = key(0, integer(0), "longest character n-gram of `<word>`; 0: no subwords "
                    "(word2vec); > 0: fastText's CBOW, each word's input rows are its own and "
                    "its n-grams' (word2vec objectives, `init: gensim` or `word2vec`)", identity=True)
    bucket: int = key(2_000_000, Rule(lambda v: _is_int(v) and 1 <= v <= MAX_BUCKET,
                                      f"an integer in [1, {MAX_BUCKET:,}]"),
                      "hash buckets of the n-grams: input rows beyond the words' (with `maxn` > "
                      "0; bucket x N float32 weights: 800 MB for 2,000,000 x 100)", identity=True)
    ngram_init: str = key("random", one_of("random", "zero"),
                          "the n-gram rows' start (with `maxn` > 0): `random`, drawn as "
                          "`model.init` draws the words'; `zero`, all zeros, so that an n-gram "
                          "row holds only what training put there", identity=True)
    skip_saturated: bool = key(False, BOOLEAN, "as gensim, an output row whose score is at or "
                               "beyond +-6 takes no step; false: every row its exact gradient "
                               "step (word2vec objectives only)", identity=True)


@dataclass
class TrainConfig:
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
    batcher: str = key("default", one_of("default", "course"),
                       "`default`: every window exactly once per epoch, last partial batch kept; "
                       "`course`: the course's endless batcher, which drops one window after "
                       "each batch", identity=True)
    shuffle: bool = key(True, BOOLEAN, "shuffle the windows each epoch (`default` batcher), "
                        "seeded by `(seed, epoch)`", identity=True)
    dtype: str = key("float64", one_of("float64", "float32"), "`float64` or `float32` "
                     "(word2vec objectives: float32)", identity=True)
    sample: float = key(0.0, number("a number >= 0", lambda v: v >= 0),
                        "frequent-word subsampling threshold, word2vec's `sample` (0: off; "
                        "word2vec objectives only)", identity=True)
    fast_dot: bool = key(False, BOOLEAN, "let the compiler reorder the kernels' dot product "
                         "for the processor's vector width; its float32 bits then depend on "
                         "that width: a resume is exact on the same machine only (word2vec "
                         "objectives only). The default's eight SIMD lanes were as fast or "
                         "faster where measured (README)", identity=True)
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
    merge: str = key("sum", one_of("sum", "rows", "mean", "rss"),
                     "with a scheduler: how a round's pieces become the next round's weights: "
                     "`sum`, the round's plus every piece's change; `rows`, each row the mean "
                     "change of the pieces that changed it; `mean`, the pieces' mean (Spark "
                     "MLlib's); `rss`, each row the summed change shortened to at most the "
                     "root-sum-square of the pieces' change lengths (trains with 4+ shards, "
                     "where `sum` diverges); see the README's measurements")
    val_fraction: float = key(0.05, number("a number in [0, 0.5)", lambda v: 0 <= v < 0.5),
                              "the last fraction of the corpus held out for validation, "
                              "in [0, 0.5)", identity=True)
    blas_threads: int | None = key(1, optional(integer(1)),
                                   "BLAS threads for the full softmax's matrix products (null: "
                                   "all cores); 1 because a busy shared machine makes more "
                                   "threads several times slower (see Speed)", identity=True)
    eval_every: int = key(200, integer(1), "steps between held-out loss evaluations "
                          "(and at the end)")
    log_every: int = key(10, integer(1), "steps between lines of `metrics.jsonl`")


def _paths(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)


PATHS = Rule(_paths, "a list of file paths (e.g. [wordsim353.tsv])")


@dataclass
class EvalConfig:
    pairs: list = key([], PATHS, "word-pair similarity files (`word1 word2 score` lines, "
                      "e.g. WordSim-353), scored (Spearman) at every held-out evaluation")
    analogies: list = key([], PATHS, "analogy files in the word2vec format "
                          "(`questions-words.txt`), scored (3CosAdd accuracy) at every "
                          "held-out evaluation")
    restrict: int | None = key(30000, optional(integer(1)),
                               "analogies search only this many of the most frequent words "
                               "(null: all), as word2vec's compute-accuracy does")


@dataclass
class CheckpointConfig:
    every: int = key(500, integer(1), "steps between checkpoints")
    keep: int = key(3, integer(1), "checkpoints kept")


@dataclass
class VocabConfig:
    min_count: int = key(1, integer(1), "drop words seen fewer times (their tokens too, as "
                         "word2vec does)", identity=True)
    max_size: int | None = key(None, optional(integer(1)), "keep only this many of the most "
                               "frequent words (null: all)", identity=True)
    order: str = key("alpha", one_of("alpha", "frequency"), "word ids in `alpha`betical order "
                     "(the course's) or by descending `frequency` (word2vec's)", identity=True)


@dataclass
class PrepareConfig:
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


@dataclass
class ClusterConfig:
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
    # run started from (cbow.continuation), set by --init-from and kept in config.yaml.
    init_from: str | dict | None = field(default=None, metadata={"record": True})


@dataclass(frozen=True)
class KeySpec:
    """One declared key, as the rest of this module sees it."""

    dotted: str
    default: Any
    rule: Rule
    meaning: str
    identity: bool


def _walk(cls, prefix: str = ""):
    for f in dataclasses.fields(cls):
        if "record" in f.metadata:
            continue
        if "rule" in f.metadata:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            yield KeySpec(prefix + f.name, default, f.metadata["rule"], f.metadata["meaning"],
                          f.metadata["identity"])
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


def _from_dict(values: dict) -> Config:
    top = {}
    for f in dataclasses.fields(Config):
        value = values[f.name]
        top[f.name] = f.default_factory(**value) if f.name in SECTIONS else value
    return Config(**top)


# -------------------------------------------------------------------------------- loading

class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-3`` as a float as YAML 1.2 does (1.1 says string),
    and refusing a key given twice in one mapping (PyYAML keeps the last silently: a second
    ``train:`` section would drop every key of the first)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                name = self.construct_object(key_node, deep=True)
                if isinstance(name, str) and name in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"'{name}' is given twice in the same mapping; merge the "
                                    f"two into one", key_node.start_mark)
                seen.add(name)
        return super().construct_mapping(node, deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _yaml_load(source: str):
    return yaml.load(source, Loader=_Loader)


def _unknown_key(dotted: str, source: str) -> str:
    close = difflib.get_close_matches(dotted, list(KEYS) + list(SECTIONS), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(KEYS)}"
    return f"{source}: unknown key '{dotted}'{hint}"


def _merge(base: dict, update: dict, source: str, origins: dict, problems: list[str],
           prefix: str = "") -> None:
    """Copy ``update`` into ``base`` key by key; keys ``base`` lacks go to ``problems``.

    ``origins`` records, for each dotted key set here, the ``source`` it came from.
    """
    for name, value in update.items():
        dotted = f"{prefix}{name}"
        if not isinstance(name, str) or name not in base:
            # Suggest a full key: 'trian: {steps: 3}' is most likely 'train.steps'.
            leaf = (next(iter(flatten(value, dotted + ".")))
                    if isinstance(value, dict) and value else dotted)
            problems.append(_unknown_key(leaf, source))
        elif isinstance(base[name], dict) and prefix + name not in RECORDS:
            if isinstance(value, dict):
                _merge(base[name], value, source, origins, problems, dotted + ".")
            else:
                problems.append(f"{source}: '{dotted}' must be a mapping of "
                                f"{', '.join(base[name])}; got {value!r}")
        else:
            base[name] = value
            origins[dotted] = source


def parse_override(assignment: str) -> dict:
    """``"train.alpha=0.1"`` -> ``{"train": {"alpha": 0.1}}``; the value is parsed as YAML."""
    dotted, sep, raw = assignment.partition("=")
    if not sep or not dotted.strip():
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE, "
                          f"e.g. --set train.alpha=0.05")
    try:
        value = _yaml_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {assignment!r}: the value is not valid YAML ({err})") from None
    nested: dict = {}
    node = nested
    parts = dotted.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return nested


#: A config is a few kB; reading stops past this (``--config /dev/zero`` would never end).
MAX_CONFIG_BYTES = 1 << 20


def _read_yaml_file(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        names = ", ".join(bundled_configs())
        raise ConfigError(f"config file {path} does not exist"
                          + (f"; the bundled configs are {names}" if names else "")) from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder; give the path of a YAML file "
                          f"(see configs/)") from None
    except OSError as err:
        raise ConfigError(f"config file {path} cannot be read: {err.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is over {MAX_CONFIG_BYTES >> 20} MB: not a "
                          f"config (they are a few kB of YAML; see configs/)")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text (byte {err.start}); "
                          f"save the config as UTF-8") from None
    try:
        loaded = _yaml_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or err
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (corpus, model, train, ...); "
                          f"got {type(loaded).__name__}")
    return loaded


def _is_init_record(v) -> bool:
    return (isinstance(v, dict) and isinstance(v.get("path"), str) and v["path"].strip() != ""
            and set(v) <= {"path", "step", "sha256"})


_INIT_FROM = Rule(lambda v: v is None or (isinstance(v, str) and v.strip() != "")
                  or _is_init_record(v),
                  "null, a run folder or checkpoint path, or a record {path, step, sha256}")


def _check(values: dict, origins: dict[str, str]) -> list[str]:
    flat = flatten(values)
    problems = [f"{origins.get(dotted, 'defaults')}: {dotted} must be {spec.rule.text}; "
                f"got {flat[dotted]!r}"
                for dotted, spec in KEYS.items() if not spec.rule.check(flat[dotted])]
    if not _INIT_FROM.check(values["init_from"]):
        problems.append(f"{origins.get('init_from', 'defaults')}: init_from must be "
                        f"{_INIT_FROM.text}; got {values['init_from']!r}")
    subwords = _is_int(flat["model.maxn"]) and flat["model.maxn"] > 0
    if flat["train.steps"] is None and flat["train.epochs"] is None:
        problems.append("set train.steps or train.epochs in the config (or both: the run "
                        "stops at whichever comes first)")
    if (flat["train.schedule"] == "linear" and _is_number(flat["train.min_alpha"])
            and _is_number(flat["train.alpha"]) and flat["train.min_alpha"] > flat["train.alpha"]):
        problems.append(f"{origins.get('train.min_alpha', 'defaults')}: train.min_alpha="
                        f"{flat['train.min_alpha']!r} is above train.alpha={flat['train.alpha']!r}"
                        f"; the linear schedule goes down from train.alpha to train.min_alpha, "
                        f"so set train.min_alpha below train.alpha")
    if flat["model.objective"] == "softmax":
        # The course's model: its encoder, initialisation and fixed 2C-word windows.
        for dotted, course_value in (("model.hidden", "relu"), ("model.init", "course"),
                                     ("model.shrink_window", False), ("train.sample", 0.0),
                                     ("model.maxn", 0), ("model.skip_saturated", False),
                                     ("train.fast_dot", False)):
            if flat[dotted] != course_value:
                problems.append(f"{origins.get(dotted, 'defaults')}: {dotted}={flat[dotted]!r} "
                                f"needs a word2vec objective (model.objective negative or "
                                f"hierarchical); the softmax objective is the course's model")
    else:
        if flat["train.dtype"] != "float32":
            problems.append(f"{origins.get('train.dtype', 'defaults')}: model.objective "
                            f"{flat['model.objective']!r} trains float32 weights; set "
                            f"train.dtype: float32")
        if flat["train.batcher"] != "default":
            problems.append(f"{origins.get('train.batcher', 'defaults')}: the course batcher "
                            f"feeds the softmax objective only")
        if subwords and flat["model.init"] == "course":
            problems.append(f"{origins.get('model.maxn', 'defaults')}: model.maxn "
                            f"{flat['model.maxn']} (subwords) draws the word and n-gram rows as "
                            f"word2vec or gensim does; set model.init: word2vec or gensim")
    if subwords and _is_int(flat["model.minn"]) and flat["model.minn"] > flat["model.maxn"]:
        problems.append(f"{origins.get('model.minn', 'defaults')}: model.minn "
                        f"{flat['model.minn']} is longer than model.maxn {flat['model.maxn']}: "
                        f"no n-gram would be cut; set minn <= maxn (or maxn: 0 for none)")
    return problems


def from_mapping(values: dict, source: str = "config") -> Config:
    """A :class:`Config` from a nested mapping over the defaults, checked like a file."""
    return _build([(values, source)])


def _build(layers: list[tuple[dict, str]]) -> Config:
    merged = {**to_dict(Config()), **dict.fromkeys(RECORDS)}
    origins: dict[str, str] = {}
    problems: list[str] = []
    for values, source in layers:
        _merge(merged, values, source, origins, problems)
    problems += _check(merged, origins)
    if problems:
        raise ConfigError("\n".join(problems) if len(problems) == 1 else
                          f"{len(problems)} problems in the config:\n  " + "\n  ".join(problems))
    return _from_dict(merged)


#: Where the configs that come with cbow are: ``configs/`` of a checkout, or the same files
#: installed as the package data ``cbow/configs/`` (pyproject.toml maps one to the other).
_CONFIG_FOLDERS = (Path(__file__).resolve().parent.parent / "configs",
                   Path(__file__).resolve().parent / "configs")


def bundled_configs() -> dict[str, Path]:
    """Name (``word2vec``) -> path of every config that comes with cbow."""
    return {p.stem: p for folder in _CONFIG_FOLDERS if folder.is_dir()
            for p in sorted(folder.glob("*.yaml"))}


def find_config(path: str | Path) -> Path:
    """The config file ``--config`` names: an existing path, else a bundled config's name.

    ``word2vec`` (or ``word2vec.yaml``) is ``configs/word2vec.yaml`` of cbow when no such file
    exists here: a path that exists always wins.
    """
    path = Path(path).expanduser()
    if path.exists() or len(path.parts) != 1:
        return path
    bundled = bundled_configs().get(path.stem if path.suffix in (".yaml", ".yml") else path.name)
    return bundled if bundled is not None else path


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """Defaults, then the YAML file at ``path``, then each ``KEY=VALUE`` override; checked.

    ``path`` may also name a config that comes with cbow (see :func:`find_config`).
    """
    layers = []
    if path is not None:
        found = find_config(path)
        # a bundled config is named by its path in messages, a user's file as they gave it
        layers.append((_read_yaml_file(found), str(path if found == Path(path) else found)))
    layers += [(parse_override(assignment), f"--set {assignment}") for assignment in overrides]
    return _build(layers)


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
    """The README's table of config keys, made from the declaration (a test compares them)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{spec.dotted}` | {_markdown_value(spec.default)} | {spec.meaning} |"
             for spec in KEYS.values()]
    return "\n".join(rows)
