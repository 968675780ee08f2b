"""Loading a config: defaults, then a YAML file, then assignments; every key checked.

``load_config`` reads a YAML file over the defaults, applies assignments (the CLI's ``--set
KEY=VALUE``, the keywords of ``cbow.train``) and checks every key, reporting every problem at
once, each naming the key, the value and where it came from. An assignment names a key by its
dotted name (``vocab.min_count``), a section (``train``, given a mapping) or a short name
(:func:`short_names`: the key's last part, ``min_count``, as gensim's keywords are named).
The checks are each key's rule; the core keys' checks among themselves; and the objectives'
(:class:`~cbow.config.rules.Declaration`): the trained objective's family's ``requires``, the
common rule that an exclusive key of another family keeps its default, that family's
``check``, and every family's ``consistent``.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path
from typing import Any, Iterable

import yaml

from cbow.config.rules import ConfigError, Declaration, Rule, Values, is_number
from cbow.config.schema import (DECLARED, KEYS, RECORDS, SECTIONS, Config, declarations, flatten,
                                from_dict, objectives_of, to_dict)
from cbow.registry import or_list

__all__ = ["load_config", "from_mapping", "find_config", "bundled_configs", "parse_override",
           "parse_assignment", "short_names", "SHARED_NAMES", "with_scheduler",
           "MAX_CONFIG_BYTES"]


# -------------------------------------------------------------------------------- reading

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


def _unknown_key(dotted: str, source: str, short: bool = False) -> str:
    """``source: unknown key 'x'; did you mean 'y'?``; ``short``: the short names are
    candidates too (an assignment may use them, a YAML file may not)."""
    if short and dotted in OTHER_LIBRARIES:
        name = OTHER_LIBRARIES[dotted]
        return (f"{source}: unknown key '{dotted}'; cbow calls it '{name}' "
                f"({' and '.join(short_names()[name])})")
    candidates = list(KEYS) + list(SECTIONS) + (list(short_names()) if short else [])
    close = difflib.get_close_matches(dotted, candidates, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(KEYS)}"
    return f"{source}: unknown key '{dotted}'{hint}"


# ---------------------------------------------------------------------- short names

#: The short names that more than one key ends with, and the keys each one sets: ``workers``
#: every worker count (training threads and preparing processes: gensim's one ``workers``),
#: ``min_count`` the vocabulary's (gensim's ``Word2Vec``'s; the phrases' is
#: ``phrases.min_count``). A new key ending as another does must be added here to keep its
#: short name (tests/test_config.py checks that every shared name is).
SHARED_NAMES: dict[str, tuple[str, ...]] = {
    "workers": ("train.workers", "prepare.workers"),
    "min_count": ("vocab.min_count",),
}

#: Names other libraries give to a key, for the "cbow calls it" hint of an unknown key (they
#: are not accepted: a name means one thing).
OTHER_LIBRARIES = {"vector_size": "N", "size": "N", "window": "C", "iter": "epochs",
                   "max_vocab_size": "max_size", "max_final_vocab": "max_size"}


def short_names() -> dict[str, tuple[str, ...]]:
    """Short name -> the dotted keys it sets: each key's last part where no other key ends
    the same way (``alpha`` is ``train.alpha``), and :data:`SHARED_NAMES`; a last part shared
    by several keys and not declared there has no short name."""
    ends: dict[str, list[str]] = {}
    for dotted in KEYS:
        ends.setdefault(dotted.rpartition(".")[2], []).append(dotted)
    names = {leaf: tuple(keys) for leaf, keys in ends.items() if len(keys) == 1}
    names.update(SHARED_NAMES)
    return names


def _ambiguous(name: str) -> list[str]:
    """The keys ending in ``name`` when it is not a short name because several do."""
    keys = [dotted for dotted in KEYS if dotted.rpartition(".")[2] == name]
    return keys if len(keys) > 1 and name not in SHARED_NAMES else []


def _assignment_layer(name: str, value: Any, source: str,
                      problems: list[str]) -> tuple[dict, str] | None:
    """The layer that sets ``name`` (a dotted key, a section or a short name) to ``value``,
    or None with the problem added to ``problems``."""
    name = name.strip() if isinstance(name, str) else name
    if not isinstance(name, str) or not name:
        problems.append(f"{source}: expected a key name, e.g. train.alpha")
        return None
    top = name.partition(".")[0]
    if "." in name or name in SECTIONS or name in KEYS or top in RECORDS:
        nested: dict = {}
        node = nested
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        return nested, source
    keys = short_names().get(name)
    if keys is None:
        several = _ambiguous(name)
        problems.append(f"{source}: '{name}' is the last part of {' and '.join(several)}; give "
                        f"the one you mean by its dotted name" if several else
                        _unknown_key(name, source, short=True))
        return None
    nested = {}
    for dotted in keys:
        section, _, leaf = dotted.rpartition(".")
        (nested.setdefault(section, {}) if section else nested)[leaf] = value
    return nested, source


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


def parse_assignment(assignment: str) -> tuple[str, Any]:
    """``"train.alpha=0.1"`` -> ``("train.alpha", 0.1)``: the value is parsed as YAML."""
    dotted, sep, raw = assignment.partition("=")
    if not sep or not dotted.strip():
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE, "
                          f"e.g. --set train.alpha=0.05")
    try:
        value = _yaml_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {assignment!r}: the value is not valid YAML ({err})") from None
    return dotted.strip(), value


def parse_override(assignment: str) -> dict:
    """``"train.alpha=0.1"`` -> ``{"train": {"alpha": 0.1}}`` (short names expanded)."""
    problems: list[str] = []
    layer = _assignment_layer(*parse_assignment(assignment), f"--set {assignment}", problems)
    if layer is None:
        raise ConfigError(problems[0])
    return layer[0]


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


# --------------------------------------------------------------------------------- checks

def _check(values: dict, origins: dict[str, str]) -> list[str]:
    """Every problem of the merged ``values`` (``origins``: where each key was set), in the
    order they are reported."""
    flat = Values(flatten(values), origins)
    problems = [f"{flat.source(dotted)}: {dotted} must be {spec.rule.text}; got {flat[dotted]!r}"
                for dotted, spec in KEYS.items() if not spec.rule.check(flat[dotted])]
    if not _INIT_FROM.check(values["init_from"]):
        problems.append(f"{origins.get('init_from', 'defaults')}: init_from must be "
                        f"{_INIT_FROM.text}; got {values['init_from']!r}")
    if flat["train.steps"] is None and flat["train.epochs"] is None:
        problems.append("set train.steps or train.epochs in the config (or both: the run "
                        "stops at whichever comes first)")
    if (flat["train.schedule"] == "linear" and is_number(flat["train.min_alpha"])
            and is_number(flat["train.alpha"]) and flat["train.min_alpha"] > flat["train.alpha"]):
        problems.append(f"{flat.source('train.min_alpha')}: train.min_alpha="
                        f"{flat['train.min_alpha']!r} is above train.alpha={flat['train.alpha']!r}"
                        f"; the linear schedule goes down from train.alpha to train.min_alpha, "
                        f"so set train.min_alpha below train.alpha")
    objective = flat["model.objective"]
    if objective in DECLARED:  # an unknown name is its rule's problem, no family's
        mine = DECLARED[objective]
        problems += [f"{flat.source(dotted)}: {message.format(objective=objective)}"
                     for dotted, (value, message) in mine.requires.items()
                     if flat[dotted] != value]
        problems += _others_keys(flat, mine)
        problems += mine.check(flat, objective)
    for declaration in declarations():
        problems += declaration.consistent(flat)
    return problems


def _others_keys(flat: Values, mine: Declaration) -> list[str]:
    """An exclusive key of another family than ``mine`` (the objective trained's) that is set
    away from its default: it would do nothing, so it is refused."""
    problems = []
    for declaration in declarations():
        if declaration is mine:
            continue
        for dotted, declared in declaration.keys.items():
            exclusive = declared.metadata["exclusive"]
            if not exclusive or flat[dotted] == KEYS[dotted].default:
                continue
            if not isinstance(exclusive, str):
                exclusive = (f"{dotted}={flat[dotted]!r} needs a {declaration.family} objective "
                             f"(model.objective {or_list(objectives_of(declaration))})"
                             + (f"; {mine.note}" if mine.note else ""))
            problems.append(f"{flat.source(dotted)}: {exclusive}")
    return problems


# ----------------------------------------------------------------------------- the config

def from_mapping(values: dict, source: str = "config") -> Config:
    """A :class:`Config` from a nested mapping over the defaults, checked like a file."""
    return _build([(values, source)])


def _build(layers: list[tuple[dict, str]], problems: list[str] | None = None) -> Config:
    """The config of ``layers`` over the defaults, or one error with every problem
    (``problems``: those found before, the names of assignments)."""
    merged = {**to_dict(Config()), **dict.fromkeys(RECORDS)}
    origins: dict[str, str] = {}
    problems = list(problems or [])
    for values, source in layers:
        _merge(merged, values, source, origins, problems)
    problems += _check(merged, origins)
    if problems:
        raise ConfigError("\n".join(problems) if len(problems) == 1 else
                          f"{len(problems)} problems in the config:\n  " + "\n  ".join(problems))
    return from_dict(merged)


#: Where the configs that come with cbow are: ``configs/`` of a checkout, or the same files
#: installed as the package data ``cbow/configs/`` (pyproject.toml maps one to the other).
_PACKAGE = Path(__file__).resolve().parent.parent
_CONFIG_FOLDERS = (_PACKAGE.parent / "configs", _PACKAGE / "configs")


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


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (),
                values: Iterable[tuple[str, Any, str]] = ()) -> Config:
    """Defaults, then the YAML file at ``path``, then each ``KEY=VALUE`` override (the CLI's
    ``--set``), then each ``(name, value, source)`` of ``values`` (``cbow.train``'s keywords,
    ``source`` how the message names it); checked, every problem reported at once.

    ``path`` may also name a config that comes with cbow (see :func:`find_config`). A name is
    a dotted key, a section or a short name (:func:`short_names`), in both forms.
    """
    layers = []
    if path is not None:
        found = find_config(path)
        # a bundled config is named by its path in messages, a user's file as they gave it
        layers.append((_read_yaml_file(found), str(path if found == Path(path) else found)))
    assignments = [(*parse_assignment(text), f"--set {text}") for text in overrides]
    problems: list[str] = []
    for name, value, source in [*assignments, *values]:
        layer = _assignment_layer(name, value, source, problems)
        if layer is not None:
            layers.append(layer)
    return _build(layers, problems)


def with_scheduler(cfg: Config, address: str | None) -> Config:
    """``cfg`` with ``cluster.scheduler`` set to ``address`` (``--scheduler``), if given."""
    if address is None:
        return cfg
    rule = KEYS["cluster.scheduler"].rule
    if not rule.check(address):
        raise ConfigError(f"--scheduler {address!r}: must be {rule.text}")
    return dataclasses.replace(cfg, cluster=dataclasses.replace(cfg.cluster, scheduler=address))
